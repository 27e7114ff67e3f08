import { inject, injectable } from 'inversify';
import type { Context } from '../context/Context.js';
import { SESSION_MANAGER } from '../di/identifiers.js';
import type { SessionManager } from '../session/SessionManager.js';
import type { RequestFunction, RequestLike } from './types.js';

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
@injectable()
export class SessionRequestHook<T extends object = Record<string, unknown>> {
  readonly #manager: SessionManager<T>;

  /**
   * @param manager - The session manager.
   */
  constructor(@inject(SESSION_MANAGER) manager: SessionManager<T>) {
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
