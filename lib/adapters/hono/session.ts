import type { MiddlewareHandler } from 'hono';
import type { Session } from '../../core/Session.js';
import type { SessionManager } from '../../core/SessionManager.js';
import { SessionLifecycle } from '../lifecycle.js';
import { ResponseHeaders } from '../ResponseHeaders.js';

/**
 * The context variables the {@link session} middleware sets: the session handle under
 * `K` (`'session'` unless told otherwise). Give them to `new Hono<{ Variables: … }>()`
 * so that `c.get('session')` is typed in every route.
 *
 * @typeParam T - The shape of the session's values.
 * @typeParam K - The variable's name.
 * @example
 * ```ts
 * const app = new Hono<{ Variables: SessionVariables<AppSession> }>();
 * ```
 */
export type SessionVariables<T extends object, K extends string = 'session'> = {
  [P in K]: Session<T>;
};

/**
 * Options of {@link session}.
 *
 * @typeParam K - The variable's name.
 */
export interface HonoSessionOptions<K extends string = 'session'> {
  /**
   * The context variable that holds the session; give each manager its own when an app
   * has two sessions.
   * @default 'session'
   */
  readonly variable?: K;
}

/**
 * Hono middleware that loads the request's session into `c.get('session')` and, after
 * the rest of the chain has built the response, saves the session and adds its headers
 * to `c.res`. In Hono the response is a value that nothing has sent yet when
 * `await next()` returns, so this is the framework's own place to save before the head
 * goes out: handlers need no explicit save.
 *
 * - The session's headers are merged with the app's: its `Set-Cookie` goes beside the
 *   app's cookies, `Cookie` is added to `Vary` and `private` to `Cache-Control`. They
 *   are added to `c.res.headers`, as Hono's own middleware (`cors`, `secureHeaders`)
 *   add theirs, so `c.res` must be this request's own response, not one object
 *   returned to every request. When its headers are immutable (`Response.redirect`, a
 *   proxied `fetch`), the response is copied (same body, status and headers) and the
 *   headers go on the copy.
 * - A request that fails (`c.error` is set: `app.onError` answered) saves nothing.
 * - When saving fails, the error is thrown from the middleware and reaches
 *   `app.onError`: `SessionCookieTooLargeError` when the session no longer fits in a
 *   cookie (no session header has been written), `SessionStoreError` when the store's
 *   infrastructure fails.
 * - Changing the session once the middleware has saved it (from a streaming body, say)
 *   throws a `SessionError`.
 *
 * @param manager - The session manager.
 * @param options - The variable's name.
 * @returns The middleware.
 * @throws TypeError when `options.variable` is not a non-empty string.
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * import { session, type SessionVariables } from 'kit-session/hono';
 *
 * const app = new Hono<{ Variables: SessionVariables<{ visits: number }> }>();
 * app.use(session(manager));
 * app.get('/', (c) => {
 *   const s = c.get('session');
 *   s.set('visits', (s.get('visits') ?? 0) + 1);
 *   return c.text(`visits: ${s.get('visits')}`);
 * });
 * ```
 */
export function session<T extends object, K extends string = 'session'>(
  manager: SessionManager<T>,
  options: HonoSessionOptions<K> = {},
): MiddlewareHandler<{ Variables: SessionVariables<T, K> }> {
  const variable = options.variable ?? 'session';
  if (typeof variable !== 'string' || variable === '') {
    throw new TypeError('variable must be a non-empty string');
  }

  return async function kitSession(c, next): Promise<void> {
    const headers = new ResponseHeaders();
    const started = SessionLifecycle.start(manager, c.req.raw, headers);
    // Deferred (see the manager's `load` option): at once, no turn of the microtask queue.
    const lifecycle = started instanceof Promise ? await started : started;
    // The variable's name is a type parameter: Hono's typed `set` cannot see it is a key.
    (c.set as (key: string, value: Session<T>) => void)(variable, lifecycle.session);
    try {
      await next();
    } finally {
      lifecycle.close();
    }
    if (c.error !== undefined) {
      lifecycle.fail();
      return;
    }
    await lifecycle.finish();
    const response = headers.into(c.res);
    if (response === c.res) {
      return;
    }
    // Assigning over a response makes Hono copy the old one's headers onto the new one,
    // overwriting the merged Vary and Set-Cookie: clear it first.
    c.res = undefined;
    c.res = response;
  };
}
