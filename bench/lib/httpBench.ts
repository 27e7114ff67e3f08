// The harness the HTTP benchmarks share (http, adapters, redis): each server runs in its
// own process (bench/servers/*), started with child_process.fork; the load comes from
// autocannon in this process over loopback. Every case is measured in every round, in
// a shuffled order; ratios to a baseline case are taken within each round, then the
// median over rounds is kept, so that the noise of a shared machine moves all cases of
// a round alike.
//
// Cookies, as traffic sends them:
// - `one`: the same cookie on every request (the best case for anything that
//   remembers a recent token);
// - `distinct`: a pool of POOL_SIZE distinct valid cookies, made before any timing by
//   that server itself (POOL_SIZE × `GET /incr` without a cookie, each starting a
//   session with n = 1), sent in turn through one cursor shared by every connection,
//   so a cookie comes back only after thousands of others.
// Every case, bare ones too, goes through the same autocannon `setupRequest`, so the
// load generator does the same work per request whatever the cookie. A bare server's
// cookie (its `one` and `distinct` cases, and the "bare with a cookie" sanity case) is
// random bytes as long as a sealed cookie of this run's session, so that a bare case
// can show whether the load generator, not the server, caps the rate.
//
// The session every server keeps is the one of servers/common.ts, of the size
// `--session=small|large` asks for (200 or 1,024 bytes of JSON); the harness passes it
// to the servers as BENCH_SESSION.
//
// On Linux with taskset and at least two CPUs, the servers run on one CPU and this
// process (the load) on the others, so that the two never take turns on one core.
// `--no-pin` turns it off.

import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { machine, type Pinning } from './report.js';
import { median, pairedMedian, round, shuffled } from './stats.js';
import type { ChildMessage, ParentMessage } from '../servers/common.js';

/** How many distinct cookies a `distinct` case sends. */
export const POOL_SIZE = 4096;

/** One server process. */
export interface ServerSpec {
  /** Stable id, named by the cases. */
  readonly id: string;
  /** The server script under `servers/`, compiled (`adapters/hono-kit.js`). */
  readonly script: string;
  readonly args?: readonly string[];
  /** No session: answers n = 0 and sends no cookie. */
  readonly bare?: boolean;
  /** The whole session is in the cookie, so every write must send a new one. */
  readonly cookieSession?: boolean;
  /** Answers `GET /untouched` without touching the session. */
  readonly untouched?: boolean;
}

/** Which cookies a case sends. */
export type CookieLoad = 'none' | 'one' | 'distinct';

/** One server under one load. */
export interface HttpCase {
  /** Stable id, the key of the result. */
  readonly id: string;
  /** A heading the report groups cases by. */
  readonly group: string;
  readonly label: string;
  /** The id of the {@link ServerSpec} that answers. */
  readonly server: string;
  /**
   * `none`: no session (`GET /`); `read`: `GET /`, the session read, not changed;
   * `write`: `GET /incr`, a counter goes up; `untouched`: `GET /untouched`, a route that
   * never touches the session (the server must answer it, n = 0, no cookie).
   */
  readonly kind: 'none' | 'read' | 'write' | 'untouched';
  readonly cookies: CookieLoad;
  /** Requests in flight (autocannon connections). */
  readonly connections: number;
  /** The id of the case the ratios are taken against, measured in the same rounds. */
  readonly baseline: string;
}

/** How long and how often. */
export interface HttpBenchOptions {
  /** The `bench` field of the result. */
  readonly name: string;
  readonly servers: readonly ServerSpec[];
  readonly cases: readonly HttpCase[];
  readonly rounds: number;
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
}

