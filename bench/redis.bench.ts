// Redis benchmark over HTTP: the counter on node:http with kit-session's
// RedisSessionStore (alone; under EncryptingStoreDecorator, the id sealed; and with
// `encryptValues: true`) beside the same counter by hand with raw ioredis GET/SET of a
// JSON blob under a random id cookie; alone and with encryptValues on node-redis too,
// beside raw node-redis GET/SET; at 1 and at 16 requests in flight, on a pool of
// 4,096 distinct sessions made before the run. Ratios are to the raw server at the same
// number in flight, in the same rounds. Harness: bench/lib/httpBench.ts.
//
//   node dist-bench/bench/redis.bench.js [--quick] [--no-pin]     (REDIS_URL, default 127.0.0.1:6379)
//
// Without a Redis that answers, it writes a result that says so and measures nothing.

import { Redis } from 'ioredis';
import { machine, markdownTable, pinningText, QUICK, writeResult } from './lib/report.js';
import { runHttpBench, roundsArgument, selectCases, type HttpCase, type ServerSpec } from './lib/httpBench.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const SERVERS: readonly ServerSpec[] = [
  { id: 'redis-raw', script: 'redis-raw.js' },
  { id: 'redis-kit', script: 'redis-kit.js', args: ['plain'] },
  { id: 'redis-kit-sealed-id', script: 'redis-kit.js', args: ['sealed-id'] },
  { id: 'redis-kit-encrypt', script: 'redis-kit.js', args: ['encrypt'] },
  { id: 'redis-raw-node-redis', script: 'redis-raw.js', args: ['node-redis'] },
  { id: 'redis-kit-node-redis', script: 'redis-kit.js', args: ['plain', 'node-redis'] },
  { id: 'redis-kit-encrypt-node-redis', script: 'redis-kit.js', args: ['encrypt', 'node-redis'] },
];

const LABELS: Record<string, string> = {
  'redis-raw': 'raw ioredis GET + SET PX of a JSON blob',
  'redis-kit': 'kit-session RedisSessionStore',
  'redis-kit-sealed-id': 'kit-session EncryptingStoreDecorator over RedisSessionStore',
  'redis-kit-encrypt': 'kit-session EncryptingStoreDecorator (encryptValues: true) over RedisSessionStore',
  'redis-raw-node-redis': 'raw node-redis GET + SET PX of a JSON blob',
  'redis-kit-node-redis': 'kit-session RedisSessionStore on node-redis',
  'redis-kit-encrypt-node-redis': 'kit-session EncryptingStoreDecorator (encryptValues: true) over RedisSessionStore on node-redis',
};

const CASES: readonly HttpCase[] = [1, 16].flatMap((connections) =>
  SERVERS.map(
    (server): HttpCase => ({
      id: `${server.id}-c${connections}`,
      group: `${connections} in flight`,
      label: `${LABELS[server.id]}, counter, 4,096 sessions, ${connections} in flight`,
      server: server.id,
      kind: 'write',
      cookies: 'distinct',
      connections,
      // Each client against its own raw GET/SET.
      baseline: server.id.endsWith('-node-redis') ? `redis-raw-node-redis-c${connections}` : `redis-raw-c${connections}`,
    }),
  ),
);

async function redisAnswers(): Promise<string | undefined> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 3000, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (error) {
    return `Redis does not answer (${(error as Error).message}); set REDIS_URL`;
  } finally {
    client.disconnect();
  }
}

const skipped = await redisAnswers();
if (skipped !== undefined) {
  console.log(`Redis: skipped: ${skipped}`);
  writeResult('redis.json', { bench: 'redis', machine: machine(), skipped });
} else {
  const { cases, partial } = selectCases(CASES);
  const result = await runHttpBench({
    name: 'redis',
    servers: SERVERS,
    cases,
    rounds: roundsArgument() ?? (QUICK ? 3 : 7),
    durationSeconds: QUICK ? 1.5 : 4,
    warmupSeconds: QUICK ? 0.5 : 2,
  });
  if (!partial) {
    writeResult('redis.json', { ...result, redisUrlHost: new URL(REDIS_URL).host });
  }
  console.log(
    `\nRedis over HTTP, ${result.rounds} interleaved rounds × ${result.durationSeconds} s, medians; ratios to the same client's raw GET/SET (ioredis or node-redis) at the same number in flight within each round; ${pinningText(result.pinning)}\n`,
  );
  console.log(
    markdownTable(
      ['in flight', 'case', 'req/s', '× raw GET/SET (req/s)', '× raw GET/SET (CPU/req)', 'p99 ms', 'CPU µs/req', 'errors'],
      result.cases.map((c) => [c.connections, LABELS[c.server] ?? c.server, c.rps, c.ratioToBaseline, c.cpuRatioToBaseline, c.p99Ms, c.cpuUsPerRequest, c.errors]),
    ),
  );
}
