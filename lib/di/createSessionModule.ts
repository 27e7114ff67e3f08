import './annotations.js';
import { ContainerModule } from 'inversify';
import type { EncryptionKey } from '../crypto/keys.js';
import { createSealer } from '../crypto/Sealer.js';
import { EncryptingStoreDecorator, type EncryptingStoreOptions } from '../crypto/EncryptingStoreDecorator.js';
import { SessionRequestHook } from './SessionRequestHook.js';
import { SessionResponseHook } from './SessionResponseHook.js';
import type { Clock } from '../core/Clock.js';
import { booleanOption, checkOptionKeys, resolveOptions, type SessionManagerOptions } from '../core/options.js';
import { SessionManager } from '../core/SessionManager.js';
import { CookieSessionStore } from '../stores/CookieSessionStore.js';
import {
  SESSION_CLOCK,
  SESSION_ENCRYPTION_OPTIONS,
  SESSION_INNER_STORE,
  SESSION_MANAGER,
  SESSION_MANAGER_OPTIONS,
  SESSION_REQUEST_HOOK,
  SESSION_RESPONSE_HOOK,
  SESSION_STORE,
} from './identifiers.js';

/**
 * Options of {@link createSessionModule}.
 */
export interface SessionModuleOptions {
  /**
   * Keys from `importRawKey`; the first seals, any opens. With keys, the module binds
   * `SESSION_STORE` to an `EncryptingStoreDecorator`; without, the app binds
   * `SESSION_STORE` itself.
   * @default undefined
   */
  readonly keys?: readonly EncryptionKey[];
  /**
   * What the decorator wraps when keys are given: `'cookie'` binds a
   * `CookieSessionStore`; `'app'` wraps whatever the app binds to
   * `SESSION_INNER_STORE` (a Redis store, say).
   * @default 'cookie'
   */
  readonly innerStore?: 'cookie' | 'app';
  /**
   * Encrypt the values handed to the inner store too (for server-side stores).
   * @default false
   */
  readonly encryptValues?: boolean;
  /**
   * The AES-GCM implementation.
   * @default 'auto'
   */
  readonly crypto?: EncryptingStoreOptions['crypto'];
  /**
   * Which AEAD seals: see `EncryptingStoreOptions.aead`.
   * @default 'aes-gcm'
   */
  readonly aead?: EncryptingStoreOptions['aead'];
  /** Cookie, lifetime and idle timeout of the manager. */
  readonly manager?: SessionManagerOptions;
  /**
   * The source of time; the system clock when unset.
   * @default systemClock
   */
  readonly clock?: Clock;
}

/** Every key of {@link SessionModuleOptions}. */
const MODULE_OPTIONS = ['keys', 'innerStore', 'encryptValues', 'crypto', 'aead', 'manager', 'clock'] as const satisfies readonly (keyof SessionModuleOptions)[];

/**
 * Makes an Inversify module that binds the session manager (a singleton), its store
 * and the request and response hooks under the `SESSION_*` identifiers. Load it into
 * the app's own container.
 *
 * @param options - See {@link SessionModuleOptions}.
 * @returns A module for `container.load(...)`.
 * @throws TypeError when an option is invalid (checked now, not on the first request).
 * @example
 * ```ts
 * const container = new Container();
 * container.load(createSessionModule({ keys: [await importRawKey(process.env.SESSION_KEY!)] }));
 * const manager = container.get<SessionManager<AppSession>>(SESSION_MANAGER);
 * ```
 */
export function createSessionModule(options: SessionModuleOptions = {}): ContainerModule {
  checkOptionKeys('createSessionModule options', options, MODULE_OPTIONS);
  const { keys, manager, clock } = options;
  const innerStore = options.innerStore ?? 'cookie';
  if (innerStore !== 'cookie' && innerStore !== 'app') {
    throw new TypeError('innerStore must be "cookie" or "app"');
  }
  booleanOption('encryptValues', options.encryptValues, false);
  if (keys === undefined && (options.innerStore !== undefined || options.encryptValues !== undefined || options.aead !== undefined)) {
    throw new TypeError('innerStore, encryptValues and aead need keys');
  }
  // The manager's options are checked now, not on the first request.
  resolveOptions(manager);
  if (options.encryptValues === true && innerStore === 'cookie') {
    throw new TypeError("encryptValues is for server-side stores: use innerStore 'app' with a store the app binds");
  }
  if (keys !== undefined) {
    // Checks the keys, the crypto path and the AEAD (sodium-native loads) now rather than on the first request.
    createSealer(keys, options.crypto, options.aead);
  }
  const encryption: EncryptingStoreOptions | undefined =
    keys === undefined
      ? undefined
      : {
          keys,
          ...(options.encryptValues === undefined ? {} : { encryptValues: options.encryptValues }),
          ...(options.crypto === undefined ? {} : { crypto: options.crypto }),
          ...(options.aead === undefined ? {} : { aead: options.aead }),
        };

  return new ContainerModule(({ bind }) => {
    if (manager !== undefined) {
      bind(SESSION_MANAGER_OPTIONS).toConstantValue(manager);
    }
    if (clock !== undefined) {
      bind(SESSION_CLOCK).toConstantValue(clock);
    }
    if (encryption !== undefined) {
      bind(SESSION_ENCRYPTION_OPTIONS).toConstantValue(encryption);
      if (innerStore === 'cookie') {
        bind(SESSION_INNER_STORE).to(CookieSessionStore).inSingletonScope();
      }
      bind(SESSION_STORE).to(EncryptingStoreDecorator).inSingletonScope();
    }
    bind(SESSION_MANAGER).to(SessionManager).inSingletonScope();
    bind(SESSION_REQUEST_HOOK).to(SessionRequestHook).inSingletonScope();
    bind(SESSION_RESPONSE_HOOK).to(SessionResponseHook).inSingletonScope();
  });
}
