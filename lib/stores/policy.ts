// What every server-side store shares, written once (the shared server-store policy):
// the key a session id is kept under (its SHA-256, never the id), when a record is live,
// the ids a store accepts, the timeout every operation runs against (and the scrubbed
// SessionStoreError it fails with), and the bound on an owner's sessions with its
// refusal and eviction report. The memory, Redis, PostgreSQL, MySQL and SQLite stores all
// use it; a store author gets it from `kit-session/store`.
import { sha256 } from '@noble/hashes/sha2';
import { encodeBase64url } from '../core/base64url.js';
import { SessionLimitError, SessionStoreError } from '../core/SessionError.js';
import type { EvictionReport, OwnerSessionLimit } from '../core/SessionStore.js';
import { hashId, type CreateHash } from '../core/sessionHandle.js';
import { MAX_TIMER_DELAY, positive } from '../core/options.js';
import { settleDeadline, watchDeadline } from './operationDeadlines.js';

/**
 * The default `timeout` of the server-side stores, in milliseconds.
 */
export const DEFAULT_TIMEOUT = 5_000;

/** Ids the manager makes are 43 characters of base64url; anything else is not ours. */
const ID = /^[A-Za-z0-9_-]{1,256}$/;

/**
 * Whether a token or id can be a session id: 1 to 256 characters of base64url.
 *
 * @param id - The token or id.
 * @returns `true` when it can.
 * @example
 * ```ts
 * if (!isId(token)) return undefined; // names no session: no query
 * ```
 */
export function isId(id: unknown): id is string {
  return typeof id === 'string' && ID.test(id);
}

/**
 * How many renewals a retired session's successor is followed through, at most: a
 * retired id is served, and its handle ends its successor, only when a session of its
 * own is found within this many steps.
 */
export const MAX_RENEWAL_STEPS = 4;

/**
 * Throws unless the id can be a session id: 1 to 256 characters of base64url.
 *
 * @param id - The id.
 * @throws TypeError when it cannot.
 * @example
 * ```ts
 * checkId(id); // in setSession: the manager's ids always pass
 * ```
 */
export function checkId(id: string): void {
  if (!isId(id)) {
    throw new TypeError('a session id must be 1 to 256 characters of base64url');
  }
}

/**
 * Checks a renewal's ids: throws unless the new one can be a session id other than the
 * old one, and tells whether the old one can name a session at all.
 *
 * @param id - The session's current id.
 * @param newId - The successor's id.
 * @returns `false` when `id` can name no session (the renewal writes nothing).
 * @throws TypeError when `newId` is no session id, or is `id` itself.
 * @example
 * ```ts
 * if (!checkRenewal(id, newId)) return undefined; // the old id names no session
 * ```
 */
export function checkRenewal(id: string, newId: string): boolean {
  checkId(newId);
  if (newId === id) {
    throw new TypeError('a renewal needs a new session id');
  }
  return isId(id);
}

/** @internal */
export { hashId, type CreateHash } from '../core/sessionHandle.js';
export { isHandle } from '../core/sessionHandle.js';

// node:crypto's one-shot `hash` (Node 20.12+, 21.7+) costs about a third of a
// `createHash` chain (0.4 µs against 1.2 µs a call; it runs on every load and save);
// looked up at run time so that this module loads where node:crypto is missing too.
const nodeCrypto = globalThis.process?.getBuiltinModule?.('node:crypto') as
  | { hash?: (algorithm: string, data: string, encoding: 'base64url') => string; createHash: CreateHash }
  | undefined;
const oneShot = nodeCrypto?.hash;
const chained = nodeCrypto?.createHash;

/**
 * The key a server-side store keeps a session under: the SHA-256 of its id's UTF-8, as
 * base64url without padding (43 characters), which is also the session's public handle
 * (`OwnerSessionRecord.handle`). A store never writes the id itself, so that whoever
 * reads the database, a backup or a replica holds nothing they can put in a cookie. The
 * id has 256 random bits, so a plain hash is enough: there is nothing to guess.
 *
 * Synchronous everywhere: node:crypto's where it exists (Node, Bun, Deno), else (an edge
 * runtime such as Cloudflare Workers without `nodejs_compat`) @noble/hashes' SHA-256,
 * since Web Crypto's digest is asynchronous only.
 *
 * @param id - The session id.
 * @returns Its key.
 * @example
 * ```ts
 * const key = prefix + sessionKey(id);
 * ```
 */
export function sessionKey(id: string): string {
  if (oneShot !== undefined) {
    return oneShot('sha256', id, 'base64url');
  }
  if (chained !== undefined) {
    return hashId(id, chained);
  }
  return encodeBase64url(sha256(textEncoder.encode(id)));
}

const textEncoder = new TextEncoder();

export { isLive } from '../core/SessionStore.js';

/**
 * The whole milliseconds a record has left at `now` (until its expiry or its deadline,
 * whichever is first): what a store gives its backend's own expiry (Redis `PX`, a TTL).
 *
 * @param record - The session's expiry and deadline.
 * @param now - The store's clock.
 * @returns The milliseconds left, 0 when it has ended.
 * @example
 * ```ts
 * await redis.set(key, text, 'PX', millisecondsLeft(record, clock.now()));
 * ```
 */
