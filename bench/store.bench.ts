// Store benchmark, point 10 of the server-side store issue:
// - load + save per second through RedisSessionStore (getSession + patchSession, the
//   manager's path for a loaded session, and getSession + setSession), against raw
//   ioredis GET + SET PX of the same ~200-byte JSON, in the same run: interleaved
//   rounds with the order shuffled, medians over rounds, ratios taken within each
//   round before the median; at one request in flight and at 16;
// - the same through EncryptingStoreDecorator with `encryptValues: true` (every value
//   sealed on its own before it goes to Redis);
// - the memory store's heap bytes per session at 100,000 sessions of the same values
//   (heapUsed after a full GC, with and without the sessions).
//
//   npm run build && npx tsc -p tsconfig.bench.json
//   node dist-bench/bench/store.bench.js [--quick] [--redis-only]      (REDIS_URL, default 127.0.0.1:6379)
//
// Each Redis case runs on both clients: ioredis, and node-redis (`createClient()`, ids
// ending `-node-redis`), each against the raw GET + SET of its own client.
//
// The heap figure needs `--expose-gc`: without it, the file runs itself again with it.

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { EncryptingStoreDecorator, importRawKey, MemorySessionStore, type SessionRecord } from 'kit-session';
import { RedisSessionStore } from 'kit-session/redis';
import { machine, markdownTable, QUICK, writeResult } from './lib/report.js';
import { median, pairedMedian, round, shuffled } from './lib/stats.js';

if (typeof globalThis.gc !== 'function') {
  const child = spawnSync(
    process.execPath,
    ['--expose-gc', ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  process.exit(child.status ?? 1);
}
const gc = globalThis.gc as () => void;

type Values = Record<string, unknown>;

const HOUR = 60 * 60 * 1000;
const SIZE = 200;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ROUNDS = QUICK ? 7 : 21;
const CONCURRENCY = [1, 16] as const;
const OPS_PER_ROUND: Record<(typeof CONCURRENCY)[number], number> = QUICK ? { 1: 300, 16: 1500 } : { 1: 1500, 16: 8000 };
const MEMORY_SESSIONS = 100_000;
const MEMORY_SAMPLES = QUICK ? 1 : 3;

/** Values whose JSON is exactly `size` bytes: a typical logged-in session. */
function valuesOfSize(size: number): Values {
  const base: Values = { userId: 'u-1234567890', role: 'editor', visits: 42, theme: 'dark', cart: [101, 202], csrf: '' };
  const pad = size - JSON.stringify(base).length;
  const values = { ...base, csrf: 'x'.repeat(pad) };
  if (JSON.stringify(values).length !== size) {
    throw new Error(`fixture is not ${size} bytes`);
  }
  return values;
}

const id = () => randomBytes(32).toString('base64url');

interface RedisCase {
  readonly id: string;
  readonly label: string;
  /** One load and one save of session number `i`. */
  readonly op: (i: number) => Promise<unknown>;
}

/** One Redis case at one number in flight. */
export interface RedisCaseResult {
  readonly id: string;
  readonly label: string;
  readonly concurrency: number;
  readonly loadSavePerSec: number;
  readonly ratioToRaw: number;
}

async function runRound(op: (i: number) => Promise<unknown>, concurrency: number, ops: number, sessions: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < ops; i = next++) {
        await op(i % sessions);
      }
    }),
  );
  return ops / ((performance.now() - started) / 1000);
}

