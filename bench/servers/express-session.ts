// Case (d): the counter with express 5 and express-session's MemoryStore, on the
// session of common.ts: GET /incr fills a fresh session and adds one, GET / reads it.
import express from 'express';
import session from 'express-session';
import { announce, BENCH_PASSWORD, body, newSession, type BenchSession } from './common.js';

declare module 'express-session' {
  interface SessionData extends BenchSession {}
}

const app = express();
app.disable('x-powered-by');
app.disable('etag');
app.use(
  session({
    secret: BENCH_PASSWORD,
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'lax', maxAge: 24 * 60 * 60 * 1000 },
  }),
);
app.get('/incr', (request, response) => {
  if (request.session.userId === undefined) {
    Object.assign(request.session, newSession());
  }
  const n = (request.session.n ?? 0) + 1;
  request.session.n = n;
  response.type('application/json').send(body(n));
});
app.get('/', (request, response) => {
  response.type('application/json').send(body(request.session.n ?? 0));
});
const server = app.listen(0, '127.0.0.1', () => announce(server));