export function millisecondsLeft(record: { readonly expireTime: number; readonly deadline: number }, now: number): number {
  const left = Math.ceil(Math.min(record.expireTime, record.deadline) - now);
  return left > 0 ? left : 0;
}

/**
 * Reads a server-side store's `timeout` option: a positive number of milliseconds,
 * {@link DEFAULT_TIMEOUT} when unset or `null`.
 *
 * @param timeout - What the app gave.
 * @returns The timeout.
 * @throws TypeError naming `timeout` when it is not a positive number.
 * @example
 * ```ts
 * this.#timeout = resolveTimeout(options.timeout); // 5,000 when unset
 * ```
 */
export function resolveTimeout(timeout: number | null | undefined): number {
  return positive('timeout', timeout ?? undefined, DEFAULT_TIMEOUT, 'milliseconds');
}

/**
 * Runs one operation of a server-side store against the store's timeout. Every
 * failure becomes a `SessionStoreError`: a timeout (its cause named `TimeoutError`; the
 * operation itself is not cancelled and may still apply) or the client's error, passed
 * through `scrub` first so that the cause carries no token or session value.
 *
 * @param what - The store and the operation, for the message (`'redis session store: load'`).
 * @param timeout - Milliseconds before the operation counts as failed.
 * @param work - The operation.
 * @param scrub - Removes tokens and values from the client's error.
 * @returns What the operation resolved to.
 * @throws SessionStoreError when the operation fails or takes longer than `timeout`.
 * @example
 * ```ts
 * const row = await storeOperation('postgres session store: load', 5_000, () => pool.query(sql, [id]), scrubError);
 * ```
 */
export function storeOperation<R>(
  what: string,
  timeout: number,
  work: () => Promise<R>,
  scrub: (error: unknown) => unknown,
): Promise<R> {
  // One promise settled by whichever comes first, the operation or its deadline: the
  // deadline is watched by a timer shared with the other operations of this timeout
  // (operationDeadlines.ts), which costs less than a timer and a Promise.race each.
  return new Promise<R>((resolve, reject) => {
    const deadline = watchDeadline(timeout, () => {
      const cause = new Error(`no answer within ${timeout} ms`);
      cause.name = 'TimeoutError';
      reject(new SessionStoreError(`${what} timed out`, { cause }));
    });
    const fail = (error: unknown): void => {
      settleDeadline(deadline);
      reject(error instanceof SessionStoreError ? error : new SessionStoreError(`${what} failed`, { cause: scrub(error) }));
    };
    let pending: Promise<R>;
    try {
      pending = work();
    } catch (error) {
      fail(error);
      return;
    }
    pending.then((value) => {
      settleDeadline(deadline);
      resolve(value);
    }, fail);
  });
}

/**
 * The bound a listing store keeps: the one given, checked, unless it has another already.
 *
 * @internal
 * @param current - The bound the store has, if any.
 * @param limit - The bound asked for.
 * @returns The bound to keep.
 * @throws TypeError when `max` is not a positive integer, the policy is unknown, or the
 *   store is bounded differently already.
 */
export function checkLimit(current: OwnerSessionLimit | undefined, limit: OwnerSessionLimit): OwnerSessionLimit {
  if (!Number.isSafeInteger(limit.max) || limit.max < 1) {
    throw new TypeError('maxSessionsPerOwner must be a positive integer');
  }
  if (limit.policy !== 'evict' && limit.policy !== 'refuse') {
    throw new TypeError("the owner limit's policy must be 'evict' or 'refuse'");
  }
  if (current !== undefined && (current.max !== limit.max || current.policy !== limit.policy)) {
    throw new TypeError('this store is bounded by another maxSessionsPerOwner already');
  }
  return limit;
}

/**
 * The bound on an owner's sessions as a store keeps it (the shared half of
 * {@link OwnerListingSessionStore.limitOwnerSessions}): the limit the manager gave, checked
 * once; the refusal; and the eviction report, told once per save and never allowed to
 * fail a save that has been written. A store decides *whom* to evict in its own
 * transaction or script; this decides what happens after.
 *
 * @example
 * ```ts
 * readonly #bound = new OwnerBound();
 * limitOwnerSessions(limit) { this.#bound.set(limit); }
 * // after a bounded write that found `excess` sessions over the bound and evicted `handles`:
 * this.#bound.settle(owner, excess, handles, report);
 * ```
 */
export class OwnerBound {
  #limit: OwnerSessionLimit | undefined;

  /** The bound, once the manager has set it. */
  get limit(): OwnerSessionLimit | undefined {
    return this.#limit;
  }

  /**
   * Sets the bound.
   *
   * @param limit - The bound, its policy and its eviction callback.
   * @throws TypeError when it is not a valid bound, or another is set already.
   * @example
   * ```ts
   * limitOwnerSessions(limit: OwnerSessionLimit): void {
   *   this.#bound.set(limit);
   * }
   * ```
   */
  set(limit: OwnerSessionLimit): void {
    this.#limit = checkLimit(this.#limit, limit);
  }

