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
 * emits a warning on the next tick). The warnings it records are the test's to check,
 * so they are not printed: the listeners the process had (Node's own, which writes each
 * warning to stderr, among them) are set aside meanwhile and get every other warning.
 *
 * @param code - The warning's code.
 * @param run - What may warn.
 * @returns The warnings seen.
 */
export async function warningsDuring(code: string, run: () => Promise<void> | void): Promise<(Error & { code?: string })[]> {
  const seen: (Error & { code?: string })[] = [];
  const others = realProcess.listeners('warning') as ((warning: Error) => void)[];
  const listener = (warning: Error & { code?: string }): void => {
    if (warning.code === code) {
      seen.push(warning);
      return;
    }
    for (const other of others) {
      other.call(realProcess, warning);
    }
  };
  realProcess.removeAllListeners('warning');
  realProcess.on('warning', listener);
  try {
    await run();
    await nextTurn();
    await nextTurn();
  } finally {
    realProcess.off('warning', listener);
    for (const other of others) {
      realProcess.on('warning', other);
    }
  }
  return seen;
}
