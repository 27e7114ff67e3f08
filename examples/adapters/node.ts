// A plain node:http server with a session.
//
//   PORT=3000 SESSION_KEY=$(openssl rand -base64 32) node dist-examples/examples/adapters/node.js
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createCookieSessions, importKeysFromEnv } from 'kit-session';
import { withSession } from 'kit-session/node';

interface AppSession {
  visits: number;
}

// Without SESSION_KEY, a fresh key each start: every session ends at a restart.
process.env.SESSION_KEY ??= randomBytes(32).toString('base64');
const manager = createCookieSessions<AppSession>({ keys: await importKeysFromEnv('SESSION_KEY') });

const server = createServer(
  withSession(manager, async (req, res, session) => {
    if (req.url === '/stream') {
      // Writing the head yourself: commit first.
      session.set('visits', (session.get('visits') ?? 0) + 1);
      await session.commit();
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.write('visits: ');
      res.end(`${session.get('visits')}\n`);
      return;
    }
    // Returning the body: the adapter saves the session, then writes it.
    const visits = (session.get('visits') ?? 0) + 1;
    session.set('visits', visits);
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    return `visits: ${visits}\n`;
  }),
);

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
