// A plain node:http server with a session: a counter, a streaming route, a note kept in
// the session, and the error path that answers a store outage with 503 and a session too
// large with 413.
//
//   PORT=3000 SESSION_KEY=$(openssl rand -base64 32) node dist-examples/examples/adapters/node.js
//   REDIS_URL=redis://127.0.0.1:6379 ...   # sessions in Redis instead of in the cookie
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { text } from 'node:stream/consumers';
import { createCookieSessions, importKeysFromEnv, SessionStoreError, SessionTokenTooLargeError } from 'kit-session';
import { withSession, type NodeErrorHandler } from 'kit-session/node';
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

// Loading, the handler and saving send their errors here; a failed save has written no
// session header. Recognise kit-session's errors by class, never by message.
const onError: NodeErrorHandler = (error, _req, res) => {
  if (res.headersSent) {
    res.destroy(); // too late for an error page
    return;
  }
  const [status, body, headers] =
    error instanceof SessionStoreError ? [503, 'try again shortly\n', { 'retry-after': '5' }] // the store is down
    : error instanceof SessionTokenTooLargeError ? [413, 'session too large\n', {}] // SessionCookieTooLargeError is one
    : [500, 'server error\n', {}];
  if (status === 500) {
    console.error(error); // kit-session's errors never hold a token, key or value
  }
  res.writeHead(status, { ...headers, 'content-type': 'text/plain; charset=utf-8' }).end(body);
};

/** Whether the request is `POST /note`. */
const isNote = (req: IncomingMessage): boolean => req.method === 'POST' && req.url === '/note';

const server = createServer(
  withSession(
    manager,
    async (req, res, session) => {
      res.setHeader('content-type', 'text/plain; charset=utf-8');
      if (isNote(req)) {
        // A note the client sends, kept in the session: a long one no longer fits in a cookie.
        session.set('note', await text(req));
        return 'noted\n';
      }
      if (req.url === '/stream') {
        // Writing the head yourself: commit first.
        session.set('visits', (session.get('visits') ?? 0) + 1);
        await session.commit();
        res.writeHead(200);
        res.write('visits: ');
        res.end(`${session.get('visits')}\n`);
        return;
      }
      // Returning the body: the adapter saves the session, then writes it.
      const visits = (session.get('visits') ?? 0) + 1;
      session.set('visits', visits);
      return `visits: ${visits}\n`;
    },
    { onError },
  ),
);

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
