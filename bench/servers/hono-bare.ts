// Adapters benchmark: bare Hono on @hono/node-server, no session, the 1× of the Hono
// cases; GET / and GET /untouched answer alike.
import { serve } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import type { Server } from 'node:http';
import { announce, body } from './common.js';

const app = new Hono();
const answer = (c: Context) => c.body(body(0), 200, { 'content-type': 'application/json' });
app.get('/', answer);
app.get('/untouched', answer);
const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => announce(server as Server));
