import { systemClock, type Clock } from '../core/Clock.js';
import { checkOptionKeys, positiveInteger } from '../core/options.js';
import { hashId, isLive, MAX_RENEWAL_STEPS, OwnerBound } from './policy.js';
import { makeEntry, retireEntry, type Entry } from './memoryEntry.js';
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
} from '../core/SessionStore.js';

/**
 * Options of {@link MemorySessionStore}.
 */
export interface MemorySessionStoreOptions {
  /**
   * The most sessions kept. When full, the session used least recently goes.
   * @default 10_000
   */
  readonly maxEntries?: number;
}

/** Every key of {@link MemorySessionStoreOptions}. */
const MEMORY_OPTIONS = ['maxEntries'] as const satisfies readonly (keyof MemorySessionStoreOptions)[];

/** How many of the least recently used entries each write looks at for expired ones. */
const SWEEP_STEP = 4;


/**
 * Keeps sessions in this process's memory: for tests, development and single-process
 * apps. Sessions are lost on restart and not shared between processes.
 *
 * It is bounded (`maxEntries`, least recently used out first), evicts expired entries
 * as it goes (each read drops what it finds expired; each write looks at a few of the
 * least recently used entries), and runs no timer, so it never keeps a process alive.
 * It applies patches (concurrent requests keep each other's changes: JavaScript runs
 * one patch at a time) and keeps an owner index for "log out everywhere".
 *
 * Like the Redis and PostgreSQL stores, it keys its entries and its owner index by the
 * SHA-256 of each session id (base64url), never by the id itself, so that what it keeps
 * is never a string that works as a cookie. The hash comes from node:crypto where the
 * runtime has it, else from Web Crypto (edge runtimes).
 *
 * @typeParam T - The shape of the session's values.
 * @example
 * ```ts
 * const manager = new SessionManager(new MemorySessionStore({ maxEntries: 50_000 }));
 * ```
 */