async function benchRedis(): Promise<{ cases: RedisCaseResult[] } | { skipped: string }> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 3000, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    client.disconnect();
    return { skipped: `Redis does not answer (${(error as Error).message}); set REDIS_URL` };
  }
  const nodeRedis = createClient({ url: REDIS_URL });
  nodeRedis.on('error', () => {});
  await nodeRedis.connect();
  const prefix = `kit-session-bench:${process.pid}:`;
  const store = new RedisSessionStore<Values>(client, { prefix: `${prefix}store:` });
  const nodeStore = new RedisSessionStore<Values>(nodeRedis, { prefix: `${prefix}store:` });
  // Every value sealed before it goes to Redis, each on its own (encryptValues).
  const keys = [await importRawKey(randomBytes(32).toString('base64'))];
  const encryptedInner = new RedisSessionStore<Values>(client, { prefix: `${prefix}enc:` });
  const encrypted = new EncryptingStoreDecorator<Values>(encryptedInner, { keys, encryptValues: true });
  const nodeEncrypted = new EncryptingStoreDecorator<Values>(new RedisSessionStore<Values>(nodeRedis, { prefix: `${prefix}enc:` }), {
    keys,
    encryptValues: true,
  });
  const values = valuesOfSize(SIZE);
  const json = JSON.stringify(values);
  const sessions = 1000;
  const ids = Array.from({ length: sessions }, id);
  // Without an idle timeout (the manager's default) a session's expiry never moves;
  // with one, every save moves it.
  const fixed = { expireTime: Date.now() + 2 * HOUR, deadline: Date.now() + 2 * HOUR };
  const moving = () => {
    const expireTime = Date.now() + HOUR;
    return { expireTime, deadline: fixed.deadline };
  };
  const tokens: string[] = [];
  for (const sessionId of ids) {
    await store.setSession(sessionId, { values, ...fixed });
    tokens.push(await encrypted.setSession(sessionId, { values, ...fixed }));
    await client.set(`${prefix}raw:${sessionId}`, json, 'PX', HOUR);
  }

  const cases: RedisCase[] = [
    {
      id: 'raw-get-set',
      label: 'raw ioredis GET + SET PX (JSON.parse, change, JSON.stringify)',
      op: async (i) => {
        const key = `${prefix}raw:${ids[i]!}`;
        const loaded = JSON.parse((await client.get(key))!) as Values;
        loaded.visits = (loaded.visits as number) + 1;
        await client.set(key, JSON.stringify(loaded), 'PX', HOUR);
      },
    },
    {
      id: 'store-get-patch',
      label: 'RedisSessionStore getSession + patchSession (the manager, no idle timeout)',
      op: async (i) => {
        const sessionId = ids[i]!;
        const loaded = await store.getSession(sessionId);
        await store.patchSession(sessionId, { set: { visits: (loaded!.values.visits as number) + 1 }, unset: [], ...fixed });
      },
    },
    {
      id: 'store-get-patch-idle',
      label: 'RedisSessionStore getSession + patchSession (the manager, idle timeout: expiry moves)',
      op: async (i) => {
        const sessionId = ids[i]!;
        const loaded = await store.getSession(sessionId);
        await store.patchSession(sessionId, { set: { visits: (loaded!.values.visits as number) + 1 }, unset: [], ...moving() });
      },
    },
    {
      id: 'store-encrypt-get-patch',
      label: 'EncryptingStoreDecorator (encryptValues) over RedisSessionStore, getSession + patchSession (no idle timeout)',
      op: async (i) => {
        const loaded = await encrypted.getSession(tokens[i]!);
        await encrypted.patchSession!(loaded!.id, { set: { visits: (loaded!.values.visits as number) + 1 }, unset: [], ...fixed });
      },
    },
    {
      id: 'raw-get-set-node-redis',
      label: 'raw node-redis GET + SET PX (JSON.parse, change, JSON.stringify)',
      op: async (i) => {
        const key = `${prefix}raw:${ids[i]!}`;
        const loaded = JSON.parse((await nodeRedis.get(key))!) as Values;
        loaded.visits = (loaded.visits as number) + 1;
        await nodeRedis.set(key, JSON.stringify(loaded), { PX: HOUR });
      },
    },
    {
      id: 'store-get-patch-node-redis',
      label: 'RedisSessionStore on node-redis, getSession + patchSession (no idle timeout)',
      op: async (i) => {
        const sessionId = ids[i]!;
        const loaded = await nodeStore.getSession(sessionId);
        await nodeStore.patchSession(sessionId, { set: { visits: (loaded!.values.visits as number) + 1 }, unset: [], ...fixed });
      },
    },
    {
      id: 'store-encrypt-get-patch-node-redis',
      label: 'EncryptingStoreDecorator (encryptValues) over RedisSessionStore on node-redis, getSession + patchSession',
      op: async (i) => {
        const loaded = await nodeEncrypted.getSession(tokens[i]!);
        await nodeEncrypted.patchSession!(loaded!.id, { set: { visits: (loaded!.values.visits as number) + 1 }, unset: [], ...fixed });
      },
    },
    {
      id: 'store-get-set',
      label: 'RedisSessionStore getSession + setSession (whole record)',
      op: async (i) => {
        const sessionId = ids[i]!;
        const loaded = await store.getSession(sessionId);
        const record: SessionRecord<Values> = {
          values: { ...loaded!.values, visits: (loaded!.values.visits as number) + 1 },
          ...moving(),
        };
        await store.setSession(sessionId, record);
      },
    },
  ];

  const results: RedisCaseResult[] = [];
  try {
    for (const concurrency of CONCURRENCY) {
      const ops = OPS_PER_ROUND[concurrency];
      // Warm up: scripts loaded, connections and JIT settled.
      for (const c of cases) {
        await runRound(c.op, concurrency, Math.ceil(ops / 5), sessions);
      }
      const perSec = new Map<string, number[]>(cases.map((c) => [c.id, []]));
      for (let r = 0; r < ROUNDS; r++) {
        for (const c of shuffled(cases)) {
          perSec.get(c.id)!.push(await runRound(c.op, concurrency, ops, sessions));
        }
      }
      for (const c of cases) {
        const mine = perSec.get(c.id)!;
        // Each client against its own raw GET + SET.
        const raw = perSec.get(c.id.endsWith('-node-redis') ? 'raw-get-set-node-redis' : 'raw-get-set')!;
        results.push({
          id: c.id,
          label: c.label,
          concurrency,
          loadSavePerSec: Math.round(median(mine)),
          ratioToRaw: round(pairedMedian(mine, raw, (m, b) => m / b)),
        });
      }
    }
  } finally {
    for (const sessionId of ids) {
      await store.deleteSession(sessionId);
      await encryptedInner.deleteSession(sessionId);
      await client.del(`${prefix}raw:${sessionId}`);
    }
    await client.quit();
    await nodeRedis.quit();
  }
  return { cases: results };
}

