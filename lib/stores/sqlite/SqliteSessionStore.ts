// kit-session/sqlite: sessions in a SQLite table, over the app's own database handle
// (node:sqlite, better-sqlite3 or bun:sqlite).
import type { Clock } from '../../core/Clock.js';
import { systemClock } from '../../core/Clock.js';
import { checkOptionKeys } from '../../core/options.js';
import type {
  EvictionReport,
  LoadedSessionRecord,
  MaybePromise,
  OwnerListingSessionStore,
  OwnerSessionLimit,
  OwnerSessionRecord,
  PatchableSessionStore,
  RenewableSessionStore,
  SessionPatch,
  SessionRecord,
  SessionRenewal,
  TokenLengthSessionStore,
} from '../../core/SessionStore.js';
import {
  checkId,
  checkRenewal,
  EXPIRED_CLEANUP_OPTIONS,
  ExpiredCleanup,
  type ExpiredCleanupOptions,
  isHandle,
  isId,
  MAX_RENEWAL_STEPS,
  OwnerBound,
  sessionKey,
} from '../policy.js';
import { Connection, driverOf, numberOf, quotedTable, type SqliteDatabase, type SqliteDriver } from './database.js';
import { sessionStatements, sessionTableStatements, type SessionStatements, type SqlValue } from './statements.js';

/**
 * Where the session table lives, for {@link sessionTableSql} and
 * {@link SqliteSessionStoreOptions}.
 */
export interface SessionTableOptions {
  /**
   * The table's name: a letter or `_`, then letters, digits or `_`, at most 48
   * characters. It is always quoted.
   * @default 'sessions'
   */
  readonly table?: string;
}

/**
 * Options of {@link SqliteSessionStore}.
 */
export interface SqliteSessionStoreOptions extends ExpiredCleanupOptions, SessionTableOptions {
}

/** Every key of {@link SessionTableOptions}. */
const TABLE_OPTIONS = ['table'] as const satisfies readonly (keyof SessionTableOptions)[];
/** Every key of {@link SqliteSessionStoreOptions}. */
const STORE_OPTIONS = [
  ...TABLE_OPTIONS,
  ...EXPIRED_CLEANUP_OPTIONS,
] as const satisfies readonly (keyof SqliteSessionStoreOptions)[];

/**
 * The default table name.
 *
 * @example
 * ```ts
 * database.prepare(`SELECT count(*) AS n FROM "${DEFAULT_SESSION_TABLE}"`).get();
 * ```
 */
export const DEFAULT_SESSION_TABLE = 'sessions';

/**
 * The SQL that creates the session table and its indexes; safe to run again (`IF NOT
 * EXISTS`). Run it in a migration, or call {@link SqliteSessionStore.createTable}.
 *
 * ```sql
 * CREATE TABLE IF NOT EXISTS "sessions" (
 *   token       TEXT    PRIMARY KEY NOT NULL,
 *   data        TEXT    NOT NULL,
 *   expire_time INTEGER NOT NULL,
 *   deadline    INTEGER NOT NULL,
 *   owner       TEXT,
 *   meta        TEXT,
 *   write_time  INTEGER NOT NULL,
 *   successor   TEXT
 * );
 * CREATE INDEX IF NOT EXISTS "sessions_expiry_idx" ON "sessions" (min(expire_time, deadline));
 * CREATE INDEX IF NOT EXISTS "sessions_owner_idx" ON "sessions" (owner) WHERE owner IS NOT NULL;
 * ```
 *
 * `token` is the SHA-256 of the session id (base64url, 43 characters), never the id
 * itself, so that whoever reads the file or a copy of it holds nothing that works as a
 * cookie; it is also the session's public handle (`listOwnerSessions`). `data` holds the
 * values as JSON text (exactly what `JSON.stringify` wrote), `expire_time` and `deadline`
 * milliseconds since the epoch, `owner` who it belongs to, `meta` the manager's metadata
 * text (never read by the store), `write_time` when the store last wrote the row (by its
 * clock: the bound on an owner's sessions evicts the least recently written),
 * `successor` the `token` of the session this one was renewed into (`renewSession`): NULL
 * for a session of its own; set, the row is *retired*, served read-only until its
 * `expire_time` (the renewal's grace) while its successor lives, and never listed,
 * counted, patched or renewed.
 *
 * @param options - The table's name.
 * @returns The SQL, statements separated by `;`.
 * @throws TypeError when the name breaks the rules of {@link SessionTableOptions}, or
 *   `options` names an option that does not exist.
 * @example
 * ```ts
 * database.exec(sessionTableSql({ table: 'app_sessions' }));
 * ```
 */
