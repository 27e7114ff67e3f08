// The session layer's own cost per request, without sockets: a node:http request and
// response are built in memory, the session is loaded, read (and changed, for a
// write), and saved into the response's headers, in one process, in interleaved
// rounds. Over HTTP this cost drowns in the noise of a 2-core machine; here a change to
// the hot path shows within a few percent. The `node:http objects only` case is the
// floor every case shares. The `untouched` case runs the node:http adapter
// (`withSession`) around a handler that never touches the session (a health check): with
// sessions loaded on first touch it should cost the floor plus `res.end`.
//
// Every case runs twice: with one cookie repeated, and with the load spread over a
// pool of 4,096 distinct sealed cookies (4,096 sessions, each with its own value),
// made before the run and sent in turn, as real traffic brings them. See
// bench/README.md.
//
//   node dist-bench/bench/request.bench.js [--quick] [--lib DIR]...
//       timed; each --lib (a built `dist/` folder, of another checkout say) gets its own
//       cases in the same interleaved rounds, for an A/B in one process
//   node dist-bench/bench/request.bench.js --count objects|read|write [--distinct]
//       [--requests N] [--warmup N] [--lib DIR]
//       the same warm-up of every case, then N requests of one case, untimed, for an
//       instruction count under `valgrind --tool=callgrind` (bench/instructions.ts
//       makes the runs and the subtractions)
//   either, with --aead aes-gcm|xchacha20-poly1305: the decorator's `aead` option (the
//       default, AES-GCM, unless given)
//   either, with --telemetry none|api|sdk|sdk-traces|sdk-metrics: the manager's `telemetry` option left out
//       (the default), kit-session/otel over the API alone, or over the SDK
//       (bench/lib/telemetry.ts)

import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { machine, markdownTable, QUICK, writeResult } from './lib/report.js';
import { median, pairedMedian, round } from './lib/stats.js';
import { benchTelemetry, telemetryMode } from './lib/telemetry.js';
import { interleaved, type TimedCase } from './lib/timing.js';
import { BENCH_KEY_BASE64 } from './servers/common.js';

type Lib = typeof import('kit-session');

interface Values {
  n: number;
}

/** The cases, by the id they have with one cookie (the distinct-cookie ones add `-distinct`). */
export type RequestCaseId = 'objects' | 'read' | 'write' | 'untouched';

/** The result of the in-memory request benchmark, as written to `bench/results/request.json`. */
export interface RequestResult {
  readonly bench: 'request';
  readonly machine: Record<string, unknown>;
  readonly rounds: number;
  readonly roundMs: number;
  /** How many distinct cookies the `distinct` cases send in turn. */
  readonly pool: number;
  readonly cases: readonly {
    id: string;
    label: string;
    /** `one`: the same cookie on every request; `distinct`: the pool's cookies in turn. */
    cookies: 'one' | 'distinct';
    /** The `--lib` folder the case ran, when any was given. */
    lib?: string;
    usPerRequest: number;
    sessionUsPerRequest: number;
  }[];
}

/** How many distinct cookies the distinct-cookie cases send, in turn: a power of two. */
export const POOL = 4096;

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    // Passed on by bench/run.ts to every benchmark; nothing to pin here.
    'no-pin': { type: 'boolean', default: false },
    count: { type: 'string' },
    distinct: { type: 'boolean', default: false },
    requests: { type: 'string', default: '5000' },
    warmup: { type: 'string', default: '1000' },
    lib: { type: 'string', multiple: true },
    telemetry: { type: 'string', default: 'none' },
    aead: { type: 'string' },
  },
});
const TELEMETRY = telemetryMode(args.telemetry);
if (args.aead !== undefined && args.aead !== 'aes-gcm' && args.aead !== 'xchacha20-poly1305') {
  throw new TypeError('--aead takes aes-gcm or xchacha20-poly1305');
}
const AEAD = args.aead as 'aes-gcm' | 'xchacha20-poly1305' | undefined;

const ROUNDS = QUICK ? 10 : 30;
const ROUND_MS = QUICK ? 50 : 150;

function exchange(cookie: string | undefined): { request: IncomingMessage; response: ServerResponse } {
  const request = new IncomingMessage(new Socket());
  request.headers = cookie === undefined ? {} : { cookie };
  return { request, response: new ServerResponse(request) };
}

/** The node:http objects every case builds, and nothing else: the floor. */
async function objectsOnly(cookie: string): Promise<ServerResponse> {
  const { response } = exchange(cookie);
  response.setHeader('content-type', 'application/json');
  return response;
}

