// kit-session/cloudflare: sessions in a Cloudflare D1 table (SQLite at the edge), over the
// Worker's D1 binding.
import type { Clock } from '../../core/Clock.js';
import { systemClock } from '../../core/Clock.js';
import { checkOptionKeys } from '../../core/options.js';
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
  TokenLengthSessionStore,
} from '../../core/SessionStore.js';
import {
  checkId,
  checkRenewal,
  isHandle,
  isId,
  OwnerBound,
  resolveTimeout,
  sessionKey,
  storeOperation,
} from '../policy.js';
import { quotedTable } from '../sqlite/database.js';
import { loadedRecord, merged, type SessionRow } from '../sqlite/SqliteSessionStore.js';
import { bind, sessionTableStatements, type SqlValue, type Statement } from '../sqlite/statements.js';
import { d1SessionStatements, jsonPath, MAX_PATCH_PARAMETERS, parameterSuffix, type D1SessionStatements } from './d1Statements.js';

/**
 * A prepared D1 statement, as {@link D1SessionStore} uses it: the part of Cloudflare's
 * `D1PreparedStatement` it calls.
 */
export interface D1Statement {
  /**
   * Binds the `?` parameters, in order.
   *
   * @param values - One value for each `?`.
   * @returns The bound statement.
   * @example
   * ```ts
   * const statement = env.DB.prepare('SELECT data FROM sessions WHERE token = ?').bind(handle);
   * ```
   */
  bind(...values: unknown[]): D1Statement;
  /**
   * Runs the statement and gives its first row.
   *
   * @returns The first row, or `null` when there is none.
   * @example
   * ```ts
   * const row = await env.DB.prepare('SELECT count(*) AS n FROM sessions').first<{ n: number }>();
   * ```
   */
  first<R = Record<string, unknown>>(): Promise<R | null>;
  /**
   * Runs the statement and gives every row.
   *
   * @returns The rows, and what the statement changed.
   * @example
   * ```ts
   * const { results } = await env.DB.prepare('SELECT token FROM sessions').all<{ token: string }>();
   * ```
   */
  all<R = Record<string, unknown>>(): Promise<D1Answer<R>>;
  /**
   * Runs the statement.
   *
   * @returns What it changed (`meta.changes`).
   * @example
   * ```ts
   * const { meta } = await env.DB.prepare('DELETE FROM sessions').run();
   * ```
   */
  run<R = Record<string, unknown>>(): Promise<D1Answer<R>>;
}

/** What D1 answers for one statement: its rows and its `meta.changes`. */
export interface D1Answer<R> {
  /** The rows (a write with `RETURNING` returns some too). */
  readonly results: R[];
  /** How many rows the statement wrote, among other figures. */
  readonly meta: { readonly changes?: number };
}

/**
 * A D1 database binding, as {@link D1SessionStore} uses it: the part of Cloudflare's
 * `D1Database` it calls (`env.DB` in a Worker; Miniflare's `getD1Database` in tests).
 * Typed by shape, so that kit-session needs no `@cloudflare/workers-types`.
 */
export interface D1Handle {
  /**
   * Prepares one statement.
   *
   * @param sql - The SQL, with `?` for each parameter.
   * @returns The statement, to bind and run.
   * @example
   * ```ts
   * const statement = env.DB.prepare('SELECT count(*) AS n FROM sessions');
   * ```
   */
  prepare(sql: string): D1Statement;
  /**
   * Runs statements in order in one transaction: all apply, or none.
   *
   * @param statements - The bound statements.
   * @returns Each statement's answer, in order.
   * @example
   * ```ts
   * const [first, second] = await env.DB.batch([env.DB.prepare('DELETE FROM a'), env.DB.prepare('DELETE FROM b')]);
   * ```
   */
  batch<R = Record<string, unknown>>(statements: D1Statement[]): Promise<D1Answer<R>[]>;
}

/**
 * Options of {@link D1SessionStore}.
 */