/** One case's figures. */
export interface HttpCaseResult {
  readonly id: string;
  readonly group: string;
  readonly label: string;
  readonly server: string;
  readonly kind: HttpCase['kind'];
  readonly cookies: CookieLoad;
  readonly connections: number;
  readonly baseline: string;
  /** Median requests per second over rounds. */
  readonly rps: number;
  /** Median over rounds of this case's requests per second divided by its baseline's. */
  readonly ratioToBaseline: number;
  /** Median over rounds of the 99th percentile latency, in ms. */
  readonly p99Ms: number;
  /** Median over rounds of the server's CPU time (user + system) per request, in µs. */
  readonly cpuUsPerRequest: number;
  /** Median over rounds of the baseline's CPU per request divided by this case's (higher is better). */
  readonly cpuRatioToBaseline: number;
  /** Errors, timeouts and non-2xx answers over all rounds. */
  readonly errors: number;
  /** The figures of every round, in round order, for ratios between any two cases. */
  readonly perRound: { readonly rps: readonly number[]; readonly cpuUsPerRequest: readonly number[] };
}

/** What an HTTP benchmark writes to `bench/results/<name>.json`. */
export interface HttpBenchResult {
  readonly bench: string;
  /** The session every server kept: `small` or `large`, and its bytes of JSON. */
  readonly session: { readonly size: 'small' | 'large'; readonly jsonBytes: number };
  readonly machine: Record<string, unknown>;
  readonly rounds: number;
  readonly durationSeconds: number;
  readonly poolSize: number;
  /** The CPUs of the servers and of the load, or `null` when they were not pinned. */
  readonly pinning: Pinning | null;
  readonly cases: readonly HttpCaseResult[];
}

/**
 * The median over rounds of one case's figure divided by another's, both measured in
 * the same rounds.
 *
 * @param a - The numerator's case.
 * @param b - The denominator's case.
 * @param figure - Requests per second, or CPU µs per request.
 * @returns The ratio, `NaN` when either case is missing.
 */
export function pairedRatio(a: HttpCaseResult | undefined, b: HttpCaseResult | undefined, figure: 'rps' | 'cpu'): number {
  if (a === undefined || b === undefined) {
    return Number.NaN;
  }
  const of = (c: HttpCaseResult) => (figure === 'rps' ? c.perRound.rps : c.perRound.cpuUsPerRequest);
  return round(pairedMedian(of(a), of(b), (x, y) => x / y));
}

/** `--session=small|large`: the session of servers/common.ts every server keeps (default `small`). */
export function sessionArgument(): 'small' | 'large' {
  const value = process.argv.find((arg) => arg.startsWith('--session='))?.slice('--session='.length) ?? 'small';
  if (value !== 'small' && value !== 'large') {
    throw new TypeError(`--session must be small or large, not ${value}`);
  }
  return value;
}

/** The CPUs this process may run on, as taskset lists them, or `undefined` without taskset. */
function allowedCpus(): number[] | undefined {
  if (process.platform !== 'linux') {
    return undefined;
  }
  let output: string;
  try {
    output = execFileSync('taskset', ['-c', '-p', String(process.pid)], { encoding: 'utf8' });
  } catch {
    return undefined;
  }
  // "pid 123's current affinity list: 0,2-3"
  const list = output.slice(output.lastIndexOf(':') + 1).trim();
  return list.split(',').flatMap((part) => {
    const [from, to = from] = part.split('-').map(Number);
    return Array.from({ length: to! - from! + 1 }, (_, i) => from! + i);
  });
}

/** Pins this process (every thread of it) to all allowed CPUs but the last, which the servers get. */
function pin(): Pinning | undefined {
  const cpus = allowedCpus();
  if (process.argv.includes('--no-pin') || cpus === undefined || cpus.length < 2) {
    return undefined;
  }
  const pinning = { server: String(cpus.at(-1)), load: cpus.slice(0, -1).join(',') };
  try {
    execFileSync('taskset', ['-a', '-c', '-p', pinning.load, String(process.pid)], { stdio: 'ignore' });
  } catch {
    // Not allowed here (a container may forbid it): run unpinned, as the report will say.
    return undefined;
  }
  return pinning;
}

