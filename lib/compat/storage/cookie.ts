// kit-session/storage/cookie: the cookie store under the name @revas-hq/kit-session gives it.
import { CookieSessionStore } from '../../stores/CookieSessionStore.js';

/**
 * Makes the store that keeps the whole session inside the cookie:
 * `new CookieSessionStore<T>()`. Insecure alone (the client could read and forge it), so
 * a manager refuses it unless it is wrapped in encryption.
 *
 * @typeParam T - The shape of the session's values.
 * @returns The store.
 * @example
 * ```ts
 * import { createCookieSessionStore } from 'kit-session/storage/cookie';
 * import { createEncryptSessionStoreMiddleware, importRawKey } from 'kit-session/encrypt';
 *
 * const cookieStore = createCookieSessionStore<{ userId?: string; theme?: string }>();
 * const secureCookieStore = createEncryptSessionStoreMiddleware(await importRawKey(base64Key))(cookieStore);
 * ```
 */
export function createCookieSessionStore<T extends object = Record<string, unknown>>(): CookieSessionStore<T> {
  return new CookieSessionStore<T>();
}

export { CookieSessionStore } from '../../stores/CookieSessionStore.js';
