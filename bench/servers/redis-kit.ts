// Redis benchmark: kit-session on node:http with RedisSessionStore (kit-session/redis),
// running the counter of kitCounter.ts.
//
//   node redis-kit.js <plain|sealed-id|encrypt> [ioredis|node-redis]     (REDIS_URL, default 127.0.0.1:6379)
//
// - plain: RedisSessionStore alone, the session id in the cookie;
// - sealed-id: EncryptingStoreDecorator over it, the id sealed in the cookie, the
//   values in Redis as they are;
// - encrypt: the same with `encryptValues: true`, every value sealed in Redis too.
// The client: ioredis (the default), or node-redis (`createClient()`).
// Keys are under a prefix of this process and end with the sessions (one hour).
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { EncryptingStoreDecorator, importRawKey, SessionManager, type SessionStore } from 'kit-session';
import { RedisSessionStore } from 'kit-session/redis';
import { announce, BENCH_KEY_BASE64, REDIS_URL, STORE_LIFETIME_MS, type BenchSession } from './common.js';
import { kitCounter } from './kitCounter.js';

const mode = process.argv[2] ?? 'plain';
const client = process.argv[3] === 'node-redis' ? createClient({ url: REDIS_URL }) : new Redis(REDIS_URL);
if (!(client instanceof Redis)) {
  await client.connect();
}
const inner = new RedisSessionStore<BenchSession>(client, { prefix: `kit-session-bench:${process.pid}:` });
let store: SessionStore<BenchSession> = inner;
if (mode !== 'plain') {
  const keys = [await importRawKey(BENCH_KEY_BASE64)];
  store = new EncryptingStoreDecorator<BenchSession>(inner, { keys, encryptValues: mode === 'encrypt' });
}
const manager = new SessionManager<BenchSession>(store, { lifetime: STORE_LIFETIME_MS });

await (client instanceof Redis ? client.ping() : client.ping());
const server = createServer(kitCounter(manager));
server.listen(0, '127.0.0.1', () => announce(server));