async function heapBytesPerSession(): Promise<number> {
  const values = valuesOfSize(SIZE);
  const ids = Array.from({ length: MEMORY_SESSIONS }, id);
  const expireTime = Date.now() + HOUR;
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  const store = new MemorySessionStore<Values>({ maxEntries: MEMORY_SESSIONS * 2 });
  for (const sessionId of ids) {
    // A fresh copy per session, as each request brings its own object.
    await store.setSession(sessionId, { values: { ...values }, expireTime, deadline: expireTime + HOUR });
  }
  gc();
  gc();
  const after = process.memoryUsage().heapUsed;
  if (store.size !== MEMORY_SESSIONS) {
    throw new Error(`the store holds ${store.size} sessions, not ${MEMORY_SESSIONS}`);
  }
  // The ids were in the heap before and after: the difference is what the store keeps.
  return (after - before) / MEMORY_SESSIONS;
}

/** What the store benchmark writes to `bench/results/store.json`. */
export interface StoreResult {
  readonly bench: 'store';
  readonly machine: Record<string, unknown>;
  readonly redisUrlHost: string;
  readonly rounds: number;
  readonly sessionBytes: number;
  readonly redis: { readonly cases: readonly RedisCaseResult[] } | { readonly skipped: string };
  readonly memory: {
    readonly sessions: number;
    readonly valueJsonBytes: number;
    /** Median over samples of (heapUsed with the sessions − heapUsed without) ÷ sessions. */
    readonly heapBytesPerSession: number;
    readonly samples: readonly number[];
  };
}

const redis = await benchRedis();
const samples: number[] = [];
const REDIS_ONLY = process.argv.includes('--redis-only');
for (let i = 0; i < (REDIS_ONLY ? 0 : MEMORY_SAMPLES); i++) {
  samples.push(await heapBytesPerSession());
}
const memory = {
  sessions: MEMORY_SESSIONS,
  valueJsonBytes: SIZE,
  heapBytesPerSession: Math.round(median(samples)),
  samples: samples.map((sample) => Math.round(sample)),
};

console.log(`\nStore benchmark (${QUICK ? 'quick' : 'full'}): ${ROUNDS} interleaved rounds, medians; session values ${SIZE} bytes of JSON\n`);
if ('skipped' in redis) {
  console.log(`Redis: skipped: ${redis.skipped}\n`);
} else {
  console.log(
    markdownTable(
      ['case', 'in flight', 'load+save/s', '× raw GET+SET'],
      redis.cases.map((c) => [c.label, c.concurrency, c.loadSavePerSec, c.ratioToRaw]),
    ),
  );
  console.log('');
}
if (REDIS_ONLY) {
  process.exit(0);
}
console.log(
  markdownTable(
    ['memory store', 'sessions', 'heap bytes per session'],
    [[`MemorySessionStore, ${SIZE}-byte values`, MEMORY_SESSIONS, memory.heapBytesPerSession]],
  ),
);
const file = writeResult('store.json', {
  bench: 'store' as const,
  machine: machine(),
  redisUrlHost: new URL(REDIS_URL).host,
  rounds: ROUNDS,
  sessionBytes: SIZE,
  redis,
  memory,
} satisfies StoreResult);
console.log(`\nwritten to ${file}`);
