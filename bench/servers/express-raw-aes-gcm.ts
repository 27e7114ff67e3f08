// Adapters benchmark: bare express 5 doing the same cookie work as kit-session/express
// by hand (rawCookie.ts: one AES-256-GCM open per request with a cookie, one seal per
// write, the same three headers): the fair reference of the Express target (issue 25:
// "within 10 % of bare Express plus the same cookie work"). GET /incr fills a fresh
// session and adds one; GET / reads it.
import express from 'express';
import { announce, body, newSession } from './common.js';
import { openCookie, sealedHeaders } from './rawCookie.js';

const app = express();
app.disable('x-powered-by');
app.disable('etag');
app.get('/incr', (request, response) => {
  const values = openCookie(request.headers.cookie) ?? newSession();
  values.n += 1;
  for (const [name, value] of sealedHeaders(values)) {
    response.setHeader(name, value);
  }
  response.type('application/json').send(body(values.n));
});
app.get('/', (request, response) => {
  response.type('application/json').send(body(openCookie(request.headers.cookie)?.n ?? 0));
});
const server = app.listen(0, '127.0.0.1', () => announce(server));