export interface D1SessionStoreOptions {
  /**
   * The table's name: a letter or `_`, then letters, digits or `_`, at most 48
   * characters. It is always quoted.
   * @default 'sessions'
   */
  readonly table?: string;
  /**
   * Milliseconds a call waits for D1 before it rejects with `SessionStoreError` (the call
   * itself is not cancelled and may still apply).
   * @default 5000
   */
  readonly timeout?: number;
}

/** Every key of {@link D1SessionStoreOptions}. */
const STORE_OPTIONS = ['table', 'timeout'] as const satisfies readonly (keyof D1SessionStoreOptions)[];

/**
 * How many times a patch is tried against a row that other requests keep changing
 * between its read and its write, before it fails with `SessionStoreError`.
 */
const PATCH_ATTEMPTS = 16;

/** The longest grace kept: about 35 years, in milliseconds. */
const MAX_GRACE = 2 ** 40;

/** A probed row: a live session of its own as it is now. */
interface ProbedRow {
  data: string;
  owner: string | null;
  admitted: number;
}

/** What a patch did: nothing (`undefined`: the session is gone), refused, or written. */
type PatchOutcome = { readonly refused: boolean; readonly evicted: readonly string[] } | undefined;

/** A patch's changes as JSON paths and JSON texts. */
interface PatchChanges {
  readonly set: readonly (readonly [path: string, json: string])[];
  readonly unset: readonly string[];
}

/** A listed row. */
interface ListedRow {
  handle: string;
  meta: string | null;
  expire_time: number;
  deadline: number;
}

/**
 * Keeps sessions in a Cloudflare D1 table, through the Worker's D1 binding (`env.DB`). The
 * table is the SQLite store's ({@link D1SessionStore.createTable}): one row per session,
 * keyed by the SHA-256 of the session id (base64url), never the id itself, which is also
 * the session's public handle in `listOwnerSessions`; values as JSON text. An ended
 * session is never listed, counted, patched or renewed (every statement compares against
 * the store's clock, given as a parameter); {@link D1SessionStore.deleteExpired} removes
 * ended rows: call it from a Cron Trigger.
 *
 * **No interactive transactions.** D1 runs one statement, or one `batch` of them, as a
 * transaction; between two calls other requests interleave. So every write decides in its
 * own SQL: a renewal, a bounded save and the eviction it makes are one batch whose
 * statements carry their condition; a patch is one `UPDATE` that merges the request's
 * changes in SQL (`json_set`, `json_remove`) into what the row holds when it runs.
 *
 * **Subrequests** (each statement or batch is one): a load is one `SELECT` (a retired
 * row's chain of successors is read in the same statement); `setSession` one upsert (with
 * a bound and an owner, one batch: the eviction and the conditional upsert); a patch one
 * `UPDATE` (with a bound and an owner, one batch), or, when a key has `"` or `\` in its
 * name or the patch has more than about 30 values, two (the row, then the conditional
 * write) and one more each time another request changed the row in between; a renewal one batch;
 * `deleteSession`, `deleteSessionByHandle`, `deleteOwnerSessions` and
 * `listOwnerSessions` one statement each.
 *
 * **Read replicas.** Give the store `env.DB` itself, whose every query goes to the primary,
 * not a `withSession()` session of D1's read replication: a replica may not hold a write
 * made through another request yet.
 *
 * @typeParam T - The shape of the session's values.
 * @example
 * ```ts
 * import { SessionManager } from 'kit-session';
 * import { D1SessionStore } from 'kit-session/cloudflare';
 *
 * export default {
 *   async fetch(request: Request, env: { DB: D1Database }) {
 *     const store = new D1SessionStore(env.DB);
 *     const manager = new SessionManager<{ userId: string }>(store, { ownerKey: 'userId' });
 *     // ... (create the table once: `await store.createTable()`, or in a migration)
 *     return new Response('ok');
 *   },
 * };
 * ```
 */
