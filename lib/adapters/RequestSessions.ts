import { SessionNotLoadedError } from '../core/SessionError.js';

/** A manager, as a key: any `SessionManager`, whatever its value type. */
type ManagerKey = { readonly name: string };

/**
 * Finds the session handle a middleware attached to a framework's request object,
 * per manager (an app may run two sessions with two cookies). It keeps the handles in
 * weak maps rather than on the request object: nothing is added to the framework's
 * types or objects, and a request that is gone takes its handle with it.
 *
 * @typeParam H - The handle type the adapter hands out.
 */
export class RequestSessions<H> {
  readonly #byManager = new WeakMap<ManagerKey, WeakMap<object, H>>();

  /**
   * Attaches a request's handle.
   *
   * @param request - The framework's request object.
   * @param manager - The manager that loaded the session.
   * @param handle - The handle.
   */
  attach(request: object, manager: ManagerKey, handle: H): void {
    let handles = this.#byManager.get(manager);
    if (handles === undefined) {
      handles = new WeakMap();
      this.#byManager.set(manager, handles);
    }
    handles.set(request, handle);
  }

  /**
   * Finds a request's handle.
   *
   * @param request - The framework's request object.
   * @param manager - The manager whose session is wanted.
   * @returns The handle.
   * @throws SessionNotLoadedError when no session of this manager was loaded for the
   *   request: the middleware or plugin was not installed for this route.
   */
  find(request: object, manager: ManagerKey): H {
    const handle = this.#byManager.get(manager)?.get(request);
    if (handle === undefined) {
      throw new SessionNotLoadedError(
        `no session "${manager.name}" for this request: install the session middleware before this route`,
      );
    }
    return handle;
  }
}
