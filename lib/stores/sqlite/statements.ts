// The SQL of SqliteSessionStore and SqliteOwnerGenerations (`kit-session/sqlite`; internal,
// not exported). Each statement is written with named parameters (`:now`, `:token`) and
// compiled once into SQLite's anonymous `?` with the list of names in order, so that one
// call binds the same positional arguments on node:sqlite, better-sqlite3 and bun:sqlite
// (whose rules for named parameters differ): `bind(statement, input)` lays them out.
//
// Columns of the session table: `token` the SHA-256 of the session id, base64url (the key
// and the public handle); `data` the values (JSON text, as JSON.stringify wrote it);
// `expire_time` and `deadline` (INTEGER milliseconds since the epoch); `owner`; `meta` the
// manager's metadata text; `write_time` the store's clock at the last write; `successor`
// the token of the session this one was renewed into (NULL while it is a session of its
// own; set, the row is *retired*: served read-only until its `expire_time`, as long as its
// successor lives, and never listed, counted, patched or renewed). Every time is a
// parameter from the store's clock, never SQLite's own. Every table name is a checked,
// quoted identifier (database.ts).
import { MAX_RENEWAL_STEPS } from '../policy.js';

/** What SQLite binds: text, a number, or NULL. */
export type SqlValue = string | number | null;

/**
 * One statement: its SQL with `?` in place of each parameter, and the parameters' names
 * in order.
 *
 * @internal
 */
export interface Statement {
  /** The SQL, as SQLite prepares it. */
  readonly sql: string;
  /** The name of each `?`, in order (a name used twice is bound twice). */
  readonly names: readonly string[];
}

/**
 * Compiles SQL written with `:name` parameters into SQLite's anonymous `?`.
 *
 * @internal
 * @param text - The SQL; `:name` (a letter, then letters) marks a parameter. No `:`
 *   may appear otherwise.
 * @returns The statement.
 */
export function statement(text: string): Statement {
  const names: string[] = [];
  const sql = text.replace(/:([A-Za-z]+)/g, (_match, name: string) => {
    names.push(name);
    return '?';
  });
  return { sql, names };
}

/**
 * The positional arguments of one call of a statement.
 *
 * @internal
 * @param compiled - The statement.
 * @param input - A value for each of its names.
 * @returns The arguments, in the order of its `?`.
 * @throws TypeError when `input` lacks one of the names (a bug in the store).
 */
export function bind(compiled: Statement, input: Readonly<Record<string, SqlValue>>): SqlValue[] {
  return compiled.names.map((name) => {
    const value = input[name];
    if (value === undefined) {
      throw new TypeError(`sqlite statement: no value for :${name}`);
    }
    return value;
  });
}

/** The row (of `alias`, when given) has not ended by the store's clock. */
const live = (alias = '') => `min(${alias}expire_time, ${alias}deadline) > :now`;
/** The row is a session of its own (not retired) that has not ended. */
const session = (alias = '') => `${live(alias)} AND ${alias}successor IS NULL`;

/**
 * The SQL that creates the session table and its indexes: see `sessionTableSql`.
 *
 * @internal
 * @param names - `table`: the quoted table; `name`: its bare name, for its indexes'.
 * @returns The statements, each a string.
 */
