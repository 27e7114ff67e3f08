import { createHash } from 'node:crypto';
import type { Pool, PoolClient, QueryResult, QueryResultRow } from 'pg';
import { SessionLimitError, SessionStoreError } from '../../core/SessionError.js';
import { systemClock, type Clock } from '../../core/Clock.js';
import { checkOptionKeys, MAX_TIMER_DELAY, positive } from '../../core/options.js';
import { checkId, checkLimit, DEFAULT_TIMEOUT, hashId, isId, storeOperation } from '../storeOperation.js';
import { guardedCreate, qualifiedTable, withoutData } from './tables.js';
import type {
  LoadedSessionRecord,
  OwnerListingSessionStore,
  OwnerSessionLimit,
  OwnerSessionRecord,
  PatchableSessionStore,
  SessionPatch,
  SessionRecord,
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
export interface PostgresSessionStoreOptions extends SessionTableOptions {
  /**
   * The longest a query may take, in milliseconds, waiting for a pooled connection
   * included, before it rejects with `SessionStoreError` (cause: an error named
   * `TimeoutError`). The query itself is not cancelled: set the pool's
   * `statement_timeout` too if it should be.
   * @default 5000
   */
  readonly timeout?: number;
  /**
   * Run {@link PostgresSessionStore.deleteExpired} every this many milliseconds. The
   * timer is unref'd, so it never keeps the process alive; stop it with
   * {@link PostgresSessionStore.stopCleanup}. At most 2147483647 (about 24.8 days, the
   * longest a timer takes). Unset: no timer (expired rows are never returned anyway;
   * call `deleteExpired` from a scheduled job instead).
   * @default undefined
   */
  readonly cleanupInterval?: number;
  /**
   * Called when a scheduled cleanup fails; the next one tries again. The error's
   * message and cause hold no token.
   * @default undefined (the failure is ignored)
   */
  readonly onCleanupError?: (error: SessionStoreError) => void;
}

/** Every key of {@link SessionTableOptions}. */
const TABLE_OPTIONS = ['table', 'schema'] as const satisfies readonly (keyof SessionTableOptions)[];
/** Every key of {@link PostgresSessionStoreOptions}. */
const STORE_OPTIONS = [
  ...TABLE_OPTIONS,
  'timeout',
  'cleanupInterval',
  'onCleanupError',
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
 *   write_time  timestamptz NOT NULL DEFAULT now()
 * );
 * -- A table made before meta and write_time existed gets them (only then: the ALTER
 * -- takes an ACCESS EXCLUSIVE lock, so it does not run when nothing is missing).
 * DO $$ BEGIN
 *   IF (SELECT count(*) FROM pg_attribute WHERE attrelid = '"sessions"'::regclass
 *       AND attname IN ('meta', 'write_time') AND NOT attisdropped) < 2 THEN
 *     ALTER TABLE "sessions" ADD COLUMN IF NOT EXISTS meta text,
 *       ADD COLUMN IF NOT EXISTS write_time timestamptz NOT NULL DEFAULT now();
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
 * sessions evicts the least recently written). A row counts only while
 * `least(expire_time, deadline)` is in the future, which the first index serves for
 * `deleteExpired`.
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

/** {@link sessionTableSql} for a table already checked by `qualifiedTable`. */
function tableSql({ table, name }: { table: string; name: string }): string {
  return [
    `CREATE TABLE IF NOT EXISTS ${table} (
  token       text        PRIMARY KEY,
  data        jsonb       NOT NULL,
  expire_time timestamptz NOT NULL,
  deadline    timestamptz NOT NULL,
  owner       text,
  meta        text,
  write_time  timestamptz NOT NULL DEFAULT now()
);`,
    // The names are checked identifiers: no quote or dollar sign can reach this text.
    `DO $$ BEGIN
  IF (SELECT count(*) FROM pg_attribute WHERE attrelid = '${table}'::regclass
      AND attname IN ('meta', 'write_time') AND NOT attisdropped) < 2 THEN
    ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS meta text,
      ADD COLUMN IF NOT EXISTS write_time timestamptz NOT NULL DEFAULT now();
  END IF;
END $$;`,
    `CREATE INDEX IF NOT EXISTS "${name}_expiry_idx" ON ${table} (least(expire_time, deadline));`,
    `CREATE INDEX IF NOT EXISTS "${name}_owner_idx" ON ${table} (owner) WHERE owner IS NOT NULL;`,
  ].join('\n');
}

/** A timestamptz from a parameter holding milliseconds since the epoch. */
const at = (n: number) => `to_timestamp($${n}::float8 / 1000)`;
/** Milliseconds since the epoch from a timestamptz column, exactly (values are whole ms). */
const ms = (column: string) => `round(extract(epoch from ${column}) * 1000)::float8`;


