// The demo's routes. Each one reads and changes the session through the manager and
// answers with a page or a redirect; the plumbing (loading and saving the session,
// reading forms, writing responses, errors) lives in app.ts.

import type { Context, SessionManager } from 'kit-session';
import { renderHome } from './pages.js';

/** What the demo keeps in a session. */
export interface DemoSession {
  /** How many times the home page was loaded in this session. */
  visits: number;
  /** The logged-in name. */
  user: string;
  /** A message for the next page only. */
  flash: string;
}

/** What a route is given. */
export interface RouteInput {
  /** The request's context, holding its session. */
  readonly context: Context;
  /** The session manager. */
  readonly sessions: SessionManager<DemoSession>;
  /** The posted form; empty for a GET. */
  readonly form: URLSearchParams;
  /** Where sessions are kept, in words, for the page footer. */
  readonly store: string;
}

/** What a route answers: a page (200 unless told), or a redirect after a POST. */
export type RouteResult = { readonly html: string; readonly status?: number } | { readonly redirect: string };

/** A route handler. */
export type Route = (input: RouteInput) => RouteResult | Promise<RouteResult>;

/** GET /: counts the visit and shows the page; the flash message is shown once. */
function home({ context, sessions, store }: RouteInput): RouteResult {
  const visits = (sessions.getValue(context, 'visits') ?? 0) + 1;
  sessions.setValue(context, 'visits', visits);
  return {
    html: renderHome({
      visits,
      user: sessions.getValue(context, 'user'),
      flash: sessions.popValue(context, 'flash'),
      store,
    }),
  };
}

/** POST /login: any name will do. Logging in changes privileges, so the token is renewed. */
function login({ context, sessions, form }: RouteInput): RouteResult {
  const name = form.get('name')?.trim() ?? '';
  if (name === '') {
    sessions.setValue(context, 'flash', 'Please enter a name to log in.');
    return { redirect: '/' };
  }
  sessions.renewToken(context);
  sessions.setValue(context, 'user', name);
  sessions.setValue(context, 'flash', `Welcome, ${name}! Your session has a new token.`);
  return { redirect: '/' };
}

/** POST /logout: ends the session; the goodbye message starts a new, empty one. */
function logout({ context, sessions }: RouteInput): RouteResult {
  sessions.destroyValues(context);
  sessions.setValue(context, 'flash', 'You have logged out.');
  return { redirect: '/' };
}

/** The routes, by method and path. */
export const routes: ReadonlyMap<string, Route> = new Map<string, Route>([
  ['GET /', home],
  ['POST /login', login],
  ['POST /logout', logout],
]);
