// HTTP benchmark, cases (a) to (d) and (f) of the performance issue: each server runs
// in its own process (bench/servers/*), load comes from autocannon in this process
// over loopback. Every server is measured in every round, in a shuffled order; ratios
// to bare node:http are taken within each round, then the median over rounds is kept,
// so that the noise of a shared machine moves all servers of a round alike.
//
// On Linux with taskset and at least two CPUs, the servers run on one CPU and this
// process (the load) on the others, so that the two never take turns on one core: on
// a 2-core machine that cross-talk was the largest source of noise. `--no-pin` turns
// it off.
//
//   node dist-bench/bench/http.bench.js [--quick] [--no-pin]

import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { machine, markdownTable, pinningText, QUICK, writeResult, type Pinning } from './lib/report.js';
import { median, pairedMedian, round, shuffled } from './lib/stats.js';
import type { ChildMessage, ParentMessage } from './servers/common.js';

/** One server under load. */
interface HttpCase {
  readonly id: string;
  /** The case letter. */
  readonly group: string;
  readonly label: string;
  /** The server script in `servers/`, compiled, and its arguments. */
  readonly script: string;
  readonly args: readonly string[];
  /** `none`: no session; `read`: the session is read, not changed; `write`: a counter goes up on every request. */
  readonly kind: 'none' | 'read' | 'write';
}

const CASES: readonly HttpCase[] = [
  { id: 'bare', group: 'a', label: 'bare node:http', script: 'bare.js', args: [], kind: 'none' },
  { id: 'kit-read', group: 'b', label: 'kit-session read (not changed)', script: 'kit.js', args: ['auto'], kind: 'read' },
  { id: 'kit-write', group: 'c', label: 'kit-session counter (changed every request)', script: 'kit.js', args: ['auto'], kind: 'write' },
  { id: 'express-session', group: 'd', label: 'express-session counter (MemoryStore)', script: 'express-session.js', args: [], kind: 'write' },
  { id: 'iron-session', group: 'd', label: 'iron-session counter', script: 'iron-session.js', args: [], kind: 'write' },
  { id: 'fastify-secure-session', group: 'd', label: '@fastify/secure-session counter', script: 'fastify-secure-session.js', args: [], kind: 'write' },
  { id: 'kit-read-webcrypto', group: 'f', label: "kit-session read, crypto 'webcrypto'", script: 'kit.js', args: ['webcrypto'], kind: 'read' },
  { id: 'kit-write-webcrypto', group: 'f', label: "kit-session counter, crypto 'webcrypto'", script: 'kit.js', args: ['webcrypto'], kind: 'write' },
];

// `--only=bare,kit-read` measures a few servers (bare node:http always among them),
// `--rounds=N` overrides the number of rounds: for working on one case.
const ONLY = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length).split(',');
const ROUNDS_ARG = Number(process.argv.find((arg) => arg.startsWith('--rounds='))?.slice('--rounds='.length));
const SELECTED = CASES.filter((entry) => ONLY === undefined || entry.id === 'bare' || ONLY.includes(entry.id));
const ROUNDS = ROUNDS_ARG > 0 ? ROUNDS_ARG : QUICK ? 3 : 10;
const DURATION_S = QUICK ? 1.5 : 5;
const WARMUP_S = QUICK ? 1 : 3;
const CONNECTIONS = 10;

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

const PINNING = pin();

interface Server {
  readonly entry: HttpCase;
  readonly child: ChildProcess;
  readonly port: number;
  /** The Cookie header sent under load. */
  cookie: string | undefined;
}

interface RoundFigures {
  rps: number;
  p99: number;
  cpuPerRequest: number;
  errors: number;
}

function start(entry: HttpCase): Promise<Server> {
  const script = fileURLToPath(new URL(`./servers/${entry.script}`, import.meta.url));
  const child = fork(script, [...entry.args], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    ...(PINNING && { execPath: 'taskset', execArgv: ['-c', PINNING.server, process.execPath] }),
  });
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`server ${entry.id} exited with ${code} before listening`));
    child.once('exit', onExit);
    child.once('message', (message: ChildMessage) => {
      child.off('exit', onExit);
      if (message.type !== 'ready') {
        reject(new Error(`server ${entry.id} did not announce its port`));
        return;
      }
      resolve({ entry, child, port: message.port, cookie: undefined });
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
    throw new Error(`${server.entry.id}: GET ${path} answered ${response.status}`);
  }
  const json = (await response.json()) as { n: number };
  return { n: json.n, cookie: cookieOf(response) };
}

/**
 * Checks, before any load, that the session really round-trips: the counter goes
 * 1 → 2 with the cookie the server sent; a read of that session sends no cookie back.
 * Sets the cookie the load will send.
 */
async function check(server: Server): Promise<void> {
  const { entry } = server;
  if (entry.kind === 'none') {
    const { n, cookie } = await getJson(server, '/');
    if (n !== 0 || cookie !== undefined) {
      throw new Error(`${entry.id}: unexpected answer`);
    }
    return;
  }
  const first = await getJson(server, '/incr');
  if (first.n !== 1 || first.cookie === undefined) {
    throw new Error(`${entry.id}: the first request did not start a session (n=${first.n})`);
  }
  const second = await getJson(server, '/incr', first.cookie);
  if (second.n !== 2) {
    throw new Error(`${entry.id}: the session did not round-trip (counter went 1 → ${second.n})`);
  }
  const cookie = second.cookie ?? first.cookie;
  if (entry.kind === 'read') {
    const read = await getJson(server, '/', cookie);
    if (read.n !== 2 || read.cookie !== undefined) {
      throw new Error(`${entry.id}: a read did not see the session, or sent a cookie back`);
    }
  } else {
    const third = await getJson(server, '/incr', cookie);
    if (third.n !== 3 || third.cookie === undefined && entry.id !== 'express-session') {
      throw new Error(`${entry.id}: a write did not save the session`);
    }
  }
  server.cookie = cookie;
}

