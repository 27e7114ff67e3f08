// Adapters benchmark: each of kit-session's framework adapters beside that framework
// with its usual session plugin and the bare framework, read and written, with one
// repeated cookie and with a pool of 4,096 distinct cookies:
// - fastify 5: kit-session/fastify, @fastify/secure-session, bare;
// - Hono on @hono/node-server: kit-session/hono, hono/cookie's signed cookie, bare;
// - express 5: kit-session/express, express-session (MemoryStore), bare, and bare express
//   doing the same AES-GCM cookie by hand (servers/express-raw-aes-gcm.ts), the fair
//   reference of the Express target.
// Every server keeps the same realistic session (servers/common.ts: 200 B of JSON, 1,024 B
// with --session=large). Per framework also: the bare framework sent a cookie of the
// sealed session's length, and kit-session's route that never touches the session (its
// ratio is to the bare framework with that cookie).
// Ratios are to the bare framework, in the same rounds; the target (kit-session's
// adapter within 10% of the usual plugin) is taken in bench/run.ts from the rounds.
//
//   node dist-bench/bench/adapters.bench.js [--quick] [--no-pin] [--only=hono] [--rounds=N] [--session=small|large]

import { markdownTable, pinningText, QUICK, writeResult } from './lib/report.js';
import { pairedRatio, runHttpBench, roundsArgument, selectCases, sessionArgument, type HttpCase, type ServerSpec } from './lib/httpBench.js';

const CONNECTIONS = 10;

/** A framework, its bare server, kit-session's adapter and its usual session plugin. */
interface Framework {
  readonly id: string;
  readonly label: string;
  readonly plugin: { readonly id: string; readonly label: string; readonly script: string; readonly cookieSession: boolean };
  /** The framework doing kit-session's cookie work by hand, when there is one. */
  readonly byHand?: { readonly id: string; readonly label: string; readonly script: string };
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
    byHand: { id: 'express-raw-aes-gcm', label: 'AES-GCM cookie by hand', script: 'express-raw-aes-gcm.js' },
  },
];

const SERVERS: readonly ServerSpec[] = FRAMEWORKS.flatMap((f) => [
  { id: `${f.id}-bare`, script: `${f.id}-bare.js`, bare: true },
  { id: `${f.id}-kit`, script: `${f.id}-kit.js`, cookieSession: true, untouched: true },
  { id: f.plugin.id, script: f.plugin.script, cookieSession: f.plugin.cookieSession },
  ...(f.byHand === undefined ? [] : [{ id: f.byHand.id, script: f.byHand.script, cookieSession: true }]),
]);

function frameworkCases(f: Framework): HttpCase[] {
  const baseline = `${f.id}-bare`;
  const sessions = [
    { server: `${f.id}-kit`, label: `kit-session/${f.id}` },
    { server: f.plugin.id, label: f.plugin.label },
    ...(f.byHand === undefined ? [] : [{ server: f.byHand.id, label: f.byHand.label }]),
  ];
  const withCookie = `${baseline}-cookie`;
  return [
    { id: baseline, group: f.label, label: `bare ${f.label}`, server: baseline, kind: 'none', cookies: 'none', connections: CONNECTIONS, baseline },
    {
      id: withCookie,
      group: f.label,
      label: `bare ${f.label}, sent a cookie of the sealed session's length`,
      server: baseline,
      kind: 'none',
      cookies: 'one',
      connections: CONNECTIONS,
      baseline,
    },
    {
      id: `${f.id}-kit-untouched`,
      group: f.label,
      label: `${f.label} + kit-session/${f.id}, a route that never touches the session (× bare ${f.label} with the cookie)`,
      server: `${f.id}-kit`,
      kind: 'untouched',
      cookies: 'one',
      connections: CONNECTIONS,
      baseline: withCookie,
    },
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
const large = sessionArgument() === 'large';
if (!partial) {
  writeResult(large ? 'adapters-large.json' : 'adapters.json', large ? { ...result, bench: 'adapters-large' } : result);
}
console.log(
  `\nAdapters, ${result.rounds} interleaved rounds × ${result.durationSeconds} s, ${CONNECTIONS} connections, medians; ratios to the bare framework within each round; ${pinningText(result.pinning)}; session ${result.session.size}, ${result.session.jsonBytes} B of JSON\n`,
);
const find = (id: string) => result.cases.find((c) => c.id === id);
for (const f of FRAMEWORKS) {
  if (find(`${f.id}-bare-cookie`) !== undefined) {
    console.log(
      `load-generator check, ${f.label}: bare with a cookie ÷ without, req/s ${pairedRatio(find(`${f.id}-bare-cookie`), find(`${f.id}-bare`), 'rps')}`,
    );
  }
  for (const suffix of ['-read', '-read-distinct', '-write', '-write-distinct']) {
    const kit = find(`${f.id}-kit${suffix}`);
    const byHand = f.byHand === undefined ? undefined : find(`${f.byHand.id}${suffix}`);
    if (kit !== undefined && byHand !== undefined) {
      console.log(
        `kit-session/${f.id}${suffix} ÷ ${f.label} + ${f.byHand!.label}: req/s ${pairedRatio(kit, byHand, 'rps')}, CPU/req ${pairedRatio(kit, byHand, 'cpu')}`,
      );
    }
  }
}
console.log(
  markdownTable(
    ['framework', 'case', 'req/s', '× bare framework (req/s)', '× bare framework (CPU/req)', 'p99 ms', 'CPU µs/req', 'errors'],
    result.cases.map((c) => [c.group, c.label, c.rps, c.ratioToBaseline, c.cpuRatioToBaseline, c.p99Ms, c.cpuUsPerRequest, c.errors]),
  ),
);
