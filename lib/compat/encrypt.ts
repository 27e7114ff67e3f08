// kit-session/encrypt: the encrypting decorator as @revas-hq/kit-session's store middleware.
import type { SessionStore } from '../core/SessionStore.js';
import { booleanOption, checkOptionKeys } from '../core/options.js';
import { EncryptingStoreDecorator, type EncryptingStoreOptions } from '../crypto/EncryptingStoreDecorator.js';
import type { EncryptionKey } from '../crypto/keys.js';

/**
 * A function from store to store that adds a layer (encryption) around it.
 */
export type SessionStoreMiddleware = <T>(store: SessionStore<T>) => SessionStore<T>;

/**
 * Options of {@link createEncryptSessionStoreMiddleware}.
 */
export type EncryptSessionStoreMiddlewareOptions = Omit<EncryptingStoreOptions, 'keys' | 'cookieName'>;

/**
 * Makes a {@link SessionStoreMiddleware} that wraps a store in AES-GCM encryption:
 * `(store) => new EncryptingStoreDecorator(store, { keys: [key], ...options })`. The
 * cookie name is bound by the manager the store is given to.
 *
 * @param key - A key from `importRawKey`, or several (the first seals, all open).
 * @param options - `encryptValues` (also seal the values a server-side store keeps;
 *   around the cookie store the values are inside the sealed token already) and `crypto`.
 * @returns The middleware.
 * @throws TypeError when an option is unknown or `encryptValues` is not a boolean (at
 *   once); when no key is given or a key was not made by `importRawKey` (when the
 *   middleware is applied to a store).
 * @example
 * ```ts
 * const encryptMiddleware = createEncryptSessionStoreMiddleware(await importRawKey(base64Key), { encryptValues: true });
 * const secureCookieStore = encryptMiddleware(createCookieSessionStore());
 * ```
 */
export function createEncryptSessionStoreMiddleware(
  key: EncryptionKey | readonly EncryptionKey[],
  options: EncryptSessionStoreMiddlewareOptions = {},
): SessionStoreMiddleware {
  checkOptionKeys('createEncryptSessionStoreMiddleware options', options, ['encryptValues', 'crypto']);
  booleanOption('encryptValues', options.encryptValues, false);
  const keys = Array.isArray(key) ? (key as readonly EncryptionKey[]) : [key as EncryptionKey];
  return <T>(store: SessionStore<T>): SessionStore<T> => new EncryptingStoreDecorator<T>(store, { ...options, keys });
}

export type { ImportRawKeyOptions } from '../crypto/keys.js';
export { EncryptionKey, importRawKey } from '../crypto/keys.js';
export { EncryptingStoreDecorator } from '../crypto/EncryptingStoreDecorator.js';
