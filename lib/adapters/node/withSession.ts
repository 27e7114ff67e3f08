import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Session } from '../../core/Session.js';
import type { SessionManager } from '../../core/SessionManager.js';
import { SessionLifecycle } from '../lifecycle.js';
import { fromNodeRequest, nodeSink } from './http.js';

/**
 * What a node:http session handler may return: the response body, which the adapter
 * writes after saving the session. Return nothing once the handler has written the
 * response itself (after `await session.commit()`).
 */
export type NodeBody = string | Uint8Array | undefined | void;

/**
 * A node:http request handler that gets the request's session as a third argument.
 *
 * @typeParam T - The shape of the session's values.
 */
export type NodeSessionHandler<T extends object> = (
  req: IncomingMessage,
  res: ServerResponse,
  session: Session<T>,
) => NodeBody | Promise<NodeBody>;

/**
 * Called when loading the session, the handler, or saving the session fails.
 *
 * @param error - What was thrown: a `SessionError` subclass (a store failure, a
 *   cookie too large, a session changed but not saved before the head went out) or
 *   whatever the handler threw.
 * @param req - The request.
 * @param res - The response; `res.headersSent` tells whether an error page can still
 *   be sent.
 */
export type NodeErrorHandler = (error: unknown, req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/**
 * Options of {@link withSession}.
 */
export interface NodeSessionOptions {
  /**
   * The error path: see {@link NodeErrorHandler}. The default writes the error to
   * `console.error` and answers `500 Internal Server Error` (without the app's
   * headers, but with the cookie a commit may already have written) when the head has not gone out yet, or ends the connection when it has
   * and the response is unfinished.
   * @default answers 500 and logs the error
   */
  readonly onError?: NodeErrorHandler;
}

/** Headers a commit may have written, which the default error path keeps. */
const SAVED_HEADERS = new Set(['set-cookie', 'vary', 'cache-control']);

/**
 * The default error path: log, then a bare 500 if the head is still ours.
 *
 * @param error - What was thrown.
 * @param _req - The request.
 * @param res - The response.
 */
function answerServerError(error: unknown, _req: IncomingMessage, res: ServerResponse): void {
  console.error(error);
  if (!res.headersSent) {
    // Drop what the handler built, but keep what a successful commit wrote: the old id
    // may already be deleted, and without the new cookie the user would be logged out.
    for (const name of res.getHeaderNames()) {
      if (!SAVED_HEADERS.has(name)) {
        res.removeHeader(name);
      }
    }
    res.statusCode = 500;
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.end('Internal Server Error');
  } else if (!res.writableEnded) {
    res.destroy();
  }
}

/**
 * Wraps a node:http handler so that it gets the request's session, and saves the
 * session before the response head goes out.
 *
 * node:http has no hook before the head is written, so the save point is one the
 * adapter controls, with no patching of `res`:
 *
 * - **Return the body** (the simple way): the handler sets the status and headers on
 *   `res` (`res.statusCode = 201`, `res.setHeader(...)`, which send nothing yet) and
 *   returns the body as a string or bytes, or nothing. When its promise settles, the
 *   adapter saves the session, adds its headers and ends the response with the body.
 * - **Write it yourself** (streams, `writeHead`): `await session.commit()` first, then
 *   write (with an idle timeout, even when the session did not change: the commit is
 *   what moves an unchanged session's expiry forward). Changing the session after the head is out throws a `SessionHeadersSentError`; a
 *   session changed but not saved by the time the handler settles with its head sent
 *   goes to `onError` as a `SessionHeadersSentError` (code `ERR_SESSION_HEADERS_SENT`): the change is lost,
 *   and that is a bug to fix, not a state to ignore.
 *
 * The handler's promise must settle when the response is decided: a handler that
 * returns first and writes later from a callback gets its response ended early.
 * A handler that throws saves nothing: the error goes to `onError`.
 *
 * @param manager - The session manager.
 * @param handler - The request handler; it gets `(req, res, session)`.
 * @param options - The error path.
 * @returns A request listener for `http.createServer` (or `https`). It never rejects: when
 *   `onError` itself throws, the default error path takes over.
 * @throws TypeError when `handler` or `options.onError` is not a function.
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { withSession } from 'kit-session/node';
 *
 * const server = createServer(
 *   withSession(manager, async (req, res, session) => {
 *     const visits = (session.get('visits') ?? 0) + 1;
 *     session.set('visits', visits);
 *     res.setHeader('content-type', 'text/plain');
 *     return `visits: ${visits}`;
 *   }),
 * );
 * ```
 */
export function withSession<T extends object>(
  manager: SessionManager<T>,
  handler: NodeSessionHandler<T>,
  options: NodeSessionOptions = {},
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  if (typeof handler !== 'function') {
    throw new TypeError('handler must be a function');
  }
  const onError = options.onError ?? answerServerError;
  if (typeof onError !== 'function') {
    throw new TypeError('onError must be a function');
  }

  return async function sessionListener(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const started = SessionLifecycle.start(manager, fromNodeRequest(req), nodeSink(res));
      // Deferred (see the manager's `load` option): at once, no turn of the microtask queue.
      const lifecycle = started instanceof Promise ? await started : started;
      const body = await handler(req, res, lifecycle.session);
      // Throws SessionHeadersSentError when the handler wrote the head with changes unsaved.
      await lifecycle.finish();
      if (!res.headersSent) {
        res.end(body);
      }
    } catch (error) {
      try {
        await onError(error, req, res);
      } catch (failure) {
        answerServerError(failure, req, res);
      }
    }
  };
}
