/**
 * What a store keeps for one session.
 *
 * @typeParam T - The shape of the session's values.
 */
export interface SessionRecord<T> {
  /** The session's values. Must survive `JSON.stringify` and `JSON.parse`. */
  readonly values: Partial<T>;
  /**
   * When the session ends unless activity extends it, in milliseconds since the epoch.
   * Never later than {@link SessionRecord.deadline}.
   */
  readonly expireTime: number;
  /**
   * The absolute end of the session (its creation plus the manager's `lifetime`), in
   * milliseconds since the epoch. Activity never moves it.
   */
  readonly deadline: number;
}

/**
 * A record as a store gives it back, with the id it is kept under.
 *
 * @typeParam T - The shape of the session's values.
 */
export interface LoadedSessionRecord<T> extends SessionRecord<T> {
  /**
   * The id to pass to {@link SessionStore.setSession} and
   * {@link SessionStore.deleteSession} for this session. For a server-side store it
   * is the token it was loaded with; a store that transforms tokens (encryption, the
   * cookie store) gives the id underneath.
   */
  readonly id: string;
}

/**
 * Where sessions live. kit-session ships a cookie store, a memory store, and
 * server-side stores for Redis and PostgreSQL behind their own subpath exports; an
 * app can write its own by following this contract, which one shared test suite
 * checks for every store.
 *
 * Two strings are in play. The **id** is chosen by the manager: at least 256 random
 * bits, base64url. The **token** is what `setSession` returns and what goes into the
 * cookie: a server-side store returns the id unchanged; the cookie store returns the
 * encoded session itself; the encrypting decorator returns a sealed token.
 *
 * The contract (all three methods are required):
 * - `getSession(token)` resolves to the record, or to `undefined` when the token is
 *   unknown, expired (`expireTime` not after now), malformed or tampered with. It
 *   rejects only when the infrastructure fails, with a `SessionStoreError`.
 * - `setSession(id, record)` stores the record under `id`, replacing what was there,
 *   and resolves to the token for the cookie. The store should forget the record at
 *   `record.expireTime` on its own (Redis `PX`, a swept map, a SQL predicate).
 * - `deleteSession(id)` forgets the session. It is idempotent: deleting an unknown id
 *   succeeds. A store that keeps nothing on the server (the cookie store) cannot
 *   revoke a session, and its `deleteSession` does nothing.
 *
 * Stores never throw for bad input from a client, and never put a token or a value
 * in an error message.
 *
 * @typeParam T - The shape of the session's values.
 */
export interface SessionStore<T> {
  /**
   * Loads a session by the token from the cookie.
   *
   * @param token - The token a previous `setSession` returned.
   * @returns The record and its id, or `undefined` when not found.
   * @throws SessionStoreError when the store's infrastructure fails.
   */
  getSession(token: string): Promise<LoadedSessionRecord<T> | undefined>;

  /**
   * Saves a session, replacing any earlier record with the same id.
   *
   * @param id - The session's id.
   * @param record - The values and expiry to keep.
   * @returns The token for the cookie.
   * @throws SessionStoreError when the store's infrastructure fails.
   */
  setSession(id: string, record: SessionRecord<T>): Promise<string>;

  /**
   * Forgets a session. Deleting an unknown id succeeds.
   *
   * @param id - The session's id.
   * @throws SessionStoreError when the store's infrastructure fails.
   */
  deleteSession(id: string): Promise<void>;
}
