// A fixed amount of Redis store work, for counting the client's instructions under
// callgrind (bench/README.md, "The Redis store, counted"): one case of bench/store.bench.ts
// run `--ops N` times, one operation in flight, after `--warmup N` operations, on 200
// sessions of the same ~200-byte values (six values; the counter reads and sets one).
// The instructions of N operations are the difference between a run with `--ops N` and
// one with `--ops 0`.
//
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//     node --predictable --hash-seed=1 --random-seed=1 dist-bench/bench/storeCount.js \
//     --case encrypt --client ioredis --ops 2000 [--lib DIR]
//
// Cases: raw (GET + SET PX of the JSON), store (getSession + patchSession), encrypt (the
// same through EncryptingStoreDecorator with encryptValues). Clients: ioredis, node-redis.

import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { createClient } from 'redis';

type Values = Record<string, unknown>;
type Lib = typeof import('kit-session');
type RedisLib = typeof import('kit-session/redis');

function argument(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : process.argv[at + 1]!;
}

const HOUR = 60 * 60 * 1000;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const CASE = argument('case', 'store');
const CLIENT = argument('client', 'ioredis');
const OPS = Number(argument('ops', '2000'));
const WARMUP = Number(argument('warmup', '1000'));
const LIB = process.argv.includes('--lib') ? argument('lib', '') : undefined;
const SESSIONS = 200;

const lib = (await import(LIB === undefined ? 'kit-session' : pathToFileURL(resolve(LIB, 'index.js')).href)) as Lib;
const redisLib = (await import(
  LIB === undefined ? 'kit-session/redis' : pathToFileURL(resolve(LIB, 'stores/redis/index.js')).href
)) as RedisLib;

const values: Values = { userId: 'u-1234567890', role: 'editor', visits: 42, theme: 'dark', cart: [101, 202], csrf: 'x'.repeat(94) };
const json = JSON.stringify(values);
const prefix = `kit-session-count:${process.pid}:`;
const ids = Array.from({ length: SESSIONS }, () => randomBytes(32).toString('base64url'));
const fixed = { expireTime: Date.now() + 2 * HOUR, deadline: Date.now() + 2 * HOUR };

const io = CLIENT === 'ioredis' ? new Redis(REDIS_URL) : undefined;
const node = CLIENT === 'node-redis' ? createClient({ url: REDIS_URL }) : undefined;
await node?.connect();
const client = (io ?? node)!;
const store = new redisLib.RedisSessionStore<Values>(client as never, { prefix: `${prefix}s:` });
const keys = [await lib.importRawKey(randomBytes(32).toString('base64'))];
const encrypted = new lib.EncryptingStoreDecorator<Values>(store, { keys, encryptValues: true });

const tokens: string[] = [];
for (const id of ids) {
  tokens.push(CASE === 'encrypt' ? await encrypted.setSession(id, { values, ...fixed }) : await store.setSession(id, { values, ...fixed }));
  if (io !== undefined) {
    await io.set(`${prefix}raw:${id}`, json, 'PX', HOUR);
  } else {
    await node!.set(`${prefix}raw:${id}`, json, { PX: HOUR });
  }
}

async function op(i: number): Promise<void> {
  const id = ids[i % SESSIONS]!;
  if (CASE === 'raw') {
    const key = `${prefix}raw:${id}`;
    const loaded = JSON.parse((io !== undefined ? await io.get(key) : await node!.get(key))!) as Values;
    loaded.visits = (loaded.visits as number) + 1;
    if (io !== undefined) {
      await io.set(key, JSON.stringify(loaded), 'PX', HOUR);
    } else {
      await node!.set(key, JSON.stringify(loaded), { PX: HOUR });
    }
    return;
  }
  const target = CASE === 'encrypt' ? encrypted : store;
  const loaded = await target.getSession(tokens[i % SESSIONS]!);
  await target.patchSession!(loaded!.id, { set: { visits: (loaded!.values.visits as number) + 1 }, unset: [], ...fixed });
}

for (let i = 0; i < WARMUP; i++) {
  await op(i);
}
for (let i = 0; i < OPS; i++) {
  await op(i);
}
for (const id of ids) {
  await store.deleteSession(id);
  await (io !== undefined ? io.del(`${prefix}raw:${id}`) : node!.del(`${prefix}raw:${id}`));
}
if (io !== undefined) {
  await io.quit();
} else {
  await node!.quit();
}
