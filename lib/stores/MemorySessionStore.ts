import { inject, injectable, optional } from 'inversify';
import { SESSION_CLOCK, SESSION_MEMORY_STORE_OPTIONS } from '../di/identifiers.js';
import { systemClock, type Clock } from '../session/Clock.js';
import type { LoadedSessionRecord, SessionRecord, SessionStore } from './SessionStore.js';

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
  /** The record as JSON, so later changes to the caller's objects do not leak in. */
  readonly json: string;
  readonly expireTime: number;
  readonly deadline: number;
}

/** How many of the oldest entries each write looks at for expired ones. */
const SWEEP_STEP = 4;

/**
 * Keeps sessions in this process's memory: for tests, development and single-process
 * apps. Sessions are lost on restart and not shared between processes.
 *
 * It is bounded (`maxEntries`, least recently used out first), evicts expired entries
 * as it goes (each read drops what it finds expired; each write looks at a few of the
 * least recently used entries), and runs no timer, so it never keeps a process alive.
 *
 * @typeParam T - The shape of the session's values.
 * @example
 * ```ts
 * const manager = new SessionManager(new MemorySessionStore({ maxEntries: 50_000 }));
 * ```
 */
@injectable()
export class MemorySessionStore<T = Record<string, unknown>> implements SessionStore<T> {
  readonly #entries = new Map<string, Entry>();
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
    const entry = this.#entries.get(token);
    if (entry === undefined) {
      return undefined;
    }
    if (!this.#live(entry, this.#clock.now())) {
      this.#entries.delete(token);
      return undefined;
    }
    // Move to the end: the map's order is least recently used first.
    this.#entries.delete(token);
    this.#entries.set(token, entry);
    const { values } = JSON.parse(entry.json) as { values: Partial<T> };
    return { id: token, values, expireTime: entry.expireTime, deadline: entry.deadline };
  }

  /**
   * Saves a session.
   *
   * @param id - The session's id.
   * @param record - The values and expiry.
   * @returns The id, which is the token.
   */
  async setSession(id: string, record: SessionRecord<T>): Promise<string> {
    const now = this.#clock.now();
    this.#entries.delete(id);
    this.#sweep(now);
    const entry: Entry = {
      json: JSON.stringify({ values: record.values }),
      expireTime: record.expireTime,
      deadline: record.deadline,
    };
    if (this.#live(entry, now)) {
      this.#entries.set(id, entry);
    }
    return id;
  }

  /**
   * Forgets a session; unknown ids are fine.
   *
   * @param id - The session's id.
   */
  async deleteSession(id: string): Promise<void> {
    this.#entries.delete(id);
  }

  #live(entry: Entry, now: number): boolean {
    return entry.expireTime > now && entry.deadline > now;
  }

  /** Drops expired entries among the few oldest, and the oldest one when full. */
  #sweep(now: number): void {
    let looked = 0;
    for (const [id, entry] of this.#entries) {
      const full = this.#entries.size >= this.#maxEntries;
      if (!full && looked >= SWEEP_STEP) {
        break;
      }
      looked++;
      if (full || !this.#live(entry, now)) {
        this.#entries.delete(id);
      }
    }
  }
}
