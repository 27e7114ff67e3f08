// kit-session/react-router: the session loaded once per request in React Router 7's middleware.
import type { MiddlewareFunction, RouterContext, RouterContextProvider } from 'react-router';
import type { Session } from '../../core/Session.js';
import { SessionNotLoadedError } from '../../core/SessionError.js';
import type { SessionManager } from '../../core/SessionManager.js';
import { SessionLifecycle } from '../lifecycle.js';
import { ResponseHeaders } from '../ResponseHeaders.js';

/** The context as a loader gets it: without `future.v8_middleware`, not a provider at all. */
type LoaderContext = Readonly<Pick<RouterContextProvider, 'get'>> | null | undefined;

/** Whether the request's context already holds a value under `key`. */
function holds(context: LoaderContext, key: RouterContext<unknown>): boolean {
  try {
    return typeof context?.get === 'function' && context.get(key) !== undefined;
  } catch {
    return false; // RouterContextProvider.get throws when nothing was set and there is no default.
  }
}

/**
 * React Router 7 server middleware that loads the request's session once, puts it in
 * the request's context under `key` for every loader and action that runs, and, once
 * they have all run and React Router has built the response (the HTML of a document
 * request, or the `.data` answer of a navigation, form or fetcher), saves it once and
 * adds its headers to that response: one `Set-Cookie` however many routes match, and
 * no change lost between loaders that run in parallel, since they share one session.
 *
 * Export it from the root route (`export const middleware = [sessionMiddleware(…)]`).
 * Middleware runs only with the `v8_middleware` future flag (React Router 7.9 to 7.x):
 * `future: { v8_middleware: true }` in `react-router.config.ts`, which puts it in the
 * server build. Listed again on a child route for the same key, it does nothing more.
 *
 * - Redirects and responses thrown by loaders and actions (`throw redirect('/')`,
 *   `throw data(…, { status: 400 })`) keep the session's changes and its cookie.
 * - A request whose response is a 5xx (a loader or action threw an error) saves nothing.
 * - A saving error is thrown from the middleware, so React Router renders the root
 *   `ErrorBoundary` with it (status 500), without the session's headers:
 *   `SessionCookieTooLargeError` when the session no longer fits in a cookie,
 *   `SessionStoreError` when the store's infrastructure fails (loading too).
 * - A change after the save (from a promise a loader returned unresolved) throws
 *   `SessionHeadersSentError`.
 *
 * @param manager - The session manager.
 * @param key - A context from React Router's `createContext<Session<T>>()`, under which
 *   loaders and actions find the session: `context.get(key)` or {@link getSession}.
 * @returns The middleware, for a route module's `middleware` array.
 * @throws TypeError when `key` is not an object.
 * @example
 * ```ts
 * // app/session.server.ts
 * import { createContext } from 'react-router';
 * import { createCookieSessions, importKeysFromEnv, type Session } from 'kit-session';
 *
 * type AppSession = { userId: string; visits: number };
 * export const manager = createCookieSessions<AppSession>({ keys: await importKeysFromEnv('SESSION_KEY') });
 * export const sessionContext = createContext<Session<AppSession>>();
 *
 * // app/root.tsx
 * import { sessionMiddleware } from 'kit-session/react-router';
 * export const middleware = [sessionMiddleware(manager, sessionContext)];
 *
 * // app/routes/home.tsx
 * export function loader({ context }: Route.LoaderArgs) {
 *   const session = context.get(sessionContext);
 *   session.set('visits', (session.get('visits') ?? 0) + 1);
 *   return { visits: session.get('visits') };
 * }
 * ```
 */
export function sessionMiddleware<T extends object>(
  manager: SessionManager<T>,
  key: RouterContext<Session<T>>,
): MiddlewareFunction<Response> {
  if (key === null || typeof key !== 'object') {
    throw new TypeError('key must be a context from createContext');
  }
  return async function kitSession({ request, context }, next): Promise<Response> {
    if (holds(context, key)) {
      return next();
    }
    const headers = new ResponseHeaders();
    const started = SessionLifecycle.start(manager, request, headers);
    // Deferred (see the manager's `load` option): at once, no turn of the microtask queue.
    const lifecycle = started instanceof Promise ? await started : started;
    context.set(key, lifecycle.session);
    let response: Response;
    try {
      response = await next();
    } catch (error) {
      lifecycle.fail();
      throw error;
    }
    if (response.status >= 500) {
      lifecycle.fail();
      return response;
    }
    await lifecycle.finish();
    return headers.onto(response);
  };
}

/**
 * The request's session in a loader or action: `context.get(key)`, with an error that
 * says what is missing when the middleware did not run.
 *
 * @param context - The `context` of the loader's or action's arguments.
 * @param key - The context given to {@link sessionMiddleware}.
 * @returns The session.
 * @throws SessionNotLoadedError when no session was loaded: the route is not under the
 *   route that exports the middleware, or `future.v8_middleware` is off (then React
 *   Router runs no middleware, and `context` is not a `RouterContextProvider`).
 * @example
 * ```ts
 * import { getSession } from 'kit-session/react-router';
 *
 * export async function action({ request, context }: Route.ActionArgs) {
 *   const session = getSession(context, sessionContext);
 *   session.renew();
 *   session.set('userId', String((await request.formData()).get('name')));
 *   throw redirect('/'); // the redirect carries the cookie
 * }
 * ```
 */
export function getSession<T extends object>(context: LoaderContext, key: RouterContext<Session<T>>): Session<T> {
  if (!holds(context, key)) {
    throw new SessionNotLoadedError(
      'no session in this request\'s context: export sessionMiddleware from the root route, ' +
        'and enable future.v8_middleware so that React Router runs it',
    );
  }
  return context!.get(key);
}
