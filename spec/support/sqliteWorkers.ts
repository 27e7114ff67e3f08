import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import type { OwnerSessionLimit } from 'kit-session/store';
import type { SqliteDriverUnderTest } from './sqlite.js';

// Several app servers on one SQLite file, for real: each worker (a thread, or a node
// process) opens its own connection to the file (WAL, busy_timeout 10 s) and builds its
// own store from the compiled package (dist/, built by the global setup); then all start
// at one signal and run their part at the same time, so that their transactions meet
// SQLite's locks (between connections of one process, and between processes: file locks
// and the WAL's shared memory). A connection that waits for the lock sleeps in SQLite's
// busy handler meanwhile, so one side often runs ahead: the tests check what must hold in
// every order, not which order came.

const root = path.resolve(__dirname, '../..');

/**
 * What each worker runs, as a thread (`parentPort`) or a process (stdin and stdout):
 * opens its connection, builds its store, says it is ready, waits for the signal, runs
 * its part, and sends back the result.
 */
const SCRIPT = `
const { workerData: threadData, parentPort } = require('node:worker_threads');
const workerData = threadData ?? JSON.parse(process.env.KIT_SQLITE_WORKER);
process.removeAllListeners('warning');
const send = (message) => parentPort ? parentPort.postMessage(message) : process.stdout.write(JSON.stringify(message) + '\\n');
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
  if (parentPort) {
    const gate = new Int32Array(workerData.gate);
    Atomics.add(gate, 1, 1);
    Atomics.notify(gate, 1);
    Atomics.wait(gate, 0, 0);
  } else {
    send({ ready: true });
    await new Promise((resolve) => process.stdin.once('data', resolve));
    process.stdin.pause();
  }
  const work = new Function('store', 'input', 'return (async () => {' + workerData.body + '})();');
  const result = await work(store, workerData.input);
  database.close();
  send({ result, evicted });
})().catch((error) => send({ error: String((error && error.stack) || error) }));
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

/**
 * Runs parts at once, each in a node process of its own with its own connection and
 * store: SQLite's locks between processes (file locks and the WAL's shared memory), as
 * several app servers on one machine meet them. Same arguments and result as
 * {@link raceWorkers}.
 */
export async function raceProcesses(
  driver: SqliteDriverUnderTest,
  file: string,
  table: string,
  parts: readonly WorkerPart[],
  limit?: Omit<OwnerSessionLimit, 'evicted'>,
): Promise<{ result: unknown; evicted: string[] }[]> {
  const children = parts.map((part) =>
    spawn(process.execPath, ['-e', SCRIPT], {
      cwd: root,
      env: {
        ...process.env,
        KIT_SQLITE_WORKER: JSON.stringify({
          module: pathToFileURL(path.join(root, 'dist/stores/sqlite/index.js')).href,
          betterSqlite3: path.join(root, 'node_modules/better-sqlite3'),
          driver: driver.name,
          file,
          table,
          limit,
          body: part.body,
          input: part.input,
        }),
      },
      stdio: ['pipe', 'pipe', 'inherit'],
    }),
  );
  const messages = children.map((child) => {
    const lines = createInterface({ input: child.stdout! });
    const queue: Promise<Record<string, unknown>>[] = [];
    const waiting: ((message: Record<string, unknown>) => void)[] = [];
    lines.on('line', (line) => {
      const message = JSON.parse(line) as Record<string, unknown>;
      const take = waiting.shift();
      if (take !== undefined) {
        take(message);
      } else {
        queue.push(Promise.resolve(message));
      }
    });
    return () => queue.shift() ?? new Promise<Record<string, unknown>>((resolve) => waiting.push(resolve));
  });
  try {
    const ready = await Promise.all(messages.map((next) => next()));
    const failed = ready.find((message) => message.error !== undefined);
    if (failed !== undefined) {
      throw new Error(String(failed.error));
    }
    for (const child of children) {
      child.stdin!.write('go\n');
    }
    const results = await Promise.all(messages.map((next) => next()));
    return results.map((message) => {
      if (message.error !== undefined) {
        throw new Error(String(message.error));
      }
      return message as { result: unknown; evicted: string[] };
    });
  } finally {
    for (const child of children) {
      child.kill();
    }
  }
}
