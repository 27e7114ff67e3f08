// The Durable Object that keeps the sessions of kit-session/cloudflare's Durable Object
// store: the SQLite store's code, run on the object's own SQLite storage.
import {
  SessionError,
  SessionGenerationsLostError,
  SessionLimitError,
  SessionStoreError,
} from '../../core/SessionError.js';
import type { Clock } from '../../core/Clock.js';
import type { EvictionReport, SessionPatch, SessionRecord, SessionRenewal } from '../../core/SessionStore.js';
import { checkOptionKeys } from '../../core/options.js';
import { SqliteOwnerGenerations } from '../sqlite/SqliteOwnerGenerations.js';
import { DEFAULT_SESSION_TABLE, SqliteSessionStore } from '../sqlite/SqliteSessionStore.js';
import type { SqliteDatabase } from '../sqlite/database.js';
import { durableObjectDatabase } from './durableObjectSql.js';
import type { DurableObjectStateLike } from './platform.js';
import type { ObjectAnswer, ObjectCall } from './protocol.js';

/**
 * How a {@link SessionStoreObject} keeps its sessions: set by a subclass's static
 * `options`.
 */
export interface SessionStoreObjectOptions {
  /**
   * How often, in milliseconds, the object's alarm removes the rows of ended sessions
   * (they are never served before that; this only frees space). Default: 15 minutes.
   */
  readonly cleanupInterval?: number;
}

const OPTIONS = ['cleanupInterval'] as const satisfies readonly (keyof SessionStoreObjectOptions)[];
const DEFAULT_CLEANUP_INTERVAL = 15 * 60_000;
const HEADERS = { 'content-type': 'application/json' };
/** What a class bound without SQLite storage answers every call with. */
const NO_SQL =
  'durable object session store: SessionStoreObject has no SQLite storage: list its class under new_sqlite_classes (not new_classes) in the Wrangler migration';
/**
 * The callers' clock minus the object's, kept for the alarm, which has no caller: it
 * sweeps by the callers' time when theirs runs behind (a test's fake clock).
 */
const CLOCK_TABLE_SQL = 'CREATE TABLE IF NOT EXISTS "kit_session_clock" (id INTEGER PRIMARY KEY CHECK (id = 1), skew INTEGER NOT NULL)';
const STORE_SKEW = 'INSERT INTO "kit_session_clock" (id, skew) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET skew = excluded.skew';
const READ_SKEW = 'SELECT skew FROM "kit_session_clock" WHERE id = 1';
/** How far the callers' clock may move from the stored skew before it is written again. */
const CLOCK_SLACK = 1_000;
/** Whether the session table holds any row (ended, retired or live). */
const ANY_ROW = `SELECT 1 AS found FROM "${DEFAULT_SESSION_TABLE}" LIMIT 1`;

type Values = Record<string, unknown>;

/**
 * The Durable Object class that keeps sessions for {@link DurableObjectSessionStore}.
 * Export it from the Worker's entry module and bind it as a **SQLite-backed** class
 * (`new_sqlite_classes` in the Wrangler migration). Every session of a store lives in
 * one object (the store's `name`): its SQLite database holds the sessions and their
 * owners as the SQLite store keeps them, and each call is one synchronous transaction in
 * the object's single thread, so patches, renewals, owner ends and the bound on an
 * owner's sessions are atomic, as on PostgreSQL. The rows of ended sessions are removed
 * by the object's alarm.
 *
 * To change its options, export a subclass with a static `options`.
 *
 * @example
 * ```ts
 * // worker.ts
 * export { SessionStoreObject } from 'kit-session/cloudflare';
 * // wrangler.jsonc:
 * // "durable_objects": { "bindings": [{ "name": "SESSIONS", "class_name": "SessionStoreObject" }] },
 * // "migrations": [{ "tag": "v1", "new_sqlite_classes": ["SessionStoreObject"] }]
 * ```
 */
export class SessionStoreObject {
  /** The options of the class: a subclass may set its own. */
  static options: SessionStoreObjectOptions = {};

