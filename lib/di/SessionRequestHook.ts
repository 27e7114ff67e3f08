import type { Context } from '../core/Context.js';
import type { SessionManager } from '../core/SessionManager.js';
import type { RequestFunction, RequestLike } from '../core/http.js';

/**
 * The step before the endpoint: loads the session into the context. `handle` is a
 * {@link RequestFunction}, bound to this hook, so it can be passed around on its own.
 *
 * @typeParam T - The shape of the session's values, as in the manager.
 * @example
 * ```ts
 * const requestHook = new SessionRequestHook(manager);
 * const context = await requestHook.handle(Context.background, request);
 * ```
 */
export class SessionRequestHook<T extends object = Record<string, unknown>> {
  readonly #manager: SessionManager<T>;

  /**
   * @param manager - The session manager.
   */
  constructor(manager: SessionManager<T>) {
    this.#manager = manager;
  }

  /**
   * Loads the session: see `SessionManager.extractSession`.
   *
   * @param context - The request's context so far.
   * @param request - The request.
   * @returns The context holding the session.
   * @throws SessionStoreError when the store's infrastructure fails.
   */
  readonly handle: RequestFunction = (context: Context, request: RequestLike) =>
    this.#manager.extractSession(context, request);
}