  /**
   * Refuses a save: what `'refuse'` does at the bound.
   *
   * @throws SessionLimitError always.
   * @example
   * ```ts
   * if (live >= limit.max && limit.policy === 'refuse') bound.refuse();
   * ```
   */
  refuse(): never {
    throw new SessionLimitError('the owner has as many sessions as the limit allows');
  }

  /**
   * After a bounded save: refuses when the policy is `'refuse'` and the save found the
   * owner full (the store wrote nothing), else tells the save's report (or the bound's
   * `evicted`) whom it evicted. A report that throws does not make the written save look
   * failed.
   *
   * @param owner - The owner.
   * @param excess - How many sessions over the bound the save found (0 when it fitted).
   * @param evicted - The handles of the sessions the save ended to make room.
   * @param report - The save's own report, if it has one.
   * @throws SessionLimitError when the save was refused.
   * @example
   * ```ts
   * bound.settle(owner, row.excess, row.evicted, report); // after the transaction committed
   * ```
   */
  settle(owner: string, excess: number, evicted: readonly string[], report?: EvictionReport): void {
    const limit = this.#limit;
    if (limit === undefined) {
      return;
    }
    if (limit.policy === 'refuse' && excess > 0) {
      this.refuse();
    }
    this.report(owner, evicted, report);
  }

  /**
   * Tells the save's report (or the bound's `evicted`) whom a save evicted, if anyone. A
   * report that throws does not make the written save look failed.
   *
   * @param owner - The owner.
   * @param evicted - The evicted sessions' handles.
   * @param report - The save's own report, if it has one.
   * @example
   * ```ts
   * bound.report(owner, evictedHandles, report);
   * ```
   */
  report(owner: string, evicted: readonly string[], report?: EvictionReport): void {
    const tell = report ?? this.#limit?.evicted;
    if (evicted.length === 0 || tell === undefined) {
      return;
    }
    try {
      tell(owner, evicted);
    } catch {
      // The save is written: a throwing report must not make it look failed.
    }
  }
}

/**
 * The options of a store that sweeps its expired records on a timer (the PostgreSQL,
 * MySQL and SQLite stores): read once by {@link ExpiredCleanup}.
 */
export interface ExpiredCleanupOptions {
  /**
   * Run the store's `deleteExpired` every this many milliseconds. The timer is unref'd,
   * so it never keeps the process alive; stop it with the store's `stopCleanup`. At most
   * 2147483647 (about 24.8 days, the longest a timer takes). Unset: no timer (an expired
   * record is never served anyway; call `deleteExpired` from a scheduled job instead).
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

/** The keys of {@link ExpiredCleanupOptions}, for a store's list of its option keys. */
export const EXPIRED_CLEANUP_OPTIONS = ['cleanupInterval', 'onCleanupError'] as const satisfies readonly (keyof ExpiredCleanupOptions)[];

/**
 * A store's sweep of expired records on an unref'd timer: never two at once, a failure
 * told to `onCleanupError` (and a throwing callback swallowed, never an unhandled
 * rejection or uncaught exception), stopped by {@link ExpiredCleanup.stop}.
 *
 * @example
 * ```ts
 * readonly #cleanup = new ExpiredCleanup(options, () => this.deleteExpired());
 * stopCleanup(): void {
 *   this.#cleanup.stop();
 * }
 * ```
 */
export class ExpiredCleanup {
  #timer: ReturnType<typeof setInterval> | undefined;
  #running = false;
  readonly #sweep: () => unknown;
  readonly #onError: ((error: SessionStoreError) => void) | undefined;

  /**
   * Reads the options and, with a `cleanupInterval`, starts the timer.
   *
   * @param options - The store's options.
   * @param sweep - The store's `deleteExpired`: a value or a promise.
   * @throws TypeError naming `cleanupInterval` or `onCleanupError` when it is invalid.
   */
  constructor(options: ExpiredCleanupOptions, sweep: () => unknown) {
    // setInterval runs a longer interval every millisecond.
    const interval = positive('cleanupInterval', options.cleanupInterval, undefined, 'milliseconds', MAX_TIMER_DELAY);
    if (options.onCleanupError !== undefined && typeof options.onCleanupError !== 'function') {
      throw new TypeError('onCleanupError must be a function');
    }
    this.#sweep = sweep;
    this.#onError = options.onCleanupError;
    if (interval !== undefined) {
      this.#timer = setInterval(() => void this.#run(), interval);
      this.#timer.unref?.();
    }
  }

  /**
   * Stops the timer; a sweep under way finishes.
   *
   * @example
   * ```ts
   * cleanup.stop(); // before the app closes its pool
   * ```
   */
  stop(): void {
    if (this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  async #run(): Promise<void> {
    if (this.#running) {
      return;
    }
    this.#running = true;
    try {
      await this.#sweep();
    } catch (error) {
      try {
        this.#onError?.(error as SessionStoreError);
      } catch {
        // A throwing callback must not become an unhandled rejection.
      }
    } finally {
      this.#running = false;
    }
  }
}
