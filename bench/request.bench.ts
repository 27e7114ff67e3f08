// The session layer's own cost per request, without sockets: a node:http request and
// response are built in memory, the session is loaded, read (and changed, for a
// write), and saved into the response's headers, in one process, in interleaved
// rounds. Over HTTP this cost drowns in the noise of a 2-core machine; here a change to
// the hot path shows within a few percent. Compare two checkouts by running it in
// each: the `node:http objects only` case is the floor both share.
//
//   node dist-bench/bench/request.bench.js [--quick]

import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import {
  Context,
  CookieSessionStore,
  EncryptingStoreDecorator,
  fromNodeRequest,
  fromNodeResponse,
  importRawKey,
  SessionManager,
} from 'kit-session';
import { machine, markdownTable, QUICK, writeResult } from './lib/report.js';
import { median, pairedMedian, round } from './lib/stats.js';
import { interleaved, type TimedCase } from './lib/timing.js';
import { BENCH_KEY_BASE64 } from './servers/common.js';

interface Values {
  n: number;
}

/** The result of the in-memory request benchmark, as written to `bench/results/request.json`. */
export interface RequestResult {
  readonly bench: 'request';
  readonly machine: Record<string, unknown>;
  readonly rounds: number;
  readonly roundMs: number;
  readonly cases: readonly { id: string; label: string; usPerRequest: number; sessionUsPerRequest: number }[];
}

const ROUNDS = QUICK ? 10 : 30;
const ROUND_MS = QUICK ? 50 : 150;

const manager = new SessionManager<Values>(
  new EncryptingStoreDecorator<Values>(new CookieSessionStore<Values>(), {
    keys: [await importRawKey(BENCH_KEY_BASE64)],
  }),
);

function exchange(cookie: string | undefined): { request: IncomingMessage; response: ServerResponse } {
  const request = new IncomingMessage(new Socket());
  request.headers = cookie === undefined ? {} : { cookie };
  return { request, response: new ServerResponse(request) };
}

/** What the counter server of the HTTP benchmark does, minus the socket. */
async function handle(cookie: string | undefined, write: boolean): Promise<ServerResponse> {
  const { request, response } = exchange(cookie);
  const context = await manager.extractSession(Context.background, fromNodeRequest(request));
  const n = manager.getValue(context, 'n') ?? 0;
  if (write) {
    manager.setValue(context, 'n', n + 1);
  }
  await manager.injectSession(context, fromNodeResponse(response));
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

// A session with n = 2, as the HTTP benchmark's load carries; then check the read sees
// it and sends nothing back, and the write sends a cookie.
const cookie = cookieOf(await handle(cookieOf(await handle(undefined, true)), true));
const read = await handle(cookie, false);
if (read.getHeader('set-cookie') !== undefined) {
  throw new Error('a read sent a cookie');
}
cookieOf(await handle(cookie, true));

interface Case extends TimedCase {
  readonly label: string;
  readonly op: () => Promise<unknown>;
}

/** Every case: 64 awaited requests between two reads of the clock. */
const TIMING = { batch: 64, async: true } as const;

const CASES: readonly Case[] = [
  {
    id: 'objects',
    label: 'node:http objects only (request, response, one header)',
    ...TIMING,
    op: async () => exchange(cookie).response.setHeader('content-type', 'application/json'),
  },
  { id: 'read', label: 'kit-session read (load, get, save: nothing to send)', ...TIMING, op: () => handle(cookie, false) },
  { id: 'write', label: 'kit-session counter (load, set, seal, three headers)', ...TIMING, op: () => handle(cookie, true) },
];

const perRound = await interleaved(CASES, { rounds: ROUNDS, ms: ROUND_MS, warmupMs: ROUND_MS * 3 });
const base = perRound.get('objects')!;
const cases = CASES.map((entry) => {
  const mine = perRound.get(entry.id)!;
  return {
    id: entry.id,
    label: entry.label,
    usPerRequest: round(median(mine) / 1000),
    // The session layer's own share: this case minus the objects it shares, per round.
    sessionUsPerRequest: round(pairedMedian(mine, base, (ns, objects) => ns - objects) / 1000),
  };
});
const result: RequestResult = { bench: 'request', machine: machine(), rounds: ROUNDS, roundMs: ROUND_MS, cases };
writeResult('request.json', result);
console.log(`\nOne request in memory (no socket), ${ROUNDS} interleaved rounds × ${ROUND_MS} ms, medians\n`);
console.log(
  markdownTable(
    ['case', 'µs per request', 'µs over the node:http objects'],
    cases.map((c) => [c.label, c.usPerRequest, c.id === 'objects' ? '' : c.sessionUsPerRequest]),
  ),
);
