import { createHash } from 'node:crypto';
import type { Pool, QueryResult, QueryResultRow } from 'pg';
import { SessionStoreError } from '../../core/SessionError.js';
import { systemClock, type Clock } from '../../core/Clock.js';
import { checkOptionKeys, positive } from '../../core/options.js';
import { checkId, DEFAULT_TIMEOUT, hashId, isId, storeOperation } from '../storeOperation.js';
import type {
  LoadedSessionRecord,
  OwnerIndexedSessionStore,
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
   * {@link PostgresSessionStore.stopCleanup}. Unset: no timer (expired rows are never
   * returned anyway; call `deleteExpired` from a scheduled job instead).
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

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/;

function identifier(kind: string, name: string): string {
  if (typeof name !== 'string' || !IDENTIFIER.test(name)) {
    throw new TypeError(`${kind} must be a letter or _, then letters, digits or _ (at most 48 characters)`);
  }
  return `"${name}"`;
}

function qualifiedTable(options: SessionTableOptions): { table: string; name: string } {
  const name = options.table ?? DEFAULT_SESSION_TABLE;
  const table = identifier('table', name);
  return { table: options.schema === undefined ? table : `${identifier('schema', options.schema)}.${table}`, name };
}

/**
 * The SQL that creates the session table and its indexes; safe to run again (`IF NOT
 * EXISTS`). Run it in a migration, or call {@link PostgresSessionStore.createTable}.
 *
 * ```sql
 * CREATE TABLE IF NOT EXISTS "sessions" (
 *   token       text        PRIMARY KEY,
 *   data        jsonb       NOT NULL,
 *   expire_time timestamptz NOT NULL,
 *   deadline    timestamptz NOT NULL,
 *   owner       text
 * );
 * CREATE INDEX IF NOT EXISTS "sessions_expiry_idx" ON "sessions" (least(expire_time, deadline));
 * CREATE INDEX IF NOT EXISTS "sessions_owner_idx" ON "sessions" (owner) WHERE owner IS NOT NULL;
 * ```
 *
 * `token` is the SHA-256 of the session id (base64url, 43 characters), never the id
 * itself, so that whoever reads the table, a backup or a replica holds nothing that
 * works as a cookie; `data` holds the values, `expire_time` when the session ends unless
 * activity extends it, `deadline` its absolute end, `owner` who it belongs to (for "log
 * out everywhere"). A row counts only while `least(expire_time, deadline)` is in the
 * future, which the first index serves for `deleteExpired`.
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
  return tableSql(qualifiedTable(options));
}

/** {@link sessionTableSql} for a table already checked by `qualifiedTable`. */
function tableSql({ table, name }: { table: string; name: string }): string {
  return [
    `CREATE TABLE IF NOT EXISTS ${table} (
  token       text        PRIMARY KEY,
  data        jsonb       NOT NULL,
  expire_time timestamptz NOT NULL,
  deadline    timestamptz NOT NULL,
  owner       text
);`,
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
 * bits, so the hash needs no salt; a load hashes the cookie's id and looks that up.
 *
 * **No lost updates.** `patchSession` is one statement,
 * `UPDATE … SET data = (data || $set) - $unset::text[] … WHERE token = $1 AND <not expired>`:
 * PostgreSQL locks the row, and a concurrent update of the same row waits, then
 * re-reads the row and applies its own keys on top of the other's (READ COMMITTED
 * re-evaluates the `SET` against the newest row version). Each request keeps the
 * values it set; when two set the same value, the later save wins; a deleted or
 * expired session updates no row, so a patch never brings it back. `setSession` is an
 * upsert (`INSERT … ON CONFLICT (token) DO UPDATE`). Every write is one statement, so
 * a failure never leaves a session half-written.
 *
 * **Log out everywhere.** The `owner` column (indexed) names the session's owner;
 * `deleteOwnerSessions` is one `DELETE … WHERE owner = $1` that counts the rows still
 * live by the store's clock. A patch without `owner` leaves the column as it is now (a
 * concurrent request may have set it); `owner: null` clears it.
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
  implements PatchableSessionStore<T>, OwnerIndexedSessionStore<T>
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
  };
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
    const qualified = qualifiedTable(options);
    const { table } = qualified;
    // `?? undefined`: a null timeout means the default, as an unset one does.
    const timeout = positive('timeout', options.timeout ?? undefined, DEFAULT_TIMEOUT, 'milliseconds');
    const cleanupInterval = positive('cleanupInterval', options.cleanupInterval, undefined, 'milliseconds');
    if (options.onCleanupError !== undefined && typeof options.onCleanupError !== 'function') {
      throw new TypeError('onCleanupError must be a function');
    }

    this.#pool = pool;
    // `CREATE … IF NOT EXISTS` is not safe against itself: two processes starting at
    // once on a fresh database can both try to create the table. The statements run
    // as one transaction (one simple query), behind a lock named after the table.
    this.#createTableSql =
      `SELECT pg_advisory_xact_lock(hashtext('kit-session create ${table}'));\n` + tableSql(qualified);
    this.#timeout = timeout;
    this.#clock = clock ?? systemClock;
    this.#onCleanupError = options.onCleanupError;
    const live = `least(expire_time, deadline) > ${at(2)}`;
    this.#sql = {
      get:
        `SELECT data, ${ms('expire_time')} AS expire_time, ${ms('deadline')} AS deadline ` +
        `FROM ${table} WHERE token = $1 AND ${live}`,
      set:
        `INSERT INTO ${table} (token, data, expire_time, deadline, owner) ` +
        `VALUES ($1, $2::jsonb, ${at(3)}, ${at(4)}, $5) ` +
        `ON CONFLICT (token) DO UPDATE SET data = excluded.data, expire_time = excluded.expire_time, ` +
        `deadline = excluded.deadline, owner = excluded.owner`,
      patch:
        `UPDATE ${table} SET data = (data || $3::jsonb) - $4::text[], expire_time = ${at(5)}, ` +
        `deadline = ${at(6)}, owner = CASE WHEN $8::boolean THEN $7::text ELSE owner END ` +
        `WHERE token = $1 AND ${live}`,
      delete: `DELETE FROM ${table} WHERE token = $1`,
      deleteOwner:
        `WITH ended AS (DELETE FROM ${table} WHERE owner = $1 RETURNING ${live} AS live) ` +
        `SELECT count(*) FILTER (WHERE live)::int AS live FROM ended`,
      deleteExpired: `DELETE FROM ${table} WHERE least(expire_time, deadline) <= ${at(1)}`,
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
   * Creates the session table and its indexes if they do not exist: runs
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
   * @returns The record, or `undefined` when the token is unknown, malformed or expired.
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
    const now = this.#clock.now();
    const { rows } = await this.#query<SessionRow>('load', this.#sql.get, [hashId(token, createHash), now]);
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
    const live = expireTime > now && deadline > now;
    if (typeof values !== 'object' || values === null || Array.isArray(values) || !live) {
      return undefined;
    }
    return { id: token, values: values as Partial<T>, expireTime, deadline };
  }

  /**
   * Saves a session, replacing what was kept under its id: one upsert.
   *
   * @param id - The session's id.
   * @param record - The values and expiry.
   * @param owner - The session's owner, for {@link PostgresSessionStore.deleteOwnerSessions}.
   * @returns The id, which is the token.
   * @throws TypeError when the id is not 1 to 256 characters of base64url.
   * @throws SessionStoreError when PostgreSQL fails or does not answer within `timeout`.
   * @example
   * ```ts
   * const token = await store.setSession(id, { values: { userId: 'u1' }, expireTime, deadline }, 'u1'); // token === id
   * ```
   */
  async setSession(id: string, record: SessionRecord<T>, owner?: string): Promise<string> {
    checkId(id);
    await this.#query('save', this.#sql.set, [
      hashId(id, createHash),
      JSON.stringify(record.values),
      record.expireTime,
      record.deadline,
      owner ?? null,
    ]);
    return id;
  }

  /**
   * Applies the values one request set and unset on top of the stored ones, in one
   * atomic `UPDATE`. A patch without `owner` keeps the owner the row holds now;
   * `owner: null` clears it.
   *
   * @param id - The session's id.
   * @param patch - What changed.
   * @returns The id, or `undefined` when the session is gone or expired.
   * @throws TypeError when the id is not 1 to 256 characters of base64url.
   * @throws SessionStoreError when PostgreSQL fails or does not answer within `timeout`.
   * @example
   * ```ts
   * const token = await store.patchSession(id, { set: { visits: 2 }, unset: ['flash'], expireTime, deadline });
   * // undefined: the session was deleted or expired meanwhile, and nothing was written
   * ```
   */
  async patchSession(id: string, patch: SessionPatch<T>): Promise<string | undefined> {
    checkId(id);
    const result = await this.#query('save', this.#sql.patch, [
      hashId(id, createHash),
      this.#clock.now(),
      JSON.stringify(patch.set),
      [...patch.unset],
      patch.expireTime,
      patch.deadline,
      patch.owner ?? null,
      patch.owner !== undefined,
    ]);
    return result.rowCount === 1 ? id : undefined;
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
   * Deletes every session of one owner, in one statement.
   *
   * @param owner - The owner.
   * @returns How many live sessions were ended (rows already expired by the store's
   *   clock are deleted too but not counted).
   * @throws SessionStoreError when PostgreSQL fails or does not answer within `timeout`.
   * @example
   * ```ts
   * const ended = await store.deleteOwnerSessions('u1'); // "log out everywhere"
   * ```
   */
  async deleteOwnerSessions(owner: string): Promise<number> {
    const { rows } = await this.#query<{ live: number }>('delete owner sessions', this.#sql.deleteOwner, [
      owner,
      this.#clock.now(),
    ]);
    return Number(rows[0]?.live ?? 0);
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
 * PostgreSQL's errors about bad input quote the input in `detail` and `where` (for
 * jsonb, a piece of the session's values). Drop those, so that a logged `cause`
 * carries no session value; `code` (the SQLSTATE) and `message` stay.
 */
function withoutData(error: unknown): unknown {
  if (typeof error === 'object' && error !== null) {
    for (const field of ['detail', 'where', 'internalQuery'] as const) {
      if (field in error) {
        try {
          (error as Record<string, unknown>)[field] = undefined;
        } catch {
          // A frozen error keeps its field.
        }
      }
    }
  }
  return error;
}
