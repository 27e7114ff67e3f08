import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';

/** The folder results are written to: `bench/results/` of the package. */
export const RESULTS_DIR = fileURLToPath(new URL('../../../bench/results/', import.meta.url));

/** Whether `--quick` was passed: fewer and shorter rounds. */
export const QUICK = process.argv.includes('--quick');

/** The machine a result was measured on, written beside every result. */
export function machine(): Record<string, unknown> {
  return {
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: availableParallelism(),
    cpu: cpus()[0]?.model,
    quick: QUICK,
    date: new Date().toISOString(),
  };
}

/**
 * Writes a result file into `bench/results/`, and tells `bench/run.ts` where it is
 * through the `KIT_BENCH_RESULT` variable when run from there.
 *
 * @param name - The file name, without folder.
 * @param data - What to write as JSON.
 * @returns The file's path.
 */
export function writeResult(name: string, data: unknown): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = `${RESULTS_DIR}${name}`;
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  const target = process.env.KIT_BENCH_RESULT;
  if (target !== undefined && target !== '') {
    writeFileSync(target, `${JSON.stringify(data)}\n`);
  }
  return file;
}

/**
 * Formats rows as a Markdown table.
 *
 * @param head - The column names.
 * @param rows - The cells.
 * @returns The table, one line per row.
 */
export function markdownTable(head: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const line = (cells: readonly (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Which CPUs the HTTP benchmark's servers and its load ran on, when they were pinned. */
export interface Pinning {
  readonly server: string;
  readonly load: string;
}

/**
 * Says where the servers and the load ran.
 *
 * @param pinning - The pinning, if any.
 * @returns A few words for the report.
 */
export function pinningText(pinning: Pinning | null | undefined): string {
  return pinning ? `servers on CPU ${pinning.server}, load on CPU ${pinning.load}` : 'not pinned to CPUs';
}
