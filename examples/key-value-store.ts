// A session store written in an afternoon: sessions in any key-value service that can
// keep a string under a key for a while (Memcached, Valkey, etcd, Deno KV, a cloud
// cache…). It fills in the three required methods of the store contract and one
// optional ability, and takes everything else from kit-session/store's shared policy:
// the key a session is kept under (the SHA-256 of its id, never the id itself), which
// ids can name a session, the timeout every call runs against and the scrubbed
// SessionStoreError it fails with. The shared contract suite runs against it
// (spec/examples/key-value-store.spec.ts); docs/stores.md, "Writing a store", walks
// through it.
//
// What it cannot offer, and why: patches (`PatchableSessionStore`) and atomic renewal
// (`RenewableSessionStore`) need a read-and-write the service does atomically (a Lua
// script, a transaction, a compare-and-set); without them two concurrent requests of one
// session each write the whole session and the later one wins, and a renewal is a
// `setSession` of the new id and a `deleteSession` of the old one. An owner index needs
// a second structure kept in step. Add them when the service can do them.
//
//   import { SessionManager, EncryptingStoreDecorator, importKeysFromEnv } from 'kit-session';
//   const store = new KeyValueSessionStore({
//     get: (key) => memcached.get(key),
//     set: (key, value, ttl) => memcached.set(key, value, { expires: Math.ceil(ttl / 1000) }),
//     delete: (key) => memcached.delete(key),
//   });
//   const manager = new SessionManager(new EncryptingStoreDecorator(store, { keys: await importKeysFromEnv('SESSION_KEY') }));
import {
  checkId,
  isId,
  millisecondsLeft,
  resolveTimeout,
  sessionKey,
  storeOperation,
  systemClock,
  type Clock,
  type LoadedSessionRecord,
  type SessionRecord,
  type TokenLengthSessionStore,
} from 'kit-session/store';

/** The three calls the store needs from the key-value service; each may answer at once or later. */
export interface KeyValue {
  /** The string kept under `key`, or `null`/`undefined` when there is none. */
  get(key: string): Promise<string | null | undefined> | string | null | undefined;
  /** Keeps `value` under `key` for `ttl` milliseconds, replacing what was there. */
  set(key: string, value: string, ttl: number): Promise<unknown> | unknown;
  /** Forgets `key`; forgetting an unknown key succeeds. */
  delete(key: string): Promise<unknown> | unknown;
}

/** Options of {@link KeyValueSessionStore}. */
export interface KeyValueSessionStoreOptions {
  /** What every key starts with. @default 'sess:' */
  readonly prefix?: string;
  /** Milliseconds before a call counts as failed. @default 5000 */
  readonly timeout?: number;
}

/** What is kept under a session's key: its values, expiry, deadline and metadata. */
interface Stored {
  readonly v: Record<string, unknown>;
  readonly e: number;
  readonly d: number;
  readonly m?: string;
}

/** Reads what is kept under a key; anything else (a foreign or damaged entry) is no session. */
function parse(text: unknown): Stored | undefined {
  if (typeof text !== 'string') {
    return undefined;
  }
  try {
    const stored = JSON.parse(text) as Partial<Stored> | null;
    const { v, e, d, m } = stored ?? {};
    const valid =
      typeof v === 'object' && v !== null && !Array.isArray(v) && Number.isFinite(e) && Number.isFinite(d) && (m === undefined || typeof m === 'string');
    return valid ? (stored as Stored) : undefined;
  } catch {
    return undefined;
  }
}

/** A service's error without anything it may quote (a key, a value): its name and code. */
function scrub(error: unknown): Error {
  const { name, code } = (error ?? {}) as { name?: unknown; code?: unknown };
  const scrubbed = new Error(`${typeof name === 'string' ? name : 'Error'} from the key-value service`);
  return typeof code === 'string' ? Object.assign(scrubbed, { code }) : scrubbed;
}

