// Runs every benchmark (each compiled `dist-bench/bench/*.bench.js`, one after the
// other, each in its own process), collects their results, checks the performance
// targets, and writes bench/results/summary.json, summary.md and ratios.svg.
//
//   npm run bench              # the full run
//   npm run bench -- --quick   # a short run, under ten minutes
//   npm run bench -- --no-pin  # HTTP servers and load not pinned to CPUs
//
// A benchmark hands its result back by writing JSON to the file named by the
// KIT_BENCH_RESULT variable; one that does not is still run, and its output kept.

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HttpBenchResult, HttpCaseResult } from './lib/httpBench.js';
import { pairedRatio } from './lib/httpBench.js';
import type { MicroResult } from './micro.bench.js';
import type { RequestResult } from './request.bench.js';
import type { StoreResult } from './store.bench.js';
import { machine, markdownTable, pinningText, QUICK, RESULTS_DIR, writeResult } from './lib/report.js';
import { barChart, type Panel } from './lib/svg.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
/** The benchmarks this file knows run first, in this order; any other after, by name. */
const FIRST = ['micro.bench.js', 'http.bench.js', 'adapters.bench.js', 'redis.bench.js', 'store.bench.js', 'request.bench.js'];
/** The flags of this run handed on to every benchmark. */
const FLAGS = process.argv.slice(2).filter((arg) => arg === '--quick' || arg === '--no-pin');

interface BenchRun {
  readonly file: string;
  readonly exitCode: number | null;
  readonly seconds: number;
  readonly result: unknown;
  /** The end of its output, when it wrote no result. */
  readonly output?: string;
}

function benchFiles(): string[] {
  const all = readdirSync(HERE).filter((name) => name.endsWith('.bench.js'));
  const known = FIRST.filter((name) => all.includes(name));
  return [...known, ...all.filter((name) => !FIRST.includes(name)).sort()];
}

function runOne(file: string, resultFile: string): Promise<BenchRun> {
  const args = [join(HERE, file), ...FLAGS];
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, KIT_BENCH_RESULT: resultFile },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      output = (output + chunk.toString()).slice(-8000);
    });
    child.on('close', (exitCode) => {
      let result: unknown;
      try {
        result = JSON.parse(readFileSync(resultFile, 'utf8'));
      } catch {
        result = undefined;
      }
      const seconds = Math.round((performance.now() - started) / 100) / 10;
      resolve(result === undefined ? { file, exitCode, seconds, result, output } : { file, exitCode, seconds, result });
    });
  });
}

interface Target {
  readonly target: string;
  readonly bar: string;
  readonly measured: string;
  readonly met: boolean | undefined;
  /** A figure measured beside the targets, with no bar of its own. */
  readonly reference?: true;
}

/** Met when every figure is known and passes; unknown when one is missing. */
function all(values: readonly number[], ok: (v: number) => boolean): boolean | undefined {
  return values.some((v) => !Number.isFinite(v)) ? undefined : values.every(ok);
}

const cookiesText = { one: 'one cookie', distinct: '4,096 cookies' } as const;