export function sessionTableSql(options: SessionTableOptions = {}): string {
  checkOptionKeys('sessionTableSql options', options, TABLE_OPTIONS);
  return `${sessionTableStatements(quotedTable(options.table ?? DEFAULT_SESSION_TABLE)).join(';\n')};`;
}

/** A loaded row. */
export interface SessionRow {
  data: string;
  expire_time: number | bigint;
  deadline: number | bigint;
  meta: string | null;
  successor: string | null;
  served: number | bigint;
}

/** A listed row. */
interface ListedRow {
  handle: string;
  meta: string | null;
  expire_time: number | bigint;
  deadline: number | bigint;
}

/** What a bounded write decided: how many it found over the bound, whom it evicted. */
interface Admission {
  readonly excess: number;
  readonly evicted: readonly string[];
}

/** The longest grace kept: about 35 years, in milliseconds. */
const MAX_GRACE = 2 ** 40;

/**
 * Keeps sessions in a SQLite table, through the app's own database handle: a `node:sqlite`
 * `DatabaseSync` (Node 22.5 and later), a `better-sqlite3` `Database`, or a `bun:sqlite`
 * `Database`. The store imports none of them; it tells which one it was given when built.
 * An ended session is never listed, counted, patched or renewed (every statement compares
 * against the store's clock, given as a parameter), and a load gives it back only as
 * ended; {@link SqliteSessionStore.deleteExpired} removes such rows, by hand or on an
 * unref'd timer (`cleanupInterval`). The schema is {@link sessionTableSql}.
 *
 * **Layout.** One row per session, keyed by the SHA-256 of the session id (base64url),
 * never the id itself: whoever reads the file, a backup or a copy cannot use what they
 * read as a cookie. The same hash is the session's public handle in `listOwnerSessions`.
 * Values are JSON text, kept as `JSON.stringify` wrote it and read back with `JSON.parse`.
 *
 * **At once.** SQLite answers in the calling thread, so each method does all its work
 * before it returns and gives its value itself (`MaybePromise`: no promise, no turn of
 * the microtask queue), or a rejected promise when it fails; no statement of one call
 * interleaves with another call's on the same connection. `createTable` and
 * `deleteExpired`, called by the app, give promises. A call waits for another
 * connection's write lock at most the connection's `busy_timeout`, blocking the thread
 * meanwhile, then fails with `SessionStoreError` (cause: SQLite's SQLITE_BUSY). There is
 * no `timeout` option: a timer cannot interrupt a synchronous call.
 *
 * **Several processes on one file** (app servers on one machine, a Node cluster): each
 * opens its own connection. Put the file in WAL mode (`PRAGMA journal_mode = WAL`, once:
 * it is kept in the file) so that readers never wait for the writer, and give each
 * connection a `busy_timeout` (better-sqlite3 waits 5 s by default; node:sqlite and
 * bun:sqlite do not wait unless told). Every write that reads first (a patch, a renewal,
 * a bounded save) is one `BEGIN IMMEDIATE` transaction, which takes the write lock before
 * it reads, so what it read still holds when it writes; every other write is one
 * statement. One machine only: SQLite's locks do not hold over a network file system.
 *
 * **Statements.** A load is one `SELECT` by primary key (a retired row's chain of
 * successors is read in the same statement, only for a retired row). `setSession` is one
 * upsert. A patch is one transaction: `BEGIN IMMEDIATE`, the row as it is now, the
 * merged values written, `COMMIT` (four statements, one commit): it applies only the keys
 * the request changed, on what the row holds now, and writes nothing to a session that
 * has ended, was deleted or renewed. A renewal is one transaction: the old row, the
 * successor written, the old row retired (its `successor` set, its expiry cut to now +
 * grace) or, without a grace, deleted. `deleteOwnerSessions` is one `DELETE`;
 * `deleteSession` and `deleteSessionByHandle` one `DELETE`, and one more for each renewal
 * followed to the successor (at most `MAX_RENEWAL_STEPS`).
 *
 * **The bound per owner** ({@link SqliteSessionStore.limitOwnerSessions}). A save that
 * files a session under an owner runs, on a store with a bound, in one `BEGIN IMMEDIATE`
 * transaction that reads the owner's other live sessions, evicts the least recently
 * written (or writes nothing and rejects with `SessionLimitError`), and writes. Every
 * bounded write holds the database's write lock throughout, so the bound is exact across
 * connections and processes.
 *
 * @typeParam T - The shape of the session's values.
 * @example
 * ```ts
 * import { DatabaseSync } from 'node:sqlite'; // or: import Database from 'better-sqlite3';
 * import { SessionManager } from 'kit-session';
 * import { SqliteSessionStore } from 'kit-session/sqlite';
 *
 * const database = new DatabaseSync('sessions.db', { timeout: 5_000 }); // busy_timeout
 * database.exec('PRAGMA journal_mode = WAL');
 * const store = new SqliteSessionStore(database, { cleanupInterval: 15 * 60_000 });
 * await store.createTable();
 * const manager = new SessionManager<{ userId: string }>(store, { ownerKey: 'userId' });
 * ```
 */
