import { setImmediate as nextTurn } from 'node:timers/promises';
import { runInThisContext } from 'node:vm';

/**
 * The process the warnings are emitted on. Jest hands each test file a copy of `process`
 * whose listeners the real one never calls, while `process.emitWarning` (the copy's too)
 * emits on the real one: the first context's own `process` is that one.
 */
const realProcess = runInThisContext('process') as NodeJS.Process;

/** The code of the warning a Secure cookie sent over plain http gets. */
export const INSECURE_COOKIE = 'KIT_SESSION_INSECURE_COOKIE';

/**
 * Records the process warnings of one code while `run` runs, and a turn after it (Node
 * emits a warning on the next tick).
 *
 * @param code - The warning's code.
 * @param run - What may warn.
 * @returns The warnings seen.
 */
export async function warningsDuring(code: string, run: () => Promise<void> | void): Promise<(Error & { code?: string })[]> {
  const seen: (Error & { code?: string })[] = [];
  const listener = (warning: Error & { code?: string }): void => {
    if (warning.code === code) {
      seen.push(warning);
    }
  };
  realProcess.on('warning', listener);
  try {
    await run();
    await nextTurn();
    await nextTurn();
  } finally {
    realProcess.off('warning', listener);
  }
  return seen;
}
