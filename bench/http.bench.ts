// HTTP benchmark: kit-session on node:http (an encrypted cookie, read and written)
// beside bare node:http and the peers (express-session, iron-session,
// @fastify/secure-session) and the floor of an AES-GCM cookie on node:crypto
// (bench/servers/raw-aes-gcm.ts), each read and written, each with one repeated cookie and
// with a pool of 4,096 distinct cookies, all on the same realistic session
// (servers/common.ts: 200 B of JSON, or 1,024 B with --session=large). Beside them: bare
// node:http with a cookie of the sealed session's length (the load generator must not
// cap the bare reference: its req/s must not move with the cookie), and kit-session's
// route that never touches the session. The harness (servers in their own processes,
// pinning, interleaved shuffled rounds, per-round ratios, medians, the cookie pools) is
// bench/lib/httpBench.ts.
//
//   node dist-bench/bench/http.bench.js [--quick] [--no-pin] [--only=kit-read,fss] [--rounds=N] [--session=small|large]

import { markdownTable, pinningText, QUICK, writeResult } from './lib/report.js';
import { pairedRatio, runHttpBench, roundsArgument, selectCases, sessionArgument, type HttpCase, type ServerSpec } from './lib/httpBench.js';

const SERVERS: readonly ServerSpec[] = [
  { id: 'bare', script: 'bare.js', bare: true },
  { id: 'kit', script: 'kit.js', args: ['auto'], cookieSession: true, untouched: true },
  { id: 'kit-webcrypto', script: 'kit.js', args: ['webcrypto'], cookieSession: true },
  { id: 'express-session', script: 'express-session.js' },
  { id: 'iron-session', script: 'iron-session.js', cookieSession: true },
  { id: 'fastify-secure-session', script: 'fastify-secure-session.js', cookieSession: true },
  { id: 'raw-aes-gcm', script: 'raw-aes-gcm.js', cookieSession: true },
];

const CONNECTIONS = 10;

/** Read and write, one cookie and the distinct pool, of one server. */
function sessionCases(server: string, group: string, label: string): HttpCase[] {
  return (['read', 'write'] as const).flatMap((kind) =>
    (['one', 'distinct'] as const).map(
      (cookies): HttpCase => ({
        id: `${server}-${kind}${cookies === 'distinct' ? '-distinct' : ''}`,
        group,
        label: `${label} ${kind === 'read' ? 'read (not changed)' : 'counter (changed every request)'}, ${cookies === 'one' ? 'one cookie' : '4,096 cookies'}`,
        server,
        kind,
        cookies,
        connections: CONNECTIONS,
        baseline: 'bare',
      }),
    ),
  );
}

const HTTP_CASES: readonly HttpCase[] = [
  { id: 'bare', group: 'a', label: 'bare node:http (no cookie)', server: 'bare', kind: 'none', cookies: 'none', connections: CONNECTIONS, baseline: 'bare' },
  {
    id: 'bare-cookie',
    group: 'a',
    label: 'bare node:http, sent a cookie of the sealed session\'s length (load-generator check)',
    server: 'bare',
    kind: 'none',
    cookies: 'one',
    connections: CONNECTIONS,
    baseline: 'bare',
  },
  {
    id: 'kit-untouched',
    group: 'b/c',
    label: 'kit-session, a route that never touches the session, one cookie (× bare with the cookie)',
    server: 'kit',
    kind: 'untouched',
    cookies: 'one',
    connections: CONNECTIONS,
    baseline: 'bare-cookie',
  },
  ...sessionCases('kit', 'b/c', 'kit-session'),
  ...sessionCases('express-session', 'd', 'express-session (MemoryStore)'),
  ...sessionCases('iron-session', 'd', 'iron-session'),
  ...sessionCases('fastify-secure-session', 'd', '@fastify/secure-session'),
  ...sessionCases('kit-webcrypto', 'f', "kit-session, crypto 'webcrypto',"),
  ...sessionCases('raw-aes-gcm', 'g', 'floor: hand-written node:crypto AES-GCM cookie'),
];

const { cases, partial } = selectCases(HTTP_CASES);
const result = await runHttpBench({
  name: 'http',
  servers: SERVERS,
  cases,
  rounds: roundsArgument() ?? (QUICK ? 3 : 7),
  durationSeconds: QUICK ? 1.5 : 4,
  warmupSeconds: QUICK ? 0.5 : 2,
});
const large = sessionArgument() === 'large';
if (!partial) {
  writeResult(large ? 'http-large.json' : 'http.json', large ? { ...result, bench: 'http-large' } : result);
}
console.log(
  `\nHTTP, ${result.rounds} interleaved rounds × ${result.durationSeconds} s, ${CONNECTIONS} connections, medians; ratios within each round; ${pinningText(result.pinning)}; session ${result.session.size}, ${result.session.jsonBytes} B of JSON\n`,
);
const find = (id: string) => result.cases.find((c) => c.id === id);
if (find('bare-cookie') !== undefined) {
  console.log(
    `load-generator check: bare node:http with a cookie ÷ without, req/s ${pairedRatio(find('bare-cookie'), find('bare'), 'rps')} (1 when the load generator does not cap the bare reference)`,
  );
}
console.log(
  markdownTable(
    ['case', 'server', 'req/s', '× bare (req/s)', '× bare (CPU/req)', 'p99 ms', 'CPU µs/req', 'errors'],
    result.cases.map((c) => [c.group, c.label, c.rps, c.ratioToBaseline, c.cpuRatioToBaseline, c.p99Ms, c.cpuUsPerRequest, c.errors]),
  ),
);
