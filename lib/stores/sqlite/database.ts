// What the SQLite session store and owner generations (kit-session/sqlite) share: the small
// interface the three drivers have in common (node:sqlite's DatabaseSync, better-sqlite3's
// Database, bun:sqlite's Database), telling them apart, checked table names, prepared
// statements kept per connection, and the one way a call or a transaction fails
// (SessionStoreError, never a token or value in it). Nothing here imports a driver: the
// app's handle is all it needs, so the subpath loads on any runtime.
import { SessionStoreError } from '../../core/SessionError.js';
import { bind, BEGIN, COMMIT, ROLLBACK, type SqlValue, type Statement } from './statements.js';

/**
 * A prepared statement, as the three drivers give it: what the store uses of one.
 */
export interface SqliteStatement {
  /**
   * Runs the statement and gives its first row.
   *
   * @param params - The values of its `?` parameters, in order.
   * @returns The row, or `undefined` (bun:sqlite: `null`) when there is none.
   * @example
   * ```ts
   * database.prepare('SELECT data FROM "sessions" WHERE token = ?').get(handle);
   * ```
   */
  get(...params: (string | number | null)[]): unknown;
  /**
   * Runs the statement and gives every row.
   *
   * @param params - The values of its `?` parameters, in order.
   * @returns The rows.
   * @example
   * ```ts
   * database.prepare('SELECT token FROM "sessions" WHERE owner = ?').all('user-42');
   * ```
   */
  all(...params: (string | number | null)[]): unknown[];
  /**
   * Runs the statement.
   *
   * @param params - The values of its `?` parameters, in order.
   * @returns `changes`: how many rows it wrote.
   * @example
   * ```ts
   * database.prepare('DELETE FROM "sessions" WHERE owner = ?').run('user-42').changes;
   * ```
   */
  run(...params: (string | number | null)[]): { readonly changes: number | bigint };
}

/**
 * A database connection, as the three drivers give it: what the store uses of a
 * `node:sqlite` `DatabaseSync`, a `better-sqlite3` `Database` or a `bun:sqlite`
 * `Database`. The store checks which of the three it was given ({@link SqliteDriver}).
 */
export interface SqliteDatabase {
  /**
   * Compiles one statement.
   *
   * @param sql - The statement.
   * @returns It, prepared.
   * @example
   * ```ts
   * const count = database.prepare('SELECT count(*) AS n FROM "sessions"');
   * ```
   */
  prepare(sql: string): SqliteStatement;
  /**
   * Runs SQL, several statements allowed.
   *
   * @param sql - The statements.
   * @returns What the driver returns (nothing the store reads).
   * @example
   * ```ts
   * database.exec('PRAGMA journal_mode = WAL');
   * ```
   */
  exec(sql: string): unknown;
}

/**
 * Which driver a database handle comes from, as `SqliteSessionStore.driver` tells it.
 */
export type SqliteDriver = 'node:sqlite' | 'better-sqlite3' | 'bun:sqlite' | 'durable-object';

/**
 * Marks a handle whose transactions are not `BEGIN`/`COMMIT` statements but a function
 * of the platform's (a Durable Object's `storage.transactionSync`): kit-session's own
 * adapter of a Durable Object's SQL storage carries it.
 *
 * @internal
 */
export const TRANSACTION: unique symbol = Symbol('kit-session.sqlite.transaction');

/** A handle that runs its transactions itself. */
interface TransactingDatabase extends SqliteDatabase {
  readonly [TRANSACTION]: <R>(work: () => R) => R;
}

function transactsItself(database: SqliteDatabase): database is TransactingDatabase {
  return typeof (database as Partial<TransactingDatabase>)[TRANSACTION] === 'function';
}

/**
 * Tells which driver a database handle comes from, by the methods each has of its own.
 *
 * @internal
 * @param database - The handle the app passed.
 * @param option - The argument's name, for the error.
 * @returns The driver.
 * @throws TypeError naming `option` when it is none of the three.
 */
export function driverOf(database: unknown, option: string): SqliteDriver {
  const handle = database as Record<string, unknown> | null;
  if (handle !== null && typeof handle === 'object' && typeof handle.prepare === 'function' && typeof handle.exec === 'function') {
    if (transactsItself(handle as unknown as SqliteDatabase)) {
      return 'durable-object';
    }
    if (typeof handle.pragma === 'function' && typeof handle.transaction === 'function') {
      return 'better-sqlite3';
    }
    if (typeof handle.query === 'function' && typeof handle.fileControl === 'function') {
      return 'bun:sqlite';
    }
    if (handle.constructor?.name === 'DatabaseSync') {
      return 'node:sqlite';
    }
  }
  throw new TypeError(
    `${option} must be a node:sqlite DatabaseSync, a better-sqlite3 Database or a bun:sqlite Database`,
  );
}

/** A letter or `_`, then letters, digits or `_`: at most 48 characters. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/;

/**
 * A table's name checked and quoted for SQL.
 *
 * @internal
 * @param name - The name.
 * @returns `table`: the name in double quotes; `name`: the bare name, for its indexes'.
 * @throws TypeError when the name breaks the rules.
 */
