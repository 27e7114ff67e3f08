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
  const sql = storage.sql;
  const changes = (): number => Number(sql.exec('SELECT changes() AS n').toArray()[0]?.n ?? 0);
  const database = {
    prepare(query: string): SqliteStatement {
      return {
        get: (...params) => sql.exec(query, ...params).toArray()[0],
        all: (...params) => sql.exec(query, ...params).toArray(),
        run: (...params) => {
          sql.exec(query, ...params).toArray();
          return { changes: changes() };
        },
      };
    },
    exec(query: string): unknown {
      return sql.exec(query).toArray();
    },
    [TRANSACTION]: <R>(work: () => R): R => storage.transactionSync(work),
  };
  return database;
}
