// What a revocable sealed cookie costs per request (the `revocation` option of
// SessionManager): the read path of the encrypted cookie store over 4,096 logged-in
// users, each with their own owner and cookie, sent in turn, in one process and
// without sockets, like bench/request.bench.ts. Cases, interleaved in rounds:
// - `plain`: the same cookies, read by a manager without `revocation`;
// - `memory`: MemoryOwnerGenerations behind the default cache (maxStaleness 5 s);
// - `redis`: RedisOwnerGenerations behind the default cache: a Redis GET per owner per 5 s;
// - `redis-uncached`: RedisOwnerGenerations with maxStaleness 0: a Redis GET on every request.
// Each figure minus `plain` is the check's own cost per request.
//
//   node dist-bench/bench/revocation.bench.js [--quick]

import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { Redis } from 'ioredis';
import {
  Context,
  CookieSessionStore,
  EncryptingStoreDecorator,
  fromNodeRequest,
  fromNodeResponse,
  importRawKey,
  MemoryOwnerGenerations,
  SessionManager,
  type OwnerGenerations,
} from 'kit-session';
import { RedisOwnerGenerations } from 'kit-session/redis';
import { machine, markdownTable, QUICK, writeResult } from './lib/report.js';
import { median, pairedMedian, round } from './lib/stats.js';
import { interleaved, type TimedCase } from './lib/timing.js';
import { BENCH_KEY_BASE64 } from './servers/common.js';

interface Values {
  userId: string;
  n: number;
}

const POOL = 4096;
const ROUNDS = QUICK ? 10 : 30;
const ROUND_MS = QUICK ? 50 : 150;

const key = await importRawKey(BENCH_KEY_BASE64);

function manager(generations?: OwnerGenerations, maxStaleness?: number): SessionManager<Values> {
  return new SessionManager<Values>(new EncryptingStoreDecorator<Values>(new CookieSessionStore<Values>(), { keys: [key] }), {
    // Without revocation, ownerKey needs a server-side store: the plain manager has none.
    ...(generations === undefined
      ? {}
      : { ownerKey: 'userId', revocation: { generations, ...(maxStaleness === undefined ? {} : { maxStaleness }) } }),
  });
}

function exchange(cookie: string | undefined): { request: IncomingMessage; response: ServerResponse } {
  const request = new IncomingMessage(new Socket());
  request.headers = cookie === undefined ? {} : { cookie };
  return { request, response: new ServerResponse(request) };
}

const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true, maxRetriesPerRequest: 1 });
await redis.connect();
const prefix = `bench-revocation-${process.pid}:`;
const redisGenerations = new RedisOwnerGenerations(redis, { prefix });

const managers = {
  plain: manager(),
  memory: manager(new MemoryOwnerGenerations()),
  redis: manager(redisGenerations),
  'redis-uncached': manager(redisGenerations, 0),
} as const;

// The pool: 4,096 users logged in (renew, then the owner), each cookie sealed with its
// owner's generation 0, which every keeper of generations starts at.
const login = managers.memory;
const pool: string[] = [];
for (let k = 0; k < POOL; k++) {
  const { request, response } = exchange(undefined);
  const context = await login.extractSession(Context.background, fromNodeRequest(request));
  const session = login.session(context);
  session.renew();
  session.set('userId', `user-${k}`);
  session.set('n', k);
  await login.injectSession(context, fromNodeResponse(response));
  const setCookie = String(response.getHeader('set-cookie'));
  pool.push(setCookie.slice(0, setCookie.indexOf(';')));
}

let next = 0;
function read(m: SessionManager<Values>): () => Promise<unknown> {
  return async () => {
    const cookie = pool[next++ & (POOL - 1)]!;
    const { request, response } = exchange(cookie);
    const context = await m.extractSession(Context.background, fromNodeRequest(request));
    if (m.getValue(context, 'userId') === undefined) {
      throw new Error('a cookie of the load did not open');
    }
    await m.injectSession(context, fromNodeResponse(response));
    return response;
  };
}

const LABELS = {
  plain: 'no revocation',
  memory: 'MemoryOwnerGenerations, cached 5 s',
  redis: 'RedisOwnerGenerations, cached 5 s',
  'redis-uncached': 'RedisOwnerGenerations, maxStaleness 0 (a GET per request)',
} as const;
const cases: TimedCase[] = Object.entries(managers).map(([id, m]) => ({ id, batch: 64, async: true, op: read(m) }));
const perRound = await interleaved(cases, { rounds: ROUNDS, ms: ROUND_MS, warmupMs: ROUND_MS * 3 });
const plain = perRound.get('plain')!;
const rows = Object.keys(managers).map((id) => ({
  id,
  label: LABELS[id as keyof typeof LABELS],
  usPerRequest: round(median(perRound.get(id)!) / 1000),
  checkUsPerRequest: id === 'plain' ? 0 : round(pairedMedian(perRound.get(id)!, plain, (a, b) => a - b) / 1000),
}));
writeResult('revocation.json', { bench: 'revocation', machine: machine(), rounds: ROUNDS, roundMs: ROUND_MS, pool: POOL, cases: rows });
console.log(`\nRevocable sealed cookies: the read path over ${POOL} logged-in users, ${ROUNDS} interleaved rounds × ${ROUND_MS} ms, medians\n`);
console.log(
  markdownTable(
    ['case', 'µs per request', 'µs over no revocation'],
    rows.map((row) => [row.label, row.usPerRequest, row.id === 'plain' ? '' : row.checkUsPerRequest]),
  ),
);
const keys = await redis.keys(`${prefix}*`);
if (keys.length > 0) {
  await redis.del(...keys);
}
redis.disconnect();
