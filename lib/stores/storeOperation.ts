import { SessionStoreError } from '../core/SessionError.js';
import type { OwnerSessionLimit } from '../core/SessionStore.js';
import { settleDeadline, watchDeadline } from './operationDeadlines.js';

/**
 * The default `timeout` of the server-side stores, in milliseconds.
 *
 * @internal
 */
export const DEFAULT_TIMEOUT = 5_000;

/** Ids the manager makes are 43 characters of base64url; anything else is not ours. */
const ID = /^[A-Za-z0-9_-]{1,256}$/;

/**
 * Whether a token or id can be a session id: 1 to 256 characters of base64url.
 *
 * @internal
 * @param id - The token or id.
 * @returns `true` when it can.
 */
export function isId(id: unknown): id is string {
  return typeof id === 'string' && ID.test(id);
}

/**
 * How many renewals a retired session's successor is followed through, at most: a
 * retired id is served, and its handle ends its successor, only when a session of its
 * own is found within this many steps.
 *
 * @internal
 */
export const MAX_RENEWAL_STEPS = 4;

/**
 * Throws unless the id can be a session id: 1 to 256 characters of base64url.
 *
 * @internal
 * @param id - The id.
 * @throws TypeError when it cannot.
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
 * @internal
 * @param id - The session's current id.
 * @param newId - The successor's id.
 * @returns `false` when `id` can name no session (the renewal writes nothing).
 * @throws TypeError when `newId` is no session id, or is `id` itself.
 */
export function checkRenewal(id: string, newId: string): boolean {
  checkId(newId);
  if (newId === id) {
    throw new TypeError('a renewal needs a new session id');
  }
  return isId(id);
}

/** @internal */
export { hashId, isHandle, type CreateHash } from '../core/sessionHandle.js';

/**
 * Runs one operation of a server-side store against the store's timeout. Every
 * failure becomes a `SessionStoreError`: a timeout (its cause named `TimeoutError`; the
 * operation itself is not cancelled and may still apply) or the client's error, passed
 * through `scrub` first so that the cause carries no token or session value.
 *
 * @internal
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
