// The Workers KV store of kit-session/cloudflare: sessions as KV entries, with what KV's
// eventual consistency lets a store promise, and nothing more.
import { systemClock, type Clock } from '../../core/Clock.js';
import type { LoadedSessionRecord, SessionRecord, TokenLengthSessionStore } from '../../core/SessionStore.js';
import { checkOptionKeys } from '../../core/options.js';
import { checkId, isId, millisecondsLeft, resolveTimeout, sessionKey, storeOperation } from '../policy.js';
import type { KvNamespaceLike } from './platform.js';

/** Options of {@link KvSessionStore}. */
export interface KvSessionStoreOptions {
  /** The KV namespace binding (`env.SESSIONS_KV`). */
  readonly namespace: KvNamespaceLike;
  /** What every key starts with: at most 469 bytes of UTF-8. Default `'session:'`. */
  readonly prefix?: string;
  /**
   * Seconds a location may serve a session from its cache (KV's `cacheTtl`, at least 60):
   * fewer reads reach KV's central store, and a log-out or a change made elsewhere is
   * seen that much later. Default: KV's own (60 seconds).
   */
  readonly cacheTtl?: number;
  /** Milliseconds before a call counts as failed (`SessionStoreError`). Default 5,000. */
  readonly timeout?: number;
}

const OPTIONS = ['namespace', 'prefix', 'cacheTtl', 'timeout'] as const satisfies readonly (keyof KvSessionStoreOptions)[];
/** KV forgets an entry no sooner than a minute after it is written. */
const MIN_TTL_SECONDS = 60;
const WHAT = 'kv session store';
/** KV's longest key is 512 bytes; the handle after the prefix takes 43. */
const MAX_PREFIX_BYTES = 512 - 43;

/** What an entry holds. */
interface Entry {
  readonly v: Record<string, unknown>;
  readonly e: number;
  readonly d: number;
  readonly m?: string;
}

function scrub(error: unknown): Error {
  const scrubbed = new Error(`${WHAT}: the KV call failed`);
  scrubbed.name = error instanceof Error ? error.name : 'Error';
  return scrubbed;
}

/**
 * A server-side store for Cloudflare Workers over Workers KV: one entry per session,
 * under the SHA-256 handle of its id (never the id), with KV's TTL set from the
 * session's expiry. One KV read per load, one KV write per save.
 *
 * KV is eventually consistent, and this store offers only the contract's three
 * required methods, because nothing more can be kept:
 * - **A log-out or a renewal is seen elsewhere only after KV's propagation delay** (up to
 *   60 seconds, or `cacheTtl`): meanwhile a copy of the old cookie still opens the session
 *   in other locations. Not for apps that must revoke at once: use
 *   {@link DurableObjectSessionStore}.
 * - **No atomic patches**: two requests of one session saving at once keep the last
 *   write whole (as a cookie store does); KV also takes at most one write a second per key.
 * - **No owner index, listing or bound**: the manager refuses `ownerKey` and
 *   `maxSessionsPerOwner` with this store at construction (`TypeError`).
 * - A session lives at least 60 seconds in KV (its minimum TTL); the manager never serves
 *   one past its expiry.
 *
 * @example
 * ```ts
 * import { SessionManager } from 'kit-session';
 * import { KvSessionStore } from 'kit-session/cloudflare';
 *
 * const manager = new SessionManager(new KvSessionStore({ namespace: env.SESSIONS_KV }));
 * ```
 */
export class KvSessionStore<T = Record<string, unknown>> implements TokenLengthSessionStore<T> {
  readonly #kv: KvNamespaceLike;
  readonly #prefix: string;
  readonly #cacheTtl: number | undefined;
  readonly #timeout: number;
  readonly #clock: Clock;

