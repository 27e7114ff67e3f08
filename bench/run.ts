// Runs every benchmark (each compiled `dist-bench/bench/*.bench.js`, one after the
// other, each in its own process), collects their results, checks the performance
// targets, and writes bench/results/summary.json, summary.md and ratios.svg.
//
//   npm run bench              # the full run
//   npm run bench -- --quick   # a short run, under two minutes
//   npm run bench -- --no-pin  # HTTP servers and load not pinned to CPUs
//
// A benchmark hands its result back by writing JSON to the file named by the
// KIT_BENCH_RESULT variable; one that does not is still run, and its output kept.

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HttpResult } from './http.bench.js';
import type { MicroResult } from './micro.bench.js';
import type { RequestResult } from './request.bench.js';
import { machine, markdownTable, pinningText, QUICK, RESULTS_DIR, writeResult } from './lib/report.js';
import { barChart, type Panel } from './lib/svg.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
/** The benchmarks this file knows run first, in this order; any other after, by name. */
const FIRST = ['micro.bench.js', 'http.bench.js'];
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
}

function targets(micro: MicroResult | undefined, http: HttpResult | undefined): Target[] {
  const out: Target[] = [];
  const httpCase = (id: string) => http?.cases.find((c) => c.id === id);
  const microCase = (id: string) => micro?.cases.find((c) => c.id === id);
  const check = (value: number | undefined, ok: (v: number) => boolean) =>
    value === undefined || !Number.isFinite(value) ? undefined : ok(value);

  const read = httpCase('kit-read');
  out.push({
    target: '(b) read path vs bare node:http',
    bar: '≥ 0.8×',
    measured: read ? `${read.ratioToBare}× req/s (CPU: ${read.cpuRatioToBare}×)` : 'n/a',
    met: check(read?.ratioToBare, (v) => v >= 0.8),
  });
  const write = httpCase('kit-write');
  out.push({
    target: '(c) write path vs bare node:http',
    bar: '≥ 0.45×',
    measured: write ? `${write.ratioToBare}× req/s (CPU: ${write.cpuRatioToBare}×)` : 'n/a',
    met: check(write?.ratioToBare, (v) => v >= 0.45),
  });
  const fastify = httpCase('fastify-secure-session');
  out.push({
    target: '(c) write path vs @fastify/secure-session',
    bar: 'ahead (> 1×)',
    measured: http && fastify ? `${http.kitWriteToFastify}× req/s (${write?.cpuUsPerRequest} vs ${fastify.cpuUsPerRequest} µs CPU/req)` : 'n/a',
    met: check(http?.kitWriteToFastify, (v) => v > 1),
  });
  for (const size of [200, 2048]) {
    const kit = microCase(`kit-auto-${size}`);
    out.push({
      target: `(e) seal+open ${size} B vs raw node:crypto AES-GCM (same JSON bytes)`,
      bar: '≤ 1.25×',
      measured: kit ? `${kit.costVsRawJson}× the time (bytes only, no JSON: ${kit.costVsRawBytes}×)` : 'n/a',
      met: check(kit?.costVsRawJson, (v) => v <= 1.25),
    });
    out.push({
      target: `(e) seal+open ${size} B vs iron-session`,
      bar: '≥ 30× faster',
      measured: kit ? `${kit.speedupVsIron}×` : 'n/a',
      met: check(kit?.speedupVsIron, (v) => v >= 30),
    });
    const web = microCase(`kit-webcrypto-${size}`);
    out.push({
      target: `(f) Web-Crypto-only seal+open ${size} B vs iron-session`,
      bar: '≥ 5× faster',
      measured: web ? `${web.speedupVsIron}×` : 'n/a',
      met: check(web?.speedupVsIron, (v) => v >= 5),
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

function chart(micro: MicroResult | undefined, http: HttpResult | undefined, note: string): string {
  const panels: Panel[] = [];
  if (http !== undefined) {
    panels.push({
      title: 'HTTP: requests per second ÷ bare node:http (same round), median of rounds',
      axis: 'higher is better; bare node:http = 1',
      bars: http.cases.map((c) => ({ label: `(${c.group}) ${c.label}`, value: c.ratioToBare, mine: c.id.startsWith('kit') })),
      marks: [
        { value: 0.8, label: 'read ≥ 0.8' },
        { value: 0.45, label: 'write ≥ 0.45' },
      ],
    });
    panels.push({
      title: 'HTTP: server CPU per request ÷ bare node:http’s, inverted (same round), median of rounds',
      axis: 'higher is better; bare node:http = 1',
      bars: http.cases.map((c) => ({ label: `(${c.group}) ${c.label}`, value: c.cpuRatioToBare, mine: c.id.startsWith('kit') })),
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
  const micro = find<MicroResult>('micro');
  const http = find<HttpResult>('http');
  const request = find<RequestResult>('request');
  const command = `npm run bench${FLAGS.length > 0 ? ` -- ${FLAGS.join(' ')}` : ''}`;
  const info = machine();
  const checked = targets(micro, http);

  const summary = { command, machine: info, targets: checked, runs };
  writeResult('summary.json', summary);
  const note = `${command} · Node ${info.node} · ${info.cpus} CPUs · ${String(info.date).slice(0, 16)}Z`;
  writeFileSync(`${RESULTS_DIR}ratios.svg`, chart(micro, http, note));

  const table = markdownTable(
    ['target', 'bar', 'measured (same run)', 'met'],
    checked.map((t) => [t.target, t.bar, t.measured, t.met === undefined ? 'n/a' : t.met ? 'yes' : 'no']),
  );
  const lines = [`# Benchmark summary`, '', note, '', '## Targets', '', table, ''];
  if (http !== undefined) {
    lines.push(
      '## HTTP',
      '',
      `${http.rounds} interleaved rounds × ${http.durationSeconds} s, ${http.connections} connections, medians over rounds; ${pinningText(http.pinning)}.`,
      '',
      markdownTable(
        ['case', 'server', 'req/s', '× bare (req/s)', '× bare (CPU/req)', 'p99 ms', 'CPU µs/req'],
        http.cases.map((c) => [c.group, c.label, c.rps, c.ratioToBare, c.cpuRatioToBare, c.p99Ms, c.cpuUsPerRequest]),
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
