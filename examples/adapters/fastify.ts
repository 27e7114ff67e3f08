// A Fastify 5 app with a session.
//
//   PORT=3000 SESSION_KEY=$(openssl rand -base64 32) node dist-examples/examples/adapters/fastify.js
import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import { createCookieSessions, importKeysFromEnv, SessionCookieTooLargeError } from 'kit-session';
import { getSession, sessionPlugin } from 'kit-session/fastify';

interface AppSession {
  visits: number;
}

// Without SESSION_KEY, a fresh key each start: every session ends at a restart.
process.env.SESSION_KEY ??= randomBytes(32).toString('base64');
const manager = createCookieSessions<AppSession>({ keys: await importKeysFromEnv('SESSION_KEY') });

const app = Fastify();
await app.register(sessionPlugin, { manager });

app.get('/', async (request, reply) => {
  const session = getSession(request, manager);
  const visits = (session.get('visits') ?? 0) + 1;
  session.set('visits', visits);
  return reply.type('text/plain; charset=utf-8').send(`visits: ${visits}\n`);
});

app.setErrorHandler((error, _request, reply) => {
  const tooLarge = error instanceof SessionCookieTooLargeError;
  return reply.code(tooLarge ? 413 : 500).send(tooLarge ? 'session too large\n' : 'server error\n');
});

const url = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
console.log(`listening on ${url}`);
