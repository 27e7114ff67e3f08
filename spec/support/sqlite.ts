import BetterSqlite3 from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runInThisContext } from 'node:vm';
import type { SqliteDatabase } from 'kit-session/sqlite';
import { describeWithout } from './services.js';

// The SQLite drivers the SQLite store's tests run on, on the running Node: better-sqlite3
// (a dev dependency) always, node:sqlite where the runtime has it (Node 22.5 and later).
// On a Node without node:sqlite its cases are not registered at all: there is nothing to
// skip, as there is no such driver to test there.

/** A connection a test opened, and how to close it. */
export type OpenDatabase = SqliteDatabase & { close(): void };

/** One driver under test. */
export interface SqliteDriverUnderTest {
  /** The driver's name, as the store reports it (`store.driver`). */
  readonly name: 'better-sqlite3' | 'node:sqlite';
  /**
   * Opens a connection to a file (or `':memory:'`), with a busy timeout: what the docs
   * tell an app to do.
   */
  open(file: string, busyTimeout?: number): OpenDatabase;
}

/** node:sqlite's DatabaseSync, as far as the tests use it (its types are not in @types/node 20). */
type DatabaseSyncClass = new (file: string) => OpenDatabase;

/** The process Node emits warnings on (Jest hands each test file a copy). */
const realProcess = runInThisContext('process') as NodeJS.Process & { getBuiltinModule?: (id: string) => unknown };

/**
 * node:sqlite's DatabaseSync, or `undefined` on a Node without it. Loading it prints an
 * ExperimentalWarning on Node 22 and 24: that one warning is left out (a passing run
 * prints nothing else); every other warning goes to the listeners as before.
 */
function loadNodeSqlite(): DatabaseSyncClass | undefined {
  const others = realProcess.listeners('warning') as ((warning: Error) => void)[];
  const listener = (warning: Error): void => {
    if (warning.name === 'ExperimentalWarning' && warning.message.includes('SQLite')) {
      return;
    }
    for (const other of others) {
      other.call(realProcess, warning);
    }
  };
  realProcess.removeAllListeners('warning');
  realProcess.on('warning', listener);
  // The warning is emitted on a later tick: the listeners come back after it.
  setTimeout(() => {
    realProcess.off('warning', listener);
    for (const other of others) {
      realProcess.on('warning', other);
    }
  }, 0);
  const sqlite = realProcess.getBuiltinModule?.('node:sqlite') as { DatabaseSync?: DatabaseSyncClass } | undefined;
  return sqlite?.DatabaseSync;
}

function configured(database: OpenDatabase, busyTimeout: number): OpenDatabase {
  database.exec(`PRAGMA busy_timeout = ${busyTimeout}`);
  return database;
}

/** better-sqlite3, with the reason it cannot run here when its native part does not load. */
function betterSqlite3(): { driver: SqliteDriverUnderTest } | { reason: string } {
  try {
    new BetterSqlite3(':memory:').close();
  } catch (error) {
    return {
      reason:
        `better-sqlite3's native binding does not load on Node ${process.versions.node} ` +
        `(${(error as Error).message.replace(/\s+/g, ' ').slice(0, 300)}): run \`npm rebuild better-sqlite3\` under this Node`,
    };
  }
  return {
    driver: {
      name: 'better-sqlite3',
      open: (file, busyTimeout = 5_000) => configured(new BetterSqlite3(file) as unknown as OpenDatabase, busyTimeout),
    },
  };
}

const DatabaseSync = loadNodeSqlite();
const better = betterSqlite3();

/** The drivers available on the running Node. */
export const sqliteDrivers: readonly SqliteDriverUnderTest[] = [
  ...('driver' in better ? [better.driver] : []),
  ...(DatabaseSync === undefined
    ? []
    : [{ name: 'node:sqlite', open: (file: string, busyTimeout = 5_000) => configured(new DatabaseSync(file), busyTimeout) } as const]),
];

/**
 * Registers a describe block once per driver available on the running Node. When
 * better-sqlite3's native binding does not load (built for another Node line), its block
 * is skipped with the reason printed, and fails under `CI=true`.
 *
 * @param name - The block's name; the driver's is added.
 * @param body - The block, given the driver.
 */
export function describeEachSqlite(name: string, body: (driver: SqliteDriverUnderTest) => void): void {
  if ('reason' in better) {
    describeWithout('better-sqlite3', better.reason, `${name} on better-sqlite3`, () => undefined);
  }
  for (const driver of sqliteDrivers) {
    describe(`${name} on ${driver.name}`, () => body(driver));
  }
}

/** A folder of its own for one test file's databases, and how to remove it. */
export function scratchFolder(): { file: (name: string) => string; remove: () => void } {
  const folder = mkdtempSync(path.join(tmpdir(), 'kit-session-sqlite-'));
  return {
    file: (name) => path.join(folder, name),
    remove: () => rmSync(folder, { recursive: true, force: true }),
  };
}

/** Opens a file in WAL mode, as the docs tell an app with several processes to. */
export function openWal(driver: SqliteDriverUnderTest, file: string, busyTimeout?: number): OpenDatabase {
  const database = driver.open(file, busyTimeout);
  database.exec('PRAGMA journal_mode = WAL');
  return database;
}