export class MemorySessionStore<T = Record<string, unknown>>
  implements PatchableSessionStore<T>, RenewableSessionStore<T>, OwnerListingSessionStore<T>
{
  /** Entries by the hash of their id, least recently used first. */
  readonly #entries = new Map<string, Entry>();
  /** Each owner's set of id hashes. */
  readonly #owners = new Map<string, Set<string>>();
  readonly #maxEntries: number;
  readonly #clock: Clock;
  readonly #bound = new OwnerBound();

  /**
   * @param options - See {@link MemorySessionStoreOptions}.
   * @param clock - The source of time for expiry.
   * @throws TypeError when `maxEntries` is not a positive integer, or `options` names
   *   an option that does not exist.
   */
  constructor(
    options?: MemorySessionStoreOptions,
    clock?: Clock,
  ) {
    checkOptionKeys('MemorySessionStore options', options, MEMORY_OPTIONS);
    this.#maxEntries = positiveInteger('maxEntries', options?.maxEntries, 10_000);
    this.#clock = clock ?? systemClock;
  }

  /** The number of sessions held, expired ones not yet evicted included. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Loads a session.
   *
   * @param token - The session's id.
   * @returns The record, or `undefined` when unknown or expired.
   * @example
   * ```ts
   * const store = new MemorySessionStore();
   * const record = await store.getSession(token); // undefined once expired or evicted
   * ```
   */
  async getSession(token: string): Promise<LoadedSessionRecord<T> | undefined> {
    const key = await hashId(token);
    const entry = this.#entries.get(key);
    if (entry === undefined) {
      return undefined;
    }
    const now = this.#clock.now();
    const { successor } = entry;
    if (successor !== undefined && !(isLive(entry, now) && this.#successorLive(successor, now))) {
      // Renewed, and its grace is over or its successor has ended: gone, not expired.
      this.#entries.delete(key);
      return undefined;
    }
    // Move to the end: the map's order is least recently used first. An expired entry
    // goes, and is given back this once as it is: the manager reports it as expired.
    this.#entries.delete(key);
    if (isLive(entry, now)) {
      this.#entries.set(key, entry);
    } else {
      this.#unindex(key, entry.owner);
    }
    const record: LoadedSessionRecord<T> = {
      id: token,
      values: JSON.parse(entry.json) as Partial<T>,
      expireTime: entry.expireTime,
      deadline: entry.deadline,
      ...(successor === undefined ? {} : { superseded: true }),
    };
    const { meta } = entry;
    return meta === undefined ? record : { ...record, meta };
  }

  /**
   * Renews a session atomically: see `RenewableSessionStore.renewSession`. Nothing
   * awaits between the check of the old id and the writes.
   *
   * @param id - The session's current id.
   * @param newId - The successor's id.
   * @param renewal - The successor's record and owner, and the grace of the old id.
   * @returns The new id, which is the token; `undefined` when the old id is not live.
   * @throws SessionLimitError when the owner's bound refuses the successor.
   * @example
   * ```ts
   * const token = await store.renewSession(oldId, newId, { record, owner: 'user-42', grace: 30_000 });
   * ```
   */
  async renewSession(id: string, newId: string, renewal: SessionRenewal<T>): Promise<string | undefined> {
    const { record, owner, grace, evicted } = renewal;
    const json = JSON.stringify(record.values);
    const key = await hashId(id);
    const newKey = await hashId(newId);
    // From here to the end, nothing awaits: no other save or end can run in between.
    const entry = this.#live(key);
    if (entry === undefined || entry.successor !== undefined || !isLive(record, this.#clock.now())) {
      // Not live, renewed already, or a successor already over (its deadline passed during
      // the request): nothing is written.
      return undefined;
    }
    // Out of its owner's index first: a successor of the same owner takes its place.
    this.#remove(key);
    try {
      this.#put(newKey, json, record, owner, record.meta, evicted);
    } catch (error) {
      this.#entries.set(key, entry);
      this.#index(key, entry.owner);
      throw error;
    }
    if (grace > 0) {
      this.#entries.set(key, retireEntry(entry, this.#clock.now() + grace, newKey));
      if (entry.owner !== undefined && entry.owner !== owner) {
        // Renewed into another owner's session (a log-in as someone else): it stays filed
        // under its own owner, uncounted, so that owner's ends end it too.
        this.#index(key, entry.owner);
      }
    }
    return newId;
  }

  /**
   * Saves a session.
   *
   * @param id - The session's id.
   * @param record - The values and expiry.
   * @param owner - The session's owner, for {@link MemorySessionStore.deleteOwnerSessions}.
   * @param evicted - Told which sessions the save evicted; else the bound's own `evicted` is.
   * @returns The id, which is the token.
   * @example
   * ```ts
   * const token = await store.setSession(id, { values: { userId: 'u1' }, expireTime, deadline }, 'u1'); // token === id
   * ```
   */
  async setSession(id: string, record: SessionRecord<T>, owner?: string, evicted?: EvictionReport): Promise<string> {
    const json = JSON.stringify(record.values);
    this.#put(await hashId(id), json, record, owner, record.meta, evicted);
    return id;
  }

  /**
   * Applies the changed values on top of the stored ones. The owner is the patch's when
   * it gives one (`null`: none), else the one held now.
   *
   * @param id - The session's id.
   * @param patch - What changed.
   * @returns The id, or `undefined` when the session is gone.
   * @example
   * ```ts
   * await store.patchSession(id, { set: { visits: 2 }, unset: ['flash'], expireTime, deadline });
   * ```
   */
  async patchSession(id: string, patch: SessionPatch<T>): Promise<string | undefined> {
    // What the patch says, read now: the hash may take a turn of the event loop.
    const set = Object.entries(patch.set);
    const unset = [...patch.unset];
    const { expireTime, deadline, owner, meta, evicted } = patch;
    const key = await hashId(id);
    // From here to the write, nothing awaits: no other patch can run in between.
    const entry = this.#live(key);
    if (entry === undefined || entry.successor !== undefined) {
      // Ended, expired, or renewed: a patch neither brings it back nor writes into it.
      return undefined;
    }
    const values = JSON.parse(entry.json) as Record<string, unknown>;
    for (const [name, value] of set) {
      Object.defineProperty(values, name, { value, enumerable: true, writable: true, configurable: true });
    }
    for (const name of unset) {
      delete values[name];
    }
    // An absent owner keeps the one held now (a concurrent request may have set it).
    const after = owner === undefined ? entry.owner : (owner ?? undefined);
    this.#put(key, JSON.stringify(values), { expireTime, deadline }, after, meta ?? entry.meta, evicted);
    return id;
  }

  /**
   * Forgets a session; unknown ids are fine.
   *
   * @param id - The session's id.
   * @example
   * ```ts
   * await store.deleteSession(id); // an unknown id resolves too
   * ```
   */
  async deleteSession(id: string): Promise<void> {
    // A retired id in its grace ends its successor too: a log-out racing a renewal wins.
    this.#endChain(await hashId(id), undefined);
  }

  /**
   * Forgets every session of one owner.
   *
   * @param owner - The owner.
   * @returns How many live sessions were forgotten (expired ones go too, uncounted).
   * @example
   * ```ts
   * const ended = await store.deleteOwnerSessions('u1'); // "log out everywhere"
   * ```
   */
  async deleteOwnerSessions(owner: string, keep?: string): Promise<number> {
    const now = this.#clock.now();
    // The one kept, and what it was renewed into meanwhile: the same device.
    const kept = new Set<string>();
    for (let key = keep, step = 0; key !== undefined && step <= MAX_RENEWAL_STEPS; step++) {
      kept.add(key);
      key = this.#entries.get(key)?.successor;
    }
    let live = 0;
    for (const key of [...(this.#owners.get(owner) ?? [])]) {
      if (kept.has(key)) {
        continue;
      }
      const entry = this.#entries.get(key);
      if (entry !== undefined && entry.successor === undefined && isLive(entry, now)) {
        live++;
      }
      this.#remove(key);
    }
    return live;
  }

  /**
   * Lists the live sessions of one owner.
   *
   * @param owner - The owner.
   * @returns Each session's handle, metadata and expiry.
   * @example
   * ```ts
   * const sessions = await store.listOwnerSessions('u1');
   * ```
   */
  async listOwnerSessions(owner: string): Promise<OwnerSessionRecord[]> {
    const now = this.#clock.now();
    const out: OwnerSessionRecord[] = [];
    for (const key of this.#owners.get(owner) ?? []) {
      const entry = this.#entries.get(key);
      if (entry !== undefined && entry.successor === undefined && isLive(entry, now)) {
        out.push({ handle: key, meta: entry.meta, expireTime: entry.expireTime, deadline: entry.deadline });
      }
    }
    return out;
  }

  /**
   * Ends one session of an owner by its handle.
   *
   * @param owner - The owner.
   * @param handle - The session's handle.
   * @returns `true` when a live session of that owner was ended.
   * @example
   * ```ts
   * await store.deleteSessionByHandle('u1', handle);
   * ```
   */
  async deleteSessionByHandle(owner: string, handle: string): Promise<boolean> {
    // A handle of a renewed session ends its successor too (the same device, renewed
    // while the owner looked at the list).
    return this.#endChain(handle, owner);
  }


  /**
   * Bounds the live sessions of each owner.
   *
   * @param limit - The bound and its policy.
   * @throws TypeError when the store is bounded differently already.
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

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry !== undefined && !isLive(entry, this.#clock.now())) {
      this.#remove(key);
      return undefined;
    }
    return entry;
  }

  /**
   * Removes an entry and, while it is a retired one in its grace, what it was renewed
   * into, through later renewals (a few steps at most); with an owner, only entries of
   * that owner. Tells whether it ended a live session of its own.
   */
  #endChain(start: string, owner: string | undefined): boolean {
    const now = this.#clock.now();
    let key: string | undefined = start;
    for (let step = 0; step <= MAX_RENEWAL_STEPS && key !== undefined; step++) {
      const entry = this.#entries.get(key);
      if (entry === undefined || (owner !== undefined && entry.owner !== owner)) {
        return false;
      }
      this.#remove(key);
      const live = isLive(entry, now);
      if (entry.successor === undefined || !live) {
        // A retired id past its grace is gone: it leads nowhere.
        return entry.successor === undefined && live;
      }
      key = entry.successor;
    }
    return false;
  }

  /**
   * Whether a retired entry's successor, followed through later renewals (a few steps at
   * most), is live.
   */
  #successorLive(key: string, now: number): boolean {
    let next: string | undefined = key;
    for (let step = 0; step < MAX_RENEWAL_STEPS && next !== undefined; step++) {
      const entry = this.#entries.get(next);
      if (entry === undefined || !isLive(entry, now)) {
        return false;
      }
      next = entry.successor;
    }
    return next === undefined;
  }

  #put(
    key: string,
    json: string,
    expiry: { expireTime: number; deadline: number },
    owner: string | undefined,
    meta: string | undefined,
    evicted: EvictionReport | undefined,
  ): void {
    const now = this.#clock.now();
    const previous = this.#entries.get(key)?.owner;
    const { limit } = this.#bound;
    const victims = owner !== undefined && owner !== previous && limit !== undefined && isLive(expiry, now) ? this.#admit(owner, now, limit) : [];
    // Out of the map before the sweep (which must neither count nor evict it), and back
    // in at the end, as the most recently used. Its owner index entry stays for now: the
    // sweep only removes other entries, so it never empties that owner's set.
    this.#entries.delete(key);
    this.#sweep(now);
    if (!isLive(expiry, now)) {
      this.#unindex(key, previous);
      return;
    }
    this.#entries.set(key, makeEntry(json, expiry.expireTime, expiry.deadline, owner, meta, now));
    if (owner !== previous) {
      this.#unindex(key, previous);
      this.#index(key, owner);
    }
    if (victims.length > 0) {
      // Told once the session is written; a throwing report does not undo it.
      this.#bound.report(owner!, victims, evicted);
    }
  }

  /**
   * Makes room for one more session of a bounded owner: evicts the ones written least
   * recently (and gives their handles), or refuses. Nothing awaits here, so no other save
   * runs in between.
   */
  #admit(owner: string, now: number, limit: OwnerSessionLimit): string[] {
    const live: [string, Entry][] = [];
    for (const key of this.#owners.get(owner) ?? []) {
      const entry = this.#entries.get(key);
      if (entry !== undefined && entry.successor === undefined && isLive(entry, now)) {
        live.push([key, entry]);
      }
    }
    const excess = live.length - limit.max + 1;
    if (excess <= 0) {
      return [];
    }
    if (limit.policy === 'refuse') {
      this.#bound.refuse();
    }
    live.sort((a, b) => a[1].written - b[1].written);
    const evicted = live.slice(0, excess).map(([key]) => key);
    for (const key of evicted) {
      this.#remove(key);
    }
    return evicted;
  }

  #remove(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) {
      return;
    }
    this.#entries.delete(key);
    this.#unindex(key, entry.owner);
  }

  /** Files an entry's key under its owner, if any. */
  #index(key: string, owner: string | undefined): void {
    if (owner === undefined) {
      return;
    }
    let keys = this.#owners.get(owner);
    if (keys === undefined) {
      keys = new Set();
      this.#owners.set(owner, keys);
    }
    keys.add(key);
  }

  /** Takes an entry's key out of its owner's set, if any, and drops the set once empty. */
  #unindex(key: string, owner: string | undefined): void {
    if (owner === undefined) {
      return;
    }
    const keys = this.#owners.get(owner);
    keys?.delete(key);
    if (keys?.size === 0) {
      this.#owners.delete(owner);
    }
  }

  /** Drops expired entries among the few least recently used, and the oldest when full. */
  #sweep(now: number): void {
    let looked = 0;
    for (const [key, entry] of this.#entries) {
      const full = this.#entries.size >= this.#maxEntries;
      if (!full && looked >= SWEEP_STEP) {
        break;
      }
      looked++;
      if (full || !isLive(entry, now)) {
        this.#remove(key);
      }
    }
  }
}
