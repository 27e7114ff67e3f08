import type { Pool, PoolClient, QueryResult, QueryResultRow } from 'pg';
import { systemClock, type Clock } from '../../core/Clock.js';
import { checkOptionKeys } from '../../core/options.js';
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
  resolveTimeout,
  sessionKey,
  storeOperation,
} from '../policy.js';
import { guardedCreate, qualifiedTable, withoutData } from './tables.js';
import {
  boundedPatchArgs,
  boundedRenewArgs,
  boundedSetArgs,
  deleteArgs,
  deleteByHandleArgs,
  deleteExpiredArgs,
  deleteOwnerArgs,
  getArgs,
  listArgs,
  lockOwnerSql,
  patchArgs,
  renewArgs,
  servedArgs,
  sessionStatements,
  setArgs,
  tableSql,
  type SessionStatements,
} from './statements.js';
import type {
  LoadedSessionRecord,
  OwnerListingSessionStore,
  EvictionReport,
  OwnerSessionLimit,
  OwnerSessionRecord,
  PatchableSessionStore,
  RenewableSessionStore,
  SessionPatch,
  SessionRecord,
  SessionRenewal,
} from '../../core/SessionStore.js';

/**
 * Where the session table lives, for {@link sessionTableSql} and
 * {@link PostgresSessionStoreOptions}.
 */
export interface SessionTableOptions {
  /**
   * The table's name: a letter or `_`, then letters, digits or `_`, at most 48
   * characters. It is always quoted, so it is case-sensitive.
   * @default 'sessions'
   */
  readonly table?: string;
  /**
   * The schema the table is in (same rules as `table`); unset, PostgreSQL's
   * `search_path` decides.
   * @default undefined
   */
  readonly schema?: string;
}

/**
 * Options of {@link PostgresSessionStore}.
 */
export interface PostgresSessionStoreOptions extends ExpiredCleanupOptions, SessionTableOptions {
  /**
   * The longest a query may take, in milliseconds, waiting for a pooled connection
   * included, before it rejects with `SessionStoreError` (cause: an error named
   * `TimeoutError`). The query itself is not cancelled: set the pool's
   * `statement_timeout` too if it should be.
   * @default 5000
   */
  readonly timeout?: number;
}

/** Every key of {@link SessionTableOptions}. */
const TABLE_OPTIONS = ['table', 'schema'] as const satisfies readonly (keyof SessionTableOptions)[];
/** Every key of {@link PostgresSessionStoreOptions}. */
const STORE_OPTIONS = [
  ...TABLE_OPTIONS,
  'timeout',
  ...EXPIRED_CLEANUP_OPTIONS,
] as const satisfies readonly (keyof PostgresSessionStoreOptions)[];

/** The default table name. */
export const DEFAULT_SESSION_TABLE = 'sessions';

