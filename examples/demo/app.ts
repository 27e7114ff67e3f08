// The demo's request handling: read the form, load the session, run the route with the
// request's `Session`, save the session, write the response. Any error becomes a plain
// error page, never a crash. It calls the manager's `extractSession` and `injectSession`
// itself rather than `withSession` from kit-session/node, because "Your sessions" hands
// the request's context to `listOwnerSessions` and `destroyOtherSessions`.

import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { parseCookie } from 'cookie';
import {
  Context,
  fromNodeRequest,
  fromNodeResponse,
  SessionCookieTooLargeError,
  SessionError,
  SessionStoreError,
  type SessionManager,
} from 'kit-session';
import { renderError, type ErrorView } from './pages.js';
import { routes, type DemoSession, type RouteResult } from './routes.js';

/** What the app needs. */
export interface AppOptions {
  /** The session manager. */
  readonly sessions: SessionManager<DemoSession>;
  /** Where sessions are kept, in words, for the page footer. */
  readonly store: string;
  /** Whether sessions live on the server (memory, Redis, PostgreSQL, MySQL, SQLite), only an id in the cookie. */
  readonly serverSide: boolean;
  /** Whether sessions live in cookies that a name's generation can revoke (SESSION_STORE=revocable). */
  readonly revocable: boolean;
  /** How recent a log-in "Delete my data" wants, in milliseconds. */
  readonly freshLogin: number;
}

/** The largest form accepted, in bytes. */
const MAX_FORM_BYTES = 16 * 1024;

/** An answer that ends a request early, as an error page. */
class HttpError extends Error {
  readonly view: ErrorView;
  readonly headers: Readonly<Record<string, string>>;

  constructor(view: ErrorView, headers: Readonly<Record<string, string>> = {}) {
    super(view.title);
    this.view = view;
    this.headers = headers;
  }
}

/** Headers of every page: nothing runs, nothing is framed, nothing is cached. */
const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
} as const;

/**
 * Makes the node:http request listener of the demo.
 *
 * @param options - The session manager and the store's description.
 * @returns The listener for `http.createServer`.
 */
export function createApp(options: AppOptions): RequestListener {
  return (request, response) => {
    serve(options, request, response).catch((error: unknown) => sendError(response, error));
  };
}

async function serve(options: AppOptions, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const { sessions, store, serverSide, revocable, freshLogin } = options;
  const path = (request.url ?? '/').split('?', 1)[0]!;
  const route = routes.get(`${request.method} ${path}`);
  if (route === undefined) {
    throw notRouted(request.method ?? '', path);
  }
  const form = request.method === 'POST' ? await readForm(request) : new URLSearchParams();

  const context = await sessions.extractSession(Context.background, fromNodeRequest(request));
  const cookieBytes = sessionCookieBytes(request.headers.cookie, sessions.name);
  const session = sessions.session(context);
  const result = await route({ session, context, sessions, form, store, serverSide, revocable, freshLogin, cookieBytes });
  // Before the head goes out: writes Set-Cookie when the session changed.
  await sessions.injectSession(context, fromNodeResponse(response));
  send(response, result);
}

function send(response: ServerResponse, result: RouteResult): void {
  if ('redirect' in result) {
    // Redirect after POST: reloading the page does not post the form again.
    response.writeHead(303, { location: result.redirect, 'cache-control': 'no-store' }).end();
  } else {
    response.writeHead(result.status ?? 200, PAGE_HEADERS).end(result.html);
  }
}

function sendError(response: ServerResponse, error: unknown): void {
  const { view, headers } = errorPage(error);
  if (view.status >= 500) {
    // Name and code only: a message could carry a value from the session.
    const code = error instanceof SessionError ? ` (${error.code})` : '';
    console.error(`demo: ${view.status} ${error instanceof Error ? error.name : 'error'}${code}`);
  }
  if (response.headersSent) {
    response.destroy();
    return;
  }
  // Drop anything written for the failed answer, a session cookie above all.
  for (const name of response.getHeaderNames()) {
    response.removeHeader(name);
  }
  response.writeHead(view.status, { ...PAGE_HEADERS, ...headers }).end(renderError(view));
}

function errorPage(error: unknown): { view: ErrorView; headers: Readonly<Record<string, string>> } {
  if (error instanceof HttpError) {
    return { view: error.view, headers: error.headers };
  }
  if (error instanceof SessionCookieTooLargeError) {
    return {
      view: {
        status: 413,
        title: 'Too much for one cookie',
        message:
          `That would make the session cookie ${error.size} bytes long, more than the ${error.limit} bytes a browser keeps, ` +
          'so nothing was saved (the app got SessionCookieTooLargeError). Your session is as it was. ' +
          'A server-side store (SESSION_STORE=memory, redis, postgres, mysql or sqlite) keeps only an id in the cookie.',
      },
      headers: {},
    };
  }
  if (error instanceof SessionStoreError) {
    return {
      view: { status: 503, title: 'Sessions unavailable', message: 'The session store did not answer. Try again shortly.' },
      headers: { 'retry-after': '5' },
    };
  }
  return {
    view: { status: 500, title: 'Something went wrong', message: 'The demo could not handle that request.' },
    headers: {},
  };
}

function notRouted(method: string, path: string): HttpError {
  const allowed = [...routes.keys()].filter((key) => key.endsWith(` ${path}`)).map((key) => key.split(' ')[0]!);
  if (allowed.length > 0) {
    return new HttpError(
      { status: 405, title: 'Method not allowed', message: `${method} is not used here.` },
      { allow: allowed.join(', ') },
    );
  }
  return new HttpError({ status: 404, title: 'Not found', message: 'There is no page here.' });
}

/** The length of the session cookie in a Cookie header (`name=value`), if it is there. */
function sessionCookieBytes(header: string | undefined, name: string): number | undefined {
  if (header === undefined) {
    return undefined;
  }
  try {
    const value = parseCookie(header)[name];
    return value === undefined ? undefined : Buffer.byteLength(`${name}=${value}`);
  } catch {
    return undefined;
  }
}

/** Reads a posted form, after the checks a form handler owes its users. */
async function readForm(request: IncomingMessage): Promise<URLSearchParams> {
  // SameSite=Lax keeps the cookie off cross-site posts; checking Origin also stops a
  // cross-site form from logging the visitor in under a name of its choosing.
  const origin = request.headers.origin;
  if (origin !== undefined && hostOf(origin) !== request.headers.host) {
    throw new HttpError({ status: 403, title: 'Forbidden', message: 'Forms are only accepted from this site.' });
  }
  const type = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw new HttpError({ status: 415, title: 'Unsupported form', message: 'Send the form as a plain HTML form.' });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) {
      throw new HttpError(
        { status: 413, title: 'Form too large', message: 'That form is larger than the demo accepts.' },
        { connection: 'close' },
      );
    }
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** The host of an Origin header; `undefined` for an opaque origin (`null`). */
function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}