export class SqliteSessionStore<T = Record<string, unknown>>
  implements
    PatchableSessionStore<T>,
    RenewableSessionStore<T>,
    OwnerListingSessionStore<T>,
    TokenLengthSessionStore<T>
{
  /** Which driver the handle comes from. */
  readonly driver: SqliteDriver;
  readonly #connection: Connection;
  readonly #tableStatements: readonly string[];
  readonly #sql: SessionStatements;
  readonly #clock: Clock;
  readonly #bound = new OwnerBound();
  readonly #cleanup: ExpiredCleanup;

  /**
   * @param database - The app's handle: a `node:sqlite` `DatabaseSync`, a
   *   `better-sqlite3` `Database` or a `bun:sqlite` `Database`, owned by the app (the store
   *   never closes it). Best a connection of the store's own: the store's transactions
   *   cannot begin inside one the app has open on it.
   * @param options - See {@link SqliteSessionStoreOptions}.
   * @param clock - The source of time for expiry.
   * @throws TypeError when `database` is none of the three, an option is invalid, or
   *   `options` names an option that does not exist.
   */
  constructor(database: SqliteDatabase, options: SqliteSessionStoreOptions = {}, clock?: Clock) {
    checkOptionKeys('SqliteSessionStore options', options, STORE_OPTIONS);
    this.driver = driverOf(database, 'database');
    const quoted = quotedTable(options.table ?? DEFAULT_SESSION_TABLE);
    this.#connection = new Connection(database, 'sqlite session store');
    this.#tableStatements = sessionTableStatements(quoted);
    this.#sql = sessionStatements(quoted.table);
    this.#clock = clock ?? systemClock;
    this.#cleanup = new ExpiredCleanup(options, () => this.deleteExpired());
  }

  /**
   * Creates the session table and its indexes if they do not exist: runs
   * {@link sessionTableSql} for this store's table, in one transaction (processes starting
   * at once wait for each other's, then find the table there).
   *
   * @throws SessionStoreError when SQLite fails.
   * @example
   * ```ts
   * await new SqliteSessionStore(database).createTable();
   * ```
   */
  async createTable(): Promise<void> {
    this.#connection.transaction('create table', () => {
      for (const sql of this.#tableStatements) {
        this.#connection.run('create table', sql);
      }
    });
  }

  /**
   * Loads a session: one `SELECT` by primary key. A renewed id is given, marked
   * `superseded`, only while it and its successor (followed through later renewals) are
   * live; the same statement reads that chain, for a retired row only.
   *
   * @param token - The session's id.
   * @returns The record (its metadata included), or `undefined` when the token is unknown
   *   or malformed, or names a retired session no longer served. An ended session is given
   *   back as it is until its row is swept (the manager reports it as expired and never
   *   serves it).
   * @throws SessionStoreError when SQLite fails.
   * @example
   * ```ts
   * const record = await store.getSession(token); // undefined when unknown
   * ```
   */
  getSession(token: string): MaybePromise<LoadedSessionRecord<T> | undefined> {
    return answer(() => {
      if (!isId(token)) {
        return undefined;
      }
      const row = this.#connection.get<SessionRow>('load', this.#sql.get, { token: sessionKey(token), now: this.#clock.now() });
      return row === undefined ? undefined : loadedRecord<T>(row, token);
    });
  }

  /**
   * Saves a session, replacing what was kept under its id: one upsert. On a store with a
   * bound ({@link SqliteSessionStore.limitOwnerSessions}), a save with an owner is one
   * `BEGIN IMMEDIATE` transaction that makes room for it or refuses it.
   *
   * @param id - The session's id.
   * @param record - The values, expiry and metadata.
   * @param owner - The session's owner, for {@link SqliteSessionStore.deleteOwnerSessions}.
   * @param report - Told whom the save evicted; else the bound's own `evicted` is.
   * @returns The id, which is the token.
   * @throws TypeError when the id is not 1 to 256 characters of base64url.
   * @throws SessionLimitError when the bound refuses a new session of the owner; nothing
   *   was written.
   * @throws SessionStoreError when SQLite fails.
   * @example
   * ```ts
   * const token = await store.setSession(id, { values: { userId: 'u1' }, expireTime, deadline }, 'u1'); // token === id
   * ```
   */
  setSession(id: string, record: SessionRecord<T>, owner?: string, report?: EvictionReport): MaybePromise<string> {
    return answer(() => {
      checkId(id);
      const write = {
        token: sessionKey(id),
        now: this.#clock.now(),
        data: JSON.stringify(record.values),
        expireTime: record.expireTime,
        deadline: record.deadline,
        owner: owner ?? null,
        meta: record.meta ?? null,
      };
      const limit = this.#bound.limit;
      if (owner === undefined || limit === undefined) {
        this.#connection.run('save', this.#sql.set, write);
        return id;
      }
      const admission = this.#connection.transaction('save', () => {
        const held = this.#connection.get<{ owner: string | null }>('save', this.#sql.own, write)?.owner === owner;
        const counts = !held && Math.min(record.expireTime, record.deadline) > write.now;
        const admitted = this.#admit(limit, owner, write.token, null, write.now, counts);
        if (admitted.excess === 0 || limit.policy === 'evict') {
          this.#connection.run('save', this.#sql.set, write);
        }
        return admitted;
      });
      this.#bound.settle(owner, admission.excess, admission.evicted, report);
      return id;
    });
  }

  /**
   * Applies the values one request set and unset on top of the stored ones, in one
   * `BEGIN IMMEDIATE` transaction: the row as it is now, then the merged values written. A
   * patch without `owner` keeps the owner the row holds now; `owner: null` clears it;
   * without `meta` it keeps the metadata. On a store with a bound, a patch that files the
   * session under a new owner makes room or refuses in the same transaction.
   *
   * @param id - The session's id.
   * @param patch - What changed.
   * @returns The id, or `undefined` when the session is gone, ended or renewed: nothing
   *   was written.
   * @throws TypeError when the id is not 1 to 256 characters of base64url.
   * @throws SessionLimitError when the bound refuses to file the session under its new
   *   owner; nothing was written.
   * @throws SessionStoreError when SQLite fails.
   * @example
   * ```ts
   * const token = await store.patchSession(id, { set: { visits: 2 }, unset: ['flash'], expireTime, deadline });
   * // undefined: the session was deleted or ended meanwhile, and nothing was written
   * ```
   */
  patchSession(id: string, patch: SessionPatch<T>): MaybePromise<string | undefined> {
    return answer(() => {
      checkId(id);
      const token = sessionKey(id);
      const now = this.#clock.now();
      const { owner } = patch;
      const limit = this.#bound.limit;
      const bounded = typeof owner === 'string' && limit !== undefined;
      const outcome = this.#connection.transaction('save', () => {
        const row = this.#connection.get<{ data: string; owner: string | null }>('save', this.#sql.own, { token, now });
        if (row === undefined) {
          return undefined;
        }
        let admitted: Admission = { excess: 0, evicted: [] };
        if (bounded) {
          admitted = this.#admit(limit, owner, token, null, now, row.owner !== owner);
          if (admitted.excess > 0 && limit.policy === 'refuse') {
            return admitted;
          }
        }
        this.#connection.run('save', this.#sql.patch, {
          token,
          now,
          data: merged(row.data, patch),
          expireTime: patch.expireTime,
          deadline: patch.deadline,
          ownerGiven: owner === undefined ? 0 : 1,
          owner: owner ?? null,
          meta: patch.meta ?? null,
        });
        return admitted;
      });
      if (outcome === undefined) {
        return undefined;
      }
      if (bounded) {
        this.#bound.settle(owner, outcome.excess, outcome.evicted, patch.evicted);
      }
      return id;
    });
  }

  /**
   * Renews a session atomically: see `RenewableSessionStore.renewSession`. One
   * `BEGIN IMMEDIATE` transaction reads the old row (live, of its own), writes the
   * successor, and retires the old row (its `successor` set, its expiry cut to `now +
   * grace`) or, with no grace, deletes it. On a store with a bound, the successor of the
   * owner's own session takes its place (nothing refused or evicted); any other is
   * bounded as a new session, in the same transaction.
   *
   * @param id - The session's current id.
   * @param newId - The successor's id.
   * @param renewal - The successor's record and owner, and the grace of the old id.
   * @returns The new id, which is the token; `undefined` when the old id is not live
   *   (unknown, malformed, ended or renewed already): nothing was written.
   * @throws TypeError when `newId` is not 1 to 256 characters of base64url, or is `id`.
   * @throws SessionLimitError when the owner's bound refuses the successor; nothing was
   *   written.
   * @throws SessionStoreError when SQLite fails.
   * @example
   * ```ts
   * const token = await store.renewSession(oldId, newId, { record, owner: 'u1', grace: 30_000 });
   * // undefined: the old id was ended or renewed meanwhile, and nothing was written
   * ```
   */
  renewSession(id: string, newId: string, renewal: SessionRenewal<T>): MaybePromise<string | undefined> {
    return answer(() => {
      if (!checkRenewal(id, newId)) {
        return undefined;
      }
      const { record, owner, grace } = renewal;
      const token = sessionKey(id);
      const write = {
        token: sessionKey(newId),
        now: this.#clock.now(),
        data: JSON.stringify(record.values),
        expireTime: record.expireTime,
        deadline: record.deadline,
        owner: owner ?? null,
        meta: record.meta ?? null,
      };
      // NaN, a negative or no grace: the old row goes at once; a huge one (Infinity) is cut
      // to one SQLite's integers hold (a grace never outlasts the old session's own expiry).
      const kept = grace > 0 ? Math.min(grace, MAX_GRACE) : 0;
      const limit = this.#bound.limit;
      const bounded = owner !== undefined && limit !== undefined;
      const outcome = this.#connection.transaction('renew', () => {
        const old = this.#connection.get<{ owner: string | null }>('renew', this.#sql.own, { token, now: write.now });
        if (old === undefined) {
          return undefined;
        }
        let admitted: Admission = { excess: 0, evicted: [] };
        if (bounded) {
          const counts = old.owner !== owner && Math.min(record.expireTime, record.deadline) > write.now;
          admitted = this.#admit(limit, owner, token, write.token, write.now, counts);
          if (admitted.excess > 0 && limit.policy === 'refuse') {
            return admitted;
          }
        }
        this.#connection.run('renew', this.#sql.set, write);
        if (kept > 0) {
          this.#connection.run('renew', this.#sql.retire, { token, successor: write.token, now: write.now, grace: kept });
        } else {
          this.#connection.all('renew', this.#sql.delete, { token, now: write.now });
        }
        return admitted;
      });
      if (outcome === undefined) {
        return undefined;
      }
      if (bounded) {
        this.#bound.settle(owner, outcome.excess, outcome.evicted, renewal.evicted);
      }
      return newId;
    });
  }

  /**
   * Forgets a session: one `DELETE`. A retired id in its grace ends its successor too (a
   * log-out racing a renewal wins): one `DELETE` more for each renewal followed. Unknown
   * and malformed ids are fine.
   *
   * @param id - The session's id.
   * @throws SessionStoreError when SQLite fails.
   * @example
   * ```ts
   * await store.deleteSession(id); // an unknown id resolves too
   * ```
   */
  deleteSession(id: string): MaybePromise<void> {
    return answer(() => {
      if (isId(id)) {
        this.#endChain('delete', this.#sql.delete, sessionKey(id), null);
      }
    });
  }

  /**
   * Deletes every session of one owner but the one named by `keep` and what it was renewed
   * into, in one `DELETE`. Its retired rows renewed within the owner are left alone: they
   * stop being served with their successor; those renewed into another owner's session go
   * too, uncounted.
   *
   * @param owner - The owner.
   * @param keep - Optional: the handle of a session to leave alone ("log out my other
   *   devices").
   * @returns How many live sessions were ended (rows already ended by the store's clock
   *   are deleted too but not counted).
   * @throws SessionStoreError when SQLite fails.
   * @example
   * ```ts
   * const ended = await store.deleteOwnerSessions('u1'); // "log out everywhere"
   * ```
   */
  deleteOwnerSessions(owner: string, keep?: string): MaybePromise<number> {
    return answer(() => {
      if (typeof owner !== 'string') {
        return 0;
      }
      const rows = this.#connection.all<{ live: number | bigint }>('delete owner sessions', this.#sql.deleteOwner, {
        owner,
        keep: isHandle(keep) ? keep : null,
        now: this.#clock.now(),
      });
      return rows.filter((row) => numberOf(row.live) === 1).length;
    });
  }

  /**
   * Lists the live sessions of one owner: one `SELECT` on the owner index.
   *
   * @param owner - The owner.
   * @returns Each live session's handle (the SHA-256 of its id, the row's key), metadata
   *   and expiry, in no set order; never an id.
   * @throws SessionStoreError when SQLite fails.
   * @example
   * ```ts
   * const sessions = await store.listOwnerSessions('u1');
   * ```
   */
  listOwnerSessions(owner: string): MaybePromise<OwnerSessionRecord[]> {
    return answer(() => {
      if (typeof owner !== 'string') {
        return [];
      }
      const rows = this.#connection.all<ListedRow>('list owner sessions', this.#sql.list, { owner, now: this.#clock.now() });
      return rows.map((row) => ({
        handle: row.handle,
        meta: typeof row.meta === 'string' ? row.meta : undefined,
        expireTime: numberOf(row.expire_time),
        deadline: numberOf(row.deadline),
      }));
    });
  }

  /**
   * Ends one session of an owner by its handle: one `DELETE` that matches the owner too,
   * so a handle of another owner's session ends nothing. A handle of a renewed session
   * (retired) ends its successor, the same device: one `DELETE` more for each renewal
   * followed. A handle that is not one answers `false` before any statement.
   *
   * @param owner - The owner.
   * @param handle - The session's handle, from `listOwnerSessions`.
   * @returns `true` when a live session of that owner was ended.
   * @throws SessionStoreError when SQLite fails.
   * @example
   * ```ts
   * await store.deleteSessionByHandle('u1', handle); // "end this one"
   * ```
   */
  deleteSessionByHandle(owner: string, handle: string): MaybePromise<boolean> {
    return answer(() => {
      if (!isHandle(handle) || typeof owner !== 'string') {
        return false;
      }
      return this.#endChain('delete session by handle', this.#sql.deleteByHandle, handle, owner);
    });
  }

  /**
   * Bounds the live sessions of each owner. From then on a save that files a session under
   * an owner with `max` other live sessions evicts the least recently written of them and
   * calls `evicted`, or writes nothing and rejects with `SessionLimitError`, as the policy
   * says, in one `BEGIN IMMEDIATE` transaction.
   *
   * @param limit - The bound, its policy and the eviction callback.
   * @throws TypeError when `max` is not a positive integer, the policy is unknown, or the
   *   store is bounded differently already.
   * @example
   * ```ts
   * store.limitOwnerSessions({ max: 5, policy: 'evict' });
   * ```
   */
  limitOwnerSessions(limit: OwnerSessionLimit): void {
    this.#bound.set(limit);
  }

  /**
   * The length of the token a save under `id` returns: the id's own.
   *
   * @param id - The session's id.
   * @returns `id.length`.
   * @example
   * ```ts
   * store.tokenLength(id); // id.length: the token is the id
   * ```
   */
  tokenLength(id: string): number {
    return id.length;
  }

  /**
   * Deletes the rows of sessions that have ended, by the store's clock: one `DELETE` on the
   * expiry index.
   *
   * @returns How many rows were deleted.
   * @throws SessionStoreError when SQLite fails.
   * @example
   * ```ts
   * const removed = await store.deleteExpired();
   * ```
   */
  async deleteExpired(): Promise<number> {
    return this.#connection.run('delete expired', this.#sql.deleteExpired, { now: this.#clock.now() });
  }

  /**
   * Stops the `cleanupInterval` timer, if any. The database stays open: it is the app's
   * to close. Calling it again does nothing.
   *
   * @example
   * ```ts
   * const store = new SqliteSessionStore(database, { cleanupInterval: 15 * 60_000 });
   * // on shutdown:
   * store.stopCleanup();
   * database.close();
   * ```
   */
  stopCleanup(): void {
    this.#cleanup.stop();
  }

  /**
   * Inside a bounded write's transaction: the owner's other live sessions, how many are
   * over the bound with one more, and (when the policy evicts) those evicted, least
   * recently written first. Nothing counts when `counts` is false (the session is the
   * owner's already, or not live itself).
   */
  #admit(limit: OwnerSessionLimit, owner: string, token: string, other: string | null, now: number, counts: boolean): Admission {
    if (!counts) {
      return { excess: 0, evicted: [] };
    }
    const others = this.#connection.all<{ token: string }>('save', this.#sql.others, {
      owner,
      token,
      other: other ?? token,
      now,
    });
    const excess = Math.max(others.length - limit.max + 1, 0);
    if (excess === 0 || limit.policy === 'refuse') {
      return { excess, evicted: [] };
    }
    const evicted = others.slice(0, excess).map((row) => row.token);
    this.#connection.run('save', this.#sql.evict, { tokens: JSON.stringify(evicted) });
    return { excess, evicted };
  }

  /**
   * Deletes a row and, while it is a retired row in its grace, the successors it leads to
   * (at most MAX_RENEWAL_STEPS), each one `DELETE`.
   *
   * @returns Whether the chain ended at a live session of its own.
   */
  #endChain(operation: string, compiled: SessionStatements['delete'], first: string, owner: string | null): boolean {
    let next: string | null = first;
    for (let step = 0; step <= MAX_RENEWAL_STEPS && next !== null; step++) {
      const input: Record<string, SqlValue> = { token: next, now: this.#clock.now(), ...(owner === null ? {} : { owner }) };
      const row = this.#connection.get<{ successor: string | null; live: number | bigint }>(operation, compiled, input);
      if (row === undefined || numberOf(row.live) !== 1) {
        // A renewed session past its grace names nothing any more: it leads nowhere.
        return false;
      }
      if (row.successor === null) {
        return true;
      }
      next = row.successor;
    }
    return false;
  }
}

