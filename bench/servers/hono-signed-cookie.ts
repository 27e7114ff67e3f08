// Adapters benchmark: Hono on @hono/node-server with its own signed-cookie helper
// (hono/cookie getSignedCookie/setSignedCookie, HMAC-SHA256): the session of common.ts
// as base64url JSON in a signed cookie, Hono's usual way to keep a little state without
// a session plugin (signed, not encrypted). GET /incr fills a fresh session and adds
// one; GET / reads it.
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { getSignedCookie, setSignedCookie } from 'hono/cookie';
import { announce, BENCH_PASSWORD, body, newSession, type BenchSession } from './common.js';

const NAME = 'session';
const app = new Hono();

/** The session of the request's signed cookie, if it verifies and parses. */
async function read(c: Context): Promise<BenchSession | undefined> {
  const value = await getSignedCookie(c, BENCH_PASSWORD, NAME);
  if (typeof value !== 'string') {
    return undefined;
  }
  try {
    return JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as BenchSession;
  } catch {
    return undefined;
  }
}

app.get('/incr', async (c) => {
  const session = (await read(c)) ?? newSession();
  session.n += 1;
  await setSignedCookie(c, NAME, Buffer.from(JSON.stringify(session)).toString('base64url'), BENCH_PASSWORD, {
    path: '/',
    httpOnly: true,
    secure: true,
    sameSite: 'Lax',
    maxAge: 24 * 60 * 60,
  });
  return c.body(body(session.n), 200, { 'content-type': 'application/json' });
});
app.get('/', async (c) => c.body(body((await read(c))?.n ?? 0), 200, { 'content-type': 'application/json' }));
const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => announce(server as Server));