function cookieOf(response: ServerResponse): string {
  const setCookie = response.getHeader('set-cookie');
  const first = Array.isArray(setCookie) ? setCookie[0] : setCookie;
  if (typeof first !== 'string') {
    throw new Error('the write sent no cookie');
  }
  return first.slice(0, first.indexOf(';'));
}

/** One library under test: its request handler, its one cookie and its pool. */
interface Subject {
  /** What the counter server of the HTTP benchmark does, minus the socket. */
  readonly handle: (cookie: string | undefined, write: boolean) => Promise<ServerResponse>;
  /** The node:http adapter around a handler that never touches the session. */
  readonly untouched: (cookie: string) => Promise<ServerResponse>;
  readonly one: string;
  readonly pool: readonly string[];
  /** Where in the pool the next distinct-cookie request starts. */
  next: number;
}

async function subject(dir: string | undefined, withPool: boolean): Promise<Subject> {
  const lib = (await import(dir === undefined ? 'kit-session' : pathToFileURL(resolve(dir, 'index.js')).href)) as Lib;
  const telemetry = await benchTelemetry(TELEMETRY, dir);
  const manager = new lib.SessionManager<Values>(
    new lib.EncryptingStoreDecorator<Values>(new lib.CookieSessionStore<Values>(), {
      keys: [await lib.importRawKey(BENCH_KEY_BASE64)],
      ...(AEAD === undefined ? {} : { aead: AEAD }),
    }),
    telemetry === undefined ? undefined : { telemetry },
  );
  async function handle(cookie: string | undefined, write: boolean, set?: number): Promise<ServerResponse> {
    const { request, response } = exchange(cookie);
    const context = await manager.extractSession(lib.Context.background, lib.fromNodeRequest(request));
    const n = manager.getValue(context, 'n') ?? 0;
    if (write) {
      manager.setValue(context, 'n', set ?? n + 1);
    }
    await manager.injectSession(context, lib.fromNodeResponse(response));
    response.setHeader('content-type', 'application/json');
    return response;
  }
  const node = (await import(
    dir === undefined ? 'kit-session/node' : pathToFileURL(resolve(dir, 'adapters/node/index.js')).href
  )) as typeof import('kit-session/node');
  const untouchedListener = node.withSession(manager, (_request, response) => {
    response.setHeader('content-type', 'application/json');
  });
  async function untouched(cookie: string): Promise<ServerResponse> {
    const { request, response } = exchange(cookie);
    await untouchedListener(request, response);
    return response;
  }
  async function check(cookie: string, n: number): Promise<void> {
    // A read sees the session and sends nothing back; a write sends a cookie.
    const read = await handle(cookie, false);
    const { request } = exchange(cookie);
    const context = await manager.extractSession(lib.Context.background, lib.fromNodeRequest(request));
    if (read.getHeader('set-cookie') !== undefined || manager.getValue(context, 'n') !== n) {
      throw new Error('a cookie of the load did not read back as written');
    }
    cookieOf(await handle(cookie, true));
  }
  // A session with n = 2, as the HTTP benchmark's load carries.
  const one = cookieOf(await handle(cookieOf(await handle(undefined, true)), true));
  await check(one, 2);
  // The pool: distinct sessions, one per cookie, session k holding n = k.
  const pool: string[] = [];
  for (let k = 0; withPool && k < POOL; k++) {
    pool.push(cookieOf(await handle(undefined, true, k)));
  }
  for (let k = 0; k < pool.length; k += 511) {
    await check(pool[k]!, k);
  }
  if (new Set(pool).size !== pool.length) {
    throw new Error('the pool holds a cookie twice');
  }
  const quiet = await untouched(one);
  if (quiet.getHeader('set-cookie') !== undefined || quiet.getHeader('vary') !== undefined) {
    throw new Error('an untouched request sent a session header');
  }
  return { handle, untouched, one, pool, next: 0 };
}

/** One request of a case: with one cookie, or with the pool's next one. */
function operation(s: Subject, id: RequestCaseId, distinct: boolean): () => Promise<unknown> {
  const { handle, untouched, one, pool } = s;
  // One cursor for every case of a subject: the pool goes round as one load.
  const cookie = distinct ? () => pool[s.next++ & (POOL - 1)]! : () => one;
  switch (id) {
    case 'objects':
      return () => objectsOnly(cookie());
    case 'read':
      return () => handle(cookie(), false);
    case 'write':
      return () => handle(cookie(), true);
    case 'untouched':
      return () => untouched(cookie());
  }
}

if (args.count !== undefined) {
  await countMode(args.count);
} else {
  await timedMode();
}