async function load(server: Server, seconds: number): Promise<RoundFigures> {
  // A write server's counter goes up under load; the others are read (or have no session).
  const path = server.entry.kind === 'write' ? '/incr' : '/';
  const before = await cpuMicros(server);
  const result = await autocannon({
    url: `http://127.0.0.1:${server.port}${path}`,
    connections: CONNECTIONS,
    duration: seconds,
    headers: server.cookie === undefined ? {} : { cookie: server.cookie },
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

/** One server's figures in `bench/results/http.json`. */
export interface HttpCaseResult {
  id: string;
  group: string;
  label: string;
  /** Median requests per second over rounds. */
  rps: number;
  /** Median over rounds of this server's requests per second divided by bare node:http's. */
  ratioToBare: number;
  /** Median over rounds of the 99th percentile latency, in ms. */
  p99Ms: number;
  /** Median over rounds of the server's CPU time (user + system) per request, in µs. */
  cpuUsPerRequest: number;
  /** Median over rounds of bare node:http's CPU per request divided by this server's. */
  cpuRatioToBare: number;
  /** Errors, timeouts and non-2xx answers over all rounds. */
  errors: number;
}

/** The result of the HTTP benchmark, as written to `bench/results/http.json`. */
export interface HttpResult {
  readonly bench: 'http';
  readonly machine: Record<string, unknown>;
  readonly rounds: number;
  readonly durationSeconds: number;
  readonly connections: number;
  /** The CPUs of the servers and of the load, or `null` when they were not pinned. */
  readonly pinning: Pinning | null;
  readonly cases: readonly HttpCaseResult[];
  /** Median over rounds of kit-session's counter rps divided by @fastify/secure-session's. */
  readonly kitWriteToFastify: number;
}

async function main(): Promise<void> {
  const servers: Server[] = [];
  const stopAll = () => {
    for (const server of servers) {
      server.child.kill();
    }
  };
  process.on('exit', stopAll);
  try {
    for (const entry of SELECTED) {
      servers.push(await start(entry));
    }
    for (const server of servers) {
      await check(server);
    }
    process.stderr.write(`http: ${servers.length} servers checked; warming up\n`);
    for (const server of servers) {
      await load(server, WARMUP_S);
    }
    const figures = new Map<string, RoundFigures[]>(SELECTED.map((entry) => [entry.id, []]));
    for (let r = 0; r < ROUNDS; r++) {
      for (const server of shuffled(servers)) {
        figures.get(server.entry.id)!.push(await load(server, DURATION_S));
      }
      process.stderr.write(`http: round ${r + 1}/${ROUNDS}\n`);
    }

    const bare = figures.get('bare')!;
    const cases = SELECTED.map((entry): HttpCaseResult => {
      const mine = figures.get(entry.id)!;
      return {
        id: entry.id,
        group: entry.group,
        label: entry.label,
        rps: Math.round(median(mine.map((f) => f.rps))),
        ratioToBare: round(pairedMedian(mine, bare, (m, b) => m.rps / b.rps)),
        p99Ms: round(median(mine.map((f) => f.p99))),
        cpuUsPerRequest: round(median(mine.map((f) => f.cpuPerRequest))),
        cpuRatioToBare: round(pairedMedian(mine, bare, (m, b) => b.cpuPerRequest / m.cpuPerRequest)),
        errors: mine.reduce((sum, f) => sum + f.errors, 0),
      };
    });
    const result: HttpResult = {
      bench: 'http',
      machine: machine(),
      rounds: ROUNDS,
      durationSeconds: DURATION_S,
      connections: CONNECTIONS,
      pinning: PINNING ?? null,
      cases,
      // NaN when either server was left out (--only).
      kitWriteToFastify: round(
        pairedMedian(figures.get('kit-write') ?? [], figures.get('fastify-secure-session') ?? [], (kit, fastify) => kit.rps / fastify.rps),
      ),
    };
    if (ONLY === undefined) {
      writeResult('http.json', result);
    }

    console.log(
      `\nHTTP, ${ROUNDS} interleaved rounds × ${DURATION_S} s, ${CONNECTIONS} connections, medians; ratios within each round; ${pinningText(PINNING)}\n`,
    );
    console.log(
      markdownTable(
        ['case', 'server', 'req/s', '× bare node:http', 'p99 ms', 'CPU µs/req', 'errors'],
        cases.map((c) => [c.group, c.label, c.rps.toLocaleString('en-US'), c.ratioToBare, c.p99Ms, c.cpuUsPerRequest, c.errors]),
      ),
    );
    console.log(`\nkit-session counter ÷ @fastify/secure-session counter: ${result.kitWriteToFastify}×`);
  } finally {
    for (const server of servers) {
      if (server.child.connected) {
        server.child.send({ type: 'exit' } satisfies ParentMessage);
      }
    }
    setTimeout(stopAll, 500).unref();
  }
}

await main();
