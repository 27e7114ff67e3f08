// Speed work, contained: a store whose token is the session itself (the cookie store)
// hands the encrypting decorator its record as text, which the decorator seals as it is
// instead of the store's base64url token. Kept because it pays on the realistic load:
// 4.5 % of the session layer's instructions per write over 4,096 distinct cookies
// (bench/README.md, "What taking each piece out did", row (c); measured with
// `node dist-bench/bench/instructions.js`). Not public API.
import type { LoadedSessionRecord, SessionRecord, SessionStore } from './SessionStore.js';

/**
 * A store whose token is the session itself (the cookie store). It gives its record as
 * text and reads it back, so that `EncryptingStoreDecorator` seals that text directly
 * instead of its base64url form (a third fewer bytes to encrypt and no encoding round
 * trip on each request).
 *
 * @internal
 * @typeParam T - The shape of the session's values.
 */
export interface SelfContainedSessionStore<T> extends SessionStore<T> {
  /**
   * Writes a record as the text its token encodes.
   *
   * @param record - The values and expiry.
   * @param id - The session's id, which the store may keep (for a session with metadata).
   * @returns The text.
   * @example
   * ```ts
   * const text = store.encodeRecord({ values: { theme: 'dark' }, expireTime, deadline });
   * ```
   */
  encodeRecord(record: SessionRecord<T>, id?: string): string;
  /**
   * Reads what {@link SelfContainedSessionStore.encodeRecord} wrote, with fresh objects
   * on every call.
   *
   * @param text - The text.
   * @returns The record, or `undefined` when the text is malformed or expired.
   * @example
   * ```ts
   * const record = store.decodeRecord(text); // the record again, or undefined once it has expired
   * ```
   */
  decodeRecord(text: string): LoadedSessionRecord<T> | undefined;
}

/**
 * Tells whether a store keeps the session in its token.
 *
 * @internal
 * @param store - Any store.
 * @returns `true` when it implements {@link SelfContainedSessionStore}.
 * @example
 * ```ts
 * isSelfContainedStore(new CookieSessionStore()); // true
 * isSelfContainedStore(new MemorySessionStore()); // false
 * ```
 */
export function isSelfContainedStore<T>(store: SessionStore<T>): store is SelfContainedSessionStore<T> {
  const candidate = store as Partial<SelfContainedSessionStore<T>>;
  return typeof candidate.encodeRecord === 'function' && typeof candidate.decodeRecord === 'function';
}
