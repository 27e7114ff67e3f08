import type { SessionManagerOptions } from '../core/options.js';
import type { SessionStore } from '../core/SessionStore.js';
import { SessionManager } from '../core/SessionManager.js';

/**
 * Makes a session manager from `{ name, cookie, storage }`, the shape of
 * `@revas-hq/kit-session`'s `createSessionManager`: `new SessionManager(storage, options)`.
 *
 * @typeParam T - The shape of the session's values; untyped managers read values with
 *   `getValue<string>(context, 'userId')`.
 * @param options - `name` (the context key), `cookie` (`maxAge` in seconds), `storage`.
 * @returns The manager.
 * @throws TypeError when `storage` is missing or not a store, or an option is invalid.
 * @example
 * ```ts
 * const sessionManager = createSessionManager({
 *   name: 'myAppSession',
 *   cookie: { name: '__Host-Session', path: '/', httpOnly: true, secure: true, sameSite: 'lax', maxAge: 60 * 60 * 24 * 7 },
 *   storage: secureCookieStore,
 * });
 * ```
 */
export function createSessionManager<T extends object = Record<string, unknown>>(
  options: SessionManagerOptions,
): SessionManager<T> {
  if (options === null || typeof options !== 'object' || options.storage === undefined) {
    throw new TypeError('createSessionManager needs options with a storage: the session store');
  }
  return new SessionManager<T>(options.storage as SessionStore<T>, options);
}