/** The targets of the issue, from the results of one run. */
function targets(results: Results): Target[] {
  const { micro, http, adapters, redis, store } = results;
  const out: Target[] = [];
  const find = (result: HttpBenchResult | undefined, id: string): HttpCaseResult | undefined =>
    result?.cases.find((c) => c.id === id);

  // Read path vs bare node:http.
  for (const [cookies, bar] of [['one', 0.8], ['distinct', 0.7]] as const) {
    const read = find(http, `kit-read${cookies === 'distinct' ? '-distinct' : ''}`);
    out.push({
      target: `read path vs bare node:http, ${cookiesText[cookies]}`,
      bar: `≥ ${bar}×`,
      measured: read ? `${read.ratioToBaseline}× req/s (CPU: ${read.cpuRatioToBaseline}×)` : 'n/a',
      met: all([read?.ratioToBaseline ?? NaN], (v) => v >= bar),
    });
  }
  // Write path vs @fastify/secure-session.
  for (const cookies of ['one', 'distinct'] as const) {
    const suffix = cookies === 'distinct' ? '-distinct' : '';
    const kit = find(http, `kit-write${suffix}`);
    const fss = find(http, `fastify-secure-session-write${suffix}`);
    const rps = pairedRatio(kit, fss, 'rps');
    const cpu = pairedRatio(kit, fss, 'cpu');
    out.push({
      target: `write path vs @fastify/secure-session, ${cookiesText[cookies]}`,
      bar: '≥ 1.1× req/s and ≤ 0.9× CPU/req',
      measured: kit && fss ? `${rps}× req/s, ${cpu}× CPU/req (${kit.cpuUsPerRequest} vs ${fss.cpuUsPerRequest} µs)` : 'n/a',
      met: Number.isFinite(rps) && Number.isFinite(cpu) ? rps >= 1.1 && cpu <= 0.9 : undefined,
    });
  }
  // The floor of an AES-GCM cookie on node:crypto (bench/servers/raw-aes-gcm.ts), in the
  // same rounds: what bounds the read and write targets above. No bar of its own.
  for (const cookies of ['one', 'distinct'] as const) {
    const suffix = cookies === 'distinct' ? '-distinct' : '';
    const read = find(http, `raw-aes-gcm-read${suffix}`);
    const raw = find(http, `raw-aes-gcm-write${suffix}`);
    const fss = find(http, `fastify-secure-session-write${suffix}`);
    out.push({
      target: `(floor) hand-written node:crypto AES-GCM cookie: read vs bare node:http, write vs @fastify/secure-session, ${cookiesText[cookies]}`,
      bar: 'no bar',
      measured:
        read && raw && fss
          ? `read ${read.ratioToBaseline}× req/s; write ${pairedRatio(raw, fss, 'rps')}× req/s, ${pairedRatio(raw, fss, 'cpu')}× CPU/req`
          : 'n/a',
      met: undefined,
      reference: true,
    });
  }
  // Each framework adapter vs that framework's usual session plugin.
  const plugins: readonly (readonly [string, string, string])[] = [
    ['fastify', 'fastify-secure-session', '@fastify/secure-session'],
    ['hono', 'hono-signed-cookie', 'its signed cookie'],
    ['express', 'express-session', 'express-session'],
  ];
  for (const [framework, plugin, pluginLabel] of plugins) {
    for (const kind of ['read', 'write'] as const) {
      const ratios = (['one', 'distinct'] as const).map((cookies) => {
        const suffix = `-${kind}${cookies === 'distinct' ? '-distinct' : ''}`;
        return pairedRatio(find(adapters, `${framework}-kit${suffix}`), find(adapters, `${plugin}${suffix}`), 'rps');
      });
      out.push({
        target: `kit-session/${framework} vs ${framework} + ${pluginLabel}, ${kind === 'read' ? 'read' : 'counter'}`,
        bar: '≥ 0.9× req/s',
        measured: adapters ? `${ratios[0]}× (one cookie), ${ratios[1]}× (4,096 cookies)` : 'n/a',
        met: all(ratios, (v) => v >= 0.9),
      });
    }
  }
  // Redis store vs the same client's raw GET/SET over HTTP (ioredis and node-redis).
  const variants = [
    ['redis-kit', 'RedisSessionStore', 'ioredis', 0.9],
    ['redis-kit-sealed-id', 'EncryptingStoreDecorator over RedisSessionStore', 'ioredis', 0.9],
    ['redis-kit-encrypt', 'EncryptingStoreDecorator, encryptValues: true', 'ioredis', 0.7],
    ['redis-kit-node-redis', 'RedisSessionStore', 'node-redis', 0.9],
    ['redis-kit-encrypt-node-redis', 'EncryptingStoreDecorator, encryptValues: true', 'node-redis', 0.7],
  ] as const;
  for (const [server, label, client, bar] of variants) {
    const ratios = [1, 16].map((c) => find(redis, `${server}-c${c}`)?.ratioToBaseline ?? NaN);
    out.push({
      target: `${label} on ${client} vs raw ${client} GET/SET (HTTP counter, 4,096 sessions)`,
      bar: `≥ ${bar}× req/s at 1 and at 16 in flight`,
      measured: redis ? `${ratios[0]}× (1 in flight), ${ratios[1]}× (16 in flight)` : 'n/a',
      met: all(ratios, (v) => v >= bar),
    });
  }
  // Memory store footprint.
  out.push({
    target: `MemorySessionStore heap per ${store?.memory.valueJsonBytes ?? 200}-byte session at ${(store?.memory.sessions ?? 100_000).toLocaleString('en-US')} sessions`,
    bar: '≤ 400 bytes',
    measured: store ? `${store.memory.heapBytesPerSession} bytes` : 'n/a',
    met: all([store?.memory.heapBytesPerSession ?? NaN], (v) => v <= 400),
  });

  // Earlier targets, still measured.
  const write = find(http, 'kit-write');
  out.push({
    target: '(earlier) write path vs bare node:http, one cookie',
    bar: '≥ 0.45×',
    measured: write ? `${write.ratioToBaseline}× req/s (CPU: ${write.cpuRatioToBaseline}×)` : 'n/a',
    met: all([write?.ratioToBaseline ?? NaN], (v) => v >= 0.45),
  });
  const microCase = (id: string) => micro?.cases.find((c) => c.id === id);
  for (const size of [200, 2048]) {
    const kit = microCase(`kit-auto-${size}`);
    out.push({
      target: `(earlier) seal+open ${size} B vs raw node:crypto AES-GCM (same JSON bytes)`,
      bar: '≤ 1.25×',
      measured: kit ? `${kit.costVsRawJson}× the time (bytes only, no JSON: ${kit.costVsRawBytes}×)` : 'n/a',
      met: all([kit?.costVsRawJson ?? NaN], (v) => v <= 1.25),
    });
    out.push({
      target: `(earlier) seal+open ${size} B vs iron-session`,
      bar: '≥ 30× faster',
      measured: kit ? `${kit.speedupVsIron}×` : 'n/a',
      met: all([kit?.speedupVsIron ?? NaN], (v) => v >= 30),
    });
    const web = microCase(`kit-webcrypto-${size}`);
    out.push({
      target: `(earlier) Web-Crypto-only seal+open ${size} B vs iron-session`,
      bar: '≥ 5× faster',
      measured: web ? `${web.speedupVsIron}×` : 'n/a',
      met: all([web?.speedupVsIron ?? NaN], (v) => v >= 5),
    });
  }
  return out;
}

