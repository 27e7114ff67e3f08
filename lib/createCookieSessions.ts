import type { Clock } from './core/Clock.js';
import type { SessionManagerOptions } from './core/options.js';
import { SessionManager } from './core/SessionManager.js';
import { EncryptingStoreDecorator } from './crypto/EncryptingStoreDecorator.js';
import type { EncryptionKey } from './crypto/keys.js';
import type { Aead, CryptoPath } from './crypto/Sealer.js';
import { CookieSessionStore } from './stores/CookieSessionStore.js';

/**
 * Options of {@link createCookieSessions}: the keys, and the manager's options.
 */
export interface CookieSessionsOptions extends SessionManagerOptions {
  /**
   * Keys from `importKeysFromEnv`, `importKeyFromEnv` or `importRawKey`. The first seals; every one listed
   * opens, so a new key goes first and an old one stays listed until the sessions it
   * sealed expire.
   */
  readonly keys: readonly EncryptionKey[];
  /**
   * Which AES-GCM implementation to use. Both write the same format.
   * @default 'auto' (node:crypto where it exists, else Web Crypto)
   */
  readonly crypto?: CryptoPath;
  /**
   * Which AEAD seals the cookie: `'xchacha20-poly1305'` needs the optional
   * `sodium-native` package and a 256-bit first key. Cookies the other AEAD sealed still
   * open and are sealed again on their next save. See `EncryptingStoreOptions.aead`.
   * @default 'aes-gcm'
   */
  readonly aead?: Aead;
  /**
   * The source of time.
   * @default systemClock
   */
  readonly clock?: Clock;
}

/**
 * Makes a session manager on the default store: the session sealed with AES-GCM inside
 * the cookie (`EncryptingStoreDecorator` over `CookieSessionStore`), with no server to
 * run. The common case in one call; build the classes with `new` for anything else.
 *
 * @typeParam T - The shape of the session's values, e.g. `{ userId: string; visits: number }`.
 * @param options - The keys, and the manager's cookie, lifetime and idle timeout.
 * @returns The manager, for an adapter (`withSession(manager, …)`, `session(manager)`, …).
 * @throws TypeError when no key is given, a key was not made by `importRawKey`, or an
 *   option is invalid or unknown; with `aead: 'xchacha20-poly1305'`, when sodium-native
 *   cannot be loaded or the first key is not 256 bits.
 * @example
 * ```ts
 * import { createCookieSessions, importKeysFromEnv } from 'kit-session';
 *
 * const manager = createCookieSessions<{ userId: string; visits: number }>({
 *   keys: await importKeysFromEnv('SESSION_KEY'), // "<newest>,<older>…"
 *   cookie: { name: '__Host-app' },
 *   idleTimeout: '30m',
 * });
 * ```
 */
export function createCookieSessions<T extends object = Record<string, unknown>>(
  options: CookieSessionsOptions,
): SessionManager<T> {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('createCookieSessions needs options with keys');
  }
  const { keys, crypto, aead, clock, ...managerOptions } = options;
  const store = new EncryptingStoreDecorator<T>(
    new CookieSessionStore<T>({}, clock),
    { keys, ...(crypto === undefined ? {} : { crypto }), ...(aead === undefined ? {} : { aead }) },
    clock,
  );
  return new SessionManager<T>(store, managerOptions, clock);
}