/**
 * The SQL that creates the session table and its indexes, and brings a table made by an
 * earlier version up to date; safe to run again (`IF NOT EXISTS`). Run it in a
 * migration, or call {@link PostgresSessionStore.createTable}.
 *
 * ```sql
 * CREATE TABLE IF NOT EXISTS "sessions" (
 *   token       text        PRIMARY KEY,
 *   data        jsonb       NOT NULL,
 *   expire_time timestamptz NOT NULL,
 *   deadline    timestamptz NOT NULL,
 *   owner       text,
 *   meta        text,
 *   write_time  timestamptz NOT NULL DEFAULT now(),
 *   successor   text
 * );
 * -- A table made before meta, write_time or successor existed gets them (only then: the
 * -- ALTER takes an ACCESS EXCLUSIVE lock, so it does not run when nothing is missing).
 * DO $$ BEGIN
 *   IF (SELECT count(*) FROM pg_attribute WHERE attrelid = '"sessions"'::regclass
 *       AND attname IN ('meta', 'write_time', 'successor') AND NOT attisdropped) < 3 THEN
 *     ALTER TABLE "sessions" ADD COLUMN IF NOT EXISTS meta text,
 *       ADD COLUMN IF NOT EXISTS write_time timestamptz NOT NULL DEFAULT now(),
 *       ADD COLUMN IF NOT EXISTS successor text;
 *   END IF;
 * END $$;
 * CREATE INDEX IF NOT EXISTS "sessions_expiry_idx" ON "sessions" (least(expire_time, deadline));
 * CREATE INDEX IF NOT EXISTS "sessions_owner_idx" ON "sessions" (owner) WHERE owner IS NOT NULL;
 * ```
 *
 * `token` is the SHA-256 of the session id (base64url, 43 characters), never the id
 * itself, so that whoever reads the table, a backup or a replica holds nothing that
 * works as a cookie; it is also the session's public handle (`listOwnerSessions`).
 * `data` holds the values, `expire_time` when the session ends unless activity extends
 * it, `deadline` its absolute end, `owner` who it belongs to (for "log out
 * everywhere"), `meta` the manager's metadata text (never read by the store),
 * `write_time` when the store last wrote the row (by its clock: the bound on an owner's
 * sessions evicts the least recently written), `successor` the `token` of the session
 * this one was renewed into (`renewSession`): NULL for a session of its own; set, the
 * row is *retired*, served read-only until its `expire_time` (the renewal's grace) while
 * its successor lives, and never listed, counted, patched or renewed. A row counts only
 * while `least(expire_time, deadline)` is in the future, which the first index serves
 * for `deleteExpired`.
 *
 * @param options - The table's name and schema.
 * @returns The SQL, statements separated by `;`.
 * @throws TypeError when a name breaks the rules of {@link SessionTableOptions}, or
 *   `options` names an option that does not exist.
 * @example
 * ```ts
 * await pool.query(sessionTableSql({ table: 'app_sessions' }));
 * ```
 */
export function sessionTableSql(options: SessionTableOptions = {}): string {
  checkOptionKeys('sessionTableSql options', options, TABLE_OPTIONS);
  return tableSql(qualifiedTable(options, DEFAULT_SESSION_TABLE));
}

interface SessionRow extends QueryResultRow {
  data: unknown;
  expire_time: number;
  deadline: number;
  meta: string | null;
  successor: string | null;
}

interface ListedRow extends QueryResultRow {
  handle: string;
  meta: string | null;
  expire_time: number;
  deadline: number;
}

/** What a bounded save answers: whether it wrote, how many it had to make room for, whom it evicted. */
interface BoundedRow extends QueryResultRow {
  saved: number;
  excess: number;
  evicted: string[];
}