/** A micro case's name short enough for the chart. */
function shortLabel(id: string): string {
  const names: Record<string, string> = {
    'raw-bytes': 'raw node:crypto AES-GCM, bytes only',
    'raw-json': 'raw node:crypto AES-GCM + JSON',
    'kit-auto': "kit-session, 'auto' (node:crypto)",
    'kit-webcrypto': "kit-session, 'webcrypto'",
    iron: 'iron-session',
    fastify: '@fastify/secure-session',
  };
  return names[id.replace(/-\d+$/, '')] ?? id;
}

/** Every result a run may have. */
interface Results {
  readonly micro: MicroResult | undefined;
  readonly http: HttpBenchResult | undefined;
  readonly adapters: HttpBenchResult | undefined;
  readonly redis: HttpBenchResult | undefined;
  readonly store: StoreResult | undefined;
  readonly request: RequestResult | undefined;
}

function chart(results: Results, note: string): string {
  const { micro, http, adapters, redis } = results;
  const panels: Panel[] = [];
  const mine = (c: HttpCaseResult) => c.server.includes('kit');
  if (http !== undefined) {
    panels.push({
      title: 'HTTP: requests per second ÷ bare node:http (same round), median of rounds',
      axis: 'higher is better; bare node:http = 1',
      bars: http.cases.map((c) => ({ label: c.id, value: c.ratioToBaseline, mine: mine(c) })),
      marks: [
        { value: 0.7, label: 'read, 4,096 ≥ 0.7' },
        { value: 0.8, label: 'read ≥ 0.8' },
      ],
    });
  }
  if (adapters !== undefined) {
    panels.push({
      title: 'Adapters: requests per second ÷ the bare framework (same round), median of rounds',
      axis: 'higher is better; the bare framework = 1',
      bars: adapters.cases.filter((c) => c.kind !== 'none').map((c) => ({ label: c.id, value: c.ratioToBaseline, mine: mine(c) })),
    });
  }
  if (redis !== undefined) {
    panels.push({
      title: 'Redis over HTTP: requests per second ÷ raw ioredis GET/SET (same round, same in flight)',
      axis: 'higher is better; raw ioredis = 1',
      bars: redis.cases.map((c) => ({ label: c.id, value: c.ratioToBaseline, mine: mine(c) })),
      marks: [{ value: 0.9, label: '≥ 0.9' }],
    });
  }
  if (micro !== undefined) {
    for (const size of [200, 2048]) {
      panels.push({
        title: `Seal + open of a ${size} B session: time ÷ raw node:crypto AES-GCM with JSON (same round), log scale`,
        axis: 'lower is better; raw node:crypto AES-GCM with JSON = 1',
        log: true,
        bars: micro.cases
          .filter((c) => c.size === size)
          .map((c) => ({ label: shortLabel(c.id), value: c.costVsRawJson, mine: c.id.startsWith('kit') })),
        marks: [{ value: 1.25, label: '≤ 1.25' }],
      });
    }
  }
  return barChart('kit-session benchmarks', panels, note);
}

