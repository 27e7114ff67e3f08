// An Express 5 app with a session: a counter, a note kept in the session, and the error
// handler that answers a store outage with 503 and a session too large with 413.
//
//   PORT=3000 SESSION_KEY=$(openssl rand -base64 32) node dist-examples/examples/adapters/express.js
//   REDIS_URL=redis://127.0.0.1:6379 ...   # sessions in Redis instead of in the cookie
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler } from 'express';
import { createCookieSessions, importKeysFromEnv, SessionStoreError, SessionTokenTooLargeError } from 'kit-session';
import { getSession, session } from 'kit-session/express';
import { redisSessions } from '../redisSessions.js';

interface AppSession {
  visits: number;
  note: string;
}

// Without SESSION_KEY, a fresh key each start: every session ends at a restart.
process.env.SESSION_KEY ??= randomBytes(32).toString('base64');
const manager = process.env.REDIS_URL
  ? await redisSessions<AppSession>(process.env.REDIS_URL)
  : createCookieSessions<AppSession>({ keys: await importKeysFromEnv('SESSION_KEY') });

const app = express();
app.use(session(manager));

app.get('/', (req, res) => {
  const s = getSession(req, manager);
  const visits = (s.get('visits') ?? 0) + 1;
  s.set('visits', visits);
  res.type('text/plain').send(`visits: ${visits}\n`); // saved before it goes out
});

// A note the client sends, kept in the session: a long one no longer fits in a cookie.
app.post('/note', express.text(), (req, res) => {
  getSession(req, manager).set('note', String(req.body));
  res.type('text/plain').send('noted\n');
});

// A failed save sends nothing of the route's response: the error comes here instead,
// with no session cookie. Recognise kit-session's errors by class, never by message;
// anything else goes on to Express's own handler (its status, or 500).
const onError: ErrorRequestHandler = (error, _req, res, next) => {
  if (res.headersSent) {
    next(error);
  } else if (error instanceof SessionStoreError) {
    res.status(503).set('Retry-After', '5').type('text/plain').send('try again shortly\n'); // the store is down
  } else if (error instanceof SessionTokenTooLargeError) {
    res.status(413).type('text/plain').send('session too large\n'); // SessionCookieTooLargeError is one
  } else {
    next(error);
  }
};
app.use(onError);

const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