  /**
   * @param options - See {@link KvSessionStoreOptions}.
   * @param clock - The source of time for expiry.
   * @throws TypeError when `namespace` is not a KV namespace, an option is invalid, or
   *   `options` names an option that does not exist.
   */
  constructor(options: KvSessionStoreOptions, clock: Clock = systemClock) {
    checkOptionKeys('KvSessionStore options', options, OPTIONS);
    const kv = options?.namespace as Partial<KvNamespaceLike> | undefined;
    if (typeof kv?.get !== 'function' || typeof kv.put !== 'function' || typeof kv.delete !== 'function') {
      throw new TypeError('namespace must be a Workers KV namespace binding (env.SESSIONS_KV)');
    }
    const prefix = options.prefix ?? 'session:';
    if (typeof prefix !== 'string' || new TextEncoder().encode(prefix).length > MAX_PREFIX_BYTES) {
      throw new TypeError(`prefix must be a string of at most ${MAX_PREFIX_BYTES} bytes of UTF-8 (KV keys hold 512, the handle 43)`);
    }
    const cacheTtl = options.cacheTtl;
    if (cacheTtl !== undefined && (!Number.isSafeInteger(cacheTtl) || cacheTtl < MIN_TTL_SECONDS)) {
      throw new TypeError('cacheTtl must be a whole number of seconds, at least 60');
    }
    this.#kv = options.namespace;
    this.#prefix = prefix;
    this.#cacheTtl = cacheTtl;
    this.#timeout = resolveTimeout(options.timeout);
    this.#clock = clock;
  }

  /**
   * Loads a session: one KV read (none for a token that cannot be an id).
   *
   * @param token - The session's id.
   * @returns The record, or `undefined` when unknown, malformed or not yet seen here.
   * @throws SessionStoreError when KV fails.
   * @example
   * ```ts
   * const record = await store.getSession(token);
   * ```
   */
  async getSession(token: string): Promise<LoadedSessionRecord<T> | undefined> {
    if (!isId(token)) {
      return undefined;
    }
    const key = this.#prefix + sessionKey(token);
    const text = await storeOperation(
      `${WHAT}: load`,
      this.#timeout,
      () => this.#kv.get(key, { type: 'text', ...(this.#cacheTtl === undefined ? {} : { cacheTtl: this.#cacheTtl }) }),
      scrub,
    );
    if (text === null) {
      return undefined;
    }
    let entry: Partial<Entry>;
    try {
      entry = JSON.parse(text) as Partial<Entry>;
    } catch {
      return undefined;
    }
    if (
      typeof entry !== 'object' ||
      entry === null ||
      typeof entry.v !== 'object' ||
      entry.v === null ||
      Array.isArray(entry.v) ||
      typeof entry.e !== 'number' ||
      typeof entry.d !== 'number'
    ) {
      return undefined;
    }
    return {
      id: token,
      values: entry.v as Partial<T>,
      expireTime: entry.e,
      deadline: entry.d,
      ...(typeof entry.m === 'string' ? { meta: entry.m } : {}),
    };
  }

  /**
   * Saves a session whole: one KV write, its TTL the session's time left (at least KV's
   * minimum of 60 seconds).
   *
   * @param id - The session's id.
   * @param record - What to keep.
   * @returns The token: the id.
   * @throws SessionStoreError when KV fails (KV refuses more than one write a second to
   *   one key).
   * @example
   * ```ts
   * const token = await store.setSession(id, { values, expireTime, deadline });
   * ```
   */
  async setSession(id: string, record: SessionRecord<T>): Promise<string> {
    checkId(id);
    const entry: Entry = {
      v: record.values as Record<string, unknown>,
      e: record.expireTime,
      d: record.deadline,
      ...(record.meta === undefined ? {} : { m: record.meta }),
    };
    const text = JSON.stringify(entry);
    const ttl = Math.max(MIN_TTL_SECONDS, Math.ceil(millisecondsLeft(record, this.#clock.now()) / 1000));
    await storeOperation(`${WHAT}: save`, this.#timeout, () => this.#kv.put(this.#prefix + sessionKey(id), text, { expirationTtl: ttl }), scrub);
    return id;
  }

  /**
   * Deletes a session: one KV delete, seen in other locations after KV's propagation
   * delay.
   *
   * @param id - The session's id.
   * @throws SessionStoreError when KV fails.
   * @example
   * ```ts
   * await store.deleteSession(id);
   * ```
   */
  async deleteSession(id: string): Promise<void> {
    if (!isId(id)) {
      return;
    }
    await storeOperation(`${WHAT}: delete`, this.#timeout, () => this.#kv.delete(this.#prefix + sessionKey(id)), scrub);
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
}