  readonly #state: DurableObjectStateLike;
  readonly #database: SqliteDatabase;
  readonly #clock: { now: () => number };
  readonly #cleanupInterval: number;
  /** The callers' clock minus the object's, as last stored (undefined: none stored yet). */
  #skew: number | undefined;
  /** One store per bound the callers ask for (all of one app ask for the same). */
  readonly #stores = new Map<string, SqliteSessionStore<Values>>();
  #generations: SqliteOwnerGenerations | undefined;
  #now = 0;
  #ready = false;
  #alarmChecked = false;

  /**
   * Called by the Workers runtime.
   *
   * @param state - The object's state (`ctx`), with SQLite-backed storage.
   * @param _env - The Worker's bindings (unused).
   * @throws TypeError when the class's static `options` are invalid.
   */
  constructor(state: DurableObjectStateLike, _env?: unknown) {
    const options = (this.constructor as typeof SessionStoreObject).options;
    checkOptionKeys('SessionStoreObject options', options, OPTIONS);
    const interval = options.cleanupInterval ?? DEFAULT_CLEANUP_INTERVAL;
    if (!Number.isSafeInteger(interval) || interval <= 0) {
      throw new TypeError('SessionStoreObject options: cleanupInterval must be a positive number of milliseconds');
    }
    this.#cleanupInterval = interval;
    this.#state = state;
    this.#database = durableObjectDatabase(state.storage);
    this.#clock = { now: () => this.#now };
  }

  /**
   * Answers one call of a {@link DurableObjectSessionStore}: the Workers runtime calls it.
   *
   * @param request - The call, as the store sends it.
   * @returns The answer.
   * @example
   * ```ts
   * // Called by the runtime for each store call; nothing to call by hand.
   * const answer = await object.fetch(request);
   * ```
   */
  async fetch(request: Request): Promise<Response> {
    let call: ObjectCall;
    try {
      call = (await request.json()) as ObjectCall;
    } catch {
      return answer({ ok: false, error: { name: 'TypeError', message: 'the call is not JSON' } });
    }
    const evicted: [string, readonly string[]][] = [];
    const report: EvictionReport = (owner, handles) => {
      evicted.push([owner, [...handles]]);
    };
    try {
      if (!this.#ready) {
        if (!hasSql(this.#state.storage)) {
          throw new SessionStoreError(NO_SQL);
        }
        await this.#store(undefined).createTable();
        this.#generations = new SqliteOwnerGenerations(this.#database);
        await this.#generations.createTable();
        this.#database.exec(CLOCK_TABLE_SQL);
        this.#skew = this.#storedSkew();
        this.#ready = true;
      }
      this.#now = call.now;
      this.#noteClock(call.now);
      const value = await this.#run(call, report);
      if (!this.#alarmChecked && (call.op === 'set' || call.op === 'renew')) {
        await this.#scheduleCleanup();
      }
      return answer({ ok: true, value, ...(evicted.length === 0 ? {} : { evicted }) });
    } catch (error) {
      return answer({ ok: false, error: described(error) });
    }
  }

  /**
   * Removes the rows of ended sessions, and rings again while sessions are left: the
   * Workers runtime calls it at the alarm's time.
   *
   * @example
   * ```ts
   * // Called by the runtime; nothing to call by hand.
   * await object.alarm();
   * ```
   */
  async alarm(): Promise<void> {
    // Whatever happens below, the next save checks the alarm again (a sweep that keeps
    // failing is given up by the runtime after its retries).
    this.#alarmChecked = false;
    // By the callers' clock when it runs behind the object's (a test's fake clock): a
    // session live by the manager's clock is never removed.
    this.#now = Date.now() + Math.min(0, this.#storedSkew());
    await this.#store(undefined).deleteExpired();
    // Nothing left to sweep: an idle object is not woken every interval for ever; the
    // next save that writes a row sets the alarm again.
    if (this.#database.prepare(ANY_ROW).get() !== undefined) {
      await this.#scheduleCleanup();
    }
  }

  /**
   * Keeps how far the callers' clock is from the object's, for the alarm's sweep: written
   * only when it moves by more than a second (with real clocks, hardly ever).
   */
  #noteClock(now: number): void {
    const skew = Math.round(now - Date.now());
    if (!Number.isSafeInteger(skew) || (this.#skew !== undefined && Math.abs(skew - this.#skew) <= CLOCK_SLACK)) {
      return;
    }
    try {
      this.#database.prepare(STORE_SKEW).run(skew);
      this.#skew = skew;
    } catch {
      // Only the alarm's sweep reads it: the call goes on.
    }
  }

  /** The stored skew of the callers' clock; 0 when none is stored (or no table yet). */
  #storedSkew(): number {
    try {
      const row = this.#database.prepare(READ_SKEW).get() as { skew?: unknown } | undefined;
      return typeof row?.skew === 'number' ? row.skew : 0;
    } catch {
      return 0;
    }
  }

