// Case (d): the counter with fastify 5 and @fastify/secure-session (libsodium secretbox).
import fastifySecureSession from '@fastify/secure-session';
import Fastify from 'fastify';
import { announce, BENCH_KEY_BASE64, body } from './common.js';

declare module '@fastify/secure-session' {
  interface SessionData {
    n: number;
  }
}

const app = Fastify({ logger: false });
await app.register(fastifySecureSession, {
  key: Buffer.from(BENCH_KEY_BASE64, 'base64'),
  cookieName: 'fss',
  cookie: { path: '/', httpOnly: true, secure: true, sameSite: 'lax' },
});
app.get('/incr', async (request, reply) => {
  const n = (request.session.get('n') ?? 0) + 1;
  request.session.set('n', n);
  reply.type('application/json');
  return body(n);
});
app.get('/', async (request, reply) => {
  reply.type('application/json');
  return body(request.session.get('n') ?? 0);
});
await app.listen({ port: 0, host: '127.0.0.1' });
announce(app.server);