export function sessionTableStatements({ table, name }: { readonly table: string; readonly name: string }): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${table} (
  token       TEXT    PRIMARY KEY NOT NULL,
  data        TEXT    NOT NULL,
  expire_time INTEGER NOT NULL,
  deadline    INTEGER NOT NULL,
  owner       TEXT,
  meta        TEXT,
  write_time  INTEGER NOT NULL,
  successor   TEXT
)`,
    `CREATE INDEX IF NOT EXISTS "${name}_expiry_idx" ON ${table} (min(expire_time, deadline))`,
    `CREATE INDEX IF NOT EXISTS "${name}_owner_idx" ON ${table} (owner) WHERE owner IS NOT NULL`,
  ];
}

/**
 * The session store's statements, for one table.
 *
 * @internal
 */
export interface SessionStatements {
  /**
   * A row, retired or not, with `served` (1 for a session of its own, ended or not; for a
   * retired row, whether it and the successors it leads to are live, up to a session of
   * its own within MAX_RENEWAL_STEPS). `:token`, `:now`.
   */
  readonly get: Statement;
  /** A live session of its own: its values and owner. `:token`, `:now`. */
  readonly own: Statement;
  /** Writes a whole session (an upsert; a retired row becomes a session of its own again). */
  readonly set: Statement;
  /** Writes a patched session's values, expiry, metadata and (when `:ownerGiven`) owner. */
  readonly patch: Statement;
  /** Retires a renewed row: names its successor, cuts its expiry to `:now + :grace`. */
  readonly retire: Statement;
  /** Forgets one row, retired or not, naming its successor while it is live. `:token`, `:now`. */
  readonly delete: Statement;
  /** {@link SessionStatements.delete} for a row of `:owner` only. */
  readonly deleteByHandle: Statement;
  /** Ends the owner's sessions but the one kept, in one statement; one row per row ended. */
  readonly deleteOwner: Statement;
  /** Deletes the rows that have ended. `:now`. */
  readonly deleteExpired: Statement;
  /** The owner's live sessions. `:owner`, `:now`. */
  readonly list: Statement;
  /** The owner's other live sessions, least recently written first. `:owner`, `:token`, `:other`, `:now`. */
  readonly others: Statement;
  /** Deletes the sessions a bounded save evicts. `:tokens` (a JSON array). */
  readonly evict: Statement;
}

/**
 * Builds the session store's statements for one table.
 *
 * @internal
 * @param table - The quoted table.
 * @returns Its statements.
 */
export function sessionStatements(table: string): SessionStatements {
  // The renewal chain of a retired row, from `:token`: each row's successor, whether it is
  // live, and its step.
  const chain =
    `WITH RECURSIVE chain (successor, live, step) AS (` +
    `SELECT successor, ${live()}, 0 FROM ${table} WHERE token = :token ` +
    `UNION ALL SELECT next.successor, ${live('next.')}, chain.step + 1 FROM chain ` +
    `JOIN ${table} next ON next.token = chain.successor WHERE chain.step < ${MAX_RENEWAL_STEPS}) ` +
    `SELECT coalesce(min(live) AND max(successor IS NULL), 0) FROM chain`;
  return {
    // One statement: the chain is read (only) for a retired row, which is served while it
    // and its successors are live. A session of its own is given back ended too (until
    // swept): the manager reports it as the `expired` event and serves it never.
    get: statement(
      `SELECT data, expire_time, deadline, meta, successor, ` +
        `CASE WHEN successor IS NULL THEN 1 ELSE (${chain}) END AS served ` +
        `FROM ${table} WHERE token = :token`,
    ),
    own: statement(`SELECT data, owner FROM ${table} WHERE token = :token AND ${session()}`),
    set: statement(
      `INSERT INTO ${table} (token, data, expire_time, deadline, owner, meta, write_time, successor) ` +
        `VALUES (:token, :data, :expireTime, :deadline, :owner, :meta, :now, NULL) ` +
        `ON CONFLICT (token) DO UPDATE SET data = excluded.data, expire_time = excluded.expire_time, ` +
        `deadline = excluded.deadline, owner = excluded.owner, meta = excluded.meta, ` +
        `write_time = excluded.write_time, successor = NULL`,
    ),
    patch: statement(
      `UPDATE ${table} SET data = :data, expire_time = :expireTime, deadline = :deadline, ` +
        `owner = CASE WHEN :ownerGiven THEN :owner ELSE owner END, meta = coalesce(:meta, meta), ` +
        `write_time = :now WHERE token = :token`,
    ),
    retire: statement(
      `UPDATE ${table} SET successor = :successor, expire_time = min(expire_time, :now + :grace) WHERE token = :token`,
    ),
    delete: statement(`DELETE FROM ${table} WHERE token = :token RETURNING successor, ${live()} AS live`),
    deleteByHandle: statement(
      `DELETE FROM ${table} WHERE token = :token AND owner = :owner RETURNING successor, ${live()} AS live`,
    ),
    // The owner's sessions of their own, but the one kept (followed through its renewals:
    // the same device), and its retired rows renewed into another owner's session (one
    // renewed within the owner ends with its successor).
    deleteOwner: statement(
      `WITH RECURSIVE kept (token, step) AS (SELECT :keep, 0 UNION ALL SELECT k.successor, kept.step + 1 ` +
        `FROM kept JOIN ${table} k ON k.token = kept.token ` +
        `WHERE k.successor IS NOT NULL AND kept.step < ${MAX_RENEWAL_STEPS}) ` +
        `DELETE FROM ${table} WHERE owner = :owner ` +
        `AND token NOT IN (SELECT token FROM kept WHERE token IS NOT NULL) ` +
        `AND (successor IS NULL OR NOT EXISTS (SELECT 1 FROM ${table} n WHERE n.token = ${table}.successor AND n.owner = :owner)) ` +
        `RETURNING ${session()} AS live`,
    ),
    deleteExpired: statement(`DELETE FROM ${table} WHERE min(expire_time, deadline) <= :now`),
    list: statement(
      `SELECT token AS handle, meta, expire_time, deadline FROM ${table} WHERE owner = :owner AND ${session()}`,
    ),
    others: statement(
      `SELECT token FROM ${table} WHERE owner = :owner AND token <> :token AND token <> :other AND ${session()} ` +
        `ORDER BY write_time, token`,
    ),
    evict: statement(`DELETE FROM ${table} WHERE token IN (SELECT value FROM json_each(:tokens)) AND successor IS NULL`),
  };
}

/** The transaction statements: a bounded save, a patch and a renewal each run in one. */
export const BEGIN = 'BEGIN IMMEDIATE';
/** @internal */
export const COMMIT = 'COMMIT';
/** @internal */
export const ROLLBACK = 'ROLLBACK';

/**
 * The SQL that creates the generations table: see `ownerGenerationsTableSql`.
 *
 * @internal
 * @param table - The quoted table.
 * @returns The statement.
 */
export function generationsTableSql(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${table} (
  owner      TEXT    PRIMARY KEY NOT NULL,
  generation INTEGER NOT NULL
)`;
}

