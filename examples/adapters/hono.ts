// A Hono app with a session, served on Node by @hono/node-server (on Bun, Deno or
// Workers, export `app` or pass `app.fetch` as usual): a counter, a note kept in the
// session, and the error handler that answers a store outage with 503 and a session too
// large with 413.
//
//   PORT=3000 SESSION_KEY=$(openssl rand -base64 32) node dist-examples/examples/adapters/hono.js
//   REDIS_URL=redis://127.0.0.1:6379 ...   # sessions in Redis instead of in the cookie
import { randomBytes } from 'node:crypto';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { createCookieSessions, importKeysFromEnv, SessionStoreError, SessionTokenTooLargeError } from 'kit-session';
import { session, type SessionVariables } from 'kit-session/hono';
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

const app = new Hono<{ Variables: SessionVariables<AppSession> }>();
app.use(session(manager));

app.get('/', (c) => {
  const s = c.get('session');
  const visits = (s.get('visits') ?? 0) + 1;
  s.set('visits', visits);
  return c.text(`visits: ${visits}\n`);
});

// A note the client sends, kept in the session: a long one no longer fits in a cookie.
app.post('/note', async (c) => {
  c.get('session').set('note', await c.req.text());
  return c.text('noted\n');
});

// Loading and saving errors come here, and the response carries no session cookie.
app.onError((error, c) => {
  if (error instanceof SessionStoreError) {
    return c.text('try again shortly\n', 503, { 'Retry-After': '5' }); // the store is down
  }
  if (error instanceof SessionTokenTooLargeError) {
    return c.text('session too large\n', 413); // SessionCookieTooLargeError is one
  }
  if (error instanceof HTTPException) {
    return error.getResponse();
  }
  console.error(error); // kit-session's errors never hold a token, key or value
  return c.text('server error\n', 500);
});

serve({ fetch: app.fetch, hostname: '127.0.0.1', port: Number(process.env.PORT ?? 0) }, (info) => {
  console.log(`listening on http://127.0.0.1:${info.port}`);
});
