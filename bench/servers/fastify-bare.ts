// Adapters benchmark: bare fastify 5, no session, the 1× of the fastify cases.
import Fastify from 'fastify';
import { announce, body } from './common.js';

const app = Fastify({ logger: false });
app.get('/', async (_request, reply) => {
  reply.type('application/json');
  return body(0);
});
await app.listen({ port: 0, host: '127.0.0.1' });
announce(app.server);
