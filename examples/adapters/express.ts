// An Express 5 app with a session.
//
//   PORT=3000 SESSION_KEY=$(openssl rand -base64 32) node dist-examples/examples/adapters/express.js
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler } from 'express';
import { createCookieSessions, importKeysFromEnv, SessionCookieTooLargeError } from 'kit-session';
import { getSession, session } from 'kit-session/express';

interface AppSession {
  visits: number;
}

// Without SESSION_KEY, a fresh key each start: every session ends at a restart.
process.env.SESSION_KEY ??= randomBytes(32).toString('base64');
const manager = createCookieSessions<AppSession>({ keys: await importKeysFromEnv('SESSION_KEY') });

const app = express();
app.use(session(manager));

app.get('/', (req, res) => {
  const s = getSession(req, manager);
  const visits = (s.get('visits') ?? 0) + 1;
  s.set('visits', visits);
  res.type('text/plain').send(`visits: ${visits}\n`); // saved before it goes out
});

// A failed save (the store is down, the cookie too large) sends nothing of the route's
// response: the error comes here instead.
const onError: ErrorRequestHandler = (error, _req, res, next) => {
  if (res.headersSent) {
    next(error);
    return;
  }
  const tooLarge = error instanceof SessionCookieTooLargeError;
  res.status(tooLarge ? 413 : 500).type('text/plain').send(tooLarge ? 'session too large\n' : 'server error\n');
};
app.use(onError);

const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
