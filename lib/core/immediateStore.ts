// Speed work, contained: a store that can often answer at once (the encrypting decorator
// over the cookie store, on node:crypto, which opens and seals synchronously) offers
// `loadNow` and `saveNow`, and the manager takes their answers without the promises and
// turns of the microtask queue that `getSession` and `setSession` cost. When it cannot
// answer at once (Web Crypto, a server-side inner store) it says so and the manager
// calls `getSession` or `setSession`.
// Kept because it pays on the realistic load (bench/README.md, "The speed work, A/B'd";
// measured with `node dist-bench/bench/instructions.js`). Not public API.
import type { LoadedSessionRecord, SessionRecord, SessionStore } from './SessionStore.js';

/**
 * What {@link ImmediateSessionStore.loadNow} and {@link ImmediateSessionStore.saveNow}
 * answer when only `getSession` or `setSession` can.
 *
 * @internal
 */
export const NOT_NOW: unique symbol = Symbol('kit-session.notNow');

/**
 * A store that can answer some loads and saves without a promise.
 *
 * @internal
 * @typeParam T - The shape of the session's values.
 */
export interface ImmediateSessionStore<T> extends SessionStore<T> {
  /**
   * Loads a session at once when it can: what `getSession` would resolve to.
   *
   * @param token - The token from the cookie.
   * @returns The record, `undefined` when `getSession` would give `undefined`, or
   *   {@link NOT_NOW} when only `getSession` can tell.
   * @example
   * ```ts
   * const now = store.loadNow(token);
   * const record = now === NOT_NOW ? await store.getSession(token) : now;
   * ```
   */
  loadNow(token: string): LoadedSessionRecord<T> | undefined | typeof NOT_NOW;
  /**
   * Saves a session at once when it can: what `setSession` would resolve to.
   *
   * @param id - The session's id.
   * @param record - The values and expiry.
   * @returns The token, or {@link NOT_NOW} when only `setSession` can save it.
   * @example
   * ```ts
   * const now = store.saveNow(id, record);
   * const token = now === NOT_NOW ? await store.setSession(id, record) : now;
   * ```
   */
  saveNow(id: string, record: SessionRecord<T>): string | typeof NOT_NOW;
}

/**
 * Tells whether a store can answer some loads and saves at once.
 *
 * @internal
 * @param store - Any store.
 * @returns `true` when it implements {@link ImmediateSessionStore}.
 * @example
 * ```ts
 * isImmediateStore(new MemorySessionStore()); // false
 * ```
 */
export function isImmediateStore<T>(store: SessionStore<T>): store is ImmediateSessionStore<T> {
  const candidate = store as Partial<ImmediateSessionStore<T>>;
  return typeof candidate.loadNow === 'function' && typeof candidate.saveNow === 'function';
}
