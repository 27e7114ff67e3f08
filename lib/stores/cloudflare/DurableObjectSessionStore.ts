// The Durable Object store: a Worker's side of kit-session/cloudflare's server-side
// store whose sessions live in one SQLite-backed Durable Object (SessionStoreObject).
import { systemClock, type Clock } from '../../core/Clock.js';
import { SessionStoreError } from '../../core/SessionError.js';
import type {
  EvictionReport,
  LoadedSessionRecord,
  OwnerGenerations,
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
import { checkOptionKeys } from '../../core/options.js';
import { checkId, isHandle, isId, OwnerBound, resolveTimeout, storeOperation } from '../policy.js';
import type { DurableObjectNamespaceLike } from './platform.js';
import type { ObjectAnswer, ObjectCall, ObjectOperation } from './protocol.js';
import { errorOf } from './SessionStoreObject.js';

/** Options of {@link DurableObjectSessionStore} and {@link DurableObjectOwnerGenerations}. */
export interface DurableObjectSessionStoreOptions {
  /** The Durable Object namespace bound to {@link SessionStoreObject} (`env.SESSIONS`). */
  readonly namespace: DurableObjectNamespaceLike;
  /**
   * The name of the object that holds the sessions. Default `'kit-session'`. Stores of
   * one name share their sessions; another name is another, separate set (a tenant, an
   * app).
   */
  readonly name?: string;
  /** Milliseconds before a call counts as failed (`SessionStoreError`). Default 5,000. */
  readonly timeout?: number;
}

const OPTIONS = ['namespace', 'name', 'timeout'] as const satisfies readonly (keyof DurableObjectSessionStoreOptions)[];
const DEFAULT_NAME = 'kit-session';
const WHAT = 'durable object session store';

/** Nothing of a client's error but its name goes on: no token or value can be in it. */
function scrub(error: unknown): Error {
  const scrubbed = new Error(`${WHAT}: the call to the object failed`);
  scrubbed.name = error instanceof Error ? error.name : 'Error';
  return scrubbed;
}

/** One object of a namespace, and the calls to it. */
class ObjectChannel {
  readonly #namespace: DurableObjectNamespaceLike;
  readonly #name: string;
  readonly #timeout: number;
  readonly #clock: Clock;
  /** The object's id, found once (a stub is made per call). */
  #id: unknown;

  constructor(options: DurableObjectSessionStoreOptions, what: string, clock: Clock) {
    checkOptionKeys(`${what} options`, options, OPTIONS);
    const namespace = options?.namespace as Partial<DurableObjectNamespaceLike> | undefined;
    if (typeof namespace?.idFromName !== 'function' || typeof namespace.get !== 'function') {
      throw new TypeError('namespace must be a Durable Object namespace binding (env.SESSIONS)');
    }
    const name = options.name ?? DEFAULT_NAME;
    if (typeof name !== 'string' || name.length === 0 || name.length > 256) {
      throw new TypeError('name must be a non-empty string of at most 256 characters');
    }
    this.#namespace = options.namespace;
    this.#name = name;
    this.#timeout = resolveTimeout(options.timeout);
    this.#clock = clock;
  }

  /** Sends one call and gives the object's answer; the object's error is thrown. */
  async call(
    op: ObjectOperation,
    args: readonly unknown[],
    limit?: OwnerSessionLimit,
  ): Promise<{ value: unknown; evicted: readonly (readonly [string, readonly string[]])[] }> {
    const body: ObjectCall = {
      op,
      args,
      now: this.#clock.now(),
      ...(limit === undefined ? {} : { limit: { max: limit.max, policy: limit.policy } }),
    };
    const answer = await storeOperation(
      `${WHAT}: ${op}`,
      this.#timeout,
      async () => {
        this.#id ??= this.#namespace.idFromName(this.#name);
        const stub = this.#namespace.get(this.#id as never);
        const response = await stub.fetch(
          new Request('https://session-store/', { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
        );
        if (!response.ok) {
          throw new SessionStoreError(`${WHAT}: ${op} failed: the object answered ${response.status}`);
        }
        return (await response.json()) as ObjectAnswer;
      },
      scrub,
    );
    if (!answer.ok) {
      throw errorOf(answer.error);
    }
    return { value: answer.value, evicted: answer.evicted ?? [] };
  }
}

/** A function-free copy of what is sent (the report stays on this side). */
function withoutReport<R extends { readonly evicted?: EvictionReport | undefined }>(value: R): Omit<R, 'evicted'> {
  const { evicted: _evicted, ...rest } = value;
  return rest;
}

/**
 * A server-side store for Cloudflare Workers whose sessions live in one SQLite-backed
 * Durable Object ({@link SessionStoreObject}, which the Worker exports): every ability of
 * the store contract, each call one request to the object (a subrequest), answered in
 * one transaction of the object's single thread, so it is strongly consistent and atomic
 * everywhere: a log-out or an owner's end is seen by the next request in any location.
 *
 * - Atomic patches, atomic renewal with grace, an owner index, listing, and an exact
 *   bound on an owner's sessions (`maxSessionsPerOwner`): the SQLite store's own
 *   statements, run by the object.
 * - One subrequest per load and per save (none for a token that cannot be an id).
 * - The object runs in one place: requests from far away wait for the round trip to it,
 *   and one object serves a bounded rate of calls (its single thread). `name` splits
 *   sessions into independent sets (one per tenant or app), each its own object.
 *
 * @example
 * ```ts
 * import { SessionManager } from 'kit-session';
 * import { DurableObjectSessionStore } from 'kit-session/cloudflare';
 *
 * export { SessionStoreObject } from 'kit-session/cloudflare';
 *
 * const manager = new SessionManager<{ userId: string }>(
 *   new DurableObjectSessionStore({ namespace: env.SESSIONS }),
 *   { ownerKey: 'userId', maxSessionsPerOwner: 10 },
 * );
 * ```
 */
export class DurableObjectSessionStore<T = Record<string, unknown>>
  implements PatchableSessionStore<T>, RenewableSessionStore<T>, OwnerListingSessionStore<T>, TokenLengthSessionStore<T>
{
  readonly #channel: ObjectChannel;
  readonly #bound = new OwnerBound();

  /**
   * @param options - See {@link DurableObjectSessionStoreOptions}.
   * @param clock - The source of time for expiry (the manager's): sent with each call.
   * @throws TypeError when `namespace` is not a Durable Object namespace, an option is
   *   invalid, or `options` names an option that does not exist.
   */
  constructor(options: DurableObjectSessionStoreOptions, clock: Clock = systemClock) {
    this.#channel = new ObjectChannel(options, 'DurableObjectSessionStore', clock);
  }

  /**
   * Loads a session: one call to the object.
   *
   * @param token - The session's id.
   * @returns The record, or `undefined` when the token is unknown or malformed (no call
   *   is made for a token that cannot be an id).
   * @throws SessionStoreError when the object cannot be reached or fails.
   * @example
   * ```ts
   * const record = await store.getSession(token);
   * ```
   */
  async getSession(token: string): Promise<LoadedSessionRecord<T> | undefined> {
    if (!isId(token)) {
      return undefined;
    }
    const { value } = await this.#channel.call('get', [token]);
    if (value === undefined || value === null) {
      return undefined;
    }
    return { ...(value as LoadedSessionRecord<T>), id: token };
  }

  /**
   * Saves a session whole: one call to the object (with a bound, the owner's room is
   * made or refused in the same transaction).
   *
   * @param id - The session's id.
   * @param record - What to keep.
   * @param owner - The owner to file it under, if any.
   * @param evicted - Told the handles of the sessions the bound ended to make room.
   * @returns The token: the id.
   * @throws SessionLimitError when the owner is full and the policy is `'refuse'`;
   *   SessionStoreError when the object fails.
   * @example
   * ```ts
   * const token = await store.setSession(id, { values, expireTime, deadline }, 'user-42');
   * ```
   */
  async setSession(id: string, record: SessionRecord<T>, owner?: string, evicted?: EvictionReport): Promise<string> {
    checkId(id);
    const answer = await this.#channel.call('set', [id, record, owner], this.#bound.limit);
    this.#report(answer.evicted, evicted);
    return answer.value as string;
  }

  /**
   * Applies a request's changes atomically: one call to the object.
   *
   * @param id - The session's id.
   * @param patch - The keys set and unset, the new expiry, the owner change.
   * @returns The token, or `undefined` when the session is gone (never brought back).
   * @throws SessionLimitError when a new owner is full and the policy is `'refuse'`;
   *   SessionStoreError when the object fails.
   * @example
   * ```ts
   * await store.patchSession(id, { set: { cart: 3 }, unset: [], expireTime, deadline });
   * ```
   */
  async patchSession(id: string, patch: SessionPatch<T>): Promise<string | undefined> {
    const answer = await this.#channel.call('patch', [id, withoutReport(patch)], this.#bound.limit);
    this.#report(answer.evicted, patch.evicted);
    return (answer.value ?? undefined) as string | undefined;
  }

  /**
   * Renews a session in one atomic step: one call to the object.
   *
   * @param id - The session's current id.
   * @param newId - Its successor's id.
   * @param renewal - The successor's record, owner and the old id's grace.
   * @returns The successor's token, or `undefined` when `id` was not live.
   * @throws SessionLimitError when the owner is full and the policy is `'refuse'`;
   *   SessionStoreError when the object fails.
   * @example
   * ```ts
   * const token = await store.renewSession(id, newId, { record, owner: 'user-42', grace: 10_000 });
   * ```
   */
  async renewSession(id: string, newId: string, renewal: SessionRenewal<T>): Promise<string | undefined> {
    const answer = await this.#channel.call('renew', [id, newId, withoutReport(renewal)], this.#bound.limit);
    this.#report(answer.evicted, renewal.evicted);
    return (answer.value ?? undefined) as string | undefined;
  }

  /**
   * Ends a session (and, during a renewal's grace, its successor): one call.
   *
   * @param id - The session's id.
   * @throws SessionStoreError when the object fails.
   * @example
   * ```ts
   * await store.deleteSession(id);
   * ```
   */
  async deleteSession(id: string): Promise<void> {
    if (!isId(id)) {
      return;
    }
    await this.#channel.call('delete', [id]);
  }

  /**
   * Ends every session of an owner: one call.
   *
   * @param owner - The owner.
   * @param keep - The handle of a session to keep (the current one), never its id.
   * @returns How many live sessions were ended (an owner that is not text: none, with
   *   no call).
   * @throws SessionStoreError when the object fails.
   * @example
   * ```ts
   * const ended = await store.deleteOwnerSessions('user-42');
   * ```
   */
  async deleteOwnerSessions(owner: string, keep?: string): Promise<number> {
    if (typeof owner !== 'string') {
      return 0;
    }
    return (await this.#channel.call('deleteOwner', [owner, isHandle(keep) ? keep : undefined])).value as number;
  }

  /**
   * An owner's live sessions: one call.
   *
   * @param owner - The owner.
   * @returns Their handles, metadata and expiry (an owner that is not text: none, with
   *   no call).
   * @throws SessionStoreError when the object fails.
   * @example
   * ```ts
   * const sessions = await store.listOwnerSessions('user-42');
   * ```
   */
  async listOwnerSessions(owner: string): Promise<OwnerSessionRecord[]> {
    if (typeof owner !== 'string') {
      return [];
    }
    const rows = (await this.#channel.call('list', [owner])).value as OwnerSessionRecord[];
    return rows.map((row) => ({ handle: row.handle, meta: row.meta ?? undefined, expireTime: row.expireTime, deadline: row.deadline }));
  }

  /**
   * Ends one of an owner's sessions by its handle: one call.
   *
   * @param owner - The owner.
   * @param handle - The session's handle.
   * @returns Whether a live session of that owner was ended (`false`, with no call, for
   *   a handle that cannot be one or an owner that is not text).
   * @throws SessionStoreError when the object fails.
   * @example
   * ```ts
   * await store.deleteSessionByHandle('user-42', handle);
   * ```
   */
  async deleteSessionByHandle(owner: string, handle: string): Promise<boolean> {
    if (typeof owner !== 'string' || !isHandle(handle)) {
      return false;
    }
    return (await this.#channel.call('deleteByHandle', [owner, handle])).value as boolean;
  }

  /**
   * Sets the bound on an owner's sessions (the manager calls it for
   * `maxSessionsPerOwner`); it is sent with each save.
   *
   * @param limit - The bound.
   * @throws TypeError when it is invalid or another is set already.
   * @example
   * ```ts
   * store.limitOwnerSessions({ max: 5, policy: 'evict' });
   * ```
   */
  limitOwnerSessions(limit: OwnerSessionLimit): void {
    this.#bound.set(limit);
  }

  /**
   * The token's length: the id's.
   *
   * @param id - The session's id.
   * @returns Its length.
   * @example
   * ```ts
   * store.tokenLength(id); // 43
   * ```
   */
  tokenLength(id: string): number {
    return id.length;
  }

  /**
   * Removes the rows of ended sessions now (the object's alarm does it on its own).
   *
   * @returns How many rows were removed.
   * @throws SessionStoreError when the object fails.
   * @example
   * ```ts
   * const removed = await store.deleteExpired();
   * ```
   */
  async deleteExpired(): Promise<number> {
    return (await this.#channel.call('deleteExpired', [])).value as number;
  }

  #report(evicted: readonly (readonly [string, readonly string[]])[], report: EvictionReport | undefined): void {
    for (const [owner, handles] of evicted) {
      this.#bound.report(owner, handles, report);
    }
  }
}

/**
 * Owners' generations for revocable sealed cookies (`revocation`), kept in the same
 * Durable Object as {@link DurableObjectSessionStore}'s sessions (or alone): each read
 * and bump is one call, atomic in the object.
 *
 * @example
 * ```ts
 * import { DurableObjectOwnerGenerations } from 'kit-session/cloudflare';
 *
 * const generations = new DurableObjectOwnerGenerations({ namespace: env.SESSIONS });
 * const manager = createCookieSessions({ keys, ownerKey: 'userId', revocation: { generations } });
 * ```
 */
export class DurableObjectOwnerGenerations implements OwnerGenerations {
  readonly #channel: ObjectChannel;

  /**
   * @param options - See {@link DurableObjectSessionStoreOptions}.
   * @throws TypeError when `namespace` is not a Durable Object namespace or an option is invalid.
   */
  constructor(options: DurableObjectSessionStoreOptions) {
    this.#channel = new ObjectChannel(options, 'DurableObjectOwnerGenerations', systemClock);
  }

  /**
   * Reads an owner's generation: one call.
   *
   * @param owner - The owner.
   * @returns The generation (0 for an owner never bumped).
   * @throws SessionStoreError when the object fails; SessionGenerationsLostError when
   *   it finds generations lost.
   * @example
   * ```ts
   * const generation = await generations.current('user-42');
   * ```
   */
  async current(owner: string): Promise<number> {
    return (await this.#channel.call('generation', [owner])).value as number;
  }

  /**
   * Moves an owner's generation forward by one, atomically: one call.
   *
   * @param owner - The owner.
   * @returns The new generation.
   * @throws SessionStoreError when the object fails.
   * @example
   * ```ts
   * await generations.bump('user-42');
   * ```
   */
  async bump(owner: string): Promise<number> {
    return (await this.#channel.call('bump', [owner])).value as number;
  }
}
