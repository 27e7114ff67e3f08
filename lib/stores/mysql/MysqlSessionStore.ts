// kit-session/mysql: sessions in a MySQL or MariaDB table, through a mysql2 pool.
import type { Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { systemClock, type Clock } from '../../core/Clock.js';
import { checkOptionKeys } from '../../core/options.js';
import { SessionStoreError } from '../../core/SessionError.js';
import type {
  EvictionReport,
  LoadedSessionRecord,
  OwnerListingSessionStore,
  OwnerSessionLimit,
  OwnerSessionRecord,
  PatchableSessionStore,
  RenewableSessionStore,
  SessionPatch,
  SessionRecord,
  SessionRenewal,
} from '../../core/SessionStore.js';
import {
  checkId,
  checkRenewal,
  EXPIRED_CLEANUP_OPTIONS,
  ExpiredCleanup,
  type ExpiredCleanupOptions,
  isHandle,
  isId,
  isLive,
  MAX_RENEWAL_STEPS,
  OwnerBound,
  resolveTimeout,
  sessionKey,
  storeOperation,
} from '../policy.js';
import {
  LOCK_OWNER,
  qualifiedTable,
  sessionStatements,
  tableSql,
  UNLOCK_OWNER,
  withoutData,
  type SessionStatements,
} from './statements.js';

/**
 * Where the session table lives, for {@link sessionTableSql} and
 * {@link MysqlSessionStoreOptions}.
 */
export interface MysqlTableOptions {
  /**
   * The table's name: a letter or `_`, then letters, digits or `_`, at most 48
   * characters. It is always quoted in backticks.
   * @default 'sessions'
   */
  readonly table?: string;
  /**
   * The database the table is in (same rules as `table`); unset, the connection's
   * current database.
   * @default undefined
   */
  readonly database?: string;
}

/**
 * Options of {@link MysqlSessionStore}.
 */
export interface MysqlSessionStoreOptions extends ExpiredCleanupOptions, MysqlTableOptions {
  /**
   * The longest an operation may take, in milliseconds, waiting for a pooled connection
   * and for row locks included, before it rejects with `SessionStoreError` (cause: an
   * error named `TimeoutError`). The query itself is not cancelled.
   * @default 5000
   */
  readonly timeout?: number;
}

/** Every key of {@link MysqlTableOptions}. */
const TABLE_OPTIONS = ['table', 'database'] as const satisfies readonly (keyof MysqlTableOptions)[];
/** Every key of {@link MysqlSessionStoreOptions}. */
const STORE_OPTIONS = [
  ...TABLE_OPTIONS,
  'timeout',
  ...EXPIRED_CLEANUP_OPTIONS,
] as const satisfies readonly (keyof MysqlSessionStoreOptions)[];

/** The default table name. */
export const DEFAULT_MYSQL_SESSION_TABLE = 'sessions';

/**
 * The SQL that creates the session table and its indexes; safe to run again
 * (`IF NOT EXISTS`). Run it in a migration, or call {@link MysqlSessionStore.createTable}.
 *
 * ```sql
 * CREATE TABLE IF NOT EXISTS `sessions` (
 *   token       CHAR(43) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
 *   data        LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
 *   expire_time BIGINT NOT NULL,
 *   deadline    BIGINT NOT NULL,
 *   end_time    BIGINT AS (LEAST(expire_time, deadline)) STORED,
 *   owner       VARBINARY(1024),
 *   meta        MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
 *   write_time  BIGINT NOT NULL,
 *   successor   CHAR(43) CHARACTER SET ascii COLLATE ascii_bin,
 *   PRIMARY KEY (token),
 *   KEY end_idx (end_time),
 *   KEY owner_idx (owner)
 * ) ENGINE=InnoDB
 * ```
 *
 * `token` is the SHA-256 of the session id (base64url), never the id, and the session's
 * public handle. `data` is the values as the JSON text `JSON.stringify` made, kept byte
 * for byte: not the `JSON` type, which MySQL 8 stores in a binary form and gives back
 * rewritten (keys sorted, numbers and spacing its own) and which MariaDB only aliases to
 * LONGTEXT anyway. Times are BIGINT milliseconds by the store's clock: `expire_time`,
 * `deadline`, `write_time` (the bound evicts the least recently written); `end_time` is
 * generated from the first two, for `deleteExpired`. `owner` is VARBINARY, so owners
 * compare byte for byte (no collation folds case or pads spaces) and at most 1024 bytes
 * of UTF-8 fit. `successor` names the row this one was renewed into (NULL for a session
 * of its own).
 *
 * @param options - The table's name and database.
 * @returns One statement.
 * @throws TypeError when a name breaks the rules of {@link MysqlTableOptions}, or
 *   `options` names an option that does not exist.
 * @example
 * ```ts
 * await pool.query(sessionTableSql({ table: 'app_sessions' }));
 * ```
 */
export function sessionTableSql(options: MysqlTableOptions = {}): string {
  checkOptionKeys('sessionTableSql options', options, TABLE_OPTIONS);
  return tableSql(qualifiedTable(options, DEFAULT_MYSQL_SESSION_TABLE));
}

/** The most bytes of UTF-8 the `owner` column holds. */
const MAX_OWNER_BYTES = 1024;
/** The longest grace kept: about 35 years, in milliseconds. */
const MAX_GRACE = 2 ** 40;
/** How many times a transaction InnoDB chose as a deadlock victim is run again. */
const DEADLOCK_RETRIES = 4;
/**
 * How many times an operation is run again on another connection when the pooled one it
 * got had been closed by the server (after a statement larger than `max_allowed_packet`,
 * the server answers with an error and closes the connection, and mysql2 returns it to
 * the pool all the same: the next operation to borrow it fails on it).
 */
const DEAD_CONNECTION_RETRIES = 2;

/** What a bounded write found: whether it wrote, how many were over the bound, whom it evicted. */
interface Bounded {
  readonly saved: boolean;
  readonly excess: number;
  readonly evicted: readonly string[];
}

type Rows = RowDataPacket[];

/**
 * Keeps sessions in a MySQL or MariaDB table through a `mysql2` pool (`mysql2/promise`),
 * with the guarantees of the PostgreSQL store. Every expiry is compared against the
 * store's clock, given as a parameter; {@link MysqlSessionStore.deleteExpired} removes
 * ended rows, by hand or on an unref'd timer. The schema is {@link sessionTableSql}.
 *
 * **Round trips.** A load is one `SELECT` by primary key (a renewed id, one more that
 * follows its successors). A save without a bound (or without an owner) is one upsert.
 * Every other write is a short InnoDB transaction on a pooled connection, its rows
 * locked with `SELECT … FOR UPDATE`: a patch is `START TRANSACTION`, the locking read,
 * the `UPDATE`, `COMMIT` (four); a renewal the same plus the retirement (five). A save
 * that files a session under an owner on a bounded store first takes the owner's
 * `GET_LOCK` and releases it after (two more, plus the read of the owner's sessions and
 * any eviction). An end of a session is one `DELETE` (more for a renewed one).
 *
 * **No lost updates.** A patch reads the row as it is now under its lock, applies only
 * the keys the request set and unset, and writes it back before the lock is released;
 * a deleted, expired or retired session matches no row, so a patch never brings it back.
 * The merge is done in JavaScript, not with MySQL's JSON functions, so the text stays
 * exactly what `JSON.stringify` wrote on both servers.
 *
 * **The bound per owner** is exact under concurrency: bounded saves of one owner are
 * serialised by `GET_LOCK` on a name hashed from the table and the owner (taken before
 * any row lock, so it never waits in a cycle with one), and each counts the owner's live
 * sessions with a locking read.
 *
 * **Failures.** A query that fails or takes longer than `timeout` rejects with
 * `SessionStoreError`, whose cause is scrubbed of the statement and of every quoted
 * value. A transaction InnoDB rolls back as a deadlock victim runs again, up to four
 * times; an operation given a pooled connection the server had closed (mysql2 keeps one
 * the server closed after a statement over `max_allowed_packet`) runs again on another
 * when nothing of it ran (a read, a write never sent, a transaction before its first
 * statement), up to twice.
 *
 * @typeParam T - The shape of the session's values.
 * @example
 * ```ts
 * import mysql from 'mysql2/promise';
 * import { SessionManager } from 'kit-session';
 * import { MysqlSessionStore } from 'kit-session/mysql';
 *
 * const pool = mysql.createPool(process.env.MYSQL_URL!);
 * const store = new MysqlSessionStore(pool, { cleanupInterval: 15 * 60_000 });
 * await store.createTable();
 * const manager = new SessionManager<{ userId: string }>(store, { ownerKey: 'userId' });
 * ```
 */
export class MysqlSessionStore<T = Record<string, unknown>>
  implements PatchableSessionStore<T>, RenewableSessionStore<T>, OwnerListingSessionStore<T>
{
  readonly #pool: Pool;
  readonly #table: string;
  readonly #timeout: number;
  readonly #clock: Clock;
  readonly #sql: SessionStatements;
  readonly #bound = new OwnerBound();
  /** The last end of each owner's sessions still under way: ends of one owner run in call order. */
  readonly #ends = new Map<string, Promise<unknown>>();
  readonly #cleanup: ExpiredCleanup;

  /**
   * @param pool - A `mysql2/promise` pool, owned by the app (the store never ends it).
   * @param options - See {@link MysqlSessionStoreOptions}.
   * @param clock - The source of time for expiry.
   * @throws TypeError when the pool has no `query` or `getConnection` method, an option
   *   is invalid, or `options` names an option that does not exist.
   */
  constructor(pool: Pool, options: MysqlSessionStoreOptions = {}, clock?: Clock) {
    checkOptionKeys('MysqlSessionStore options', options, STORE_OPTIONS);
    if (
      pool === null ||
      typeof pool !== 'object' ||
      typeof pool.query !== 'function' ||
      typeof pool.getConnection !== 'function'
    ) {
      throw new TypeError('pool must be a mysql2/promise pool');
    }
    this.#table = qualifiedTable(options, DEFAULT_MYSQL_SESSION_TABLE);
    this.#timeout = resolveTimeout(options.timeout);
    this.#pool = pool;
    this.#clock = clock ?? systemClock;
    this.#sql = sessionStatements(this.#table, MAX_RENEWAL_STEPS);
    this.#cleanup = new ExpiredCleanup(options, () => this.deleteExpired());
  }

  /**
   * Creates the session table and its indexes if they do not exist: runs
   * {@link sessionTableSql} for this store's table (`CREATE TABLE IF NOT EXISTS` is safe
   * when several app instances start at once).
   *
   * @throws SessionStoreError when the server fails or does not answer within `timeout`.
   * @example
   * ```ts
   * await new MysqlSessionStore(pool).createTable();
   * ```
   */
  async createTable(): Promise<void> {
    await this.#query('create table', tableSql(this.#table), []);
  }

  /**
   * Loads a session: one `SELECT` by primary key. A renewed id is given, marked
   * `superseded`, only while it and its successors (up to a session of its own within
   * four renewals) are live: a second statement reads that chain, for a retired row only.
   *
   * @param token - The session's id.
   * @returns The record, or `undefined` when the token is unknown, malformed, not live
   *   by the store's clock, or names a retired session no longer served.
   * @throws SessionStoreError when the server fails or does not answer within `timeout`.
   * @example
   * ```ts
   * const record = await store.getSession(token); // undefined when unknown or expired
   * ```
   */
  async getSession(token: string): Promise<LoadedSessionRecord<T> | undefined> {
    if (!isId(token)) {
      return undefined;
    }
    const key = sessionKey(token);
    const [row] = await this.#query<Rows>('load', this.#sql.get, [key]);
    if (row === undefined) {
      return undefined;
    }
    const now = this.#clock.now();
    const record = { expireTime: Number(row.expire_time), deadline: Number(row.deadline) };
    if (!isLive(record, now)) {
      return undefined;
    }
    const superseded = row.successor !== null;
    if (superseded) {
      const chain = await this.#query<Rows>('load', this.#sql.chain, [key]);
      const served = chain.every((link) => Number(link.end_time) > now) && chain.some((link) => link.successor === null);
      if (!served) {
        return undefined;
      }
    }
    let values: unknown;
    try {
      values = JSON.parse(String(row.data));
    } catch {
      return undefined;
    }
    if (typeof values !== 'object' || values === null || Array.isArray(values)) {
      return undefined;
    }
    return {
      id: token,
      values: values as Partial<T>,
      ...record,
      ...(typeof row.meta === 'string' ? { meta: row.meta } : {}),
      ...(superseded ? { superseded: true } : {}),
    };
  }

  /**
   * Saves a session, replacing what was kept under its id: one upsert. On a store with a
   * bound, a save with an owner is one short transaction under the owner's lock that
   * makes room for it or refuses it.
   *
   * @param id - The session's id.
   * @param record - The values, expiry and metadata.
   * @param owner - The session's owner, for {@link MysqlSessionStore.deleteOwnerSessions}.
   * @param report - Told whom the save evicted; else the bound's own `evicted` is.
   * @returns The id, which is the token.
   * @throws TypeError when the id is not 1 to 256 characters of base64url.
   * @throws SessionLimitError when the bound refuses a new session of the owner; nothing
   *   was written.
   * @throws SessionStoreError when the server fails or does not answer within `timeout`,
   *   or the owner does not fit the table (over 1024 bytes, or not well-formed UTF-16).
   * @example
   * ```ts
   * const token = await store.setSession(id, { values: { userId: 'u1' }, expireTime, deadline }, 'u1'); // token === id
   * ```
   */
  async setSession(id: string, record: SessionRecord<T>, owner?: string, report?: EvictionReport): Promise<string> {
    checkId(id);
    const token = sessionKey(id);
    const now = this.#clock.now();
    const row = [token, JSON.stringify(record.values), record.expireTime, record.deadline, owned(owner), record.meta ?? null, now];
    const limit = this.#bound.limit;
    if (owner === undefined || limit === undefined) {
      await this.#query('save', this.#sql.set, row);
      return id;
    }
    const result = await this.#transaction('save', owner, async (run) => {
      const [self] = await run(this.#sql.lockRow, [owner, now, token]);
      const holds = self !== undefined && flag(self.mine) && flag(self.own) && flag(self.live);
      const bounded = holds || !isLive(record, now) ? none : await this.#makeRoom(run, limit, owner, [token, token], now);
      if (bounded.saved) {
        await run(this.#sql.set, row);
      }
      return bounded;
    });
    this.#bound.settle(owner, result.excess, result.evicted, report);
    return id;
  }

  /**
   * Applies the values one request set and unset on top of the stored ones, in one short
   * transaction: the row is read under its lock, merged, and written back. Without
   * `owner` the patch keeps the owner the row holds now; `owner: null` clears it; without
   * `meta` it keeps the metadata. On a store with a bound, a patch that names an owner
   * runs under the owner's lock and makes room or refuses.
   *
   * @param id - The session's id.
   * @param patch - What changed.
   * @returns The id, or `undefined` when the session is gone, not live or renewed.
   * @throws TypeError when the id is not 1 to 256 characters of base64url.
   * @throws SessionLimitError when the bound refuses to file the session under its new
   *   owner; nothing was written.
   * @throws SessionStoreError when the server fails or does not answer within `timeout`.
   * @example
   * ```ts
   * const token = await store.patchSession(id, { set: { visits: 2 }, unset: ['flash'], expireTime, deadline });
   * // undefined: the session was deleted or expired meanwhile, and nothing was written
   * ```
   */
  async patchSession(id: string, patch: SessionPatch<T>): Promise<string | undefined> {
    checkId(id);
    const token = sessionKey(id);
    const now = this.#clock.now();
    const { owner } = patch;
    const set = JSON.parse(JSON.stringify(patch.set ?? {})) as Record<string, unknown>;
    const ownerColumn = owner === undefined ? undefined : owned(owner);
    const limit = typeof owner === 'string' ? this.#bound.limit : undefined;
    const lockOwner = typeof owner === 'string' && limit !== undefined ? owner : undefined;
    const result = await this.#transaction<Bounded>('save', lockOwner, async (run) => {
      // The row as it is now, under its lock: only a live session of its own.
      const [self] = await run(this.#sql.lockPatch, [owner ?? null, token, now]);
      if (self === undefined) {
        return { saved: false, excess: 0, evicted: [] };
      }
      // A row that holds no JSON object (written by hand) loads as nothing: it patches as nothing.
      const values = merge(String(self.data), set, patch.unset);
      if (values === undefined) {
        return { saved: false, excess: 0, evicted: [] };
      }
      const bounded =
        lockOwner !== undefined && limit !== undefined && !flag(self.mine)
          ? await this.#makeRoom(run, limit, lockOwner, [token, token], now)
          : none;
      if (bounded.saved) {
        const changes = [values, patch.expireTime, patch.deadline];
        const rest = [patch.meta ?? null, now, token];
        await (ownerColumn === undefined
          ? run(this.#sql.updateKeepOwner, [...changes, ...rest])
          : run(this.#sql.update, [...changes, ownerColumn, ...rest]));
      }
      return bounded;
    });
    if (lockOwner !== undefined) {
      this.#bound.settle(lockOwner, result.excess, result.evicted, patch.evicted);
    }
    return result.saved ? id : undefined;
  }

  /**
   * Renews a session atomically (see `RenewableSessionStore.renewSession`): one short
   * transaction locks the old row when it is live and of its own, writes the successor,
   * and retires the old row (its `successor` set, its expiry cut to `now + grace`) or,
   * with no grace, deletes it. On a store with a bound, a renewal with an owner runs
   * under that owner's lock: the successor of the owner's own session takes its place;
   * any other is bounded as a new session.
   *
   * @param id - The session's current id.
   * @param newId - The successor's id.
   * @param renewal - The successor's record and owner, and the grace of the old id.
   * @returns The new id, or `undefined` when the old id is not live (nothing written).
   * @throws TypeError when `newId` is not 1 to 256 characters of base64url, or is `id`.
   * @throws SessionLimitError when the owner's bound refuses the successor.
   * @throws SessionStoreError when the server fails or does not answer within `timeout`.
   * @example
   * ```ts
   * const token = await store.renewSession(oldId, newId, { record, owner: 'u1', grace: 30_000 });
   * ```
   */
  async renewSession(id: string, newId: string, renewal: SessionRenewal<T>): Promise<string | undefined> {
    if (!checkRenewal(id, newId)) {
      return undefined;
    }
    const { record, owner } = renewal;
    const token = sessionKey(id);
    const newToken = sessionKey(newId);
    const now = this.#clock.now();
    // NaN, a negative or no grace: the old row goes at once.
    const grace = renewal.grace > 0 ? Math.min(renewal.grace, MAX_GRACE) : 0;
    const row = [newToken, JSON.stringify(record.values), record.expireTime, record.deadline, owned(owner), record.meta ?? null, now];
    const limit = owner === undefined ? undefined : this.#bound.limit;
    const result = await this.#transaction('renew', limit === undefined ? undefined : owner, async (run) => {
      const [old] = await run(this.#sql.lockRow, [owner ?? null, now, token]);
      if (old === undefined || !flag(old.own) || !flag(old.live)) {
        return { saved: false, excess: 0, evicted: [] };
      }
      const bounded =
        limit !== undefined && !flag(old.mine) && isLive(record, now)
          ? await this.#makeRoom(run, limit, owner!, [token, newToken], now)
          : none;
      if (!bounded.saved) {
        return bounded;
      }
      await run(this.#sql.set, row);
      await (grace > 0 ? run(this.#sql.retire, [newToken, now + grace, token]) : run(this.#sql.deleteOwn, [token]));
      return bounded;
    });
    if (limit !== undefined) {
      this.#bound.settle(owner!, result.excess, result.evicted, renewal.evicted);
    }
    return result.saved ? newId : undefined;
  }

  /**
   * Forgets a session: one `DELETE`. A retired id still in its grace ends its successor
   * too (a log-out racing a renewal wins): a few statements more per renewal followed.
   *
   * @param id - The session's id; unknown and malformed ids are fine.
   * @throws SessionStoreError when the server fails or does not answer within `timeout`.
   * @example
   * ```ts
   * await store.deleteSession(id);
   * ```
   */
  async deleteSession(id: string): Promise<void> {
    if (!isId(id)) {
      return;
    }
    let next: string | null = sessionKey(id);
    for (let step = 0; step <= MAX_RENEWAL_STEPS && next !== null; step++) {
      next = await this.#end(next, undefined);
    }
  }

  /**
   * Deletes every session of one owner, in one short transaction that locks the owner's
   * rows, but the one named by `keep` and what it was renewed into. Retired rows renewed
   * within the owner stay (they stop being served with their successor); those renewed
   * into another owner's session go too, uncounted. When a row was renewed while the
   * transaction waited for it, it runs again, so the successor ends too.
   *
   * @param owner - The owner.
   * @param keep - Optional: the handle of a session to leave alone.
   * @returns How many live sessions were ended.
   * @throws SessionStoreError when the server fails or does not answer within `timeout`.
   * @example
   * ```ts
   * const ended = await store.deleteOwnerSessions('u1'); // "log out everywhere"
   * ```
   */
  async deleteOwnerSessions(owner: string, keep?: string): Promise<number> {
    if (!holdable(owner)) {
      return 0;
    }
    const kept = isHandle(keep) ? keep : undefined;
    return this.#inOrder(owner, async () => {
      let ended = 0;
      for (let run = 0; run <= MAX_RENEWAL_STEPS; run++) {
        const { live, missed } = await this.#transaction('delete owner sessions', undefined, async (query) => {
          const rows = await query(this.#sql.lockOwnerRows, [this.#clock.now(), owner]);
          const byToken = new Map(rows.map((row) => [String(row.token), row]));
          const spared = new Set<string>();
          for (let next = kept, step = 0; next !== undefined && step <= MAX_RENEWAL_STEPS; step++) {
            spared.add(next);
            const successor = byToken.get(next)?.successor as string | null | undefined;
            next = successor ?? undefined;
          }
          // A retired row whose successor is not among the owner's rows: renewed into
          // another owner's session, or renewed while this waited for its lock.
          const gone = rows.filter(
            (row) => !spared.has(String(row.token)) && (row.successor === null || !byToken.has(String(row.successor))),
          );
          if (gone.length > 0) {
            await query(this.#sql.deleteTokens, [gone.map((row) => String(row.token))]);
          }
          return {
            live: gone.filter((row) => row.successor === null && flag(row.live)).length,
            missed: gone.some((row) => row.successor !== null),
          };
        });
        ended += live;
        if (!missed) {
          break;
        }
      }
      return ended;
    });
  }

  /**
   * Lists the live sessions of one owner: one `SELECT` on the owner index.
   *
   * @param owner - The owner.
   * @returns Each live session's handle, metadata and expiry, in no set order; never an id.
   * @throws SessionStoreError when the server fails or does not answer within `timeout`.
   * @example
   * ```ts
   * const sessions = await store.listOwnerSessions('u1');
   * ```
   */
  async listOwnerSessions(owner: string): Promise<OwnerSessionRecord[]> {
    if (!holdable(owner)) {
      return [];
    }
    const rows = await this.#query<Rows>('list owner sessions', this.#sql.list, [owner, this.#clock.now()]);
    return rows.map((row) => ({
      handle: String(row.handle),
      meta: typeof row.meta === 'string' ? row.meta : undefined,
      expireTime: Number(row.expire_time),
      deadline: Number(row.deadline),
    }));
  }

  /**
   * Ends one session of an owner by its handle: one `DELETE` that matches the owner too.
   * A handle of a renewed session ends its successor, the same device (a few statements
   * more per renewal followed). A handle that is not one answers `false` before any query.
   *
   * @param owner - The owner.
   * @param handle - The session's handle, from `listOwnerSessions`.
   * @returns `true` when a live session of that owner was ended.
   * @throws SessionStoreError when the server fails or does not answer within `timeout`.
   * @example
   * ```ts
   * await store.deleteSessionByHandle('u1', handle); // "end this one"
   * ```
   */
  async deleteSessionByHandle(owner: string, handle: string): Promise<boolean> {
    if (!isHandle(handle) || !holdable(owner)) {
      return false;
    }
    return this.#inOrder(owner, async () => {
      let next: string | null = handle;
      for (let step = 0; step <= MAX_RENEWAL_STEPS && next !== null; step++) {
        const now = this.#clock.now();
        const done = await this.#query<ResultSetHeader>('delete session by handle', this.#sql.deleteLiveOfOwner, [
          next,
          owner,
          now,
        ]);
        if (done.affectedRows > 0) {
          return true;
        }
        next = await this.#end(next, owner);
      }
      return false;
    });
  }

  /**
   * Bounds the live sessions of each owner: from then on a save that files a session
   * under an owner with `max` other live sessions evicts the least recently written of
   * them, or writes nothing and rejects with `SessionLimitError`, as the policy says.
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
   * Deletes the rows of sessions that have ended, by the store's clock: one `DELETE` on
   * the `end_time` index.
   *
   * @returns How many rows were deleted.
   * @throws SessionStoreError when the server fails or does not answer within `timeout`.
   * @example
   * ```ts
   * const removed = await store.deleteExpired();
   * ```
   */
  async deleteExpired(): Promise<number> {
    const result = await this.#query<ResultSetHeader>('delete expired', this.#sql.deleteExpired, [this.#clock.now()]);
    return result.affectedRows;
  }

  /**
   * Stops the `cleanupInterval` timer, if any. The pool stays open: it is the app's to
   * end. Calling it again does nothing.
   *
   * @example
   * ```ts
   * store.stopCleanup();
   * await pool.end();
   * ```
   */
  stopCleanup(): void {
    this.#cleanup.stop();
  }

  /**
   * Ends one row (of `owner`, when given): a session of its own in one `DELETE`; a
   * retired row is deleted and, while in its grace, names its successor to end next.
   */
  async #end(token: string, owner: string | undefined): Promise<string | null> {
    if (owner === undefined) {
      const done = await this.#query<ResultSetHeader>('delete', this.#sql.deleteOwn, [token]);
      if (done.affectedRows > 0) {
        return null;
      }
    }
    const now = this.#clock.now();
    const [row] =
      owner === undefined
        ? await this.#query<Rows>('delete', this.#sql.peek, [now, token])
        : await this.#query<Rows>('delete session by handle', this.#sql.peekOfOwner, [now, token, owner]);
    if (row === undefined) {
      return null;
    }
    if (row.successor === null) {
      // Written again meanwhile, or (by handle) of its own but not live: it goes, counted as nothing.
      await (owner === undefined
        ? this.#query('delete', this.#sql.deleteOwn, [token])
        : this.#query('delete session by handle', this.#sql.deleteOwnOfOwner, [token, owner]));
      return null;
    }
    const successor = String(row.successor);
    await this.#query('delete', this.#sql.deleteRetired, [token, successor]);
    return flag(row.live) ? successor : null;
  }

  /**
   * Inside a bounded write: reads the owner's other live sessions under their locks and
   * evicts the least recently written when the policy says so.
   */
  async #makeRoom(
    run: Run,
    limit: OwnerSessionLimit,
    owner: string,
    self: readonly [string, string],
    now: number,
  ): Promise<Bounded> {
    const others = await run(this.#sql.others, [owner, self[0], self[1], now]);
    const excess = Math.max(others.length - limit.max + 1, 0);
    if (excess === 0) {
      return none;
    }
    if (limit.policy === 'refuse') {
      return { saved: false, excess, evicted: [] };
    }
    const evicted = others.slice(0, excess).map((row) => String(row.token));
    await run(this.#sql.evict, [evicted]);
    return { saved: true, excess, evicted };
  }

  /**
   * Runs an end of an owner's sessions after the ends of that owner called before it
   * have settled, so that two ends called one after the other reach the server in that
   * order. Costs no round trip.
   */
  #inOrder<R>(owner: string, work: () => Promise<R>): Promise<R> {
    const previous = this.#ends.get(owner);
    const run = previous === undefined ? work() : previous.then(work);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.#ends.set(owner, settled);
    void settled.then(() => {
      if (this.#ends.get(owner) === settled) {
        this.#ends.delete(owner);
      }
    });
    return run;
  }

  /**
   * Runs `work` in one transaction on a pooled connection, against the store's timeout:
   * with `owner`, under that owner's `GET_LOCK` (taken before the transaction, released
   * after). A deadlock victim runs again; a connection that cannot roll back is destroyed.
   */
  #transaction<R>(operation: string, owner: string | undefined, work: (run: Run) => Promise<R>): Promise<R> {
    const lock = owner === undefined ? undefined : `kit-session:${sessionKey(`${this.#table}\u0000${owner}`)}`;
    return storeOperation(
      `mysql session store: ${operation}`,
      this.#timeout,
      async () => {
        let deadRetries = 0;
        for (let attempt = 0; ; attempt++) {
          const connection: PoolConnection = await this.#pool.getConnection();
          const run: Run = async (sql, values) => (await connection.query(sql, values))[0] as Rows;
          let broken = false;
          let locked = false;
          // Whether a statement has run on this connection: a connection found dead before
          // any did was dead in the pool, and the operation runs again on another.
          let used = false;
          try {
            if (lock !== undefined) {
              const [row] = await run(LOCK_OWNER, [lock, Math.ceil(this.#timeout / 1000)]);
              if (Number(row?.locked) !== 1) {
                throw new Error("the owner's lock was not granted in time");
              }
              locked = true;
              used = true;
            }
            await connection.query('START TRANSACTION');
            used = true;
            const result = await work(run);
            await connection.query('COMMIT');
            return result;
          } catch (error) {
            await connection.query('ROLLBACK').catch(() => {
              broken = true;
            });
            if (!broken && attempt < DEADLOCK_RETRIES && isDeadlock(error)) {
              continue;
            }
            // Nothing ran on it: a connection the pool gave dead. (One that dies later, killed
            // mid-transaction, fails the operation: it is not run again behind the caller's back.)
            if (broken && !used && deadRetries++ < DEAD_CONNECTION_RETRIES && isConnectionLost(error)) {
              continue;
            }
            throw error;
          } finally {
            if (locked && !broken) {
              await connection.query(UNLOCK_OWNER, [lock]).catch(() => {
                broken = true;
              });
            }
            if (broken) {
              connection.destroy();
            } else {
              connection.release();
            }
          }
        }
      },
      withoutData,
    );
  }

  /**
   * Runs one statement through the pool against the store's timeout. A statement InnoDB
   * rolled back as a deadlock's victim (a DELETE waiting behind a renewal that inserts
   * into the owner index) had no effect, and runs again.
   */
  #query<R extends Rows | ResultSetHeader>(operation: string, sql: string, values: unknown[]): Promise<R> {
    return storeOperation(
      `mysql session store: ${operation}`,
      this.#timeout,
      async () => {
        let deadRetries = 0;
        for (let attempt = 0; ; attempt++) {
          try {
            return (await this.#pool.query(sql, values))[0] as R;
          } catch (error) {
            // A dead pooled connection (mysql2 drops it from the pool on this error): a read
            // runs again anywhere; a write only when it was never sent.
            const unsent = isConnectionLost(error) && (READ.test(sql) || (error as { syscall?: unknown }).syscall === 'write');
            if (unsent && deadRetries++ < DEAD_CONNECTION_RETRIES) {
              continue;
            }
            if (attempt >= DEADLOCK_RETRIES || !isDeadlock(error)) {
              throw error;
            }
          }
        }
      },
      withoutData,
    );
  }
}

/** One statement on a transaction's connection, answering its rows. */
type Run = (sql: string, values: unknown[]) => Promise<Rows>;

/** Whether InnoDB chose the statement's transaction as a deadlock's victim and rolled it back. */
/** A statement that only reads: safe to run again. */
const READ = /^\s*(?:SELECT|WITH)\b/i;

/** Whether the connection a statement ran on had been closed (mysql2 marks the error fatal). */
function isConnectionLost(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) {
    return false;
  }
  const { fatal, code } = error as { fatal?: unknown; code?: unknown };
  return fatal === true && (code === 'ECONNRESET' || code === 'EPIPE' || code === 'PROTOCOL_CONNECTION_LOST');
}

function isDeadlock(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { errno?: unknown }).errno === 1213;
}

/** A bounded write that found room without evicting. */
const none: Bounded = { saved: true, excess: 0, evicted: [] };

/** A 0/1 column as mysql2 gives it (a number, or text when the app asks for strings). */
function flag(value: unknown): boolean {
  return Number(value) === 1;
}

/** Whether the `owner` column can hold an owner: well-formed UTF-16, at most 1024 bytes of UTF-8. */
function holdable(owner: unknown): owner is string {
  return (
    typeof owner === 'string' &&
    (owner as string & { isWellFormed(): boolean }).isWellFormed() &&
    Buffer.byteLength(owner, 'utf8') <= MAX_OWNER_BYTES
  );
}

/**
 * The owner as the `owner` column takes it. One it cannot hold fails the save, as a
 * value PostgreSQL cannot hold does there: a lone surrogate would be written as U+FFFD and
 * merge owners that differ.
 */
function owned(owner: string | null | undefined): string | null {
  if (owner === undefined || owner === null) {
    return null;
  }
  if (!holdable(owner)) {
    throw new SessionStoreError('mysql session store: the owner does not fit the owner column', {
      cause: new TypeError('an owner must be well-formed UTF-16 of at most 1024 bytes of UTF-8'),
    });
  }
  return owner;
}

/**
 * A patch applied to the stored JSON text: each set key replaced in place (or added at
 * the end), each unset key removed. Keys are defined, never assigned, so `__proto__` is a
 * key like any other. `undefined` when the text is not a JSON object (its parse error,
 * which quotes the text, is never thrown).
 */
function merge(data: string, set: Record<string, unknown>, unset: readonly string[]): string | undefined {
  let values: Record<string, unknown>;
  try {
    values = JSON.parse(data) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    return undefined;
  }
  for (const key of unset) {
    delete values[key];
  }
  for (const key of Object.keys(set)) {
    Object.defineProperty(values, key, { value: set[key], enumerable: true, writable: true, configurable: true });
  }
  return JSON.stringify(values);
}
