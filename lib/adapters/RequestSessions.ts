import type { Session } from '../core/Session.js';
import { SessionNotLoadedError } from '../core/SessionError.js';
import type { SessionManager } from '../core/SessionManager.js';

/** One manager's session of a request; a request with two managers has two, chained. */
interface Entry {
  readonly manager: object;
  session: Session<any>;
  readonly next: Entry | undefined;
}

/** A request as this module sees it: its sessions under the symbol of one {@link RequestSessions}. */
type Carrier = Record<symbol, Entry | undefined>;

/**
 * Finds the session a middleware loaded for a framework's request object, per manager
 * (an app may run two sessions with two cookies). The sessions hang on the request
 * under a symbol of this object, out of the framework's types and out of reach of the
 * app, and go away with the request.
 *
 * Not in a `WeakMap` keyed by the request: V8 keeps the entries of a weak map whose
 * key is a young object through every minor GC until a full one, so a map filled by
 * every request promotes each request's objects and turns minor GCs into pauses of
 * several milliseconds (the Fastify plugin's p99 tail of issue 25; bench/README.md,
 * "Why not a WeakMap per request").
 *
 * @internal
 */
export class RequestSessions {
  /** The property of a request that holds the sessions this object attached. */
  readonly #key = Symbol('kit-session.sessions');

  /**
   * Attaches a request's session.
   *
   * @param request - The framework's request object.
   * @param manager - The manager that loaded the session.
   * @param session - The session.
   */
  attach<T extends object>(request: object, manager: SessionManager<T>, session: Session<T>): void {
    const carrier = request as Carrier;
    for (let entry = carrier[this.#key]; entry !== undefined; entry = entry.next) {
      if (entry.manager === manager) {
        entry.session = session;
        return;
      }
    }
    carrier[this.#key] = { manager, session, next: carrier[this.#key] };
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
    for (let entry = (request as Carrier)[this.#key]; entry !== undefined; entry = entry.next) {
      if (entry.manager === manager) {
        return entry.session as Session<T>;
      }
    }
    throw new SessionNotLoadedError(
      `no session "${manager.name}" for this request: install the session middleware before this route`,
    );
  }
}