/**
 * The owner generations' statements, for one table.
 *
 * @internal
 */
export interface GenerationsStatements {
  /** The owner's generation and the store's marker, in one row. `:owner`, `:marker`. */
  readonly current: Statement;
  /** The marker. `:marker`. */
  readonly marker: Statement;
  /** Writes `:next` as the marker when there is none, or it is still `:found`. */
  readonly mark: Statement;
  /** One above the owner's generation or the epoch's `:floor`, whichever is higher. */
  readonly bump: Statement;
}

/**
 * Builds the owner generations' statements for one table.
 *
 * @internal
 * @param table - The quoted table.
 * @returns Its statements.
 */
export function generationsStatements(table: string): GenerationsStatements {
  return {
    current: statement(
      `SELECT (SELECT generation FROM ${table} WHERE owner = :owner) AS generation, ` +
        `(SELECT generation FROM ${table} WHERE owner = :marker) AS marker`,
    ),
    marker: statement(`SELECT generation FROM ${table} WHERE owner = :marker`),
    // A NULL :found matches no row: the marker is written only when there is none.
    mark: statement(
      `INSERT INTO ${table} (owner, generation) VALUES (:marker, :next) ` +
        `ON CONFLICT (owner) DO UPDATE SET generation = excluded.generation WHERE generation = :found`,
    ),
    bump: statement(
      `INSERT INTO ${table} (owner, generation) VALUES (:owner, :floor + 1) ` +
        `ON CONFLICT (owner) DO UPDATE SET generation = max(generation, :floor) + 1 RETURNING generation`,
    ),
  };
}
