// Adapters benchmark: express 5 with kit-session's middleware (kit-session/express) on
// an encrypted cookie, as the README shows. The routes of kitCounter.ts on the session
// of common.ts: GET /incr, GET /, GET /untouched.
import express from 'express';
import { createCookieSessions, importRawKey } from 'kit-session';
import { getSession, session } from 'kit-session/express';
import { announce, BENCH_KEY_BASE64, body, type BenchSession } from './common.js';
import { incr, read } from './kitCounter.js';

const manager = createCookieSessions<BenchSession>({ keys: [await importRawKey(BENCH_KEY_BASE64)] });
const app = express();
app.disable('x-powered-by');
app.disable('etag');
app.use(session(manager));
app.get('/incr', (request, response) => {
  response.type('application/json').send(body(incr(getSession(request, manager))));
});
app.get('/', (request, response) => {
  response.type('application/json').send(body(read(getSession(request, manager))));
});
app.get('/untouched', (_request, response) => {
  response.type('application/json').send(body(0));
});
const server = app.listen(0, '127.0.0.1', () => announce(server));
