import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Session } from '../../core/Session.js';
import { SessionError, SessionHeadersSentError } from '../../core/SessionError.js';
import type { SessionManager } from '../../core/SessionManager.js';
import { SessionLifecycle } from '../lifecycle.js';
import { fromNodeRequest, nodeSink } from '../node/http.js';
import { RequestSessions } from '../RequestSessions.js';

const sessions = new RequestSessions();

/**
 * Called when a response finished while its session still held changes that were
 * never committed: they are lost.
 *
 * @param error - A `SessionHeadersSentError` (code `ERR_SESSION_HEADERS_SENT`) saying so, without any value.
 * @param req - The request.
 * @param res - The response, already sent.
 */
export type UnsavedSessionHandler = (error: SessionError, req: Request, res: Response) => void;

/**
 * Options of {@link session}.
 */
export interface ExpressSessionOptions {
  /**
   * Called when a response other than a 5xx finished with changes to the session that
   * were never committed (`await getSession(req, manager).commit()` was forgotten).
   * A 5xx response is a failed request, and a failed request saves nothing; a commit
   * that failed (its error went down Express's error path) is not reported either.
   * @default emits a process warning (`process.emitWarning`) of type `SessionHeadersSentError`
   *   and code `ERR_SESSION_HEADERS_SENT`, which Node prints to stderr
   */
  readonly onUnsavedChanges?: UnsavedSessionHandler;
}

function warn(error: SessionError): void {
  process.emitWarning(error.message, { type: error.name, code: error.code });
}

/**
 * Express 5 middleware that loads the request's session, for
 * {@link getSession}`(req, manager)` to return.
 *
 * **Saving is explicit**: `await session.commit()` before `res.send`, `res.json`,
 * `res.redirect`, `res.render` or anything else that writes the response. Express (like
 * node:http under it) has no hook that runs before the head goes out, and `writeHead`
 * is synchronous while saving is not, so the only way to save on its own would be to
 * patch `res.writeHead`/`res.end`, as express-session does; kit-session does not
 * patch. To make the explicit step hard to get wrong:
 *
 * - changing the session after the head is out throws a `SessionError`, which Express
 *   sends down its error path;
 * - a response that finishes with changes never committed is reported through
 *   `onUnsavedChanges` (a process warning by default);
 * - `commit` on an unchanged session costs nothing, so calling it on every route is
 *   fine, and with an idle timeout it is needed: an unchanged session's expiry only
 *   moves forward when a commit saves it.
 *
 * The session is not put on `req.session`: that name belongs to express-session, whose
 * global type declaration would clash. {@link getSession} is typed by the manager, and
 * an app with two managers (two cookies) gets each session by its manager.
 *
 * @param manager - The session manager.
 * @param options - What to do about changes that were never committed.
 * @returns The middleware. When the store's infrastructure fails, it passes a
 *   `SessionStoreError` to `next`.
 * @throws TypeError when `options.onUnsavedChanges` is not a function.
 * @example
 * ```ts
 * import express from 'express';
 * import { getSession, session } from 'kit-session/express';
 *
 * const app = express();
 * app.use(session(manager));
 * app.get('/', async (req, res) => {
 *   const s = getSession(req, manager);
 *   s.set('visits', (s.get('visits') ?? 0) + 1);
 *   await s.commit();
 *   res.send(`visits: ${s.get('visits')}`);
 * });
 * ```
 */
export function session<T extends object>(
  manager: SessionManager<T>,
  options: ExpressSessionOptions = {},
): RequestHandler {
  const onUnsavedChanges = options.onUnsavedChanges ?? warn;
  if (typeof onUnsavedChanges !== 'function') {
    throw new TypeError('onUnsavedChanges must be a function');
  }

  return async function kitSession(req: Request, res: Response, next: NextFunction): Promise<void> {
    let lifecycle: SessionLifecycle<T>;
    try {
      lifecycle = await SessionLifecycle.load(manager, fromNodeRequest(req), nodeSink(res));
    } catch (error) {
      next(error);
      return;
    }
    sessions.attach(req, manager, lifecycle.session);
    res.once('finish', () => {
      if (lifecycle.session.isModified && res.statusCode < 500 && !lifecycle.failed) {
        onUnsavedChanges(
          new SessionHeadersSentError(
            'the response was sent with session changes that were never committed, so they are lost: ' +
              'await getSession(req, manager).commit() before writing the response',
          ),
          req,
          res,
        );
      }
    });
    next();
  };
}

/**
 * Returns the request's session, loaded by the {@link session} middleware of the same
 * manager. Its changes are saved by `await session.commit()`, before the response is
 * written.
 *
 * @param req - The request (`IncomingMessage`; Express's `req` is one).
 * @param manager - The manager given to the middleware; its value type types the session.
 * @returns The session handle.
 * @throws SessionNotLoadedError when the middleware of this manager did not run for
 *   this request.
 * @example
 * ```ts
 * app.post('/login', async (req, res) => {
 *   const s = getSession(req, manager);
 *   s.renew();
 *   s.set('userId', user.id);
 *   await s.commit();
 *   res.redirect(303, '/');
 * });
 * ```
 */
export function getSession<T extends object>(req: IncomingMessage, manager: SessionManager<T>): Session<T> {
  return sessions.find(req, manager);
}