/**
 * Sessions in a key-value service. Its token is the session id itself (wrap the store in
 * `EncryptingStoreDecorator` so that the cookie carries a sealed id and, with
 * `encryptValues`, the service holds no readable value).
 *
 * One round trip per load, save and delete.
 *
 * @typeParam T - The shape of the session's values.
 * @example
 * ```ts
 * const kv = new Map<string, string>();
 * const store = new KeyValueSessionStore({ get: (k) => kv.get(k), set: (k, v) => kv.set(k, v), delete: (k) => kv.delete(k) });
 * ```
 */
export class KeyValueSessionStore<T = Record<string, unknown>> implements TokenLengthSessionStore<T> {
  readonly #kv: KeyValue;
  readonly #prefix: string;
  readonly #timeout: number;
  readonly #clock: Clock;

  /**
   * @param kv - The service's get, set and delete.
   * @param options - See {@link KeyValueSessionStoreOptions}.
   * @param clock - The source of time (tests pass a fake one).
   * @throws TypeError naming the option that is invalid.
   */
  constructor(kv: KeyValue, options: KeyValueSessionStoreOptions = {}, clock: Clock = systemClock) {
    if (typeof kv?.get !== 'function' || typeof kv.set !== 'function' || typeof kv.delete !== 'function') {
      throw new TypeError('kv must have get, set and delete methods');
    }
    if (options.prefix !== undefined && typeof options.prefix !== 'string') {
      throw new TypeError('prefix must be a string');
    }
    this.#kv = kv;
    this.#prefix = options.prefix ?? 'sess:';
    this.#timeout = resolveTimeout(options.timeout);
    this.#clock = clock;
  }

  /**
   * Loads a session. An expired one that the service still holds comes back as it is:
   * the manager never serves it (and reports it as expired).
   *
   * @param token - The session id from the cookie.
   * @returns The record, or `undefined` when there is none.
   * @throws SessionStoreError when the service fails or does not answer in time.
   */
  async getSession(token: string): Promise<LoadedSessionRecord<T> | undefined> {
    if (!isId(token)) {
      return undefined; // names no session: no call
    }
    const stored = parse(await this.#run('load', () => this.#kv.get(this.#key(token))));
    if (stored === undefined) {
      return undefined;
    }
    const values = stored.v as Partial<T>;
    return { id: token, values, expireTime: stored.e, deadline: stored.d, ...(stored.m === undefined ? {} : { meta: stored.m }) };
  }

  /**
   * Saves a whole session, kept until its expiry or deadline, whichever is first.
   *
   * @param id - The session id.
   * @param record - The values, expiry, deadline and metadata.
   * @returns The token for the cookie: the id.
   * @throws SessionStoreError when the service fails or does not answer in time.
   */
  async setSession(id: string, record: SessionRecord<T>): Promise<string> {
    checkId(id);
    const ttl = millisecondsLeft(record, this.#clock.now());
    const key = this.#key(id);
    if (ttl === 0) {
      await this.#run('save', () => this.#kv.delete(key)); // an ended session is not kept
      return id;
    }
    const { values: v, expireTime: e, deadline: d, meta: m } = record;
    await this.#run('save', () => this.#kv.set(key, JSON.stringify({ v, e, d, m }), ttl));
    return id;
  }

  /**
   * Forgets a session; an unknown id succeeds.
   *
   * @param id - The session id.
   * @throws SessionStoreError when the service fails or does not answer in time.
   */
  async deleteSession(id: string): Promise<void> {
    if (isId(id)) {
      await this.#run('delete', () => this.#kv.delete(this.#key(id)));
    }
  }

  /**
   * The token's length, before a save: the id's (the manager refuses a cookie too large
   * before anything is written).
   *
   * @param id - The session id.
   * @returns Its length.
   */
  tokenLength(id: string): number {
    return id.length;
  }

  #key(id: string): string {
    return this.#prefix + sessionKey(id);
  }

  #run<R>(operation: string, call: () => Promise<R> | R): Promise<R> {
    return storeOperation(`key-value session store: ${operation}`, this.#timeout, async () => call(), scrub);
  }
}
