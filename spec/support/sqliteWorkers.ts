import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { OwnerSessionLimit } from 'kit-session';
import type { SqliteDriverUnderTest } from './sqlite.js';

// Several app servers on one SQLite file, for real: each worker thread opens its own
// connection to the file (WAL, busy_timeout 10 s) and builds its own store from the
// compiled package (dist/, built by the global setup), then all start at one signal and
// run their part at the same time, each in its own thread, so their transactions meet
// SQLite's locks as several processes' would.

const root = path.resolve(__dirname, '../..');

const SCRIPT = `
const { workerData, parentPort } = require('node:worker_threads');
process.removeAllListeners('warning');
(async () => {
  const { SqliteSessionStore } = await import(workerData.module);
  const database = workerData.driver === 'node:sqlite'
    ? new (process.getBuiltinModule('node:sqlite').DatabaseSync)(workerData.file)
    : new (require(workerData.betterSqlite3))(workerData.file);
  database.exec('PRAGMA busy_timeout = 10000');
  const store = new SqliteSessionStore(database, { table: workerData.table });
  const evicted = [];
  if (workerData.limit) {
    store.limitOwnerSessions({ ...workerData.limit, evicted: (owner, handles) => evicted.push(...handles) });
  }
  const gate = new Int32Array(workerData.gate);
  Atomics.add(gate, 1, 1);
  Atomics.notify(gate, 1);
  Atomics.wait(gate, 0, 0);
  const work = new Function('store', 'input', 'return (async () => {' + workerData.body + '})();');
  const result = await work(store, workerData.input);
  database.close();
  parentPort.postMessage({ result, evicted });
})().catch((error) => parentPort.postMessage({ error: String((error && error.stack) || error) }));
`;

/** What one worker does: the body of an async function of `store` and `input`, its result sent back. */
export interface WorkerPart {
  /** JavaScript: the body of `async (store, input) => { … }`. */
  readonly body: string;
  /** Its input (structured-clonable). */
  readonly input: unknown;
}

/**
 * Runs parts at once, each in a worker thread with a connection and a store of its own.
 *
 * @param driver - The driver each worker opens the file with.
 * @param file - The database file.
 * @param table - The session table.
 * @param parts - One per worker.
 * @param limit - The bound each worker's store gets, if any (without `evicted`: each
 *   worker reports its own).
 * @returns Each worker's result and the handles its store reported evicted.
 */
export async function raceWorkers(
  driver: SqliteDriverUnderTest,
  file: string,
  table: string,
  parts: readonly WorkerPart[],
  limit?: Omit<OwnerSessionLimit, 'evicted'>,
): Promise<{ result: unknown; evicted: string[] }[]> {
  const gate = new SharedArrayBuffer(8);
  const flags = new Int32Array(gate);
  const workers = parts.map(
    (part) =>
      new Worker(SCRIPT, {
        eval: true,
        workerData: {
          module: pathToFileURL(path.join(root, 'dist/stores/sqlite/index.js')).href,
          betterSqlite3: path.join(root, 'node_modules/better-sqlite3'),
          driver: driver.name,
          file,
          table,
          limit,
          gate,
          body: part.body,
          input: part.input,
        },
      }),
  );
  const done = workers.map(
    (worker) =>
      new Promise<{ result: unknown; evicted: string[] }>((resolve, reject) => {
        worker.once('message', (message: { result: unknown; evicted: string[]; error?: string }) => {
          if (message.error !== undefined) {
            reject(new Error(message.error));
          } else {
            resolve(message);
          }
        });
        worker.once('error', reject);
      }),
  );
  // Every worker ready, then all go at once (a worker that failed first is reported).
  let failed: unknown;
  void Promise.all(done).catch((error: unknown) => {
    failed = error;
  });
  for (let i = 0; Atomics.load(flags, 1) < parts.length; i++) {
    if (failed !== undefined || i > 6000) {
      await Promise.all(workers.map((worker) => worker.terminate()));
      throw failed ?? new Error('the workers never got ready');
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  Atomics.store(flags, 0, 1);
  Atomics.notify(flags, 0);
  try {
    return await Promise.all(done);
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}