interface Server {
  readonly spec: ServerSpec;
  readonly child: ChildProcess;
  readonly port: number;
  /** The cookie of `one` cases. */
  cookie: string | undefined;
  /** The cookies of `distinct` cases. */
  pool: string[];
}

interface RoundFigures {
  rps: number;
  p99: number;
  cpuPerRequest: number;
  errors: number;
}

function start(spec: ServerSpec, pinning: Pinning | undefined, session: 'small' | 'large'): Promise<Server> {
  const script = fileURLToPath(new URL(`../servers/${spec.script}`, import.meta.url));
  const child = fork(script, [...(spec.args ?? [])], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, BENCH_SESSION: session },
    ...(pinning && { execPath: 'taskset', execArgv: ['-c', pinning.server, process.execPath] }),
  });
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`server ${spec.id} exited with ${code} before listening`));
    child.once('exit', onExit);
    child.once('message', (message: ChildMessage) => {
      child.off('exit', onExit);
      if (message.type !== 'ready') {
        reject(new Error(`server ${spec.id} did not announce its port`));
        return;
      }
      resolve({ spec, child, port: message.port, cookie: undefined, pool: [] });
    });
  });
}

function cpuMicros(server: Server): Promise<number> {
  return new Promise((resolve) => {
    server.child.once('message', (message: ChildMessage) => resolve(message.type === 'cpu' ? message.micros : NaN));
    server.child.send({ type: 'cpu' } satisfies ParentMessage);
  });
}

/** The `name=value` of the first Set-Cookie, or `undefined`. */
function cookieOf(response: Response): string | undefined {
  const [first] = response.headers.getSetCookie();
  return first?.split(';')[0];
}

async function getJson(server: Server, path: string, cookie?: string): Promise<{ n: number; cookie: string | undefined }> {
  const response = await fetch(`http://127.0.0.1:${server.port}${path}`, { headers: cookie ? { cookie } : {} });
  if (response.status !== 200) {
    throw new Error(`${server.spec.id}: GET ${path} answered ${response.status}`);
  }
  const json = (await response.json()) as { n: number };
  return { n: json.n, cookie: cookieOf(response) };
}

/**
 * Checks, before any load, that the session really round-trips: the counter goes
 * 1 → 2 → 3 with the cookie the server sent; a read of that session sends no cookie
 * back. Keeps the cookie of `one` cases.
 */
async function check(server: Server, bareCookie: () => string): Promise<void> {
  const { spec } = server;
  if (spec.bare) {
    for (const path of ['/', '/untouched']) {
      const { n, cookie } = await getJson(server, path, bareCookie());
      if (n !== 0 || cookie !== undefined) {
        throw new Error(`${spec.id}: unexpected answer to ${path}`);
      }
    }
    server.cookie = bareCookie();
    server.pool = Array.from({ length: POOL_SIZE }, bareCookie);
    return;
  }
  const first = await getJson(server, '/incr');
  if (first.n !== 1 || first.cookie === undefined) {
    throw new Error(`${spec.id}: the first request did not start a session (n=${first.n})`);
  }
  const second = await getJson(server, '/incr', first.cookie);
  if (second.n !== 2) {
    throw new Error(`${spec.id}: the session did not round-trip (counter went 1 → ${second.n})`);
  }
  const cookie = second.cookie ?? first.cookie;
  const read = await getJson(server, '/', cookie);
  if (read.n !== 2 || read.cookie !== undefined) {
    throw new Error(`${spec.id}: a read did not see the session, or sent a cookie back`);
  }
  const third = await getJson(server, '/incr', cookie);
  if (third.n !== 3 || (spec.cookieSession && third.cookie === undefined)) {
    throw new Error(`${spec.id}: a write did not save the session`);
  }
  server.cookie = third.cookie ?? cookie;
  if (spec.untouched) {
    const untouched = await getJson(server, '/untouched', server.cookie);
    if (untouched.n !== 0 || untouched.cookie !== undefined) {
      throw new Error(`${spec.id}: GET /untouched touched the session`);
    }
  }
}

