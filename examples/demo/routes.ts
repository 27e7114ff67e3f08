// The demo's routes. Each one reads and changes the request's `Session` (`get`, `set`,
// `pop`, `renew`, `destroy`…, as the README's "The session in a handler" shows), asks
// the manager for what concerns a name's other sessions (`listOwnerSessions`,
// `destroyOtherSessions`…), and answers with a page or a redirect; the plumbing
// (loading and saving the session, reading forms, writing responses, errors) lives in
// app.ts.

import type { Context, Session, SessionManager } from 'kit-session';
import { renderBig, renderConfirmName, renderError, renderHome, renderSessions, type SessionTimes } from './pages.js';

/** What the demo keeps in a session. */
export interface DemoSession {
  /** How many times the home page was loaded in this session. */
  visits: number;
  /** The logged-in name; also the session's owner, for "Your sessions" and "log out everywhere". */
  user: string;
  /** A message for the next page only. */
  flash: string;
  /** The value of the "too large for a cookie" page. */
  big: string;
}

/** The session value that names the session's owner (the manager's `ownerKey`). */
export const OWNER_KEY = 'user' satisfies keyof DemoSession;

/** The largest value the big-value page stores, in bytes. */
export const MAX_BIG_VALUE = 100_000;
/** What the big-value page offers to store, in bytes: more than a cookie holds. */
export const DEFAULT_BIG_VALUE = 5_000;

/** What a route is given. */
export interface RouteInput {
  /** The request's session: what a route reads and changes. */
  readonly session: Session<DemoSession>;
  /** The request's context, holding its session, for the manager's calls about a name's sessions. */
  readonly context: Context;
  /** The session manager: a name's other sessions (list them, end them). */
  readonly sessions: SessionManager<DemoSession>;
  /** The posted form; empty for a GET. */
  readonly form: URLSearchParams;
  /** Where sessions are kept, in words, for the page footer. */
  readonly store: string;
  /** Whether sessions live on the server (the cookie holding only their sealed id). */
  readonly serverSide: boolean;
  /** Whether sessions live in cookies that a name's generation can revoke. */
  readonly revocable: boolean;
  /** How recent a log-in "Delete my data" wants, in milliseconds. */
  readonly freshLogin: number;
  /** The length of the session cookie the request brought (`name=value`), if any. */
  readonly cookieBytes: number | undefined;
}

/** What a route answers: a page (200 unless told), or a redirect after a POST. */
export type RouteResult = { readonly html: string; readonly status?: number } | { readonly redirect: string };

/** A route handler. */
export type Route = (input: RouteInput) => RouteResult | Promise<RouteResult>;

/** When the session ends, as this request will save it. */
function timesOf({ session }: RouteInput): SessionTimes {
  return { expires: session.expiresAt, deadline: session.deadline, now: new Date() };
}

/** GET /: counts the visit and shows the page; the flash message is shown once. */
function home(input: RouteInput): RouteResult {
  const { session, store, serverSide, revocable, freshLogin } = input;
  const visits = (session.get('visits') ?? 0) + 1;
  session.set('visits', visits);
  return {
    html: renderHome({
      visits,
      user: session.get('user'),
      flash: session.pop('flash'),
      bigBytes: session.get('big')?.length,
      times: timesOf(input),
      store,
      serverSide,
      revocable,
      freshLogin,
    }),
  };
}

/**
 * POST /login: any name will do. Logging in changes privileges, so the token is renewed.
 * "Keep me logged in" makes the cookie outlive the browser; unticked, it ends when the
 * browser closes (remember-me per log-in: the choice holds for this session).
 */
function login({ session, form }: RouteInput): RouteResult {
  const name = form.get('name')?.trim() ?? '';
  if (name === '') {
    session.set('flash', 'Please enter a name to log in.');
    return { redirect: '/' };
  }
  session.renew();
  session.setPersistent(form.get('remember') === 'on');
  session.set('user', name);
  session.set('flash', `Welcome, ${name}! Your session has a new token.`);
  return { redirect: '/' };
}

/** POST /logout: ends the session; the goodbye message starts a new, empty one. */
function logout({ session }: RouteInput): RouteResult {
  session.destroy();
  session.set('flash', 'You have logged out.');
  return { redirect: '/' };
}

/** The 409 page of an action the store cannot do: a plain encrypted cookie cannot be taken back. */
function notWithThisStore(what: string, stores: string): RouteResult {
  return {
    status: 409,
    html: renderError({
      status: 409,
      title: 'Not with this store',
      message: `A session kept in an encrypted cookie cannot be ended from the server. Start the demo with SESSION_STORE=${stores} to ${what}.`,
    }),
  };
}

/**
 * POST /logout-everywhere: ends every session of the logged-in name, in every browser,
 * this one included. A server-side store deletes them; with revocable cookies the
 * name's generation moves on, so every cookie sealed before stops opening. A plain
 * encrypted cookie cannot be taken back from a browser that holds a copy.
 */
async function logoutEverywhere({ session, sessions, serverSide, revocable }: RouteInput): Promise<RouteResult> {
  if (!serverSide && !revocable) {
    return notWithThisStore('log out everywhere', 'memory, redis, postgres, mysql, sqlite or revocable');
  }
  const user = session.get('user');
  if (user === undefined) {
    session.set('flash', 'You are not logged in.');
    return { redirect: '/' };
  }
  const ended = await sessions.destroyOwnerSessions(user);
  // Already deleted from the store (or revoked); this also expires this browser's cookie now.
  session.destroy();
  session.set(
    'flash',
    serverSide
      ? `You have logged out everywhere: ${ended} ${ended === 1 ? 'session' : 'sessions'} ended.`
      : 'You have logged out everywhere: every cookie of yours was revoked.',
  );
  return { redirect: '/' };
}

