// A Fetch API handler with a session: the shape Bun.serve, Deno.serve and Cloudflare
// Workers take. On Node it is served by @hono/node-server. (React Router has its own
// adapter: examples/react-router.) A counter, a note kept in the session, and the error
// page that answers a store outage with 503 and a session too large with 413.
//
//   PORT=3000 SESSION_KEY=$(openssl rand -base64 32) node dist-examples/examples/adapters/fetch.js
//   REDIS_URL=redis://127.0.0.1:6379 ...   # sessions in Redis instead of in the cookie
import { randomBytes } from 'node:crypto';
import { serve } from '@hono/node-server';
import { createCookieSessions, importKeysFromEnv, SessionStoreError, SessionTokenTooLargeError } from 'kit-session';
import { withSession } from 'kit-session/fetch';
import { redisSessions } from '../redisSessions.js';

interface AppSession {
  visits: number;
  note: string;
}

// Without SESSION_KEY, a fresh key each start: every session ends at a restart.
process.env.SESSION_KEY ??= randomBytes(32).toString('base64');
const manager = process.env.REDIS_URL
  ? await redisSessions<AppSession>(process.env.REDIS_URL)
  : createCookieSessions<AppSession>({ keys: await importKeysFromEnv('SESSION_KEY') });

const app = withSession(manager, async (request, session) => {
  const text = { 'content-type': 'text/plain; charset=utf-8' };
  if (request.method === 'POST' && new URL(request.url).pathname === '/note') {
    // A note the client sends, kept in the session: a long one no longer fits in a cookie.
    session.set('note', await request.text());
    return new Response('noted\n', { headers: text });
  }
  const visits = (session.get('visits') ?? 0) + 1;
  session.set('visits', visits);
  return new Response(`visits: ${visits}\n`, { headers: text });
});

// The app's error page: withSession rejects when the session cannot be loaded or saved,
// and no session header goes out. Recognise kit-session's errors by class.
async function handle(request: Request): Promise<Response> {
  try {
    return await app(request);
  } catch (error) {
    if (error instanceof SessionStoreError) {
      return new Response('try again shortly\n', { status: 503, headers: { 'retry-after': '5' } }); // the store is down
    }
    if (error instanceof SessionTokenTooLargeError) {
      return new Response('session too large\n', { status: 413 }); // SessionCookieTooLargeError is one
    }
    console.error(error); // kit-session's errors never hold a token, key or value
    return new Response('server error\n', { status: 500 });
  }
}

serve({ fetch: handle, hostname: '127.0.0.1', port: Number(process.env.PORT ?? 0) }, (info) => {
  console.log(`listening on http://127.0.0.1:${info.port}`);
});
