import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { HeaderTarget, PendingHeaders } from '../../core/headers.js';
import type { Session } from '../../core/Session.js';
import type { SessionManager } from '../../core/SessionManager.js';
import { SessionLifecycle, type SessionHeaderSink } from '../lifecycle.js';
import { fromFrameworkRequest } from '../node/http.js';
import { RequestSessions } from '../RequestSessions.js';

/**
 * Options of {@link sessionPlugin}.
 */
export interface SessionPluginOptions {
  /**
   * The session manager. Read sessions with `getSession(request, manager)`: its value
   * type types the session. Register the plugin once per manager.
   */
  // Any value type: SessionManager is invariant in it, so no narrower type admits all.
  readonly manager: SessionManager<any>;
}

const sessions = new RequestSessions();

/**
 * Where the plugin puts the session's headers: the reply, merged with its own. One
 * object per request, its methods on the prototype, rather than closures.
 */
class ReplySink implements SessionHeaderSink, HeaderTarget {
  readonly #reply: FastifyReply;

  constructor(reply: FastifyReply) {
    this.#reply = reply;
  }

  headSent(): boolean {
    return this.#reply.raw.headersSent;
  }

  write(headers: PendingHeaders): void {
    headers.applyTo(this);
  }

  get(name: string): string | readonly string[] | undefined {
    const value = this.#reply.getHeader(name);
    return typeof value === 'number' ? String(value) : value;
  }

  set(name: string, value: string | readonly string[]): void {
    // `reply.header('set-cookie', …)` appends to earlier cookies: replace instead.
    this.#reply.removeHeader(name);
    this.#reply.header(name, typeof value === 'string' ? value : [...value]);
  }
}

/**
 * A Fastify 5 plugin that loads each request's session in an `onRequest` hook and
 * saves it in an `onSend` hook, which Fastify runs after the handler and before it
 * writes the head: the save happens on Fastify's own schedule, with nothing patched,
 * and handlers need no explicit save. Read the session with
 * {@link getSession}`(request, manager)`.
 *
 * - The plugin is not encapsulated (it carries `Symbol.for('skip-override')`, as
 *   `fastify-plugin` would set): its hooks apply to the routes of the context it is
 *   registered in and of that context's children.
 * - The session's headers are merged with the reply's: its `Set-Cookie` goes beside the
 *   app's cookies, `Cookie` is added to `Vary` and `private` to `Cache-Control`.
 * - A route that fails (Fastify's `onError` hook runs) saves nothing. When the save
 *   itself fails (`SessionCookieTooLargeError`, `SessionStoreError`), the error goes
 *   to the app's error handler, and the error reply carries no session cookie.
 * - With `reply.hijack()`, Fastify runs no `onSend` hook, so nothing is saved.
 * - Changing the session once `onSend` has run throws a `SessionError`.
 *
 * The session is not decorated onto `request.session`: that name belongs to
 * `@fastify/session` and `@fastify/secure-session`, and a global type declaration
 * would clash with theirs in every app that has them.
 *
 * @param fastify - The Fastify instance (given by `register`).
 * @param options - `manager`: the session manager.
 * @returns When the hooks are added.
 * @throws TypeError when `options.manager` is missing.
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { getSession, sessionPlugin } from 'kit-session/fastify';
 *
 * const app = Fastify();
 * await app.register(sessionPlugin, { manager });
 * app.get('/', async (request) => {
 *   const session = getSession(request, manager);
 *   session.set('visits', (session.get('visits') ?? 0) + 1);
 *   return { visits: session.get('visits') };
 * });
 * ```
 */
export const sessionPlugin: FastifyPluginAsync<SessionPluginOptions> = async (fastify, options) => {
  const manager = options?.manager as SessionManager<object> | undefined;
  if (manager === undefined || typeof manager.extractSession !== 'function') {
    throw new TypeError('sessionPlugin needs a manager: app.register(sessionPlugin, { manager })');
  }
  // Each request's lifecycle rides on the request under a symbol of this registration,
  // declared to Fastify so that its requests keep one shape; not in a WeakMap keyed by
  // the request (see RequestSessions: that made the plugin's p99 tail).
  const LIFECYCLE = Symbol('kit-session.lifecycle');
  fastify.decorateRequest(LIFECYCLE, null);
  type Carrier = Record<symbol, SessionLifecycle<object> | null | undefined>;

  // Callback hooks, not async ones: an unchanged session then answers in onSend at once,
  // without a promise and a turn of the microtask queue per hook.
  fastify.addHook('onRequest', (request, reply, done) => {
    let started: SessionLifecycle<object> | Promise<SessionLifecycle<object>>;
    try {
      started = SessionLifecycle.start(manager, fromFrameworkRequest(request.raw, request), new ReplySink(reply));
    } catch (error) {
      done(error as Error);
      return;
    }
    if (started instanceof Promise) {
      started.then((lifecycle) => {
        (request as unknown as Carrier)[LIFECYCLE] = lifecycle;
        sessions.attach(request, manager, lifecycle.session);
        done();
      }, done);
      return;
    }
    // Deferred (see the manager's `load` option): at once.
    (request as unknown as Carrier)[LIFECYCLE] = started;
    sessions.attach(request, manager, started.session);
    done();
  });

  fastify.addHook('onError', (request, _reply, _error, done) => {
    (request as unknown as Carrier)[LIFECYCLE]?.fail();
    done();
  });

  fastify.addHook('onSend', (request, _reply, payload, done) => {
    const carrier = request as unknown as Carrier;
    const lifecycle = carrier[LIFECYCLE];
    // Once per request: an error reply sent because the save failed runs onSend again.
    carrier[LIFECYCLE] = null;
    if (lifecycle == null || lifecycle.finishIdle()) {
      done(null, payload);
      return;
    }
    lifecycle.commit().then(() => done(null, payload), done);
  });
};

Object.assign(sessionPlugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'kit-session',
  [Symbol.for('plugin-meta')]: { name: 'kit-session', fastify: '5.x' },
});

/**
 * Returns the request's session, loaded by {@link sessionPlugin} registered with the
 * same manager. Changes are saved by the plugin before the reply's head is written.
 *
 * @param request - The Fastify request.
 * @param manager - The manager given to the plugin; its value type types the session.
 * @returns The session handle.
 * @throws SessionNotLoadedError when the plugin of this manager does not cover the
 *   route.
 * @example
 * ```ts
 * app.post('/logout', async (request, reply) => {
 *   getSession(request, manager).destroy();
 *   return reply.redirect('/', 303);
 * });
 * ```
 */
export function getSession<T extends object>(request: object, manager: SessionManager<T>): Session<T> {
  return sessions.find(request, manager);
}
