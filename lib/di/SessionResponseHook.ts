import type { Context } from '../core/Context.js';
import type { SessionManager } from '../core/SessionManager.js';
import type { HeadersLike, ResponseFunction } from '../core/http.js';

/**
 * The step after the endpoint, before the headers go out: saves what changed and
 * writes the cookie. `handle` is a {@link ResponseFunction}, bound to this hook.
 *
 * @typeParam T - The shape of the session's values, as in the manager.
 * @example
 * ```ts
 * const responseHook = new SessionResponseHook(manager);
 * const headers = new Headers({ 'content-type': 'text/plain' });
 * await responseHook.handle(context, headers);
 * return new Response('ok', { headers });
 * ```
 */
export class SessionResponseHook<T extends object = Record<string, unknown>> {
  readonly #manager: SessionManager<T>;

  /**
   * @param manager - The session manager.
   */
  constructor(manager: SessionManager<T>) {
    this.#manager = manager;
  }

  /**
   * Saves the session: see `SessionManager.injectSession`.
   *
   * @param context - A context from the request hook.
   * @param headers - The response headers.
   * @returns The same context.
   * @throws SessionNotLoadedError when the request hook did not run.
   * @throws SessionCookieTooLargeError when the cookie would be too large.
   * @throws SessionStoreError when the store's infrastructure fails.
   */
  readonly handle: ResponseFunction = (context: Context, headers: HeadersLike) =>
    this.#manager.injectSession(context, headers);
}
