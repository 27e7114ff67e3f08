import type { Session } from '../core/Session.js';
import { SessionNotLoadedError } from '../core/SessionError.js';
import type { SessionManager } from '../core/SessionManager.js';

/**
 * Finds the session a middleware loaded for a framework's request object, per manager
 * (an app may run two sessions with two cookies). It keeps the sessions in weak maps
 * rather than on the request object: nothing is added to the framework's types or
 * objects, and a request that is gone takes its session with it.
 *
 * @internal
 */
export class RequestSessions {
  readonly #byManager = new WeakMap<object, WeakMap<object, Session<any>>>();

  /**
   * Attaches a request's session.
   *
   * @param request - The framework's request object.
   * @param manager - The manager that loaded the session.
   * @param session - The session.
   */
  attach<T extends object>(request: object, manager: SessionManager<T>, session: Session<T>): void {
    let sessions = this.#byManager.get(manager);
    if (sessions === undefined) {
      sessions = new WeakMap();
      this.#byManager.set(manager, sessions);
    }
    sessions.set(request, session);
  }

  /**
   * Finds a request's session.
   *
   * @param request - The framework's request object.
   * @param manager - The manager whose session is wanted.
   * @returns The session.
   * @throws SessionNotLoadedError when no session of this manager was loaded for the
   *   request: the middleware or plugin was not installed for this route.
   */
  find<T extends object>(request: object, manager: SessionManager<T>): Session<T> {
    const session = this.#byManager.get(manager)?.get(request) as Session<T> | undefined;
    if (session === undefined) {
      throw new SessionNotLoadedError(
        `no session "${manager.name}" for this request: install the session middleware before this route`,
      );
    }
    return session;
  }
}
