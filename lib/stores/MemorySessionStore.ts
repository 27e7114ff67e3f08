import { inject, injectable, optional } from 'inversify';
import { SESSION_CLOCK, SESSION_MEMORY_STORE_OPTIONS } from '../di/identifiers.js';
import { systemClock, type Clock } from '../session/Clock.js';
import type {
  LoadedSessionRecord,
  OwnerIndexedSessionStore,
  PatchableSessionStore,
  SessionPatch,
  SessionRecord,
} from './SessionStore.js';

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

interface Entry {
  /** The values as JSON, so later changes to the caller's objects do not leak in. */
  readonly json: string;
  readonly expireTime: number;
  readonly deadline: number;
  readonly owner: string | undefined;
}

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
 * @typeParam T - The shape of the session's values.
 * @example
 * ```ts
 * const manager = new SessionManager(new MemorySessionStore({ maxEntries: 50_000 }));
 * ```
 */
@injectable()
export class MemorySessionStore<T = Record<string, unknown>>
  implements PatchableSessionStore<T>, OwnerIndexedSessionStore<T>
{
  readonly #entries = new Map<string, Entry>();
  readonly #owners = new Map<string, Set<string>>();
  readonly #maxEntries: number;
  readonly #clock: Clock;

  /**
   * @param options - See {@link MemorySessionStoreOptions}.
   * @param clock - The source of time for expiry.
   * @throws TypeError when `maxEntries` is not a positive integer.
   */
  constructor(
    @inject(SESSION_MEMORY_STORE_OPTIONS) @optional() options?: MemorySessionStoreOptions,
    @inject(SESSION_CLOCK) @optional() clock?: Clock,
  ) {
    const maxEntries = options?.maxEntries ?? 10_000;
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
      throw new TypeError('maxEntries must be a positive integer');
    }
    this.#maxEntries = maxEntries;
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
   */
  async getSession(token: string): Promise<LoadedSessionRecord<T> | undefined> {
    const entry = this.#live(token);
    if (entry === undefined) {
      return undefined;
    }
    // Move to the end: the map's order is least recently used first.
    this.#entries.delete(token);
    this.#entries.set(token, entry);
    return {
      id: token,
      values: JSON.parse(entry.json) as Partial<T>,
      expireTime: entry.expireTime,
      deadline: entry.deadline,
    };
  }

  /**
   * Saves a session.
   *
   * @param id - The session's id.
   * @param record - The values and expiry.
   * @param owner - The session's owner, for {@link MemorySessionStore.deleteOwnerSessions}.
   * @returns The id, which is the token.
   */
  async setSession(id: string, record: SessionRecord<T>, owner?: string): Promise<string> {
    this.#put(id, JSON.stringify(record.values), record, owner);
    return id;
  }

  /**
   * Applies the changed values on top of the stored ones.
   *
   * @param id - The session's id.
   * @param patch - What changed.
   * @returns The id, or `undefined` when the session is gone.
   */
  async patchSession(id: string, patch: SessionPatch<T>): Promise<string | undefined> {
    const entry = this.#live(id);
    if (entry === undefined) {
      return undefined;
    }
    const values = JSON.parse(entry.json) as Record<string, unknown>;
    for (const [key, value] of Object.entries(patch.set)) {
      Object.defineProperty(values, key, { value, enumerable: true, writable: true, configurable: true });
    }
    for (const key of patch.unset) {
      delete values[key];
    }
    this.#put(id, JSON.stringify(values), patch, patch.owner);
    return id;
  }

  /**
   * Forgets a session; unknown ids are fine.
   *
   * @param id - The session's id.
   */
  async deleteSession(id: string): Promise<void> {
    this.#remove(id);
  }

  /**
   * Forgets every session of one owner.
   *
   * @param owner - The owner.
   * @returns How many sessions were forgotten.
   */
  async deleteOwnerSessions(owner: string): Promise<number> {
    const ids = [...(this.#owners.get(owner) ?? [])];
    for (const id of ids) {
      this.#remove(id);
    }
    return ids.length;
  }

  #live(id: string): Entry | undefined {
    const entry = this.#entries.get(id);
    if (entry !== undefined && !this.#isLive(entry, this.#clock.now())) {
      this.#remove(id);
      return undefined;
    }
    return entry;
  }

  #isLive(entry: { expireTime: number; deadline: number }, now: number): boolean {
    return entry.expireTime > now && entry.deadline > now;
  }

  #put(
    id: string,
    json: string,
    expiry: { expireTime: number; deadline: number },
    owner: string | undefined,
  ): void {
    const now = this.#clock.now();
    const previous = this.#entries.get(id)?.owner;
    // Out of the map before the sweep (which must neither count nor evict it), and back
    // in at the end, as the most recently used. Its owner index entry stays for now: the
    // sweep only removes other ids, so it never empties that owner's set.
    this.#entries.delete(id);
    this.#sweep(now);
    if (!this.#isLive(expiry, now)) {
      this.#unindex(id, previous);
      return;
    }
    this.#entries.set(id, { json, expireTime: expiry.expireTime, deadline: expiry.deadline, owner });
    if (owner !== previous) {
      this.#unindex(id, previous);
      this.#index(id, owner);
    }
  }

  #remove(id: string): void {
    const entry = this.#entries.get(id);
    if (entry === undefined) {
      return;
    }
    this.#entries.delete(id);
    this.#unindex(id, entry.owner);
  }

  /** Files an id under its owner, if any. */
  #index(id: string, owner: string | undefined): void {
    if (owner === undefined) {
      return;
    }
    let ids = this.#owners.get(owner);
    if (ids === undefined) {
      ids = new Set();
      this.#owners.set(owner, ids);
    }
    ids.add(id);
  }

  /** Takes an id out of its owner's set, if any, and drops the set once empty. */
  #unindex(id: string, owner: string | undefined): void {
    if (owner === undefined) {
      return;
    }
    const ids = this.#owners.get(owner);
    ids?.delete(id);
    if (ids?.size === 0) {
      this.#owners.delete(owner);
    }
  }

  /** Drops expired entries among the few least recently used, and the oldest when full. */
  #sweep(now: number): void {
    let looked = 0;
    for (const [id, entry] of this.#entries) {
      const full = this.#entries.size >= this.#maxEntries;
      if (!full && looked >= SWEEP_STEP) {
        break;
      }
      looked++;
      if (full || !this.#isLive(entry, now)) {
        this.#remove(id);
      }
    }
  }
}
