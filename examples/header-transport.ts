// One Express app, two kinds of client: browsers keep the session in a cookie, a native
// app (mobile, desktop, a command-line tool) keeps it itself and sends it as
// `Authorization: Bearer <token>`.
//
// - A browser logs in with a form or fetch: the session comes back as `Set-Cookie`.
// - A native client logs in with `Authorization: Bearer` and no token yet: the session
//   comes back in `Session-Token` (with `Session-Token-Max-Age`, seconds). It sends the
//   token on every request and replaces it whenever a response has `Session-Token`
//   (a log-in renews it); an empty one (max-age 0) means logged out.
// - Each token is sealed under its transport's name: a cookie sent as a Bearer token,
//   or a header token put in a cookie, opens nothing.
// - A browser sends its cookie with cross-site requests too, so a state-changing request
//   whose session comes by cookie needs a same-origin check; one whose session comes by
//   a Bearer token cannot be forged from another site (a browser adds stored Basic or
//   Negotiate credentials to Authorization by itself, never a Bearer token, and no CORS
//   here lets a page add one), so it needs none.
//
//   PORT=3000 SESSION_KEY=$(openssl rand -base64 32) node dist-examples/examples/header-transport.js
//   curl -si -X POST -H 'Authorization: Bearer' -H 'content-type: application/json' \
//     -d '{"name":"Ada"}' http://127.0.0.1:3000/login            # → Session-Token: <token>
//   curl -s -H 'Authorization: Bearer <token>' http://127.0.0.1:3000/me
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import {
  CookieTransport,
  EncryptingStoreDecorator,
  fromNodeRequest,
  HeaderTransport,
  importKeysFromEnv,
  MemorySessionStore,
  SessionManager,
  SessionTokenTooLargeError,
} from 'kit-session';
import { getSession, session } from 'kit-session/express';

interface AppSession {
  user: string;
  visits: number;
}

// Without SESSION_KEY, a fresh key each start: every session ends at a restart.
process.env.SESSION_KEY ??= randomBytes(32).toString('base64');
const keys = await importKeysFromEnv('SESSION_KEY');

// A server-side store (memory here; Redis or PostgreSQL with several processes), so a
// log-out ends the session for good. The decorator seals each token under the name of
// the transport that carries it.
const store = new EncryptingStoreDecorator(new MemorySessionStore<AppSession>(), { keys });
const cookie = new CookieTransport();
const bearer = new HeaderTransport();
const manager = new SessionManager<AppSession>(store, {
  // A request's session travels the way its token came (the cookie first); a request
  // with none goes by header when it carries `Authorization: Bearer`, else by cookie.
  transport: [cookie, bearer],
});

/**
 * Refuses a state-changing request that a browser sent from another site with its
 * cookie (CSRF). A request whose session comes by a Bearer token is never one: a page of
 * another site cannot add that header without a CORS preflight this app does not allow,
 * and a browser adds no Bearer token on its own (it does add stored Basic or Negotiate
 * credentials, which is why the test is the transports' own reading, not "has an
 * Authorization header").
 */
const sameOriginUnlessBearer: RequestHandler = (req, res, next) => {
  const safe = req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS';
  const request = fromNodeRequest(req);
  // As the manager chooses: the cookie first, then a Bearer token.
  const byBearer = cookie.read(request) === undefined && bearer.read(request) !== undefined;
  const origin = req.get('origin');
  if (safe || byBearer || origin === undefined || origin === `${req.protocol}://${req.get('host')}`) {
    next();
    return;
  }
  res.status(403).json({ error: 'cross-site request refused' });
};

const app = express();
app.set('etag', false);
app.use(sameOriginUnlessBearer);
app.use(express.json());
app.use(session(manager));

app.post('/login', (req, res) => {
  const name = typeof req.body?.name === 'string' && req.body.name.trim() !== '' ? req.body.name.trim() : 'anonymous';
  const s = getSession(req, manager);
  s.renew(); // a new token at log-in: by cookie for a browser, in Session-Token for an app
  s.set('user', name);
  res.json({ user: name });
});

app.get('/me', (req, res) => {
  const s = getSession(req, manager);
  const visits = (s.get('visits') ?? 0) + 1;
  s.set('visits', visits);
  res.json({ user: s.get('user') ?? null, visits });
});

app.post('/logout', (req, res) => {
  getSession(req, manager).destroy(); // an expired cookie, or an empty Session-Token
  res.json({ user: null });
});

// A failed save (the store is down, the token too large) sends nothing of the route's
// response: the error comes here instead.
const onError: ErrorRequestHandler = (error, _req, res, next) => {
  if (res.headersSent) {
    next(error);
    return;
  }
  // SessionCookieTooLargeError is one too: a token too large for a cookie or a header.
  const tooLarge = error instanceof SessionTokenTooLargeError;
  res.status(tooLarge ? 413 : 500).json({ error: tooLarge ? 'session too large' : 'server error' });
};
app.use(onError);

const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
