// Micro benchmark, cases (e) and (f) of the performance issue: one seal + one open of
// the same session, through kit-session (both AES-GCM crypto paths, and XChaCha20-Poly1305
// through sodium-native, `aead: 'xchacha20-poly1305'`), raw node:crypto AES-GCM,
// iron-session and @fastify/secure-session. kit-session's cases also give the sealed
// token's length (the cookie value) at each size. Every case runs in the same process, in
// interleaved rounds with the order shuffled; figures are medians over rounds, and
// ratios are taken within each round before the median.
//
//   node dist-bench/bench/micro.bench.js [--quick]

import { createCipheriv, createDecipheriv, randomBytes, randomFillSync } from 'node:crypto';
import fastifySecureSession from '@fastify/secure-session';
import Fastify from 'fastify';
import { sealData, unsealData } from 'iron-session';
import { CookieSessionStore, EncryptingStoreDecorator, importRawKey, type Aead, type CryptoPath } from 'kit-session';
import { machine, markdownTable, QUICK, writeResult } from './lib/report.js';
import { median, pairedMedian, round } from './lib/stats.js';
import { interleaved, type TimedCase } from './lib/timing.js';

type Values = Record<string, unknown>;

interface Case extends TimedCase {
  /** Stable id, used in the JSON. */
  readonly id: string;
  /** What a reader sees. */
  readonly label: string;
  /** The session size this case runs on. */
  readonly size: number;
  /** One seal and one open. */
  readonly op: () => unknown;
  /** kit-session's cases: the sealed token's length in characters. */
  readonly tokenLength?: number;
}

const ROUNDS = QUICK ? 15 : 40;
const ROUND_MS = QUICK ? 40 : 100;
const WARMUP_MS = QUICK ? 200 : 500;
const SIZES = [200, 1024, 2048] as const;
const HOUR = 60 * 60 * 1000;

/**
 * A session record whose serialised form, as kit-session's cookie store writes it
 * (`{"v":values,"e":expireTime,"d":deadline}`), is exactly `size` bytes.
 */
function sessionOfSize(size: number): { values: Values; expireTime: number; deadline: number; json: string } {
  const expireTime = Date.now() + 10 * HOUR;
  const deadline = expireTime + HOUR;
  const base: Values = { userId: 'u-1234567890', role: 'editor', visits: 42, csrf: 'x' };
  const json = (values: Values) => JSON.stringify({ v: values, e: expireTime, d: deadline });
  const pad = size - json(base).length;
  if (pad < 0) {
    throw new Error(`a session of ${size} bytes is too small for the fixture`);
  }
  const values = { ...base, csrf: 'x'.repeat(1 + pad) };
  const out = json(values);
  if (out.length !== size) {
    throw new Error(`fixture is ${out.length} bytes, not ${size}`);
  }
  return { values, expireTime, deadline, json: out };
}

/** A hand-written AES-GCM cookie on node:crypto: the floor anything else is compared to. */
function rawSealer(key: Buffer): { seal(plain: Uint8Array): string; open(token: string): Buffer | undefined } {
  return {
    seal(plain) {
      const iv = randomFillSync(Buffer.allocUnsafe(12));
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = cipher.update(plain);
      cipher.final();
      return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
    },
    open(token) {
      const bytes = Buffer.from(token, 'base64url');
      if (bytes.length < 28) {
        return undefined;
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
        decipher.setAuthTag(bytes.subarray(bytes.length - 16));
        const body = decipher.update(bytes.subarray(12, bytes.length - 16));
        decipher.final();
        return body;
      } catch {
        return undefined;
      }
    },
  };
}