/** The table of an HTTP benchmark's cases. */
function httpTable(result: HttpBenchResult, baseline: string): string {
  return markdownTable(
    ['group', 'case', 'req/s', `× ${baseline} (req/s)`, `× ${baseline} (CPU/req)`, 'p99 ms', 'CPU µs/req', 'errors'],
    result.cases.map((c) => [c.group, c.label, c.rps, c.ratioToBaseline, c.cpuRatioToBaseline, c.p99Ms, c.cpuUsPerRequest, c.errors]),
  );
}

function httpMethod(result: HttpBenchResult, connections: string): string {
  return `${result.rounds} interleaved rounds × ${result.durationSeconds} s, ${connections}, medians over rounds, ratios within each round; distinct cases rotate ${result.poolSize.toLocaleString('en-US')} cookies; ${pinningText(result.pinning)}.`;
}

async function main(): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), 'kit-bench-'));
  const runs: BenchRun[] = [];
  try {
    for (const [i, file] of benchFiles().entries()) {
      process.stderr.write(`\n== ${file}${QUICK ? ' --quick' : ''}\n`);
      runs.push(await runOne(file, join(scratch, `${i}.json`)));
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const find = <R>(bench: string) =>
    runs.map((run) => run.result).find((r): r is R => (r as { bench?: string } | undefined)?.bench === bench);
  const redisResult = find<HttpBenchResult | { bench: 'redis'; skipped: string }>('redis');
  const results: Results = {
    micro: find<MicroResult>('micro'),
    http: find<HttpBenchResult>('http'),
    adapters: find<HttpBenchResult>('adapters'),
    redis: redisResult !== undefined && 'cases' in redisResult ? redisResult : undefined,
    store: find<StoreResult>('store'),
    request: find<RequestResult>('request'),
  };
  const { micro, http, adapters, redis, store, request } = results;
  const command = `npm run bench${FLAGS.length > 0 ? ` -- ${FLAGS.join(' ')}` : ''}`;
  const info = machine();
  const checked = targets(results);

  const summary = { command, machine: info, targets: checked, runs };
  writeResult('summary.json', summary);
  const note = `${command} · Node ${info.node} · ${info.cpus} CPUs · ${String(info.date).slice(0, 16)}Z`;
  writeFileSync(`${RESULTS_DIR}ratios.svg`, chart(results, note));

  const table = markdownTable(
    ['target', 'bar', 'measured (same run)', 'met'],
    checked.map((t) => [t.target, t.bar, t.measured, t.reference ? '(reference)' : t.met === undefined ? 'n/a' : t.met ? 'yes' : 'no']),
  );
  const lines = [`# Benchmark summary`, '', note, '', '## Targets', '', table, ''];
  if (http !== undefined) {
    lines.push('## HTTP: node:http and the peers', '', httpMethod(http, `${http.cases[0]?.connections} connections`), '', httpTable(http, 'bare node:http'), '');
  }
  if (adapters !== undefined) {
    lines.push(
      '## Framework adapters',
      '',
      httpMethod(adapters, `${adapters.cases[0]?.connections} connections`),
      '',
      httpTable(adapters, 'bare framework'),
      '',
    );
  }
  if (redisResult !== undefined && !('cases' in redisResult)) {
    lines.push('## Redis over HTTP', '', `Skipped: ${redisResult.skipped}`, '');
  } else if (redis !== undefined) {
    lines.push('## Redis over HTTP', '', httpMethod(redis, '1 and 16 connections'), '', httpTable(redis, 'raw ioredis'), '');
  }
  if (store !== undefined) {
    lines.push('## Stores, called directly', '', `${store.rounds} interleaved rounds, medians; session values of ${store.sessionBytes} bytes of JSON.`, '');
    if ('skipped' in store.redis) {
      lines.push(`Redis: skipped: ${store.redis.skipped}`, '');
    } else {
      lines.push(
        markdownTable(
          ['case', 'in flight', 'load+save/s', '× raw GET+SET'],
          store.redis.cases.map((c) => [c.label, c.concurrency, c.loadSavePerSec, c.ratioToRaw]),
        ),
        '',
      );
    }
    lines.push(
      markdownTable(
        ['memory store', 'sessions', 'heap bytes per session', 'samples'],
        [[`MemorySessionStore, ${store.memory.valueJsonBytes}-byte values`, store.memory.sessions, store.memory.heapBytesPerSession, store.memory.samples.join(', ')]],
      ),
      '',
    );
  }
  if (micro !== undefined) {
    lines.push(
      '## Seal + open',
      '',
      `${micro.rounds} interleaved rounds × ${micro.roundMs} ms, medians over rounds.`,
      '',
      markdownTable(
        ['size', 'case', 'µs/op', 'ops/s', '× raw JSON', '× raw bytes', 'iron ÷ this'],
        micro.cases.map((c) => [c.size, c.label, c.usPerOp, c.opsPerSec, c.costVsRawJson, c.costVsRawBytes, c.speedupVsIron]),
      ),
      '',
    );
  }
  if (request !== undefined) {
    lines.push(
      '## One request in memory',
      '',
      `No socket: the session layer's own cost. ${request.rounds} interleaved rounds × ${request.roundMs} ms, medians over rounds.`,
      '',
      markdownTable(
        ['case', 'µs per request', 'µs over the node:http objects'],
        request.cases.map((c) => [c.label, c.usPerRequest, c.id === 'objects' ? '' : c.sessionUsPerRequest]),
      ),
      '',
    );
  }
  for (const run of runs.filter((r) => r.result === undefined || r.exitCode !== 0)) {
    lines.push(`## ${run.file}`, '', `exit code ${run.exitCode}; no result file. Last output:`, '', '```', (run.output ?? '').trim(), '```', '');
  }
  writeFileSync(`${RESULTS_DIR}summary.md`, `${lines.join('\n')}\n`);

  console.log(`\n${table}\n`);
  console.log(`Results: bench/results/summary.json, summary.md, ratios.svg (${runs.map((r) => `${r.file} ${r.seconds} s`).join(', ')})`);
  if (runs.some((run) => run.exitCode !== 0)) {
    process.exitCode = 1;
  }
}

await main();
