// Adapters benchmark: each of kit-session's framework adapters beside that framework
// with its usual session plugin and the bare framework, read and written, with one
// repeated cookie and with a pool of 4,096 distinct cookies:
// - fastify 5: kit-session/fastify, @fastify/secure-session, bare;
// - Hono on @hono/node-server: kit-session/hono, hono/cookie's signed cookie, bare;
// - express 5: kit-session/express, express-session (MemoryStore), bare.
// Ratios are to the bare framework, in the same rounds; the target (kit-session's
// adapter within 10% of the usual plugin) is taken in bench/run.ts from the rounds.
//
//   node dist-bench/bench/adapters.bench.js [--quick] [--no-pin] [--only=hono] [--rounds=N]

import { markdownTable, pinningText, QUICK, writeResult } from './lib/report.js';
import { runHttpBench, roundsArgument, selectCases, type HttpCase, type ServerSpec } from './lib/httpBench.js';

const CONNECTIONS = 10;

/** A framework, its bare server, kit-session's adapter and its usual session plugin. */
interface Framework {
  readonly id: string;
  readonly label: string;
  readonly plugin: { readonly id: string; readonly label: string; readonly script: string; readonly cookieSession: boolean };
}

/** The frameworks; `id` names the `<id>-bare` and `<id>-kit` servers. */
export const FRAMEWORKS: readonly Framework[] = [
  {
    id: 'fastify',
    label: 'fastify',
    plugin: { id: 'fastify-secure-session', label: '@fastify/secure-session', script: 'fastify-secure-session.js', cookieSession: true },
  },
  {
    id: 'hono',
    label: 'Hono',
    plugin: { id: 'hono-signed-cookie', label: 'hono/cookie signed cookie', script: 'hono-signed-cookie.js', cookieSession: true },
  },
  {
    id: 'express',
    label: 'express',
    plugin: { id: 'express-session', label: 'express-session', script: 'express-session.js', cookieSession: false },
  },
];

const SERVERS: readonly ServerSpec[] = FRAMEWORKS.flatMap((f) => [
  { id: `${f.id}-bare`, script: `${f.id}-bare.js`, bare: true },
  { id: `${f.id}-kit`, script: `${f.id}-kit.js`, cookieSession: true },
  { id: f.plugin.id, script: f.plugin.script, cookieSession: f.plugin.cookieSession },
]);

function frameworkCases(f: Framework): HttpCase[] {
  const baseline = `${f.id}-bare`;
  const sessions = [
    { server: `${f.id}-kit`, label: `kit-session/${f.id}` },
    { server: f.plugin.id, label: f.plugin.label },
  ];
  return [
    { id: baseline, group: f.label, label: `bare ${f.label}`, server: baseline, kind: 'none', cookies: 'none', connections: CONNECTIONS, baseline },
    ...sessions.flatMap(({ server, label }) =>
      (['read', 'write'] as const).flatMap((kind) =>
        (['one', 'distinct'] as const).map(
          (cookies): HttpCase => ({
            id: `${server}-${kind}${cookies === 'distinct' ? '-distinct' : ''}`,
            group: f.label,
            label: `${f.label} + ${label}, ${kind === 'read' ? 'read' : 'counter'}, ${cookies === 'one' ? 'one cookie' : '4,096 cookies'}`,
            server,
            kind,
            cookies,
            connections: CONNECTIONS,
            baseline,
          }),
        ),
      ),
    ),
  ];
}

const { cases, partial } = selectCases(FRAMEWORKS.flatMap(frameworkCases));
const result = await runHttpBench({
  name: 'adapters',
  servers: SERVERS,
  cases,
  rounds: roundsArgument() ?? (QUICK ? 3 : 7),
  durationSeconds: QUICK ? 1.5 : 4,
  warmupSeconds: QUICK ? 0.5 : 2,
});
if (!partial) {
  writeResult('adapters.json', result);
}
console.log(
  `\nAdapters, ${result.rounds} interleaved rounds × ${result.durationSeconds} s, ${CONNECTIONS} connections, medians; ratios to the bare framework within each round; ${pinningText(result.pinning)}\n`,
);
console.log(
  markdownTable(
    ['framework', 'case', 'req/s', '× bare framework (req/s)', '× bare framework (CPU/req)', 'p99 ms', 'CPU µs/req', 'errors'],
    result.cases.map((c) => [c.group, c.label, c.rps, c.ratioToBaseline, c.cpuRatioToBaseline, c.p99Ms, c.cpuUsPerRequest, c.errors]),
  ),
);