export class D1SessionStore<T = Record<string, unknown>>
  implements
    PatchableSessionStore<T>,
    RenewableSessionStore<T>,
    OwnerListingSessionStore<T>,
    TokenLengthSessionStore<T>
{
  readonly #db: D1Handle;
  readonly #tableStatements: readonly string[];
  readonly #sql: D1SessionStatements;
  readonly #clock: Clock;
  readonly #timeout: number;
  readonly #bound = new OwnerBound();

  /**
   * @param db - The D1 binding (`env.DB`).
   * @param options - See {@link D1SessionStoreOptions}.
   * @param clock - The source of time for expiry.
   * @throws TypeError when `db` has no `prepare` and `batch`, an option is invalid, or
   *   `options` names an option that does not exist.
   */
  constructor(db: D1Handle, options: D1SessionStoreOptions = {}, clock?: Clock) {
    checkOptionKeys('D1SessionStore options', options, STORE_OPTIONS);
    if (
      typeof db !== 'object' ||
      db === null ||
      typeof (db as Partial<D1Handle>).prepare !== 'function' ||
      typeof (db as Partial<D1Handle>).batch !== 'function'
    ) {
      throw new TypeError('db must be a D1 database binding (with prepare and batch)');
    }
    const quoted = quotedTable(options.table ?? 'sessions');
    this.#db = db;
    this.#tableStatements = sessionTableStatements(quoted);
    this.#sql = d1SessionStatements(quoted.table);
    this.#timeout = resolveTimeout(options.timeout);
    this.#clock = clock ?? systemClock;
  }

  /**
   * Creates the session table and its indexes if they do not exist, in one batch (the
   * SQLite store's schema: `sessionTableSql` of `kit-session/sqlite`).
   *
   * @throws SessionStoreError when D1 fails.
   * @example
   * ```ts
   * await new D1SessionStore(env.DB).createTable();
   * ```
   */
  async createTable(): Promise<void> {
    await this.#operation('create table', () => this.#db.batch(this.#tableStatements.map((sql) => this.#db.prepare(sql))));
  }

  /**
   * Loads a session: one `SELECT` by primary key. A renewed id is given, marked
   * `superseded`, only while it and its successor (followed through later renewals) are
   * live.
   *
   * @param token - The session's id.
   * @returns The record, or `undefined` when the token is unknown or malformed, or names a
   *   retired session no longer served. An ended session is given back as it is until its
   *   row is swept (the manager reports it as expired and never serves it).
   * @throws SessionStoreError when D1 fails.
   * @example
   * ```ts
   * const record = await store.getSession(token); // undefined when unknown
   * ```
   */
  async getSession(token: string): Promise<LoadedSessionRecord<T> | undefined> {
    if (!isId(token)) {
      return undefined;
    }
    const key = sessionKey(token);
    const row = await this.#operation('load', () => this.#first<SessionRow>(this.#sql.get, { token: key, now: this.#clock.now() }));
    return row === null ? undefined : loadedRecord<T>(row, token);
  }

  /**
   * Saves a session, replacing what was kept under its id: one upsert. On a store with a
   * bound, a save with an owner is one batch: the eviction (policy `'evict'`) and the
   * upsert, which applies only while the bound admits it (policy `'refuse'`).
   *
   * @param id - The session's id.
   * @param record - The values, expiry and metadata.
   * @param owner - The session's owner, for {@link D1SessionStore.deleteOwnerSessions}.
   * @param report - Told whom the save evicted; else the bound's own `evicted` is.
   * @returns The id, which is the token.
   * @throws TypeError when the id is not 1 to 256 characters of base64url.
   * @throws SessionLimitError when the bound refuses a new session of the owner; nothing
   *   was written.
   * @throws SessionStoreError when D1 fails.
   * @example
   * ```ts
   * const token = await store.setSession(id, { values: { userId: 'u1' }, expireTime, deadline }, 'u1'); // token === id
   * ```
   */
  async setSession(id: string, record: SessionRecord<T>, owner?: string, report?: EvictionReport): Promise<string> {
    checkId(id);
    const token = sessionKey(id);
    const now = this.#clock.now();
    const write = {
      token,
      other: token,
      now,
      data: JSON.stringify(record.values),
      expireTime: record.expireTime,
      deadline: record.deadline,
      owner: owner ?? null,
      meta: record.meta ?? null,
    };
    const limit = this.#bound.limit;
    if (owner === undefined || limit === undefined) {
      await this.#operation('save', () => this.#statement(this.#sql.set, write).run());
      return id;
    }
    const counted = this.#counted(limit, Math.min(record.expireTime, record.deadline) > now);
    const input = { ...write, ...counted, guard: 1, old: null };
    const answers = await this.#operation('save', () =>
      this.#db.batch([this.#statement(this.#sql.evict, input), this.#statement(this.#sql.setBounded, input)]),
    );
    const evicted = tokensOf(answers[0]);
    const refused = changesOf(answers[1]) === 0;
    this.#bound.settle(owner, refused ? 1 : evicted.length, evicted, report);
    return id;
  }

  /**
   * Applies the values one request set and unset on top of the stored ones, in one
   * `UPDATE` whose SQL does the merge on what the row holds when it runs (`json_set` of
   * each value set, `json_remove` of each unset) and writes only while the row is a live
   * session of its own. A patch naming a key that a JSON path cannot (one with `"` or
   * `\`, a control character or a lone surrogate), or of more values than one statement
   * binds parameters for (about 30 set), is compare-and-set instead: the row is
   * read, merged, and written only while it still holds what was read, read again and
   * retried when another request changed it meanwhile (at most 16 times). A patch without
   * `owner` keeps the owner the row holds; `owner: null` clears it; without `meta` it keeps
   * the metadata. On a store with a bound, a patch that files the session under a new
   * owner makes room or refuses in the same batch as its write.
   *
   * @param id - The session's id.
   * @param patch - What changed.
   * @returns The id, or `undefined` when the session is gone, ended or renewed: nothing
   *   was written.
   * @throws TypeError when the id is not 1 to 256 characters of base64url.
   * @throws SessionLimitError when the bound refuses to file the session under its new
   *   owner; nothing was written.
   * @throws SessionStoreError when D1 fails, or other requests changed the session
   *   between each of 16 reads and writes.
   * @example
   * ```ts
   * const token = await store.patchSession(id, { set: { visits: 2 }, unset: ['flash'], expireTime, deadline });
   * // undefined: the session was deleted or ended meanwhile, and nothing was written
   * ```
   */
  async patchSession(id: string, patch: SessionPatch<T>): Promise<string | undefined> {
    checkId(id);
    const token = sessionKey(id);
    const { owner } = patch;
    const limit = this.#bound.limit;
    const bounded = typeof owner === 'string' && limit !== undefined;
    const changes = changesOfPatch(patch);
    const outcome = await this.#operation('save', () =>
      changes === undefined ? this.#patchByComparing(token, patch, bounded ? limit : undefined) : this.#patchInSql(token, patch, changes, bounded ? limit : undefined),
    );
    if (outcome === undefined) {
      return undefined;
    }
    if (bounded) {
      this.#bound.settle(owner, outcome.refused ? 1 : outcome.evicted.length, outcome.evicted, patch.evicted);
    }
    return id;
  }

  /**
   * Renews a session atomically: see `RenewableSessionStore.renewSession`. One batch,
   * whose statements all apply only while the old row is a live session of its own (and
   * the bound admits the successor): the eviction the bound makes, the successor written,
   * and the old row retired (its `successor` set, its expiry cut to `now + grace`) or,
   * with no grace, deleted. On a store with a bound, the successor of the owner's own
   * session takes its place (nothing refused or evicted); any other is bounded as a new
   * session.
   *
   * @param id - The session's current id.
   * @param newId - The successor's id.
   * @param renewal - The successor's record and owner, and the grace of the old id.
   * @returns The new id, which is the token; `undefined` when the old id is not live
   *   (unknown, malformed, ended or renewed already): nothing was written.
   * @throws TypeError when `newId` is not 1 to 256 characters of base64url, or is `id`.
   * @throws SessionLimitError when the owner's bound refuses the successor; nothing was
   *   written.
   * @throws SessionStoreError when D1 fails.
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
    const [token, other] = [sessionKey(id), sessionKey(newId)];
    const now = this.#clock.now();
    // NaN, a negative or no grace: the old row goes at once; a huge one is cut to one
    // SQLite's integers hold (a grace never outlasts the old session's own expiry).
    const kept = grace > 0 ? Math.min(grace, MAX_GRACE) : 0;
    const limit = this.#bound.limit;
    const bounded = owner !== undefined && limit !== undefined;
    const counted = bounded
      ? this.#counted(limit, Math.min(record.expireTime, record.deadline) > now)
      : { refuseMax: null, evictMax: null };
    const input = {
      token,
      other,
      now,
      data: JSON.stringify(record.values),
      expireTime: record.expireTime,
      deadline: record.deadline,
      owner: owner ?? null,
      meta: record.meta ?? null,
      grace: kept,
      guard: 3,
      old: null,
      ...counted,
    };
    const answers = await this.#operation('renew', () =>
      this.#db.batch([
        this.#statement(this.#sql.probe, input),
        this.#statement(this.#sql.evict, input),
        this.#statement(this.#sql.renewSet, input),
        this.#statement(kept > 0 ? this.#sql.renewRetire : this.#sql.renewDelete, input),
      ]),
    );
    const probed = answers[0]?.results[0] as ProbedRow | undefined;
    if (probed === undefined) {
      return undefined;
    }
    if (bounded) {
      const evicted = tokensOf(answers[1]);
      this.#bound.settle(owner, Number(probed.admitted) === 1 ? evicted.length : 1, evicted, renewal.evicted);
    }
    return newId;
  }

  /**
   * Forgets a session: one `DELETE`. A retired id in its grace ends its successor too (a
   * log-out racing a renewal wins), in the same statement. Unknown and malformed ids are
   * fine.
   *
   * @param id - The session's id.
   * @throws SessionStoreError when D1 fails.
   * @example
   * ```ts
   * await store.deleteSession(id); // an unknown id resolves too
   * ```
   */
  async deleteSession(id: string): Promise<void> {
    if (isId(id)) {
      const token = sessionKey(id);
      await this.#operation('delete', () => this.#statement(this.#sql.deleteChain, { token, now: this.#clock.now() }).all());
    }
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
   * @returns How many live sessions were ended.
   * @throws SessionStoreError when D1 fails.
   * @example
   * ```ts
   * const ended = await store.deleteOwnerSessions('u1'); // "log out everywhere"
   * ```
   */
  async deleteOwnerSessions(owner: string, keep?: string): Promise<number> {
    if (typeof owner !== 'string') {
      return 0;
    }
    const input = { owner, keep: isHandle(keep) ? keep : null, now: this.#clock.now() };
    const answer = await this.#operation('delete owner sessions', () =>
      this.#statement(this.#sql.deleteOwner, input).all<{ live: number }>(),
    );
    return answer.results.filter((row) => Number(row.live) === 1).length;
  }

  /**
   * Lists the live sessions of one owner: one `SELECT` on the owner index.
   *
   * @param owner - The owner.
   * @returns Each live session's handle (the SHA-256 of its id, the row's key), metadata
   *   and expiry, in no set order; never an id.
   * @throws SessionStoreError when D1 fails.
   * @example
   * ```ts
   * const sessions = await store.listOwnerSessions('u1');
   * ```
   */
  async listOwnerSessions(owner: string): Promise<OwnerSessionRecord[]> {
    if (typeof owner !== 'string') {
      return [];
    }
    const answer = await this.#operation('list owner sessions', () =>
      this.#statement(this.#sql.list, { owner, now: this.#clock.now() }).all<ListedRow>(),
    );
    return answer.results.map((row) => ({
      handle: row.handle,
      meta: typeof row.meta === 'string' ? row.meta : undefined,
      expireTime: Number(row.expire_time),
      deadline: Number(row.deadline),
    }));
  }

  /**
   * Ends one session of an owner by its handle: one `DELETE` that matches the owner too,
   * so a handle of another owner's session ends nothing. A handle of a renewed session
   * (retired) ends its successor, the same device, in the same statement. A handle that
   * is not one answers `false` before any statement.
   *
   * @param owner - The owner.
   * @param handle - The session's handle, from `listOwnerSessions`.
   * @returns `true` when a live session of that owner was ended.
   * @throws SessionStoreError when D1 fails.
   * @example
   * ```ts
   * await store.deleteSessionByHandle('u1', handle); // "end this one"
   * ```
   */
  async deleteSessionByHandle(owner: string, handle: string): Promise<boolean> {
    if (!isHandle(handle) || typeof owner !== 'string') {
      return false;
    }
    const input = { token: handle, owner, now: this.#clock.now() };
    const answer = await this.#operation('delete session by handle', () =>
      this.#statement(this.#sql.deleteChainByHandle, input).all<{ successor: string | null; live: number }>(),
    );
    return answer.results.some((row) => row.successor === null && Number(row.live) === 1);
  }

  /**
   * Bounds the live sessions of each owner. From then on a save that files a session under
   * an owner with `max` other live sessions evicts the least recently written of them and
   * calls `evicted`, or writes nothing and rejects with `SessionLimitError`, as the policy
   * says; the count and the write are one batch, so the bound is exact across requests
   * and isolates.
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
   * expiry index. Call it from a Cron Trigger (`scheduled`).
   *
   * @returns How many rows were deleted.
   * @throws SessionStoreError when D1 fails.
   * @example
   * ```ts
   * export default {
   *   async scheduled(_controller: ScheduledController, env: { DB: D1Database }) {
   *     await new D1SessionStore(env.DB).deleteExpired();
   *   },
   * };
   * ```
   */
  async deleteExpired(): Promise<number> {
    const answer = await this.#operation('delete expired', () =>
      this.#statement(this.#sql.deleteExpired, { now: this.#clock.now() }).run(),
    );
    return changesOf(answer);
  }

  /**
   * A patch whose every key a JSON path names: one UPDATE whose SQL sets and unsets the
   * keys on what the row holds when it runs (one statement; with a bound, one batch: the
   * row as it is, the eviction, the UPDATE).
   */
  async #patchInSql(token: string, patch: SessionPatch<T>, changes: PatchChanges, limit: OwnerSessionLimit | undefined): Promise<PatchOutcome> {
    const input: Record<string, SqlValue> = {
      ...this.#patchInput(token, patch, limit),
      guard: 3,
      old: null,
    };
    changes.set.forEach(([path, json], i) => {
      input[`setPath${parameterSuffix(i)}`] = path;
      input[`setValue${parameterSuffix(i)}`] = json;
    });
    changes.unset.forEach((path, i) => {
      input[`unsetPath${parameterSuffix(i)}`] = path;
    });
    const update = this.#statement(this.#sql.jsonPatch(changes.set.length, changes.unset.length), input);
    if (limit === undefined) {
      return changesOf(await update.run()) === 1 ? { refused: false, evicted: [] } : undefined;
    }
    const answers = await this.#db.batch([this.#statement(this.#sql.probe, input), this.#statement(this.#sql.evict, input), update]);
    return this.#patchOutcome(answers);
  }

  /**
   * A patch with a key no JSON path names: compare-and-set. Reads the row, merges in JS,
   * and writes only while the row still holds what was read (one batch: the row as it is,
   * with a bound the eviction, the UPDATE), reading again when it changed.
   */
  async #patchByComparing(token: string, patch: SessionPatch<T>, limit: OwnerSessionLimit | undefined): Promise<PatchOutcome> {
    const base = this.#patchInput(token, patch, limit);
    let row = await this.#first<ProbedRow>(this.#sql.probe, base);
    for (let attempt = 0; attempt < PATCH_ATTEMPTS; attempt++) {
      if (row === null || Number(row.admitted) !== 1) {
        return row === null ? undefined : { refused: true, evicted: [] };
      }
      const input = { ...base, old: row.data, guard: 2, data: merged(row.data, patch) };
      const statements = [this.#statement(this.#sql.probe, input), this.#statement(this.#sql.evict, input), this.#statement(this.#sql.patch, input)];
      const answers = await this.#db.batch(statements);
      const outcome = this.#patchOutcome(answers);
      if (outcome === undefined || changesOf(answers[2]) === 1 || outcome.refused) {
        return outcome;
      }
      // Written by another request between the read and the write: merge again.
      row = (answers[0]?.results[0] as ProbedRow | undefined) ?? null;
    }
    throw new Error('the session kept changing between the reads and writes of a patch');
  }

  /** What a patch binds besides its values. */
  #patchInput(token: string, patch: SessionPatch<T>, limit: OwnerSessionLimit | undefined): Record<string, SqlValue> {
    const { owner } = patch;
    return {
      token,
      other: token,
      now: this.#clock.now(),
      owner: owner ?? null,
      ...(limit === undefined ? { refuseMax: null, evictMax: null } : this.#counted(limit, true)),
      expireTime: patch.expireTime,
      deadline: patch.deadline,
      ownerGiven: owner === undefined ? 0 : 1,
      meta: patch.meta ?? null,
    };
  }

  /** What a patch batch (the row, the eviction, the UPDATE) did. */
  #patchOutcome(answers: readonly D1Answer<unknown>[]): PatchOutcome {
    const row = answers[0]?.results[0] as ProbedRow | undefined;
    if (row === undefined) {
      return undefined;
    }
    if (Number(row.admitted) !== 1) {
      return { refused: true, evicted: [] };
    }
    return { refused: false, evicted: tokensOf(answers[1]) };
  }

  /** The bound's parameters for a write that counts against it when `counts`. */
  #counted(limit: OwnerSessionLimit, counts: boolean): { refuseMax: number | null; evictMax: number | null } {
    if (!counts) {
      return { refuseMax: null, evictMax: null };
    }
    return limit.policy === 'refuse' ? { refuseMax: limit.max, evictMax: null } : { refuseMax: null, evictMax: limit.max };
  }

  /** One statement, prepared and bound. */
  #statement(compiled: Statement, input: Readonly<Record<string, SqlValue>>): D1Statement {
    return this.#db.prepare(compiled.sql).bind(...bind(compiled, input));
  }

  /** The first row of one statement, or `null`. */
  #first<R>(compiled: Statement, input: Readonly<Record<string, SqlValue>>): Promise<R | null> {
    return this.#statement(compiled, input).first<R>();
  }

  /** Runs one operation against the store's timeout; every failure becomes a SessionStoreError. */
  #operation<R>(operation: string, work: () => Promise<R>): Promise<R> {
    return storeOperation(`d1 session store: ${operation}`, this.#timeout, work, scrubbed);
  }
}