async function buildCases(): Promise<Case[]> {
  const rawKey = randomBytes(32);
  const keys = [await importRawKey(rawKey.toString('base64'))];
  const raw = rawSealer(rawKey);
  const ironPassword = randomBytes(32).toString('hex');

  const fastify = Fastify({ logger: false });
  await fastify.register(fastifySecureSession, { key: randomBytes(32), cookie: { path: '/' } });
  await fastify.ready();

  // Two decorators per path with the same keys: one seals, the other opens. A decorator
  // remembers what it sealed (so the next request, bringing that cookie, skips the
  // decryption); opening through the other one makes every open a real decryption, as
  // on another app server.
  const kitStores = new Map<string, { seal: EncryptingStoreDecorator<Values>; open: EncryptingStoreDecorator<Values> }>();
  const kitPaths: readonly { id: string; crypto: CryptoPath; aead: Aead }[] = [
    { id: 'auto', crypto: 'auto', aead: 'aes-gcm' },
    { id: 'webcrypto', crypto: 'webcrypto', aead: 'aes-gcm' },
    { id: 'xchacha', crypto: 'auto', aead: 'xchacha20-poly1305' },
  ];
  for (const { id, crypto, aead } of kitPaths) {
    const make = () => new EncryptingStoreDecorator<Values>(new CookieSessionStore<Values>(), { keys, crypto, aead });
    kitStores.set(id, { seal: make(), open: make() });
  }

  const cases: Case[] = [];
  for (const size of SIZES) {
    const session = sessionOfSize(size);
    const bytes = Buffer.from(session.json);
    const record = { values: session.values, expireTime: session.expireTime, deadline: session.deadline };

    // Check every path round-trips before timing it.
    const rawBack = raw.open(raw.seal(bytes));
    if (rawBack === undefined || !rawBack.equals(bytes)) {
      throw new Error('raw AES-GCM did not round-trip');
    }
    const tokenLengths = new Map<string, number>();
    for (const [path, store] of kitStores) {
      const token = await store.seal.setSession('', record);
      tokenLengths.set(path, token.length);
      const back = await store.open.getSession(token);
      if (JSON.stringify(back?.values) !== JSON.stringify(session.values)) {
        throw new Error(`kit-session (${path}) did not round-trip`);
      }
    }
    const ironBack = await unsealData<Values>(await sealData(session.values, { password: ironPassword }), {
      password: ironPassword,
    });
    if (ironBack.csrf !== session.values.csrf) {
      throw new Error('iron-session did not round-trip');
    }
    const fastifyBack = fastify.decodeSecureSession(
      fastify.encodeSecureSession(fastify.createSecureSession({ ...session.values })),
    );
    if (fastifyBack?.get('csrf') !== session.values.csrf) {
      throw new Error('@fastify/secure-session did not round-trip');
    }

    cases.push({
      id: `raw-bytes-${size}`,
      label: 'raw node:crypto AES-GCM, bytes → base64url → bytes',
      size,
      async: false,
      batch: 64,
      op: () => raw.open(raw.seal(bytes)),
    });
    cases.push({
      id: `raw-json-${size}`,
      label: 'raw node:crypto AES-GCM with JSON, object → token → object',
      size,
      async: false,
      batch: 64,
      op: () => JSON.parse(raw.open(raw.seal(Buffer.from(JSON.stringify(record))))!.toString()),
    });
    for (const [path, store] of kitStores) {
      cases.push({
        id: `kit-${path}-${size}`,
        label:
          path === 'xchacha'
            ? "kit-session, aead 'xchacha20-poly1305' (EncryptingStoreDecorator over CookieSessionStore)"
            : `kit-session, crypto '${path}' (EncryptingStoreDecorator over CookieSessionStore)`,
        size,
        tokenLength: tokenLengths.get(path)!,
        async: true,
        batch: 64,
        op: async () => store.open.getSession(await store.seal.setSession('', record)),
      });
    }
    cases.push({
      id: `iron-${size}`,
      label: 'iron-session sealData + unsealData',
      size,
      async: true,
      // iron-session is slow: fewer ops between two reads of the clock.
      batch: 4,
      op: async () =>
        unsealData(await sealData(session.values, { password: ironPassword }), { password: ironPassword }),
    });
    cases.push({
      id: `fastify-${size}`,
      label: '@fastify/secure-session encode + decode',
      size,
      async: false,
      batch: 64,
      op: () =>
        fastify.decodeSecureSession(fastify.encodeSecureSession(fastify.createSecureSession({ ...session.values }))),
    });
  }
  return cases;
}

/** The result of the micro benchmark, as written to `bench/results/micro.json`. */
export interface MicroResult {
  readonly bench: 'micro';
  readonly machine: Record<string, unknown>;
  readonly rounds: number;
  readonly roundMs: number;
  readonly cases: readonly {
    id: string;
    label: string;
    size: number;
    /** kit-session's cases: the sealed token's length in characters. */
    tokenLength?: number;
    usPerOp: number;
    opsPerSec: number;
    /** Median over rounds of this case's time divided by the raw bytes round trip's. */
    costVsRawBytes: number;
    /** Median over rounds of this case's time divided by the raw JSON round trip's. */
    costVsRawJson: number;
    /** Median over rounds of iron-session's time divided by this case's. */
    speedupVsIron: number;
  }[];
}

async function main(): Promise<void> {
  const cases = await buildCases();
  const perRound = await interleaved(cases, {
    rounds: ROUNDS,
    ms: ROUND_MS,
    warmupMs: WARMUP_MS,
    onRound: (done) => {
      if (done % 5 === 0) {
        process.stderr.write(`micro: round ${done}/${ROUNDS}\n`);
      }
    },
  });
  const result: MicroResult = {
    bench: 'micro',
    machine: machine(),
    rounds: ROUNDS,
    roundMs: ROUND_MS,
    cases: cases.map((entry) => {
      const mine = perRound.get(entry.id)!;
      const ns = median(mine);
      const other = (id: string) => perRound.get(`${id}-${entry.size}`)!;
      return {
        id: entry.id,
        label: entry.label,
        size: entry.size,
        ...(entry.tokenLength === undefined ? {} : { tokenLength: entry.tokenLength }),
        usPerOp: round(ns / 1000),
        opsPerSec: Math.round(1e9 / ns),
        costVsRawBytes: round(pairedMedian(mine, other('raw-bytes'), (time, raw) => time / raw)),
        costVsRawJson: round(pairedMedian(mine, other('raw-json'), (time, raw) => time / raw)),
        speedupVsIron: round(pairedMedian(mine, other('iron'), (time, iron) => iron / time)),
      };
    }),
  };
  writeResult('micro.json', result);

  console.log(`\nseal + open of one session (${ROUNDS} rounds × ${ROUND_MS} ms, medians)\n`);
  console.log(
    markdownTable(
      ['size', 'case', 'token chars', 'µs/op', 'ops/s', '× raw bytes', '× raw JSON', 'iron ÷ this'],
      result.cases.map((c) => [
        `${c.size} B`,
        c.label,
        c.tokenLength ?? '',
        c.usPerOp,
        c.opsPerSec.toLocaleString('en-US'),
        c.costVsRawBytes,
        c.costVsRawJson,
        c.speedupVsIron,
      ]),
    ),
  );
}

await main();
