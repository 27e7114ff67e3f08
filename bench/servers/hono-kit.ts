// Adapters benchmark: Hono on @hono/node-server with kit-session's middleware
// (kit-session/hono) on an encrypted cookie, as the README shows. The routes of
// kitCounter.ts on the session of common.ts: GET /incr, GET /, GET /untouched.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { Server } from 'node:http';
import { createCookieSessions, importRawKey } from 'kit-session';
import { session, type SessionVariables } from 'kit-session/hono';
import { announce, BENCH_KEY_BASE64, body, type BenchSession } from './common.js';
import { incr, read } from './kitCounter.js';

const JSON_TYPE = { 'content-type': 'application/json' };
const manager = createCookieSessions<BenchSession>({ keys: [await importRawKey(BENCH_KEY_BASE64)] });
const app = new Hono<{ Variables: SessionVariables<BenchSession> }>();
app.use(session(manager));
app.get('/incr', (c) => c.body(body(incr(c.get('session'))), 200, JSON_TYPE));
app.get('/', (c) => c.body(body(read(c.get('session'))), 200, JSON_TYPE));
app.get('/untouched', (c) => c.body(body(0), 200, JSON_TYPE));
const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => announce(server as Server));