interface SessionRow extends QueryResultRow {
  data: unknown;
  expire_time: number;
  deadline: number;
  meta: string | null;
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
 * PostgreSQL. Expired rows are never returned (every read compares against the store's
 * clock, given as a parameter, not `now()`); {@link PostgresSessionStore.deleteExpired}
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
  implements PatchableSessionStore<T>, OwnerListingSessionStore<T>
{
  readonly #pool: Pool;
  /** What {@link PostgresSessionStore.createTable} runs. */
  readonly #createTableSql: string;
  readonly #timeout: number;
  readonly #clock: Clock;
  readonly #onCleanupError: ((error: SessionStoreError) => void) | undefined;
  readonly #sql: {
    readonly get: string;
    readonly set: string;
    readonly patch: string;
    readonly delete: string;
    readonly deleteOwner: string;
    readonly deleteExpired: string;
    readonly list: string;
    readonly deleteByHandle: string;
    readonly boundedSet: string;
    readonly boundedPatch: string;
    /** Opens a bounded save's transaction and takes its owner's lock; ends with the owner's key. */
    readonly lockOwner: string;
  };
  #limit: OwnerSessionLimit | undefined;
  /** The last end of each owner's sessions still under way: ends of one owner run in call order. */
  readonly #ends = new Map<string, Promise<unknown>>();
  #cleanupTimer: ReturnType<typeof setInterval> | undefined;
  #cleaning = false;

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
    const timeout = positive('timeout', options.timeout ?? undefined, DEFAULT_TIMEOUT, 'milliseconds');
    // setInterval runs a longer interval every millisecond.
    const cleanupInterval = positive('cleanupInterval', options.cleanupInterval, undefined, 'milliseconds', MAX_TIMER_DELAY);
    if (options.onCleanupError !== undefined && typeof options.onCleanupError !== 'function') {
      throw new TypeError('onCleanupError must be a function');
    }

