// Case (d): the counter with iron-session on node:http, on the session of common.ts:
// GET /incr fills a fresh session and adds one, GET / reads it.
import { createServer } from 'node:http';
import { getIronSession } from 'iron-session';
import { announce, BENCH_PASSWORD, body, newSession, type BenchSession } from './common.js';

const options = { password: BENCH_PASSWORD, cookieName: 'iron', cookieOptions: { secure: true, sameSite: 'lax' as const } };

const server = createServer(async (request, response) => {
  try {
    const session = await getIronSession<Partial<BenchSession>>(request, response, options);
    let n = session.n ?? 0;
    if (request.url === '/incr') {
      if (session.userId === undefined) {
        Object.assign(session, newSession());
      }
      n += 1;
      session.n = n;
      await session.save();
    }
    response.setHeader('content-type', 'application/json');
    response.end(body(n));
  } catch {
    response.statusCode = 500;
    response.end();
  }
});
server.listen(0, '127.0.0.1', () => announce(server));
