// A Durable Object's SQL storage seen as the SQLite store's database handle, so the
// object keeps its sessions with the SQLite store's own statements and transactions.
import { TRANSACTION, type SqliteDatabase, type SqliteStatement } from '../sqlite/database.js';
import type { DurableObjectStorageLike } from './platform.js';

/**
 * The SQLite store's database over a Durable Object's storage: statements run through
 * `storage.sql.exec` (SQLite in the object's own thread, synchronous), transactions
 * through `storage.transactionSync` (the platform forbids `BEGIN`), and a write's count
 * read from SQLite's own `changes()`.
 *
 * @internal
 * @param storage - The object's `ctx.storage`.
 * @returns The handle.
 */
export function durableObjectDatabase(storage: DurableObjectStorageLike): SqliteDatabase {
  // Read at each statement, not here: on an object without SQLite storage, reading it
  // throws, and the object answers that with what to change (see SessionStoreObject).
  const exec = (query: string, ...params: unknown[]): Record<string, unknown>[] => storage.sql.exec(query, ...params).toArray();
  const changes = (): number => Number(exec('SELECT changes() AS n')[0]?.n ?? 0);
  const database = {
    prepare(query: string): SqliteStatement {
      return {
        get: (...params) => exec(query, ...params)[0],
        all: (...params) => exec(query, ...params),
        run: (...params) => {
          exec(query, ...params);
          return { changes: changes() };
        },
      };
    },
    exec(query: string): unknown {
      return exec(query);
    },
    [TRANSACTION]: <R>(work: () => R): R => storage.transactionSync(work),
  };
  return database;
}