    this.#pool = pool;
    // `CREATE … IF NOT EXISTS` and `ADD COLUMN IF NOT EXISTS` are not safe against
    // themselves: two processes starting at once can both try to create the table or
    // add a column. The statements run as one transaction (one simple query), behind a
    // lock named after the table.
    this.#createTableSql = guardedCreate(table, tableSql(qualified));
    this.#timeout = timeout;
    this.#clock = clock ?? systemClock;
    this.#onCleanupError = options.onCleanupError;
    const live = (now: number) => `least(expire_time, deadline) > ${at(now)}`;
    const session = `data, ${ms('expire_time')} AS expire_time, ${ms('deadline')} AS deadline, meta`;
    // A bounded save in one statement. `others`: the owner's other live rows (referenced
    // twice, so computed once); `excess`: how many must go for one more; `evicted`: the
    // least recently written of them, deleted when the policy evicts; `saved`: the write,
    // done when the policy evicts or nothing is in excess.
    const bounded = (max: number, evict: number, others: string, write: string) =>
      `WITH others AS (${others}), ` +
      `excess AS (SELECT greatest(count(*) - $${max}::bigint + 1, 0)::int AS n FROM others), ` +
      `evicted AS (DELETE FROM ${table} WHERE $${evict}::boolean AND token IN ` +
      `(SELECT token FROM others ORDER BY write_time, token LIMIT (SELECT n FROM excess)) RETURNING token), ` +
      `saved AS (${write} RETURNING 1) ` +
      `SELECT (SELECT count(*) FROM saved)::int AS saved, (SELECT n FROM excess) AS excess, ` +
      `ARRAY(SELECT token FROM evicted) AS evicted`;
    const upsert = `INSERT INTO ${table} (token, data, expire_time, deadline, owner, meta, write_time) `;
    const onConflict =
      `ON CONFLICT (token) DO UPDATE SET data = excluded.data, expire_time = excluded.expire_time, ` +
      `deadline = excluded.deadline, owner = excluded.owner, meta = excluded.meta, write_time = excluded.write_time`;
    this.#sql = {
      // Expired rows too (until swept): the manager reports them as the `expired` event.
      get: `SELECT ${session} FROM ${table} WHERE token = $1`,
      // $1 token, $2 now, $3 values, $4 expiry, $5 deadline, $6 owner, $7 meta
      set: `${upsert}VALUES ($1, $3::jsonb, ${at(4)}, ${at(5)}, $6, $7, ${at(2)}) ${onConflict}`,
      // $1 token, $2 now, $3 set, $4 unset, $5 expiry, $6 deadline, $7 owner, $8 owner given, $9 meta
      patch:
        `UPDATE ${table} SET data = (data || $3::jsonb) - $4::text[], expire_time = ${at(5)}, ` +
        `deadline = ${at(6)}, owner = CASE WHEN $8::boolean THEN $7::text ELSE owner END, ` +
        `meta = coalesce($9::text, meta), write_time = ${at(2)} ` +
        `WHERE token = $1 AND ${live(2)}`,
      delete: `DELETE FROM ${table} WHERE token = $1`,
      // $1 owner, $2 now, $3 the handle to keep (or null)
      deleteOwner:
        `WITH ended AS (DELETE FROM ${table} WHERE owner = $1 AND token IS DISTINCT FROM $3::text ` +
        `RETURNING ${live(2)} AS live) SELECT count(*) FILTER (WHERE live)::int AS live FROM ended`,
      deleteExpired: `DELETE FROM ${table} WHERE least(expire_time, deadline) <= ${at(1)}`,
      // $1 owner, $2 now
      list:
        `SELECT token AS handle, meta, ${ms('expire_time')} AS expire_time, ${ms('deadline')} AS deadline ` +
        `FROM ${table} WHERE owner = $1 AND ${live(2)}`,
      // $1 handle, $2 now, $3 owner
      deleteByHandle: `DELETE FROM ${table} WHERE token = $1 AND owner = $3 RETURNING ${live(2)} AS live`,
      // $1 token, $2 now, $3 values, $4 expiry, $5 deadline, $6 owner, $7 meta, $8 max, $9 evict.
      // A session the owner holds already (live) counts nothing; nor does a record that is
      // not live itself.
      boundedSet: bounded(
        8,
        9,
        `SELECT token, write_time FROM ${table} WHERE owner = $6 AND token <> $1 AND ${live(2)} ` +
          `AND least($4::float8, $5::float8) > $2::float8 ` +
          `AND NOT EXISTS (SELECT 1 FROM ${table} WHERE token = $1 AND owner = $6 AND ${live(2)})`,
        `${upsert}SELECT $1, $3::jsonb, ${at(4)}, ${at(5)}, $6, $7, ${at(2)} ` +
          `WHERE $9::boolean OR (SELECT n FROM excess) = 0 ${onConflict}`,
      ),
      // $1 token, $2 now, $3 set, $4 unset, $5 expiry, $6 deadline, $7 owner, $8 meta, $9 max,
      // $10 evict. Counts only when the session is live and not the owner's already.
      boundedPatch: bounded(
        9,
        10,
        `SELECT token, write_time FROM ${table} WHERE owner = $7 AND token <> $1 AND ${live(2)} ` +
          `AND EXISTS (SELECT 1 FROM ${table} WHERE token = $1 AND owner IS DISTINCT FROM $7 AND ${live(2)})`,
        `UPDATE ${table} SET data = (data || $3::jsonb) - $4::text[], expire_time = ${at(5)}, ` +
          `deadline = ${at(6)}, owner = $7, meta = coalesce($8::text, meta), write_time = ${at(2)} ` +
          `WHERE token = $1 AND ${live(2)} AND ($10::boolean OR (SELECT n FROM excess) = 0)`,
      ),
      // The two-key form: its keys never meet the one-key locks of other code. The owner's
      // key is a number computed here (see #ownerLockKey), so this stays one simple query.
      lockOwner: `BEGIN; SELECT pg_advisory_xact_lock(hashtext('kit-session owner ${table}'), `,
    };

    const { on, listenerCount } = pool as Partial<Pick<Pool, 'on' | 'listenerCount'>>;
    if (typeof on === 'function' && typeof listenerCount === 'function' && pool.listenerCount('error') === 0) {
      pool.on('error', () => {
        // An idle connection broke; the pool has dropped it and will open a new one.
      });
    }
    if (cleanupInterval !== undefined) {
      this.#cleanupTimer = setInterval(() => void this.#cleanup(), cleanupInterval);
      this.#cleanupTimer.unref?.();
    }
  }

  /**
   * Creates the session table and its indexes if they do not exist, and adds the
   * columns a table made by an earlier version lacks (`meta`, `write_time`): runs
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
   * Loads a session: one `SELECT` by primary key, which skips expired rows.
   *
   * @param token - The session's id.
   * @returns The record (its metadata included), or `undefined` when the token is
   *   unknown, malformed or expired.
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
    const { rows } = await this.#query<SessionRow>('load', this.#sql.get, [hashId(token, createHash)]);
    const row = rows[0];
    if (row === undefined) {
      return undefined;
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
  async setSession(id: string, record: SessionRecord<T>, owner?: string): Promise<string> {
    checkId(id);
    const values = [
      hashId(id, createHash),
      this.#clock.now(),
      JSON.stringify(record.values),
      record.expireTime,
      record.deadline,
      owner ?? null,
      record.meta ?? null,
    ];
    const limit = this.#limit;
    if (owner === undefined || limit === undefined) {
      await this.#query('save', this.#sql.set, values);
      return id;
    }
    const row = await this.#bounded(owner, this.#sql.boundedSet, [...values, limit.max, limit.policy === 'evict']);
    this.#settle(owner, limit, row);
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
   * @returns The id, or `undefined` when the session is gone or expired.
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
    const token = hashId(id, createHash);
    const now = this.#clock.now();
    const set = JSON.stringify(patch.set);
    const unset = [...patch.unset];
    const { owner, expireTime, deadline } = patch;
    const meta = patch.meta ?? null;
    const limit = this.#limit;
    if (typeof owner !== 'string' || limit === undefined) {
      const result = await this.#query('save', this.#sql.patch, [
        token,
        now,
        set,
        unset,
        expireTime,
        deadline,
        owner ?? null,
        owner !== undefined,
        meta,
      ]);
      return result.rowCount === 1 ? id : undefined;
    }
    const row = await this.#bounded(owner, this.#sql.boundedPatch, [
      token,
      now,
      set,
      unset,
      expireTime,
      deadline,
      owner,
      meta,
      limit.max,
      limit.policy === 'evict',
    ]);
    this.#settle(owner, limit, row);
    return row.saved === 1 ? id : undefined;
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
    await this.#query('delete', this.#sql.delete, [hashId(id, createHash)]);
  }

  /**
   * Deletes every session of one owner, in one statement, but the one named by `keep`.
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
    const { rows } = await this.#inOrder(owner, () =>
      this.#query<{ live: number }>('delete owner sessions', this.#sql.deleteOwner, [
        owner,
        this.#clock.now(),
        keep ?? null,
      ]),
    );
    return Number(rows[0]?.live ?? 0);
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
    const { rows } = await this.#query<ListedRow>('list owner sessions', this.#sql.list, [owner, this.#clock.now()]);
    return rows.map((row) => ({
      handle: row.handle,
      meta: typeof row.meta === 'string' ? row.meta : undefined,
      expireTime: Number(row.expire_time),
      deadline: Number(row.deadline),
    }));
  }

  /**
   * Ends one session of an owner by its handle: one `DELETE` that matches the owner
   * too, so a handle of another owner's session ends nothing.
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
    if (typeof handle !== 'string' || typeof owner !== 'string') {
      return false;
    }
    const { rows } = await this.#inOrder(owner, () =>
      this.#query<{ live: boolean }>('delete session by handle', this.#sql.deleteByHandle, [
        handle,
        this.#clock.now(),
        owner,
      ]),
    );
    return rows[0]?.live === true;
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
    this.#limit = checkLimit(this.#limit, limit);
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
    const result = await this.#query('delete expired', this.#sql.deleteExpired, [this.#clock.now()]);
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
    if (this.#cleanupTimer !== undefined) {
      clearInterval(this.#cleanupTimer);
      this.#cleanupTimer = undefined;
    }
  }

  async #cleanup(): Promise<void> {
    if (this.#cleaning) {
      return;
    }
    this.#cleaning = true;
    try {
      await this.deleteExpired();
    } catch (error) {
      try {
        this.#onCleanupError?.(error as SessionStoreError);
      } catch {
        // A throwing callback must not become an unhandled rejection.
      }
    } finally {
      this.#cleaning = false;
    }
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

  /** After a bounded save committed: refuses, or reports whom it evicted. */
  #settle(owner: string, limit: OwnerSessionLimit, row: BoundedRow): void {
    if (limit.policy === 'refuse' && row.excess > 0) {
      throw new SessionLimitError('the owner has as many sessions as the limit allows');
    }
    if (row.evicted.length > 0 && limit.evicted !== undefined) {
      try {
        limit.evicted(owner, row.evicted);
      } catch {
        // The save has committed: a throwing report must not make it look failed.
      }
    }
  }

  /**
   * Runs one bounded save: `BEGIN` and the owner's advisory lock, the statement, `COMMIT`,
   * on one pooled connection (three round trips), against the store's timeout.
   */
  async #bounded(owner: string, text: string, values: unknown[]): Promise<BoundedRow> {
    const lock = `${this.#sql.lockOwner}${ownerLockKey(owner)})`;
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

/**
 * The second key of an owner's advisory lock: 32 bits of the SHA-256 of the owner, so
 * that the lock statement holds a number and never the owner's text. Two owners that
 * share a key only wait for each other's bounded saves.
 */
function ownerLockKey(owner: string): number {
  return createHash('sha256').update(owner, 'utf8').digest().readInt32BE(0);
}
