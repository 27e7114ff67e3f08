// Adapters benchmark: fastify 5 with kit-session's plugin (kit-session/fastify) on an
// encrypted cookie, as the README shows. The routes of kitCounter.ts on the session of
// common.ts: GET /incr, GET /, GET /untouched.
import Fastify from 'fastify';
import { createCookieSessions, importRawKey } from 'kit-session';
import { getSession, sessionPlugin } from 'kit-session/fastify';
import { announce, BENCH_KEY_BASE64, body, type BenchSession } from './common.js';
import { incr, read } from './kitCounter.js';

const manager = createCookieSessions<BenchSession>({ keys: [await importRawKey(BENCH_KEY_BASE64)] });
const app = Fastify({ logger: false });
await app.register(sessionPlugin, { manager });
app.get('/incr', async (request, reply) => {
  reply.type('application/json');
  return body(incr(getSession(request, manager)));
});
app.get('/', async (request, reply) => {
  reply.type('application/json');
  return body(read(getSession(request, manager)));
});
app.get('/untouched', async (_request, reply) => {
  reply.type('application/json');
  return body(0);
});
await app.listen({ port: 0, host: '127.0.0.1' });
announce(app.server);
