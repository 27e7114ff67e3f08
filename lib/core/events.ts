// Session events (core): what the manager reports to its `onEvent` hook for audit logs.

/**
 * What happened to a session:
 * - `created`: a new session was saved for the first time;
 * - `renewed`: a session got a new id (`renew()`, at log-in, or the manager's
 *   `renewalInterval`);
 * - `destroyed`: a session was ended (log-out, `destroySessionByHandle`,
 *   `destroyOtherSessions`, `destroyOwnerSessions`);
 * - `expired`: a cookie came in for a session past its idle timeout or lifetime (reported
 *   when the store still holds it, or when the cookie carries it);
 * - `evicted`: `maxSessionsPerOwner` ended the owner's least recently seen session;
 * - `revoked`: a sealed cookie came in with a generation older than its owner's.
 */
export type SessionEventType = 'created' | 'renewed' | 'destroyed' | 'expired' | 'evicted' | 'revoked';

/**
 * Why it happened, one word per cause: `'request'` (the request's own session: created,
 * renewed, destroyed), `'interval'` (renewed by `renewalInterval`), `'handle'`, `'others'` and `'owner'` (the manager's
 * `destroySessionByHandle`, `destroyOtherSessions` and `destroyOwnerSessions`),
 * `'idle'` and `'lifetime'` (expired), `'limit'` (evicted), `'generation'` (revoked),
 * `'adopted'` (created from another library's session, by the manager's `adopt` option).
 */
export type SessionEventReason =
  | 'request'
  | 'interval'
  | 'handle'
  | 'others'
  | 'owner'
  | 'idle'
  | 'lifetime'
  | 'limit'
  | 'generation'
  | 'adopted';

/**
 * One session event, as the manager's `onEvent` hook receives it. It never holds the
 * session id, a token or a value: the session is named by its handle, the SHA-256 of
 * its id (the same handle `listOwnerSessions` shows). An id has 256 random bits, so the
 * hash needs no salt to keep it secret.
 *
 * @example
 * ```ts
 * const manager = new SessionManager(store, {
 *   ownerKey: 'userId',
 *   onEvent: (event) => audit.info({ event: event.type, reason: event.reason, session: event.handle, user: event.owner }),
 * });
 * ```
 */
export interface SessionEvent {
  /** What happened. */
  readonly type: SessionEventType;
  /** Why. */
  readonly reason: SessionEventReason;
  /**
   * The session's handle; `undefined` for an event about many sessions
   * (`destroyOtherSessions`, `destroyOwnerSessions`) or a sealed cookie that carries no id.
   */
  readonly handle: string | undefined;
  /** The session's owner (the `ownerKey` value), when known. */
  readonly owner: string | undefined;
  /** When the manager saw it. */
  readonly at: Date;
}
