// Adapters benchmark: Hono on @hono/node-server with its own signed-cookie helper
// (hono/cookie getSignedCookie/setSignedCookie, HMAC-SHA256): a counter in a signed
// cookie, Hono's usual way to keep a little state without a session plugin. The cookie
// holds a random visitor id beside the counter (`<id>.<n>`), as any session cookie
// tells one visitor from another, so that the distinct-cookie pool is distinct.
// GET /incr adds one to the counter; GET / reads it.
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { getSignedCookie, setSignedCookie } from 'hono/cookie';
import { announce, BENCH_PASSWORD, body } from './common.js';

const NAME = 'counter';
const app = new Hono();

/** The visitor id and counter of the request's signed cookie, if it verifies. */
async function read(c: Context): Promise<{ id: string; n: number } | undefined> {
  const value = await getSignedCookie(c, BENCH_PASSWORD, NAME);
  if (typeof value !== 'string') {
    return undefined;
  }
  const dot = value.lastIndexOf('.');
  const n = Number(value.slice(dot + 1));
  return dot > 0 && Number.isInteger(n) ? { id: value.slice(0, dot), n } : undefined;
}

app.get('/incr', async (c) => {
  const state = await read(c);
  const id = state?.id ?? randomBytes(16).toString('base64url');
  const n = (state?.n ?? 0) + 1;
  await setSignedCookie(c, NAME, `${id}.${n}`, BENCH_PASSWORD, {
    path: '/',
    httpOnly: true,
    secure: true,
    sameSite: 'Lax',
    maxAge: 24 * 60 * 60,
  });
  return c.body(body(n), 200, { 'content-type': 'application/json' });
});
app.get('/', async (c) => c.body(body((await read(c))?.n ?? 0), 200, { 'content-type': 'application/json' }));
const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => announce(server as Server));
