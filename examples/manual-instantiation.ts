// Manual instantiation.
//
// No container: every part is built with `new` and plain arguments. The store is the
// stateless default, the cookie store wrapped in AES-GCM encryption, so the session
// lives in the browser and the server keeps nothing.
//
// The handler is fetch-style, `(request: Request) => Promise<Response>`; the second half
// of this file calls it the way a browser would, keeping the cookie between requests,
// and prints what came back. It also shows the two things a stateless cookie does and
// does not do: a tampered cookie is simply a new session, and a copy of a cookie taken
// before logout still opens until it expires (a server-side store revokes it; see
// endpoint-injection.ts).
//
// Run it: npm run build && npm run build:examples && node dist-examples/examples/manual-instantiation.js

import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { Context, CookieSessionStore, EncryptingStoreDecorator, importRawKey, SessionManager } from 'kit-session';

/** What this app keeps in a session. */
interface AppSession {
  user: string;
  visits: number;
}

// --- The app ----------------------------------------------------------------------

// A real app reads its key from the environment (make one with `openssl rand -base64 32`).
// Without one, this example makes up a key, so it runs on its own.
const keys = [await importRawKey(process.env.SESSION_KEY ?? randomBytes(32).toString('base64'))];

const cookieName = '__Host-app';
// The decorator binds the cookie name into every seal: give it the manager's name.
const store = new EncryptingStoreDecorator<AppSession>(new CookieSessionStore<AppSession>(), { keys, cookieName });
const sessions = new SessionManager<AppSession>(store, {
  cookie: { name: cookieName, sameSite: 'strict' },
  lifetime: '8h', // a working day at most
  idleTimeout: '30m', // and half an hour without a request
});

/** The app: loads the session, runs a small router, saves the session. */
async function handle(request: Request): Promise<Response> {
  // A Web Request fits as it is; so does a Web Headers below.
  const context = await sessions.extractSession(Context.background, request);
  const where = `${request.method} ${new URL(request.url).pathname}`;
  let body: object | undefined;
  if (where === 'GET /') {
    const visits = (sessions.getValue(context, 'visits') ?? 0) + 1;
    sessions.setValue(context, 'visits', visits);
    body = { visits, user: sessions.getValue(context, 'user') ?? null };
  } else if (where === 'POST /login') {
    const name = new URLSearchParams(await request.text()).get('name')?.trim() || 'anonymous';
    sessions.renewToken(context);
    sessions.setValue(context, 'user', name);
    body = { user: name };
  } else if (where === 'POST /logout') {
    sessions.destroyValues(context);
    body = { user: null };
  }
  const headers = new Headers({ 'content-type': 'application/json' });
  // Before the response is built: this writes Set-Cookie when the session changed.
  await sessions.injectSession(context, headers);
  return body === undefined
    ? new Response('{"error":"not found"}', { status: 404, headers })
    : new Response(JSON.stringify(body), { headers });
}

// --- The browser ------------------------------------------------------------------

/** The session cookie as the browser would send it back (`name=value`), if any. */
let cookie: string | undefined;

/**
 * Sends a request as the browser would and prints the exchange. With `replay`, sends
 * that cookie instead of the browser's own, and keeps nothing from the answer.
 */
async function send(
  method: string,
  path: string,
  options: { form?: Record<string, string>; replay?: { cookie: string; why: string } } = {},
): Promise<void> {
  const { form, replay } = options;
  const sent = replay?.cookie ?? cookie;
  console.log(`> ${method} ${path}${form ? ` ${new URLSearchParams(form)}` : ''}${replay ? ` (${replay.why})` : ''}`);
  const response = await handle(
    new Request(`https://app.example${path}`, {
      method,
      headers: sent === undefined ? {} : { cookie: sent },
      ...(form ? { body: new URLSearchParams(form) } : {}),
    }),
  );
  console.log(`< ${response.status} ${await response.text()}`);
  for (const setCookie of response.headers.getSetCookie()) {
    const [pair = '', ...attributes] = setCookie.split('; ');
    const [name, value = ''] = pair.split('=');
    if (replay === undefined) {
      cookie = value === '' ? undefined : pair;
    }
    const shown = value === '' ? `${name}=` : `${name}=<sealed, ${value.length} chars>`;
    console.log(`< Set-Cookie: ${[shown, ...attributes].join('; ')}`);
  }
}

/** Changes one character in the middle of a cookie's value. */
function tamper(pair: string): string {
  const at = Math.floor(pair.length * 0.75);
  return `${pair.slice(0, at)}${pair[at] === 'A' ? 'B' : 'A'}${pair.slice(at + 1)}`;
}

await send('GET', '/');
await send('POST', '/login', { form: { name: 'Linus' } });
await send('GET', '/');
const loggedIn = cookie!;
// Anything that does not open is a fresh session, never an error.
await send('GET', '/', { replay: { cookie: tamper(loggedIn), why: 'a tampered cookie' } });
await send('POST', '/logout');
await send('GET', '/');
// A stateless cookie cannot be revoked: a copy opens until it expires.
await send('GET', '/', { replay: { cookie: loggedIn, why: 'a copy of the cookie from before the logout' } });