/**
 * Keeps sessions in a PostgreSQL table through a `pg.Pool`, for apps that already run
 * PostgreSQL. An expired row is given back as it is (the manager never serves it, and
 * reports it as expired); every write, listing and count compares against the store's
 * clock, given as a parameter, not `now()`; {@link PostgresSessionStore.deleteExpired}
 * removes them, by hand or on an unref'd timer (`cleanupInterval`). The schema is
 * {@link sessionTableSql}.
 *
 * **Layout.** One row per session. Its primary key `token` holds the SHA-256 of the
 * session id (base64url), never the id itself: anyone who reads the table, a backup
 * (`pg_dump`) or a replica cannot use what they read as a cookie. The id has 256 random
 * bits, so the hash needs no salt; a load hashes the cookie's id and looks that up. The
 * same hash is the session's public handle in `listOwnerSessions`.
 *
 * **No lost updates.** `patchSession` is one statement,
 * `UPDATE … SET data = (data || $set) - $unset::text[] … WHERE token = $1 AND <not expired>`:
 * PostgreSQL locks the row, and a concurrent update of the same row waits, then
 * re-reads the row and applies its own keys on top of the other's (READ COMMITTED
 * re-evaluates the `SET` against the newest row version). Each request keeps the
 * values it set; when two set the same value, the later save wins; a deleted or
 * expired session updates no row, so a patch never brings it back. `setSession` is an
 * upsert (`INSERT … ON CONFLICT (token) DO UPDATE`). Every write is one statement (or,
 * for a bounded owner, one transaction), so a failure never leaves a session
 * half-written.
 *
 * **Owners.** The `owner` column (indexed) names the session's owner;
 * `deleteOwnerSessions` is one `DELETE … WHERE owner = $1` that counts the rows still
 * live by the store's clock, `listOwnerSessions` one `SELECT`, `deleteSessionByHandle`
 * one `DELETE … WHERE token = $handle AND owner = $owner`. A patch without `owner`
 * leaves the column as it is now (a concurrent request may have set it); `owner: null`
 * clears it. Each of these is one statement, so it is atomic against a concurrent
 * patch: the patch either lands first and is deleted with the row, or finds no row and
 * writes nothing.
 *
 * **Renewal** ({@link PostgresSessionStore.renewSession}) is one statement: it locks the
 * old row (`SELECT … FOR UPDATE` in a CTE) when it is live and of its own, writes the
 * successor from it, and retires it (`successor` = the successor's token, `expire_time`
 * cut to `now + grace`) or, with no grace, deletes it. A concurrent patch or renewal of
 * the old id waits for the lock, then finds a retired row and writes nothing; one that
 * went first is seen (READ COMMITTED re-checks the row it waited for). An end that waited
 * for the lock deletes the retired row, or skips it, and its snapshot predates the
 * successor: `deleteSessionByHandle` then ends the successor it names (each later
 * renewal one statement more), and `deleteOwnerSessions`, which sees that a row changed
 * under it, runs again. A retired row keeps its owner, so that its handle still ends its
 * successor, but every query that lists, counts, bounds or ends an owner's sessions
 * reads `successor IS NULL`. `getSession` stays one `SELECT` by primary key; for a
 * retired row (only then) a second statement follows its successors (`WITH RECURSIVE`,
 * at most 4 steps) and the record is given, with `superseded: true`, while every row of
 * that chain is live (read in the first statement, it would cost every load the planning
 * of a recursive query).
 * On a store with a bound, a renewal that files its successor under an owner is one
 * short transaction under that owner's lock, as any bounded save: the successor of the
 * owner's own session takes its place and counts nothing; a log-in (an anonymous session
 * renewed into an owner's) is bounded as a new session.
 *
 * **The bound per owner** ({@link PostgresSessionStore.limitOwnerSessions}). A save that
 * files a session under an owner (`setSession` with an owner, a patch that names one)
 * runs, on a store with a bound, as one short transaction on a pooled connection:
 * `BEGIN` and `pg_advisory_xact_lock` keyed by the table and the owner (one round trip),
 * then one statement that counts the owner's other live rows, evicts the least recently
 * written (`write_time`) or writes nothing, and writes the session (one round trip), then
 * `COMMIT` (one round trip). The lock serialises the bounded saves of one owner, and
 * each counts with a snapshot taken after the previous one committed, so the bound is
 * exact under concurrent log-ins. Saves without an owner, patches that leave the owner
 * alone, and every save of a store without a bound stay one statement.
 *
 * **Failures.** A query that fails or takes longer than `timeout` rejects with
 * `SessionStoreError`; the pool replaces broken connections, so the next request works
 * once the server answers again. If the pool has no `'error'` listener when the store
 * is built, the store adds one that ignores errors of idle connections (the pool has
 * already dropped them): without any listener, node-postgres would crash the process
 * when the server ends an idle connection. Add your own listener to log them.
 *
 * Values are kept as `jsonb`: PostgreSQL refuses the character U+0000 and lone UTF-16
 * surrogates in text, so a value holding them fails to save (`SessionStoreError`).
 * With `EncryptingStoreDecorator` and `encryptValues`, values are sealed text and this
 * never happens.
 *
 * @typeParam T - The shape of the session's values.
 * @example
 * ```ts
 * import pg from 'pg';
 * import { SessionManager } from 'kit-session';
 * import { PostgresSessionStore } from 'kit-session/postgres';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * const store = new PostgresSessionStore(pool, { cleanupInterval: 15 * 60_000 });
 * await store.createTable();
 * const manager = new SessionManager<{ userId: string }>(store, { ownerKey: 'userId' });
 * ```
 */