/**
 * A bare server's cookie: random bytes, base64url, as long as the sealed cookie of the
 * first cookie-session server of the run (kit-session's; or, without one, of the session's JSON plus AES-GCM's 28
 * bytes), so that a bare case carries the same header bytes.
 */
function bareCookieMaker(sealedLength: number): () => string {
  return () => `bare=${randomBytes(Math.ceil((sealedLength * 3) / 4)).toString('base64url').slice(0, sealedLength)}`;
}

/**
 * Makes the server's pool of distinct cookies: POOL_SIZE sessions started by
 * `GET /incr` without a cookie, 32 at a time, then reads a sample back.
 */
async function makePool(server: Server): Promise<void> {
  const pool: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      for (let i = next++; i < POOL_SIZE; i = next++) {
        const { n, cookie } = await getJson(server, '/incr');
        if (n !== 1 || cookie === undefined) {
          throw new Error(`${server.spec.id}: a pool session did not start`);
        }
        pool[i] = cookie;
      }
    }),
  );
  if (new Set(pool).size !== POOL_SIZE) {
    throw new Error(`${server.spec.id}: the pool's cookies are not all distinct`);
  }
  for (let i = 0; i < POOL_SIZE; i += 257) {
    const read = await getJson(server, '/', pool[i]);
    if (read.n !== 1 || read.cookie !== undefined) {
      throw new Error(`${server.spec.id}: a pool cookie did not read back`);
    }
  }
  server.pool = pool;
}

