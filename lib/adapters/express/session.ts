import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Session } from '../../core/Session.js';
import type { SessionManager } from '../../core/SessionManager.js';
import { SessionLifecycle } from '../lifecycle.js';
import { fromFrameworkRequest } from '../node/http.js';
import { RequestSessions } from '../RequestSessions.js';
import { ResponseGate } from './ResponseGate.js';

const sessions = new RequestSessions();

/**
 * Express 5 middleware that loads the request's session, for
 * {@link getSession}`(req, manager)` to return, and saves it by itself before the
 * response goes out.
 *
 * **Saving is automatic**: a route changes the session and answers as it likes
 * (`res.send`, `res.json`, `res.redirect`, `res.sendStatus`, `res.render`, `res.end`,
 * or `res.write` for a stream); the first write of the response waits for the save,
 * then goes out with the session's cookie. Express, like node:http under it, has no
 * hook that can wait before the head goes out (`writeHead` is synchronous, saving is
 * not), so the middleware wraps the writers of each response (`writeHead`, `write`,
 * `end`, `flushHeaders`), as express-session wraps `res.end`; the wrappers remove
 * themselves at the first write, and an unchanged session goes out at once.
 *
 * - When the save fails (`SessionStoreError`, `SessionCookieTooLargeError`), the
 *   route's response is not sent: the error goes to the app's error middleware, which
 *   answers on a clean response (none of the route's headers, no session cookie).
 * - A response of status 500 or more is a failed request, and saves nothing: a route
 *   that throws leaves the session as it was.
 * - `await session.commit()` saves before the response is written, for a route that
 *   handles a store failure itself; if it rejects, the response saves nothing more.
 * - Changing the session once the route has started its response throws a
 *   `SessionHeadersSentError`: the change could not reach the browser.
 *
 * The session is not put on `req.session`: that name belongs to express-session, whose
 * global type declaration would clash. {@link getSession} is typed by the manager, and
 * an app with two managers (two cookies) gets each session by its manager.
 *
 * @param manager - The session manager.
 * @returns The middleware. When the store's infrastructure fails, it passes a
 *   `SessionStoreError` to `next`.
 * @example
 * ```ts
 * import express from 'express';
 * import { getSession, session } from 'kit-session/express';
 *
 * const app = express();
 * app.use(session(manager));
 * app.get('/', (req, res) => {
 *   const s = getSession(req, manager);
 *   s.set('visits', (s.get('visits') ?? 0) + 1);
 *   res.send(`visits: ${s.get('visits')}`); // saved before it goes out
 * });
 * ```
 */
export function session<T extends object>(manager: SessionManager<T>): RequestHandler {
  // Not an async function: Express's router chains a `then` onto any promise a
  // middleware returns, one more promise and microtask per request for nothing.
  return function kitSession(req: Request, res: Response, next: NextFunction): void {
    const gate = new ResponseGate(res);
    let started: SessionLifecycle<T> | Promise<SessionLifecycle<T>>;
    try {
      started = SessionLifecycle.start(manager, fromFrameworkRequest(req, req), gate);
    } catch (error) {
      next(error);
      return;
    }
    const attach = (lifecycle: SessionLifecycle<T>): void => {
      try {
        sessions.attach(req, manager, lifecycle.session);
        gate.saveBeforeHead(lifecycle, next);
        next();
      } catch (error) {
        // What the router did with the async function's rejection.
        next(error);
      }
    };
    if (started instanceof Promise) {
      started.then(attach, next);
    } else {
      // Deferred (see the manager's `load` option): at once, no turn of the microtask queue.
      attach(started);
    }
  };
}

/**
 * Returns the request's session, loaded by the {@link session} middleware of the same
 * manager. Its changes are saved by themselves when the response goes out.
 *
 * @param req - The request (`IncomingMessage`; Express's `req` is one).
 * @param manager - The manager given to the middleware; its value type types the session.
 * @returns The session handle.
 * @throws SessionNotLoadedError when the middleware of this manager did not run for
 *   this request.
 * @example
 * ```ts
 * app.post('/login', (req, res) => {
 *   const s = getSession(req, manager);
 *   s.renew();
 *   s.set('userId', user.id);
 *   res.redirect(303, '/');
 * });
 * ```
 */
export function getSession<T extends object>(req: IncomingMessage, manager: SessionManager<T>): Session<T> {
  return sessions.find(req, manager);
}