export function quotedTable(name: string): { table: string; name: string } {
  if (typeof name !== 'string' || !IDENTIFIER.test(name)) {
    throw new TypeError('table must be a letter or _, then letters, digits or _ (at most 48 characters)');
  }
  return { table: `"${name}"`, name };
}

/**
 * A number SQLite gave back: drivers told to read integers as BigInt give one.
 *
 * @internal
 */
export function numberOf(value: unknown): number {
  return typeof value === 'bigint' ? Number(value) : (value as number);
}

/**
 * One connection as the store uses it: statements prepared once (lazily: the table may not
 * exist when the store is built) and kept, every driver error turned into a
 * SessionStoreError, and transactions.
 *
 * Every call is synchronous and no transaction spans an `await`, so calls from one process
 * on one connection never interleave; other connections (other processes, or other handles
 * on the same file) are kept out by SQLite's write lock (`BEGIN IMMEDIATE`), which waits
 * for the connection's `busy_timeout` before it fails with SQLITE_BUSY.
 *
 * @internal
 */
export class Connection {
  readonly #database: SqliteDatabase;
  readonly #what: string;
  readonly #prepared = new Map<string, SqliteStatement>();

  /**
   * @param database - The app's handle (checked by {@link driverOf}).
   * @param what - The store, for error messages (`'sqlite session store'`).
   */
  constructor(database: SqliteDatabase, what: string) {
    this.#database = database;
    this.#what = what;
  }

  /**
   * The first row a statement gives, or `undefined`.
   *
   * @param operation - What the store does, for the error.
   * @param compiled - The statement.
   * @param input - Its parameters.
   * @returns The row.
   * @throws SessionStoreError when SQLite fails.
   */
  get<R>(operation: string, compiled: Statement, input: Readonly<Record<string, SqlValue>>): R | undefined {
    const args = bind(compiled, input);
    return this.#call(operation, () => (this.#prepare(compiled.sql).get(...args) ?? undefined) as R | undefined);
  }

  /**
   * Every row a statement gives.
   *
   * @param operation - What the store does, for the error.
   * @param compiled - The statement.
   * @param input - Its parameters.
   * @returns The rows.
   * @throws SessionStoreError when SQLite fails.
   */
  all<R>(operation: string, compiled: Statement, input: Readonly<Record<string, SqlValue>>): R[] {
    const args = bind(compiled, input);
    return this.#call(operation, () => this.#prepare(compiled.sql).all(...args) as R[]);
  }

  /**
   * Runs a statement.
   *
   * @param operation - What the store does, for the error.
   * @param compiled - The statement.
   * @param input - Its parameters.
   * @returns How many rows it wrote.
   * @throws SessionStoreError when SQLite fails.
   */
  run(operation: string, compiled: Statement | string, input: Readonly<Record<string, SqlValue>> = {}): number {
    const sql = typeof compiled === 'string' ? compiled : compiled.sql;
    const args = typeof compiled === 'string' ? [] : bind(compiled, input);
    return this.#call(operation, () => numberOf(this.#prepare(sql).run(...args).changes));
  }

  /**
   * Runs `work` in one `BEGIN IMMEDIATE` transaction: it holds the database's write lock
   * from its first statement, so what it reads stays true until it commits. `work` must
   * be synchronous. When it throws, the transaction is rolled back and the error goes on.
   *
   * @param operation - What the store does, for the error.
   * @param work - The statements.
   * @returns What `work` returned, once committed.
   * @throws SessionStoreError when SQLite fails (SQLITE_BUSY after `busy_timeout`
   *   included); whatever `work` throws.
   */
  transaction<R>(operation: string, work: () => R): R {
    const database = this.#database;
    if (transactsItself(database)) {
      // The platform rolls back when `work` throws, and forbids BEGIN statements. What
      // `work` throws goes on as it is; a failure of the platform's own becomes ours.
      const thrown: unknown[] = [];
      try {
        return database[TRANSACTION](() => {
          try {
            return work();
          } catch (error) {
            thrown.push(error);
            throw error;
          }
        });
      } catch (error) {
        if (thrown.includes(error) || error instanceof SessionStoreError) {
          throw error;
        }
        throw new SessionStoreError(`${this.#what}: ${operation} failed`, { cause: error });
      }
    }
    this.run(operation, BEGIN);
    let result: R;
    try {
      result = work();
      this.run(operation, COMMIT);
    } catch (error) {
      try {
        this.#prepare(ROLLBACK).run();
      } catch {
        // No transaction left to roll back (SQLite ended it on its own).
      }
      throw error;
    }
    return result;
  }

  /** Runs one driver call; any failure becomes a SessionStoreError (SQLite's messages hold no bound value). */
  #call<R>(operation: string, work: () => R): R {
    try {
      return work();
    } catch (error) {
      throw error instanceof SessionStoreError
        ? error
        : new SessionStoreError(`${this.#what}: ${operation} failed`, { cause: error });
    }
  }

  /** The statement prepared once; a statement that fails to prepare is not kept. */
  #prepare(sql: string): SqliteStatement {
    let prepared = this.#prepared.get(sql);
    if (prepared === undefined) {
      prepared = this.#database.prepare(sql);
      this.#prepared.set(sql, prepared);
    }
    return prepared;
  }
}
