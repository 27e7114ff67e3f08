// A Fetch API handler with a session: the shape Bun.serve, Deno.serve and Cloudflare
// Workers take. On Node it is served by @hono/node-server. (React Router has its own
// adapter: examples/react-router.)
//
//   PORT=3000 SESSION_KEY=$(openssl rand -base64 32) node dist-examples/examples/adapters/fetch.js
import { randomBytes } from 'node:crypto';
import { serve } from '@hono/node-server';
import { createCookieSessions, importKeysFromEnv, SessionCookieTooLargeError } from 'kit-session';
import { withSession } from 'kit-session/fetch';

interface AppSession {
  visits: number;
}

// Without SESSION_KEY, a fresh key each start: every session ends at a restart.
process.env.SESSION_KEY ??= randomBytes(32).toString('base64');
const manager = createCookieSessions<AppSession>({ keys: await importKeysFromEnv('SESSION_KEY') });

const counter = withSession(manager, async (_request, session) => {
  const visits = (session.get('visits') ?? 0) + 1;
  session.set('visits', visits);
  return new Response(`visits: ${visits}\n`, { headers: { 'content-type': 'text/plain; charset=utf-8' } });
});

// The app's error page: withSession rejects when the session cannot be saved.
async function handle(request: Request): Promise<Response> {
  try {
    return await counter(request);
  } catch (error) {
    const status = error instanceof SessionCookieTooLargeError ? 413 : 500;
    return new Response(status === 413 ? 'session too large\n' : 'server error\n', { status });
  }
}

serve({ fetch: handle, hostname: '127.0.0.1', port: Number(process.env.PORT ?? 0) }, (info) => {
  console.log(`listening on http://127.0.0.1:${info.port}`);
});