/**
 * Runs a call's work at once (SQLite answers in the calling thread): gives its value
 * itself, with no promise and no turn of the microtask queue, or, when it throws, a
 * promise rejected with the error, so that a caller sees a store's failure as a
 * rejection, as from any other store.
 */
function answer<R>(work: () => R): MaybePromise<R> {
  try {
    return work();
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * The record a loaded row holds, or `undefined` when the row is not served (a retired id
 * past its grace or its chain) or its values are not a JSON object. The D1 store reads
 * the same rows.
 *
 * @internal
 */
export function loadedRecord<T>(row: SessionRow, token: string): LoadedSessionRecord<T> | undefined {
  if (numberOf(row.served) !== 1) {
    return undefined;
  }
  let values: unknown;
  try {
    values = JSON.parse(row.data);
  } catch {
    return undefined;
  }
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    return undefined;
  }
  return {
    id: token,
    values: values as Partial<T>,
    expireTime: numberOf(row.expire_time),
    deadline: numberOf(row.deadline),
    ...(typeof row.meta === 'string' ? { meta: row.meta } : {}),
    ...(row.successor !== null ? { superseded: true } : {}),
  };
}

/**
 * A patch applied to the stored values' JSON text: the keys set replaced or added, the
 * keys unset removed, every other value as it was. `__proto__` stays an own key (as
 * `JSON.parse` made it), never the object's prototype. The D1 store merges the same way
 * when it cannot in SQL.
 *
 * @internal
 */
export function merged<T>(stored: string, patch: SessionPatch<T>): string {
  let values: unknown;
  try {
    values = JSON.parse(stored);
  } catch {
    values = {};
  }
  const base = typeof values === 'object' && values !== null && !Array.isArray(values) ? (values as Record<string, unknown>) : {};
  const changes = JSON.parse(JSON.stringify(patch.set)) as Record<string, unknown>;
  // Keys keep their place; new keys go last, in the patch's order; a key unset goes, even
  // when it is set too.
  const order = new Map<string, unknown>();
  for (const [key, value] of Object.entries(base)) {
    order.set(key, Object.hasOwn(changes, key) ? changes[key] : value);
  }
  for (const [key, value] of Object.entries(changes)) {
    if (!order.has(key)) {
      order.set(key, value);
    }
  }
  for (const key of patch.unset) {
    order.delete(key);
  }
  return JSON.stringify(Object.fromEntries(order));
}
