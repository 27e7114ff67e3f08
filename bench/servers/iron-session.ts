// Case (d): the counter with iron-session on node:http.
import { createServer } from 'node:http';
import { getIronSession } from 'iron-session';
import { announce, BENCH_PASSWORD, body } from './common.js';

interface Values {
  n?: number;
}

const options = { password: BENCH_PASSWORD, cookieName: 'iron', cookieOptions: { secure: true, sameSite: 'lax' as const } };

const server = createServer(async (request, response) => {
  try {
    const session = await getIronSession<Values>(request, response, options);
    let n = session.n ?? 0;
    if (request.url === '/incr') {
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
