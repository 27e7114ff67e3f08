// Redis benchmark: the counter by hand with ioredis, the 1× of the Redis cases. The
// session (common.ts) is a JSON blob under a random id sent as the cookie: GET, JSON.parse, change,
// JSON.stringify, SET PX. GET /incr adds one to the counter; GET / reads it.
// The client: ioredis (the default), or node-redis with the argument `node-redis`.
// Keys are under a prefix of this process and end with the sessions (one hour).
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { parseCookie, stringifySetCookie } from 'cookie';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { announce, body, newSession, REDIS_URL, STORE_LIFETIME_MS, type BenchSession } from './common.js';

const NAME = 'sid';
const PREFIX = `kit-session-bench-raw:${process.pid}:`;
const io = process.argv[2] === 'node-redis' ? undefined : new Redis(REDIS_URL);
const node = io === undefined ? createClient({ url: REDIS_URL }) : undefined;
await node?.connect();
const client = {
  get: (key: string) => (io !== undefined ? io.get(key) : node!.get(key)),
  set: (key: string, value: string, px: number) => (io !== undefined ? io.set(key, value, 'PX', px) : node!.set(key, value, { PX: px })),
  ping: () => (io !== undefined ? io.ping() : node!.ping()),
};

const server = createServer(async (request, response) => {
  try {
    const header = request.headers.cookie;
    let id = header === undefined ? undefined : parseCookie(header)[NAME];
    let values: BenchSession | undefined;
    if (id !== undefined) {
      const json = await client.get(PREFIX + id);
      values = json === null ? undefined : (JSON.parse(json) as BenchSession);
    }
    let n = values?.n ?? 0;
    if (request.url === '/incr') {
      n += 1;
      const fresh = values === undefined;
      if (fresh) {
        id = randomBytes(32).toString('base64url');
      }
      await client.set(PREFIX + id!, JSON.stringify({ ...(values ?? newSession()), n }), STORE_LIFETIME_MS);
      if (fresh) {
        response.setHeader(
          'set-cookie',
          stringifySetCookie(NAME, id!, { path: '/', httpOnly: true, secure: true, sameSite: 'lax', maxAge: STORE_LIFETIME_MS / 1000 }),
        );
      }
    }
    response.setHeader('content-type', 'application/json');
    response.end(body(n));
  } catch {
    response.statusCode = 500;
    response.end();
  }
});
await client.ping();
server.listen(0, '127.0.0.1', () => announce(server));