/**
 * Makes the pool, warms every case up (`--warmup` requests of each, in a fixed order,
 * so that every count run does the same work before its own requests), then runs
 * `--requests` requests of one case, untimed. Under callgrind, the difference between
 * a run with N requests and one with 0 is the instructions of N requests.
 */
async function countMode(id: string): Promise<void> {
  if (id !== 'objects' && id !== 'read' && id !== 'write' && id !== 'untouched') {
    throw new TypeError('--count takes objects, read, write or untouched');
  }
  const requests = Number(args.requests);
  const warmup = Number(args.warmup);
  if (!Number.isInteger(requests) || requests < 0 || !Number.isInteger(warmup) || warmup < 0) {
    throw new TypeError('--requests and --warmup take a whole number');
  }
  if ((args.lib?.length ?? 0) > 1) {
    throw new TypeError('--count takes one --lib at most');
  }
  const s = await subject(args.lib?.[0], true);
  for (const distinct of [false, true]) {
    for (const each of ['objects', 'read', 'write', 'untouched'] as const) {
      const op = operation(s, each, distinct);
      for (let i = 0; i < warmup; i++) {
        await op();
      }
    }
  }
  const op = operation(s, id, args.distinct);
  for (let i = 0; i < requests; i++) {
    await op();
  }
  console.log(`counted: ${requests} requests of ${id}${args.distinct ? ', distinct cookies' : ', one cookie'}`);
}

interface Case extends TimedCase {
  readonly label: string;
  readonly cookies: 'one' | 'distinct';
  readonly lib?: string;
}

async function timedMode(): Promise<void> {
  const dirs: readonly (string | undefined)[] = args.lib ?? [undefined];
  const subjects = await Promise.all(dirs.map((dir) => subject(dir, true)));
  /** Every case: 64 awaited requests between two reads of the clock. */
  const TIMING = { batch: 64, async: true } as const;
  const LABELS = {
    read: 'kit-session read (load, get, save: nothing to send)',
    write: 'kit-session counter (load, set, seal, three headers)',
    untouched: 'kit-session/node withSession, session never touched (health check)',
  } as const;
  const COOKIES = { one: 'one cookie', distinct: `${POOL.toLocaleString('en')} distinct cookies` } as const;
  const cases: Case[] = [
    {
      id: 'objects',
      label: 'node:http objects only (request, response, one header)',
      cookies: 'one',
      ...TIMING,
      op: operation(subjects[0]!, 'objects', false),
    },
  ];
  subjects.forEach((s, i) => {
    const lib = dirs[i];
    for (const cookies of ['one', 'distinct'] as const) {
      for (const id of ['read', 'write', 'untouched'] as const) {
        const suffix = cookies === 'one' ? '' : '-distinct';
        cases.push({
          id: `${lib === undefined ? '' : `${i}:`}${id}${suffix}`,
          label: `${lib === undefined ? '' : `[${lib}] `}${LABELS[id]}, ${COOKIES[cookies]}`,
          cookies,
          ...(lib === undefined ? {} : { lib }),
          ...TIMING,
          op: operation(s, id, cookies === 'distinct'),
        });
      }
    }
  });

  const perRound = await interleaved(cases, { rounds: ROUNDS, ms: ROUND_MS, warmupMs: ROUND_MS * 3 });
  const base = perRound.get('objects')!;
  const rows = cases.map((entry) => {
    const mine = perRound.get(entry.id)!;
    return {
      id: entry.id,
      label: entry.label,
      cookies: entry.cookies,
      ...(entry.lib === undefined ? {} : { lib: entry.lib }),
      usPerRequest: round(median(mine) / 1000),
      // The session layer's own share: this case minus the objects it shares, per round.
      sessionUsPerRequest: round(pairedMedian(mine, base, (ns, objects) => ns - objects) / 1000),
    };
  });
  const result: RequestResult = {
    bench: 'request',
    machine: machine(),
    rounds: ROUNDS,
    roundMs: ROUND_MS,
    pool: POOL,
    cases: rows,
  };
  // An A/B run (--lib, --aead), or one with telemetry, does not replace the checked-in result.
  if (args.lib === undefined && AEAD === undefined && TELEMETRY === 'none') {
    writeResult('request.json', result);
  }
  console.log(
    `\nOne request in memory (no socket), ${ROUNDS} interleaved rounds × ${ROUND_MS} ms, medians, telemetry: ${TELEMETRY}\n`,
  );
  console.log(
    markdownTable(
      ['case', 'µs per request', 'µs over the node:http objects'],
      rows.map((c) => [c.label, c.usPerRequest, c.id === 'objects' ? '' : c.sessionUsPerRequest]),
    ),
  );
}
