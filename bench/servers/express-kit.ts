// Adapters benchmark: express 5 with kit-session's middleware (kit-session/express) on
// an encrypted cookie. GET /incr adds one to a counter; GET / reads it.
import express from 'express';
import { createCookieSessions, importRawKey } from 'kit-session';
import { getSession, session } from 'kit-session/express';
import { announce, BENCH_KEY_BASE64, body } from './common.js';

interface Values {
  n: number;
}

const manager = createCookieSessions<Values>({ keys: [await importRawKey(BENCH_KEY_BASE64)] });
const app = express();
app.disable('x-powered-by');
app.disable('etag');
app.use(session(manager));
app.get('/incr', (request, response) => {
  const s = getSession(request, manager);
  const n = (s.get('n') ?? 0) + 1;
  s.set('n', n);
  response.type('application/json').send(body(n));
});
app.get('/', (request, response) => {
  response.type('application/json').send(body(getSession(request, manager).get('n') ?? 0));
});
const server = app.listen(0, '127.0.0.1', () => announce(server));
