// Case (d): the counter with fastify 5 and @fastify/secure-session (libsodium secretbox),
// on the session of common.ts: GET /incr fills a fresh session and adds one, GET / reads it.
import fastifySecureSession from '@fastify/secure-session';
import Fastify from 'fastify';
import { announce, BENCH_KEY_BASE64, body, newSession, type BenchSession } from './common.js';

declare module '@fastify/secure-session' {
  interface SessionData extends BenchSession {}
}

const app = Fastify({ logger: false });
await app.register(fastifySecureSession, {
  key: Buffer.from(BENCH_KEY_BASE64, 'base64'),
  cookieName: 'fss',
  cookie: { path: '/', httpOnly: true, secure: true, sameSite: 'lax' },
});
app.get('/incr', async (request, reply) => {
  const session = request.session;
  if (session.get('userId') === undefined) {
    const values = newSession();
    for (const key of Object.keys(values) as (keyof BenchSession)[]) {
      session.set(key, values[key]);
    }
  }
  const n = (session.get('n') ?? 0) + 1;
  session.set('n', n);
  reply.type('application/json');
  return body(n);
});
app.get('/', async (request, reply) => {
  reply.type('application/json');
  return body(request.session.get('n') ?? 0);
});
await app.listen({ port: 0, host: '127.0.0.1' });
announce(app.server);
