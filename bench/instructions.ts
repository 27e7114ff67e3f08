// Instructions per request of the in-memory request benchmark, counted by
// `valgrind --tool=callgrind`: deterministic where timings on a shared 2-core machine
// are not. For each library (this checkout's `dist/`, or each `--lib` folder), it runs
// `request.bench.js --count` once with 0 requests (set-up and the same warm-up) and
// once per case with N requests; a case's figure is the difference divided by N, and
// the session layer's own figure is that case's minus the node:http-objects case's,
// with the same cookies. Runs go two at a time. See bench/README.md.
//
//   node dist-bench/bench/instructions.js [--requests N] [--warmup N] [--jobs N] [--cases objects,read,write]
//       [--telemetry none|api|sdk|sdk-traces|sdk-metrics] [--aead aes-gcm|xchacha20-poly1305] [--lib DIR]...

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { machine, markdownTable, writeResult } from './lib/report.js';
import { telemetryMode } from './lib/telemetry.js';
import type { RequestCaseId } from './request.bench.js';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '5000' },
    warmup: { type: 'string', default: '1000' },
    jobs: { type: 'string', default: '2' },
    lib: { type: 'string', multiple: true },
    // Which cases to count: objects, read, write, untouched. The objects case does not touch the
    // library, so an A/B of two builds can leave it out and use one run's.
    cases: { type: 'string', default: 'objects,read,write' },
    // The manager's telemetry in every count (bench/lib/telemetry.ts): none, api, sdk, sdk-traces or sdk-metrics.
    telemetry: { type: 'string', default: 'none' },
    // The decorator's AEAD in every count (request.bench.ts --aead); its default unless given.
    aead: { type: 'string' },
  },
});
const TELEMETRY = telemetryMode(args.telemetry);

const BENCH = fileURLToPath(new URL('request.bench.js', import.meta.url));
/**
 * V8 without its background threads, a fixed GC schedule and fixed seeds: without
 * them two runs of the same code differ by up to a tenth; with them, by about 0.01 %.
 */
const NODE_FLAGS = ['--predictable', '--hash-seed=1', '--random-seed=1'];
const REQUESTS = Number(args.requests);
const CASES = args.cases.split(',') as RequestCaseId[];
if (CASES.some((id) => id !== 'objects' && id !== 'read' && id !== 'write' && id !== 'untouched')) {
  throw new TypeError('--cases takes objects, read, write and untouched, comma-separated');
}

/** The result, as written to `bench/results/instructions.json`. */
export interface InstructionsResult {
  readonly bench: 'instructions';
  readonly machine: Record<string, unknown>;
  readonly requests: number;
  readonly warmup: number;
  readonly libs: readonly {
    lib: string;
    /** Instructions per request, by case id (`read`, `read-distinct`, …). */
    perRequest: Record<string, number>;
    /** The same minus the node:http-objects case with the same cookies, when it was counted. */
    sessionPerRequest: Record<string, number>;
  }[];
}

interface Run {
  readonly lib: string | undefined;
  readonly id: RequestCaseId | 'baseline';
  readonly distinct: boolean;
}

/** Runs one count under callgrind and gives the instructions it collected. */
function count(run: Run): Promise<number> {
  const benchArgs = [
    '--count',
    run.id === 'baseline' ? 'objects' : run.id,
    ...(run.distinct ? ['--distinct'] : []),
    '--requests',
    run.id === 'baseline' ? '0' : String(REQUESTS),
    '--warmup',
    args.warmup,
    ...(run.lib === undefined ? [] : ['--lib', run.lib]),
    '--telemetry',
    TELEMETRY,
    ...(args.aead === undefined ? [] : ['--aead', args.aead]),
  ];
  const argv = ['--tool=callgrind', '--callgrind-out-file=/dev/null', process.execPath, ...NODE_FLAGS, BENCH, ...benchArgs];
  return new Promise((resolve, reject) => {
    const child = spawn('valgrind', argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const collected = /Collected : (\d+)/.exec(stderr);
      if (code !== 0 || collected === null) {
        reject(new Error(`valgrind ${argv.join(' ')} failed (${code}):\n${stderr.slice(-2000)}`));
      } else {
        resolve(Number(collected[1]));
      }
    });
  });
}

/** Runs every task, at most `jobs` at a time. */
async function pool<T>(tasks: readonly (() => Promise<T>)[], jobs: number): Promise<T[]> {
  const out: T[] = new Array<T>(tasks.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < tasks.length) {
      const i = next++;
      out[i] = await tasks[i]!();
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, jobs) }, worker));
  return out;
}

const libs: readonly (string | undefined)[] = args.lib ?? [undefined];
const runs: Run[] = libs.flatMap((lib) => [
  { lib, id: 'baseline' as const, distinct: false },
  ...CASES.flatMap((id) => [
    { lib, id, distinct: false },
    { lib, id, distinct: true },
  ]),
]);
const started = performance.now();
const counts = await pool(
  runs.map((run) => async () => {
    const n = await count(run);
    process.stderr.write(`${run.lib ?? 'dist'} ${run.id}${run.distinct ? ' distinct' : ''}: ${n}\n`);
    return n;
  }),
  Number(args.jobs),
);

const result: InstructionsResult = {
  bench: 'instructions',
  machine: machine(),
  requests: REQUESTS,
  warmup: Number(args.warmup),
  libs: libs.map((lib) => {
    const of = (id: Run['id'], distinct: boolean) =>
      counts[runs.findIndex((r) => r.lib === lib && r.id === id && (id === 'baseline' || r.distinct === distinct))]!;
    const baseline = of('baseline', false);
    const perRequest: Record<string, number> = {};
    const sessionPerRequest: Record<string, number> = {};
    for (const distinct of [false, true]) {
      const suffix = distinct ? '-distinct' : '';
      const objects = CASES.includes('objects') ? (of('objects', distinct) - baseline) / REQUESTS : undefined;
      for (const id of CASES) {
        const mine = (of(id, distinct) - baseline) / REQUESTS;
        perRequest[`${id}${suffix}`] = Math.round(mine);
        if (id !== 'objects' && objects !== undefined) {
          sessionPerRequest[`${id}${suffix}`] = Math.round(mine - objects);
        }
      }
    }
    return { lib: lib ?? 'dist', perRequest, sessionPerRequest };
  }),
};
if (args.lib === undefined && args.aead === undefined && TELEMETRY === 'none') {
  writeResult('instructions.json', result);
}
console.log(
  `\nInstructions per request (callgrind, ${REQUESTS} requests after ${args.warmup} of each case as warm-up, ` +
    `telemetry: ${TELEMETRY}, aead: ${args.aead ?? 'default'}, ${Math.round((performance.now() - started) / 1000)} s)\n`,
);
console.log(
  markdownTable(
    ['lib', 'objects', 'read', 'write', 'untouched', 'objects, distinct', 'read, distinct', 'write, distinct', 'untouched, distinct', 'session read', 'session write', 'session untouched', 'session read, distinct', 'session write, distinct', 'session untouched, distinct'],
    result.libs.map((l) => [
      l.lib,
      ...['objects', 'read', 'write', 'untouched', 'objects-distinct', 'read-distinct', 'write-distinct', 'untouched-distinct'].map((id) => l.perRequest[id] ?? ''),
      ...['read', 'write', 'untouched', 'read-distinct', 'write-distinct', 'untouched-distinct'].map((id) => l.sessionPerRequest[id] ?? ''),
    ]),
  ),
);
