// The timing loop of the in-process benchmarks (micro, request): an operation is run in
// batches until a time is up, and cases are measured in interleaved rounds, the order
// shuffled in every round, so that the noise of a shared machine moves all cases alike.

import { shuffled } from './stats.js';

/** How an operation is timed. */
export interface TimingOptions {
  /** Calls between two reads of the clock. */
  readonly batch: number;
  /** Whether the operation returns a promise, awaited before the next call. */
  readonly async: boolean;
}

/** A case measured by {@link interleaved}. */
export interface TimedCase extends TimingOptions {
  /** Stable id, the key of the result. */
  readonly id: string;
  /** The operation timed. */
  readonly op: () => unknown;
}

/**
 * Runs an operation, in batches, for about `ms` milliseconds.
 *
 * @param op - The operation.
 * @param ms - How long to run it.
 * @param options - The batch size, and whether to await each call (a synchronous
 *   operation is run without any `await`).
 * @returns Nanoseconds per call.
 */
export async function timeOp(op: () => unknown, ms: number, { batch, async: isAsync }: TimingOptions): Promise<number> {
  let ops = 0;
  const start = performance.now();
  const end = start + ms;
  let now = start;
  if (isAsync) {
    while (now < end) {
      for (let i = 0; i < batch; i++) {
        await op();
      }
      ops += batch;
      now = performance.now();
    }
  } else {
    while (now < end) {
      for (let i = 0; i < batch; i++) {
        op();
      }
      ops += batch;
      now = performance.now();
    }
  }
  return ((now - start) * 1e6) / ops;
}

/** How {@link interleaved} runs the cases. */
export interface InterleavedOptions {
  /** Rounds; every case is timed once in each. */
  readonly rounds: number;
  /** How long a case runs in one round, in milliseconds. */
  readonly ms: number;
  /** How long each case runs once, in order, before the rounds. */
  readonly warmupMs: number;
  /** Called after each round with the number of rounds done. */
  readonly onRound?: (done: number) => void;
}

/**
 * Warms every case up, then times each once per round, in a shuffled order.
 *
 * @param cases - The cases.
 * @param options - Rounds, their length, and the warm-up.
 * @returns For each case's id, its nanoseconds per op in each round, in round order.
 */
export async function interleaved(cases: readonly TimedCase[], options: InterleavedOptions): Promise<Map<string, number[]>> {
  for (const entry of cases) {
    await timeOp(entry.op, options.warmupMs, entry);
  }
  const perRound = new Map<string, number[]>(cases.map((entry) => [entry.id, []]));
  for (let r = 0; r < options.rounds; r++) {
    for (const entry of shuffled(cases)) {
      perRound.get(entry.id)!.push(await timeOp(entry.op, options.ms, entry));
    }
    options.onRound?.(r + 1);
  }
  return perRound;
}