  /** Sets the alarm, unless one is set already. */
  async #scheduleCleanup(): Promise<void> {
    this.#alarmChecked = true;
    if ((await this.#state.storage.getAlarm()) === null) {
      await this.#state.storage.setAlarm(Date.now() + this.#cleanupInterval);
    }
  }

  /** The store for a bound (`undefined`: none). */
  #store(limit: ObjectCall['limit']): SqliteSessionStore<Values> {
    const key = limit === undefined ? '' : `${limit.max}:${limit.policy}`;
    let store = this.#stores.get(key);
    if (store === undefined) {
      store = new SqliteSessionStore<Values>(this.#database, {}, this.#clock as Clock);
      if (limit !== undefined) {
        store.limitOwnerSessions({ max: limit.max, policy: limit.policy });
      }
      this.#stores.set(key, store);
    }
    return store;
  }

  /** Runs one call on the store. */
  async #run(call: ObjectCall, report: EvictionReport): Promise<unknown> {
    const store = this.#store(call.limit);
    const args = call.args;
    const text = (index: number): string => {
      const value = args[index];
      if (typeof value !== 'string') {
        throw new TypeError('durable object session store: a call argument is missing');
      }
      return value;
    };
    switch (call.op) {
      case 'get':
        return await store.getSession(text(0));
      case 'set':
        return await store.setSession(
          text(0),
          args[1] as SessionRecord<Values>,
          typeof args[2] === 'string' ? args[2] : undefined,
          report,
        );
      case 'patch':
        return await store.patchSession(text(0), { ...(args[1] as SessionPatch<Values>), evicted: report });
      case 'renew':
        return await store.renewSession(text(0), text(1), { ...(args[2] as SessionRenewal<Values>), evicted: report });
      case 'delete':
        await store.deleteSession(text(0));
        return undefined;
      case 'deleteOwner':
        return await store.deleteOwnerSessions(text(0), typeof args[1] === 'string' ? args[1] : undefined);
      case 'list':
        return await store.listOwnerSessions(text(0));
      case 'deleteByHandle':
        return await store.deleteSessionByHandle(text(0), text(1));
      case 'deleteExpired':
        return await store.deleteExpired();
      case 'generation':
        return await this.#generations!.current(text(0));
      case 'bump':
        return await this.#generations!.bump(text(0));
      default:
        throw new TypeError('durable object session store: unknown call');
    }
  }
}

/** An error by name and message (a store's messages carry no token or value). */
function described(error: unknown): { name: string; message: string } {
  const name =
    error instanceof SessionLimitError
      ? 'SessionLimitError'
      : error instanceof SessionGenerationsLostError
        ? 'SessionGenerationsLostError'
        : error instanceof TypeError
          ? 'TypeError'
          : 'SessionStoreError';
  const message =
    error instanceof SessionError || error instanceof TypeError ? error.message : 'durable object session store: the call failed';
  return { name, message };
}

/** Whether the object's storage is SQLite-backed: reading `sql` of any other throws. */
function hasSql(storage: DurableObjectStateLike['storage']): boolean {
  try {
    storage.sql.exec('SELECT 1').toArray();
    return true;
  } catch {
    return false;
  }
}

function answer(body: ObjectAnswer): Response {
  return new Response(JSON.stringify(body), { headers: HEADERS });
}

/**
 * The error an object's answer names, made again on the caller's side (the message
 * carries no token or value).
 *
 * @internal
 */
export function errorOf(error: { readonly name: string; readonly message: string }): Error {
  switch (error.name) {
    case 'SessionLimitError':
      return new SessionLimitError(error.message);
    case 'SessionGenerationsLostError':
      return new SessionGenerationsLostError(error.message);
    case 'TypeError':
      return new TypeError(error.message);
    default:
      return new SessionStoreError(error.message);
  }
}