export class PostgresSessionStore<T = Record<string, unknown>>
  implements PatchableSessionStore<T>, RenewableSessionStore<T>, OwnerListingSessionStore<T>
{
  readonly #pool: Pool;
  /** What {@link PostgresSessionStore.createTable} runs. */
  readonly #createTableSql: string;
  readonly #timeout: number;
  readonly #clock: Clock;
  /** The quoted, qualified table, for the owner's lock. */
  readonly #table: string;
  readonly #sql: SessionStatements;
  readonly #bound = new OwnerBound();
  /** The last end of each owner's sessions still under way: ends of one owner run in call order. */
  readonly #ends = new Map<string, Promise<unknown>>();
  readonly #cleanup: ExpiredCleanup;

  /**
   * @param pool - A `pg.Pool`, owned by the app (the store never ends it).
   * @param options - See {@link PostgresSessionStoreOptions}.
   * @param clock - The source of time for expiry.
   * @throws TypeError when the pool has no `query` method, an option is invalid, or
   *   `options` names an option that does not exist.
   */
  constructor(pool: Pool, options: PostgresSessionStoreOptions = {}, clock?: Clock) {
    checkOptionKeys('PostgresSessionStore options', options, STORE_OPTIONS);
    if (pool === null || typeof pool !== 'object' || typeof pool.query !== 'function') {
      throw new TypeError('pool must be a pg.Pool');
    }
    const qualified = qualifiedTable(options, DEFAULT_SESSION_TABLE);
    const { table } = qualified;
    // `?? undefined`: a null timeout means the default, as an unset one does.
    const timeout = resolveTimeout(options.timeout);

    this.#pool = pool;
    // `CREATE … IF NOT EXISTS` and `ADD COLUMN IF NOT EXISTS` are not safe against
    // themselves: two processes starting at once can both try to create the table or
    // add a column. The statements run as one transaction (one simple query), behind a
    // lock named after the table.
    this.#createTableSql = guardedCreate(table, tableSql(qualified));
    this.#timeout = timeout;
    this.#clock = clock ?? systemClock;
    this.#table = table;
    this.#sql = sessionStatements(table);

    const { on, listenerCount } = pool as Partial<Pick<Pool, 'on' | 'listenerCount'>>;
    if (typeof on === 'function' && typeof listenerCount === 'function' && pool.listenerCount('error') === 0) {
      pool.on('error', () => {
        // An idle connection broke; the pool has dropped it and will open a new one.
      });
    }
    this.#cleanup = new ExpiredCleanup(options, () => this.deleteExpired());
  }

  /**
   * Creates the session table and its indexes if they do not exist, and adds the
   * columns a table made by an earlier version lacks (`meta`, `write_time`,
   * `successor`): runs
   * {@link sessionTableSql} for this store's table, in one transaction behind an
   * advisory lock, so that app instances starting at once do not trip over each other.
   *
   * @throws SessionStoreError when PostgreSQL fails or does not answer within `timeout`.
   * @example
   * ```ts
   * await new PostgresSessionStore(pool).createTable();
   * ```
   */
  async createTable(): Promise<void> {
    await this.#query('create table', this.#createTableSql);
  }

  /**
   * Loads a session: one `SELECT` by primary key. A renewed id is given, marked
   * `superseded`, only while it and its successor (followed through later renewals) are
   * live: a second statement reads that chain, for a retired row only.
   *
   * @param token - The session's id.
   * @returns The record (its metadata included), or `undefined` when the token is
   *   unknown or malformed, or names a retired session no longer served. An expired
   *   session may be given back as it is (the manager reports it as expired).
   * @throws SessionStoreError when PostgreSQL fails or does not answer within `timeout`.
   * @example
   * ```ts
   * const store = new PostgresSessionStore(pool);
   * const record = await store.getSession(token); // undefined when unknown or expired
   * ```
   */
  async getSession(token: string): Promise<LoadedSessionRecord<T> | undefined> {
    if (!isId(token)) {
      return undefined;
    }
    const key = sessionKey(token);
    const { rows } = await this.#query<SessionRow>('load', this.#sql.get, getArgs(key));
    const row = rows[0];
    if (row === undefined) {
      return undefined;
    }
    const superseded = row.successor !== null;
    if (superseded) {
      const args = servedArgs({ token: key, now: this.#clock.now() });
      const served = await this.#query<{ served: boolean }>('load', this.#sql.served, args);
      if (served.rows[0]?.served !== true) {
        return undefined;
      }
    }
    const expireTime = Number(row.expire_time);
    const deadline = Number(row.deadline);
    let values = row.data;
    if (typeof values === 'string') {
      // The app may have told node-postgres to leave jsonb as text.
      try {
        values = JSON.parse(values);
      } catch {
        return undefined;
      }
    }
    if (typeof values !== 'object' || values === null || Array.isArray(values) || Number.isNaN(expireTime + deadline)) {
      return undefined;
    }
    return {
      id: token,
      values: values as Partial<T>,
      expireTime,
      deadline,
      ...(typeof row.meta === 'string' ? { meta: row.meta } : {}),
      ...(superseded ? { superseded: true } : {}),
    };
  }

  /**
   * Saves a session, replacing what was kept under its id: one upsert. On a store with
   * a bound ({@link PostgresSessionStore.limitOwnerSessions}), a save with an owner is
   * one short transaction that makes room for it or refuses it.
   *
   * @param id - The session's id.
   * @param record - The values, expiry and metadata.
   * @param owner - The session's owner, for {@link PostgresSessionStore.deleteOwnerSessions}.
   * @param report - Told whom the save evicted; else the bound's own `evicted` is.
   * @returns The id, which is the token.
   * @throws TypeError when the id is not 1 to 256 characters of base64url.
   * @throws SessionLimitError when the store's bound refuses a new session of the owner;
   *   nothing was written.
   * @throws SessionStoreError when PostgreSQL fails or does not answer within `timeout`.
   * @example
   * ```ts
   * const token = await store.setSession(id, { values: { userId: 'u1' }, expireTime, deadline }, 'u1'); // token === id
   * ```
   */
  async setSession(id: string, record: SessionRecord<T>, owner?: string, report?: EvictionReport): Promise<string> {
    checkId(id);
    const write = {
      token: sessionKey(id),
      now: this.#clock.now(),
      values: JSON.stringify(record.values),
      expireTime: record.expireTime,
      deadline: record.deadline,
      owner: owner ?? null,
      meta: record.meta ?? null,
    };
    const { limit } = this.#bound;
    if (owner === undefined || limit === undefined) {
      await this.#query('save', this.#sql.set, setArgs(write));
      return id;
    }
    const bound = { owner, max: limit.max, evict: limit.policy === 'evict' };
    const row = await this.#bounded(owner, this.#sql.boundedSet, boundedSetArgs({ ...write, ...bound }));
    this.#bound.settle(owner, row.excess, row.evicted, report);
    return id;
  }

  /**
   * Applies the values one request set and unset on top of the stored ones, in one
   * atomic `UPDATE`. A patch without `owner` keeps the owner the row holds now;
   * `owner: null` clears it; without `meta` it keeps the metadata. On a store with a
   * bound, a patch that names an owner is one short transaction that makes room or
   * refuses, as {@link PostgresSessionStore.setSession} does.
   *
   * @param id - The session's id.
   * @param patch - What changed.
   * @returns The id, or `undefined` when the session is gone, expired or renewed.
   * @throws TypeError when the id is not 1 to 256 characters of base64url.
   * @throws SessionLimitError when the bound refuses to file the session under its new
   *   owner; nothing was written.
   * @throws SessionStoreError when PostgreSQL fails or does not answer within `timeout`.
   * @example
   * ```ts
   * const token = await store.patchSession(id, { set: { visits: 2 }, unset: ['flash'], expireTime, deadline });
   * // undefined: the session was deleted or expired meanwhile, and nothing was written
   * ```
   */
  async patchSession(id: string, patch: SessionPatch<T>): Promise<string | undefined> {
    checkId(id);
    const { owner, expireTime, deadline } = patch;
    const changes = {
      token: sessionKey(id),
      now: this.#clock.now(),
      set: JSON.stringify(patch.set),
      unset: patch.unset,
      expireTime,
      deadline,
      meta: patch.meta ?? null,
    };
    const { limit } = this.#bound;
    if (typeof owner !== 'string' || limit === undefined) {
      const result = await this.#query('save', this.#sql.patch, patchArgs({ ...changes, owner }));
      return result.rowCount === 1 ? id : undefined;
    }
    const bound = { owner, max: limit.max, evict: limit.policy === 'evict' };
    const row = await this.#bounded(owner, this.#sql.boundedPatch, boundedPatchArgs({ ...changes, ...bound }));
    this.#bound.settle(owner, row.excess, row.evicted, patch.evicted);
    return row.saved === 1 ? id : undefined;
  }

  /**
   * Renews a session atomically: see `RenewableSessionStore.renewSession`. One statement
   * locks the old row when it is live and of its own, writes the successor, and retires
   * the old row (its `successor` set, its expiry cut to `now + grace`) or, with no grace,
   * deletes it. On a store with a bound, a renewal with an owner is one short transaction
   * under that owner's lock: the successor of the owner's own session takes its place
   * (nothing refused or evicted); any other is bounded as a new session.
   *
   * @param id - The session's current id.
   * @param newId - The successor's id.
   * @param renewal - The successor's record and owner, and the grace of the old id.
   * @returns The new id, which is the token; `undefined` when the old id is not live
   *   (unknown, malformed, expired, ended or renewed already): nothing was written.
   * @throws TypeError when `newId` is not 1 to 256 characters of base64url, or is `id`.
   * @throws SessionLimitError when the owner's bound refuses the successor; nothing was
   *   written.
   * @throws SessionStoreError when PostgreSQL fails or does not answer within `timeout`.
   * @example
   * ```ts
   * const token = await store.renewSession(oldId, newId, { record, owner: 'u1', grace: 30_000 });
   * // undefined: the old id was ended or renewed meanwhile, and nothing was written
   * ```
   */
  async renewSession(id: string, newId: string, renewal: SessionRenewal<T>): Promise<string | undefined> {
    if (!checkRenewal(id, newId)) {
      return undefined;
    }
    const { record, owner, grace } = renewal;
    const renew = {
      token: sessionKey(id),
      newToken: sessionKey(newId),
      now: this.#clock.now(),
      values: JSON.stringify(record.values),
      expireTime: record.expireTime,
      deadline: record.deadline,
      meta: record.meta ?? null,
      // NaN, a negative or no grace: the old row goes at once. A grace is never longer
      // than the old session's own expiry, so a huge one (Infinity) is cut to one that
      // PostgreSQL's timestamps still hold.
      grace: grace > 0 ? Math.min(grace, MAX_GRACE) : 0,
    };
    const { limit } = this.#bound;
    if (owner === undefined || limit === undefined) {
      const args = renewArgs({ ...renew, owner: owner ?? null });
      const { rows } = await this.#query<{ saved: number }>('renew', this.#sql.renew, args);
      return Number(rows[0]?.saved) === 1 ? newId : undefined;
    }
    const bound = { owner, max: limit.max, evict: limit.policy === 'evict' };
    const row = await this.#bounded(owner, this.#sql.boundedRenew, boundedRenewArgs({ ...renew, ...bound }));
    this.#bound.settle(owner, row.excess, row.evicted, renewal.evicted);
    return row.saved === 1 ? newId : undefined;
  }

  /**
   * Forgets a session. Unknown and malformed ids are fine.
   *
   * @param id - The session's id.
   * @throws SessionStoreError when PostgreSQL fails or does not answer within `timeout`.
   * @example
   * ```ts
   * await store.deleteSession(id); // an unknown id resolves too
   * ```
   */
  async deleteSession(id: string): Promise<void> {
    if (!isId(id)) {
      return;
    }
    // A retired id in its grace ends its successor too: a log-out racing a renewal wins.
    let next: string | null = sessionKey(id);
    for (let step = 0; step <= MAX_RENEWAL_STEPS && next !== null; step++) {
      const args = deleteArgs(next, this.#clock.now());
      const { rows } = await this.#query<{ successor: string | null; live: boolean }>('delete', this.#sql.delete, args);
      const row = rows[0];
      next = row !== undefined && row.live === true ? row.successor : null;
    }
  }

  /**
   * Deletes every session of one owner, in one statement, but the one named by `keep`
   * and what it was renewed into. Its retired rows renewed within the owner are left
   * alone: they stop being served with their successor; those renewed into another
   * owner's session go too, uncounted. When a
   * row changed under the statement (renewed, ended or moved to another owner by a
   * concurrent save), it runs again, so a successor written meanwhile ends too.
   *
   * @param owner - The owner.
   * @param keep - Optional: the handle of a session to leave alone ("log out my other
   *   devices").
   * @returns How many live sessions were ended (rows already expired by the store's
   *   clock are deleted too but not counted).
   * @throws SessionStoreError when PostgreSQL fails or does not answer within `timeout`.
   * @example
   * ```ts
   * const ended = await store.deleteOwnerSessions('u1'); // "log out everywhere"
   * ```
   */
  async deleteOwnerSessions(owner: string, keep?: string): Promise<number> {
    if (!holdable(owner)) {
      return 0;
    }
    // A keep that is no handle names no session: everything of the owner goes.
    const kept = isHandle(keep) ? keep : null;
    return this.#inOrder(owner, async () => {
      let ended = 0;
      for (let run = 0; run <= MAX_RENEWAL_STEPS; run++) {
        const args = deleteOwnerArgs({ owner, now: this.#clock.now(), keep: kept });
        const { rows } = await this.#query<{ live: number; missed: number }>(
          'delete owner sessions',
          this.#sql.deleteOwner,
          args,
        );
        ended += Number(rows[0]?.live ?? 0);
        if (Number(rows[0]?.missed ?? 0) <= 0) {
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
   * @returns Each live session's handle (the SHA-256 of its id, the row's key), metadata
   *   and expiry, in no set order; never an id.
   * @throws SessionStoreError when PostgreSQL fails or does not answer within `timeout`.
   * @example
   * ```ts
   * const sessions = await store.listOwnerSessions('u1');
   * ```
   */
  async listOwnerSessions(owner: string): Promise<OwnerSessionRecord[]> {
    if (!holdable(owner)) {
      return [];
    }
    const args = listArgs({ owner, now: this.#clock.now() });
    const { rows } = await this.#query<ListedRow>('list owner sessions', this.#sql.list, args);
    return rows.map((row) => ({
      handle: row.handle,
      meta: typeof row.meta === 'string' ? row.meta : undefined,
      expireTime: Number(row.expire_time),
      deadline: Number(row.deadline),
    }));
  }

  /**
   * Ends one session of an owner by its handle: one `DELETE` that matches the owner
   * too, so a handle of another owner's session ends nothing. A handle of a renewed
   * session (retired) ends its successor, the same device: one `DELETE` more for each
   * renewal followed. A handle that is not one (not 43 characters of base64url, as the
   * SHA-256 of an id is) answers `false` before any query.
   *
   * @param owner - The owner.
   * @param handle - The session's handle, from `listOwnerSessions`.
   * @returns `true` when a live session of that owner was ended.
   * @throws SessionStoreError when PostgreSQL fails or does not answer within `timeout`.
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
        const args = deleteByHandleArgs({ handle: next, now: this.#clock.now(), owner });
        const { rows } = await this.#query<{ live: boolean; successor: string | null }>(
          'delete session by handle',
          this.#sql.deleteByHandle,
          args,
        );
        const row = rows[0];
        if (row === undefined) {
          return false;
        }
        if (row.successor === null || row.live !== true) {
          // A renewed session past its grace names nothing any more: it leads nowhere.
          return row.successor === null && row.live === true;
        }
        next = row.successor;
      }
      return false;
    });
  }

  /**
   * Bounds the live sessions of each owner. From then on a save that files a session
   * under an owner with `max` other live sessions evicts the least recently written of
   * them (`write_time`) and calls `evicted`, or writes nothing and rejects with
   * `SessionLimitError`, as the policy says, in one transaction serialised per owner.
   *
   * @param limit - The bound, its policy and the eviction callback.
   * @throws TypeError when `max` is not a positive integer, the policy is unknown, the
   *   store is bounded differently already, or the pool cannot lend a connection
   *   (`connect`).
   * @example
   * ```ts
   * store.limitOwnerSessions({ max: 5, policy: 'evict' });
   * ```
   */
  limitOwnerSessions(limit: OwnerSessionLimit): void {
    if (typeof (this.#pool as Partial<Pool>).connect !== 'function') {
      throw new TypeError('a bound on sessions per owner needs a pg.Pool (its connect method)');
    }
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
   * Deletes the rows of sessions that have ended, by the store's clock.
   *
   * @returns How many rows were deleted.
   * @throws SessionStoreError when PostgreSQL fails or does not answer within `timeout`.
   * @example
   * ```ts
   * const removed = await store.deleteExpired();
   * ```
   */
  async deleteExpired(): Promise<number> {
    const result = await this.#query('delete expired', this.#sql.deleteExpired, deleteExpiredArgs(this.#clock.now()));
    return result.rowCount ?? 0;
  }

  /**
   * Stops the `cleanupInterval` timer, if any. The pool stays open: it is the app's
   * to end. Calling it again does nothing.
   *
   * @example
   * ```ts
   * const store = new PostgresSessionStore(pool, { cleanupInterval: 15 * 60_000 });
   * // on shutdown:
   * store.stopCleanup();
   * await pool.end();
   * ```
   */
  stopCleanup(): void {
    this.#cleanup.stop();
  }

  /**
   * Runs an end of an owner's sessions after the ends of that owner called before it
   * have settled. Each is one statement on a pooled connection of its own, so without
   * this two ends called one after the other could reach the server in either order
   * ("end this one", then "end all others": which of them counts the first?). One
   * connection to Redis keeps call order the same way. Costs no round trip.
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
   * Runs one bounded save: `BEGIN` and the owner's advisory lock, the statement, `COMMIT`,
   * on one pooled connection (three round trips), against the store's timeout.
   */
  async #bounded(owner: string, text: string, values: unknown[]): Promise<BoundedRow> {
    const lock = lockOwnerSql(this.#table, owner);
    return storeOperation(
      'postgres session store: save',
      this.#timeout,
      async () => {
        const client: PoolClient = await this.#pool.connect();
        let broken: Error | boolean | undefined;
        try {
          await client.query(lock);
          const { rows } = await client.query<BoundedRow>(text, values);
          await client.query('COMMIT');
          const row = rows[0]!;
          return { saved: Number(row.saved), excess: Number(row.excess), evicted: row.evicted };
        } catch (error) {
          // A connection that cannot even roll back is dropped from the pool.
          await client.query('ROLLBACK').catch((rollback: unknown) => {
            broken = rollback instanceof Error ? rollback : true;
          });
          throw error;
        } finally {
          client.release(broken);
        }
      },
      withoutData,
    );
  }

  /** Runs one statement against the store's timeout; every failure becomes a SessionStoreError. */
  #query<R extends QueryResultRow>(operation: string, text: string, values?: unknown[]): Promise<QueryResult<R>> {
    return storeOperation(
      `postgres session store: ${operation}`,
      this.#timeout,
      () => this.#pool.query<R>(text, values),
      withoutData,
    );
  }
}

/** The longest grace sent to PostgreSQL: about 35 years, in milliseconds. */
const MAX_GRACE = 2 ** 40;

/**
 * Whether PostgreSQL can hold the owner in a `text` column: not with U+0000. No session
 * is filed under such an owner (its save fails), so reads and ends answer "none" before
 * any query rather than fail.
 */
function holdable(owner: unknown): owner is string {
  return typeof owner === 'string' && !owner.includes('\u0000');
}
