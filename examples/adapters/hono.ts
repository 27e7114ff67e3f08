// A Hono app with a session, served on Node by @hono/node-server (on Bun, Deno or
// Workers, export `app` or pass `app.fetch` as usual).
//
//   PORT=3000 SESSION_KEY=$(openssl rand -base64 32) node dist-examples/examples/adapters/hono.js
import { randomBytes } from 'node:crypto';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { createCookieSessions, importKeysFromEnv, SessionCookieTooLargeError } from 'kit-session';
import { session, type SessionVariables } from 'kit-session/hono';

interface AppSession {
  visits: number;
}

// Without SESSION_KEY, a fresh key each start: every session ends at a restart.
process.env.SESSION_KEY ??= randomBytes(32).toString('base64');
const manager = createCookieSessions<AppSession>({ keys: await importKeysFromEnv('SESSION_KEY') });

const app = new Hono<{ Variables: SessionVariables<AppSession> }>();
app.use(session(manager));

app.get('/', (c) => {
  const s = c.get('session');
  const visits = (s.get('visits') ?? 0) + 1;
  s.set('visits', visits);
  return c.text(`visits: ${visits}\n`);
});

app.onError((error, c) =>
  error instanceof SessionCookieTooLargeError ? c.text('session too large\n', 413) : c.text('server error\n', 500),
);

serve({ fetch: app.fetch, hostname: '127.0.0.1', port: Number(process.env.PORT ?? 0) }, (info) => {
  console.log(`listening on http://127.0.0.1:${info.port}`);
});
