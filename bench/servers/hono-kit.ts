// Adapters benchmark: Hono on @hono/node-server with kit-session's middleware
// (kit-session/hono) on an encrypted cookie. GET /incr adds one to a counter; GET / reads it.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { Server } from 'node:http';
import { createCookieSessions, importRawKey } from 'kit-session';
import { session, type SessionVariables } from 'kit-session/hono';
import { announce, BENCH_KEY_BASE64, body } from './common.js';

interface Values {
  n: number;
}

const manager = createCookieSessions<Values>({ keys: [await importRawKey(BENCH_KEY_BASE64)] });
const app = new Hono<{ Variables: SessionVariables<Values> }>();
app.use(session(manager));
app.get('/incr', (c) => {
  const s = c.get('session');
  const n = (s.get('n') ?? 0) + 1;
  s.set('n', n);
  return c.body(body(n), 200, { 'content-type': 'application/json' });
});
app.get('/', (c) => c.body(body(c.get('session').get('n') ?? 0), 200, { 'content-type': 'application/json' }));
const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => announce(server as Server));