/**
 * GET /sessions: "Your sessions". A server-side store lists each device of the name
 * (`listOwnerSessions`, this request's own marked `current`); cookies cannot be listed,
 * so with revocable cookies the page offers only "end all others", and with plain
 * ones it explains why it offers nothing.
 */
async function sessionsPage({ session, context, sessions, store, serverSide, revocable }: RouteInput): Promise<RouteResult> {
  const user = session.get('user');
  if (user === undefined) {
    session.set('flash', 'Log in to see your sessions.');
    return { redirect: '/' };
  }
  return {
    html: renderSessions({
      user,
      flash: session.pop('flash'),
      devices: serverSide ? await sessions.listOwnerSessions(user, context) : undefined,
      revocable,
      store,
    }),
  };
}

/**
 * POST /sessions/end: ends one other device's session, named by the handle the list
 * gave (`destroySessionByHandle`). A handle of another name's session ends nothing.
 */
async function endSession({ session, sessions, form, serverSide }: RouteInput): Promise<RouteResult> {
  if (!serverSide) {
    return notWithThisStore('end one session', 'memory, redis, postgres, mysql or sqlite');
  }
  const user = session.get('user');
  if (user === undefined) {
    session.set('flash', 'You are not logged in.');
    return { redirect: '/' };
  }
  const ended = await sessions.destroySessionByHandle(user, form.get('handle') ?? '');
  session.set('flash', ended ? 'That session has ended: its browser is logged out.' : 'That session had already ended.');
  return { redirect: '/sessions' };
}

/**
 * POST /sessions/end-others: ends every session of the name but this one
 * (`destroyOtherSessions`). With revocable cookies, the name's generation moves on and
 * this browser's cookie is sealed again with the new one.
 */
async function endOtherSessions({ session, context, sessions, serverSide, revocable }: RouteInput): Promise<RouteResult> {
  if (!serverSide && !revocable) {
    return notWithThisStore('end your other sessions', 'memory, redis, postgres, mysql, sqlite or revocable');
  }
  if (session.get('user') === undefined) {
    session.set('flash', 'You are not logged in.');
    return { redirect: '/' };
  }
  const ended = await sessions.destroyOtherSessions(context);
  session.set(
    'flash',
    serverSide
      ? `Ended ${ended} other ${ended === 1 ? 'session' : 'sessions'}; this one goes on.`
      : 'Your other sessions are revoked; this one goes on.',
  );
  return { redirect: '/sessions' };
}

/**
 * POST /delete-data: forgets the visit count and the big value. It cannot be undone,
 * so it wants a recent log-in (`session.isFresh`); older, the page asks for the name again.
 * That form posts here with `name`: the same name is a new log-in (`renew()`, which
 * sets `authenticatedAt`), and the data goes at once.
 */
function deleteData({ session, form, freshLogin }: RouteInput): RouteResult {
  const user = session.get('user');
  if (user === undefined) {
    session.set('flash', 'You are not logged in.');
    return { redirect: '/' };
  }
  const name = form.get('name');
  if (name !== null) {
    if (name.trim() !== user) {
      return { status: 403, html: renderConfirmName({ freshLogin, wrongName: true }) };
    }
    session.renew();
  } else if (!session.isFresh(freshLogin)) {
    return { html: renderConfirmName({ freshLogin, wrongName: false }) };
  }
  session.unset('visits');
  session.unset('big');
  session.set('flash', 'Your data is deleted: the visit count starts over and the stored value is gone.');
  return { redirect: '/' };
}

/** GET /big: the form that stores a value too large for a cookie, and what is stored now. */
function bigPage(input: RouteInput): RouteResult {
  const { session, store, serverSide, cookieBytes } = input;
  return {
    html: renderBig({
      flash: session.pop('flash'),
      bigBytes: session.get('big')?.length,
      cookieBytes,
      suggested: DEFAULT_BIG_VALUE,
      max: MAX_BIG_VALUE,
      store,
      serverSide,
    }),
  };
}

/**
 * POST /big: stores a value of the size asked for. On the cookie store, anything much
 * over 2.9 KB makes the cookie too large: `injectSession` throws
 * `SessionCookieTooLargeError` and app.ts answers 413, the session left as it was.
 */
function storeBig({ session, form }: RouteInput): RouteResult {
  const size = Number(form.get('size')?.trim() || Number.NaN);
  if (!Number.isInteger(size) || size < 1 || size > MAX_BIG_VALUE) {
    session.set('flash', `Please choose a size from 1 to ${MAX_BIG_VALUE} bytes.`);
    return { redirect: '/big' };
  }
  session.set('big', 'x'.repeat(size));
  session.set('flash', `Stored a value of ${size} bytes in your session.`);
  return { redirect: '/big' };
}

/** POST /big/remove: forgets the big value. */
function removeBig({ session }: RouteInput): RouteResult {
  session.unset('big');
  session.set('flash', 'The value is gone from your session.');
  return { redirect: '/big' };
}

/** The routes, by method and path. */
export const routes: ReadonlyMap<string, Route> = new Map<string, Route>([
  ['GET /', home],
  ['POST /login', login],
  ['POST /logout', logout],
  ['POST /logout-everywhere', logoutEverywhere],
  ['GET /sessions', sessionsPage],
  ['POST /sessions/end', endSession],
  ['POST /sessions/end-others', endOtherSessions],
  ['POST /delete-data', deleteData],
  ['GET /big', bigPage],
  ['POST /big', storeBig],
  ['POST /big/remove', removeBig],
]);
