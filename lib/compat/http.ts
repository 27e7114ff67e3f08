// kit-session/http: the request and response functions of @revas-hq/kit-session, over the hooks.
import type { RequestFunction, ResponseFunction } from '../core/http.js';
import type { SessionManager } from '../core/SessionManager.js';
import { SessionRequestHook } from '../di/SessionRequestHook.js';
import { SessionResponseHook } from '../di/SessionResponseHook.js';

/**
 * Makes the step run before the endpoint: loads the session into the context
 * (`new SessionRequestHook(manager).handle`).
 *
 * @param manager - The session manager.
 * @returns A {@link RequestFunction}: `(context, request) => Promise<Context>`.
 * @example
 * ```ts
 * const loadSession = createSessionRequestFunction(sessionManager);
 * const context = await loadSession(Context.background, request);
 * ```
 */
export function createSessionRequestFunction<T extends object>(manager: SessionManager<T>): RequestFunction {
  return new SessionRequestHook(manager).handle;
}

/**
 * Makes the step run after the endpoint, before the headers go out: saves what changed
 * and writes the cookie (`new SessionResponseHook(manager).handle`).
 *
 * @param manager - The session manager.
 * @returns A {@link ResponseFunction}: `(context, headers) => Promise<Context>`.
 * @example
 * ```ts
 * const saveSession = createSessionResponseFunction(sessionManager);
 * const headers = new Headers();
 * await saveSession(context, headers);
 * ```
 */
export function createSessionResponseFunction<T extends object>(manager: SessionManager<T>): ResponseFunction {
  return new SessionResponseHook(manager).handle;
}

export type { HeadersLike, RequestFunction, RequestLike, ResponseFunction } from '../core/http.js';
export { SessionRequestHook } from '../di/SessionRequestHook.js';
export { SessionResponseHook } from '../di/SessionResponseHook.js';
