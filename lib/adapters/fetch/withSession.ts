import type { Session } from '../../core/Session.js';
import type { SessionManager } from '../../core/SessionManager.js';
import { SessionLifecycle } from '../lifecycle.js';
import { ResponseHeaders } from '../ResponseHeaders.js';

/**
 * A Fetch API handler that gets the request's session as its second argument. Any
 * further arguments the runtime passes (Bun's `server`, Deno's `info`, a Worker's
 * `env` and `ctx`) follow it.
 *
 * @typeParam T - The shape of the session's values.
 * @typeParam A - The runtime's further arguments.
 */
export type FetchSessionHandler<T extends object, A extends unknown[]> = (
  request: Request,
  session: Session<T>,
  ...args: A
) => Response | Promise<Response>;

/**
 * Wraps a Fetch API handler, `(request) => Response`, so that it gets the request's
 * session and the returned response carries the saved session's cookie. That is the
 * shape of Bun's and Deno's servers, Cloudflare Workers and `@hono/node-server`'s
 * `serve`. Not for React Router's loaders, where each wrapped loader would load and save
 * a session of its own: use `kit-session/react-router`, which loads one per request.
 *
 * The handler decides the response; the adapter saves the session after the handler
 * returns and before anyone can send the response, so there is no way to write the
 * head too early. A `Response`'s headers may be immutable (`Response.redirect`, a
 * proxied `fetch`), and a `Response` object may be shared, so when the session has a
 * header to add, the adapter returns a copy with the same body, status and headers
 * plus the session's (`Set-Cookie` beside the app's own cookies, `Cookie` added to
 * `Vary`, `private` to `Cache-Control`); when it has none, the handler's own response.
 *
 * Errors are the app's to answer: the returned function rejects, and writes no session
 * header, with `SessionCookieTooLargeError` when the session no longer fits in a
 * cookie, `SessionStoreError` when the store's infrastructure fails, and whatever the
 * handler throws (a handler that throws saves nothing). Wrap it in the app's own
 * error page, as the example shows. Changing the session after the handler has
 * returned (from a streaming body, say) throws a `SessionError`.
 *
 * @param manager - The session manager.
 * @param handler - The handler; it gets `(request, session, ...args)`.
 * @returns A handler of the same shape without the session argument.
 * @throws TypeError when `handler` is not a function.
 * @example
 * ```ts
 * import { withSession } from 'kit-session/fetch';
 *
 * const counter = withSession(manager, async (request, session) => {
 *   const visits = (session.get('visits') ?? 0) + 1;
 *   session.set('visits', visits);
 *   return new Response(`visits: ${visits}`);
 * });
 *
 * async function handle(request: Request): Promise<Response> {
 *   try {
 *     return await counter(request);
 *   } catch (error) {
 *     const tooLarge = error instanceof SessionCookieTooLargeError;
 *     return new Response(tooLarge ? 'session too large' : 'server error', { status: tooLarge ? 413 : 500 });
 *   }
 * }
 *
 * Bun.serve({ fetch: handle });
 * Deno.serve(handle);
 * ```
 */
export function withSession<T extends object, A extends unknown[] = []>(
  manager: SessionManager<T>,
  handler: FetchSessionHandler<T, A>,
): (request: Request, ...args: A) => Promise<Response> {
  if (typeof handler !== 'function') {
    throw new TypeError('handler must be a function');
  }
  return async function sessionHandler(request: Request, ...args: A): Promise<Response> {
    const headers = new ResponseHeaders();
    const started = SessionLifecycle.start(manager, request, headers);
    // Deferred (see the manager's `load` option): at once, no turn of the microtask queue.
    const lifecycle = started instanceof Promise ? await started : started;
    let response: Response;
    try {
      response = await handler(request, lifecycle.session, ...args);
    } catch (error) {
      lifecycle.fail();
      throw error;
    }
    await lifecycle.finish();
    return headers.onto(response);
  };
}
