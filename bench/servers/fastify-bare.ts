// Adapters benchmark: bare fastify 5, no session, the 1× of the fastify cases; GET /
// and GET /untouched answer alike.
import Fastify, { type FastifyReply } from 'fastify';
import { announce, body } from './common.js';

const app = Fastify({ logger: false });
const answer = async (_request: unknown, reply: FastifyReply) => {
  reply.type('application/json');
  return body(0);
};
app.get('/', answer);
app.get('/untouched', answer);
await app.listen({ port: 0, host: '127.0.0.1' });
announce(app.server);