/** D1's error, kept to its name and message: D1 names no bound value in either. */
function scrubbed(error: unknown): unknown {
  if (!(error instanceof Error)) {
    return new Error('D1 failed');
  }
  const copy = new Error(error.message);
  copy.name = error.name;
  return copy;
}

/**
 * A patch's changes as JSON paths and texts (what `merged` would apply), or `undefined`
 * when a JSON path cannot name one of its keys, or they are more than one statement binds.
 */
function changesOfPatch<T>(patch: SessionPatch<T>): PatchChanges | undefined {
  const set: [string, string][] = [];
  const changes = JSON.parse(JSON.stringify(patch.set)) as Record<string, unknown>;
  for (const [key, value] of Object.entries(changes)) {
    const path = jsonPath(key);
    if (path === undefined) {
      return undefined;
    }
    set.push([path, JSON.stringify(value)]);
  }
  const unset: string[] = [];
  for (const key of patch.unset) {
    const path = jsonPath(key);
    if (path === undefined) {
      return undefined;
    }
    unset.push(path);
  }
  return 2 * set.length + unset.length > MAX_PATCH_PARAMETERS ? undefined : { set, unset };
}

/** How many rows a statement wrote. */
function changesOf(answer: D1Answer<unknown> | undefined): number {
  return Number(answer?.meta.changes ?? 0);
}

/** The tokens a `RETURNING token` statement gave. */
function tokensOf(answer: D1Answer<unknown> | undefined): string[] {
  return ((answer?.results ?? []) as { token: string }[]).map((row) => row.token);
}
