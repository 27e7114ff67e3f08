// Adapters benchmark: fastify 5 with kit-session's plugin (kit-session/fastify) on an
// encrypted cookie. GET /incr adds one to a counter; GET / reads it.
import Fastify from 'fastify';
import { createCookieSessions, importRawKey } from 'kit-session';
import { getSession, sessionPlugin } from 'kit-session/fastify';
import { announce, BENCH_KEY_BASE64, body } from './common.js';

interface Values {
  n: number;
}

const manager = createCookieSessions<Values>({ keys: [await importRawKey(BENCH_KEY_BASE64)] });
const app = Fastify({ logger: false });
await app.register(sessionPlugin, { manager });
app.get('/incr', async (request, reply) => {
  const session = getSession(request, manager);
  const n = (session.get('n') ?? 0) + 1;
  session.set('n', n);
  reply.type('application/json');
  return body(n);
});
app.get('/', async (request, reply) => {
  reply.type('application/json');
  return body(getSession(request, manager).get('n') ?? 0);
});
await app.listen({ port: 0, host: '127.0.0.1' });
announce(app.server);
