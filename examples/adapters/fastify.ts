// A Fastify 5 app with a session: a counter, a note kept in the session, and the error
// handler that answers a store outage with 503 and a session too large with 413.
//
//   PORT=3000 SESSION_KEY=$(openssl rand -base64 32) node dist-examples/examples/adapters/fastify.js
//   REDIS_URL=redis://127.0.0.1:6379 ...   # sessions in Redis instead of in the cookie
import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import { createCookieSessions, importKeysFromEnv, SessionStoreError, SessionTokenTooLargeError } from 'kit-session';
import { getSession, sessionPlugin } from 'kit-session/fastify';
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

const app = Fastify();
await app.register(sessionPlugin, { manager });

app.get('/', async (request, reply) => {
  const session = getSession(request, manager);
  const visits = (session.get('visits') ?? 0) + 1;
  session.set('visits', visits);
  return reply.type('text/plain; charset=utf-8').send(`visits: ${visits}\n`);
});

// A note the client sends (text/plain, which Fastify parses), kept in the session: a
// long one no longer fits in a cookie.
app.post<{ Body: string }>('/note', async (request, reply) => {
  getSession(request, manager).set('note', request.body);
  return reply.type('text/plain; charset=utf-8').send('noted\n');
});

// Loading and saving errors come here, and the reply carries no session cookie. Anything
// else is thrown on to Fastify's own handler (a 400 for a bad body, else 500).
app.setErrorHandler((error, _request, reply) => {
  if (error instanceof SessionStoreError) {
    return reply.code(503).header('retry-after', '5').type('text/plain').send('try again shortly\n'); // the store is down
  }
  if (error instanceof SessionTokenTooLargeError) {
    return reply.code(413).type('text/plain').send('session too large\n'); // SessionCookieTooLargeError is one
  }
  throw error;
});

const url = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
console.log(`listening on ${url}`);