async function load(server: Server, entry: HttpCase, seconds: number): Promise<RoundFigures> {
  const cookies = entry.cookies === 'one' ? [server.cookie!] : entry.cookies === 'distinct' ? server.pool : [];
  // One cursor for all connections, started anywhere in the pool.
  let cursor = Math.floor(Math.random() * cookies.length);
  const before = await cpuMicros(server);
  const result = await autocannon({
    url: `http://127.0.0.1:${server.port}`,
    connections: entry.connections,
    duration: seconds,
    requests: [
      {
        method: 'GET',
        path: entry.kind === 'write' ? '/incr' : entry.kind === 'untouched' ? '/untouched' : '/',
        setupRequest: (request) => {
          if (cookies.length === 0) {
            return request;
          }
          const cookie = cookies[cursor]!;
          cursor = cursor + 1 === cookies.length ? 0 : cursor + 1;
          return { ...request, headers: { ...request.headers, cookie } };
        },
      },
    ],
  });
  const after = await cpuMicros(server);
  const total = result.requests.total;
  return {
    rps: total / result.duration,
    p99: result.latency.p99,
    cpuPerRequest: (after - before) / Math.max(1, total),
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

/**
 * Starts the servers, checks them, makes the pools, warms every case up, then runs
 * the interleaved rounds.
 *
 * @param options - The servers, the cases, and how long.
 * @returns The result, ready to be written.
 */
export async function runHttpBench(options: HttpBenchOptions): Promise<HttpBenchResult> {
  const { name, cases, rounds, durationSeconds, warmupSeconds } = options;
  const session = sessionArgument();
  process.env.BENCH_SESSION = session;
  const { SESSION_BYTES } = await import('../servers/common.js');
  const pinning = pin();
  const used = new Set(cases.map((entry) => entry.server));
  const servers = new Map<string, Server>();
  const stopAll = () => {
    for (const server of servers.values()) {
      server.child.kill();
    }
  };
  process.on('exit', stopAll);
  try {
    for (const spec of options.servers.filter((s) => used.has(s.id))) {
      servers.set(spec.id, await start(spec, pinning, session));
    }
    // Session servers first: a bare server's cookie is as long as their sealed cookie.
    const ordered = [...servers.values()].sort((a, b) => Number(a.spec.bare ?? false) - Number(b.spec.bare ?? false));
    let sealedLength: number | undefined;
    for (const server of ordered) {
      await check(server, bareCookieMaker(sealedLength ?? Math.ceil(((SESSION_BYTES + 28) * 4) / 3)));
      if (sealedLength === undefined && server.spec.cookieSession && server.cookie !== undefined) {
        sealedLength = server.cookie.length - server.cookie.indexOf('=') - 1;
      }
      if (!server.spec.bare && cases.some((entry) => entry.server === server.spec.id && entry.cookies === 'distinct')) {
        await makePool(server);
      }
    }
    process.stderr.write(
      `${name}: session ${session} (${SESSION_BYTES} B of JSON), ${servers.size} servers checked, pools of ${POOL_SIZE} made; warming up\n`,
    );
    const serverOf = (entry: HttpCase) => servers.get(entry.server)!;
    for (const entry of cases) {
      await load(serverOf(entry), entry, warmupSeconds);
    }
    const figures = new Map<string, RoundFigures[]>(cases.map((entry) => [entry.id, []]));
    for (let r = 0; r < rounds; r++) {
      for (const entry of shuffled(cases)) {
        figures.get(entry.id)!.push(await load(serverOf(entry), entry, durationSeconds));
      }
      process.stderr.write(`${name}: round ${r + 1}/${rounds}\n`);
    }
    const results = cases.map((entry): HttpCaseResult => {
      const mine = figures.get(entry.id)!;
      const base = figures.get(entry.baseline) ?? [];
      return {
        id: entry.id,
        group: entry.group,
        label: entry.label,
        server: entry.server,
        kind: entry.kind,
        cookies: entry.cookies,
        connections: entry.connections,
        baseline: entry.baseline,
        rps: Math.round(median(mine.map((f) => f.rps))),
        ratioToBaseline: round(pairedMedian(mine, base, (m, b) => m.rps / b.rps)),
        p99Ms: round(median(mine.map((f) => f.p99))),
        cpuUsPerRequest: round(median(mine.map((f) => f.cpuPerRequest))),
        cpuRatioToBaseline: round(pairedMedian(mine, base, (m, b) => b.cpuPerRequest / m.cpuPerRequest)),
        errors: mine.reduce((sum, f) => sum + f.errors, 0),
        perRound: { rps: mine.map((f) => Math.round(f.rps)), cpuUsPerRequest: mine.map((f) => round(f.cpuPerRequest, 4)) },
      };
    });
    return { bench: name, session: { size: session, jsonBytes: SESSION_BYTES }, machine: machine(), rounds, durationSeconds, poolSize: POOL_SIZE, pinning: pinning ?? null, cases: results };
  } finally {
    for (const server of servers.values()) {
      if (server.child.connected) {
        server.child.send({ type: 'exit' } satisfies ParentMessage);
      }
    }
    setTimeout(stopAll, 500).unref();
  }
}

/**
 * `--only=a,b` keeps the cases whose id is listed or starts with a listed prefix,
 * with their baselines; `--rounds=N` overrides the number of rounds.
 *
 * @param cases - Every case of the benchmark.
 * @returns The cases to run, and whether some were left out.
 */
export function selectCases(cases: readonly HttpCase[]): { cases: HttpCase[]; partial: boolean } {
  const only = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length).split(',');
  if (only === undefined) {
    return { cases: [...cases], partial: false };
  }
  const wanted = new Set(cases.filter((c) => only.some((o) => c.id === o || c.id.startsWith(o))).map((c) => c.id));
  // Baselines, and theirs (a case's baseline may have one of its own).
  for (let size = 0; size !== wanted.size; ) {
    size = wanted.size;
    for (const c of cases.filter((entry) => wanted.has(entry.id))) {
      wanted.add(c.baseline);
    }
  }
  return { cases: cases.filter((c) => wanted.has(c.id)), partial: true };
}

/** `--rounds=N`, if given. */
export function roundsArgument(): number | undefined {
  const value = Number(process.argv.find((arg) => arg.startsWith('--rounds='))?.slice('--rounds='.length));
  return value > 0 ? value : undefined;
}
