/**
 * Where a session stands in the current request.
 * - `new`: no valid cookie came in, nothing has been stored yet;
 * - `unmodified`: loaded from the store and not changed;
 * - `modified`: changed; the response saves it and sends a cookie;
 * - `destroyed`: ended; the response deletes it and expires the cookie.
 */
export type SessionStatus = 'new' | 'unmodified' | 'modified' | 'destroyed';

/**
 * One session as the current request sees it. The manager creates it in
 * `extractSession`, endpoint code changes it through the manager, and
 * `injectSession` saves what changed. It lives in the request's context; change it
 * through the manager's methods rather than directly.
 *
 * @typeParam T - The shape of the session's values.
 */
export class Session<T> {
  /** The id the store keeps the session under. */
  id: string;
  /**
   * Whether the browser holds a cookie for this session: one came in with the request,
   * or this response sends one. A destroyed session expires the cookie only then.
   */
  hasCookie: boolean;
  /** The session's values. */
  values: Partial<T>;
  /** When the session ends unless activity extends it (ms since the epoch). */
  expireTime: number;
  /** The absolute end of the session (ms since the epoch). */
  deadline: number;
  /** Where the session stands in this request. */
  status: SessionStatus;
  /** Whether the store holds this session under {@link Session.id} as it was loaded. */
  stored: boolean;
  /** Ids to delete from the store when the response is written (renewed or destroyed). */
  readonly retiredIds: string[] = [];
  /** The keys set or unset in this request. */
  readonly changedKeys = new Set<keyof T & string>();
  /**
   * Whether the response writes the whole session again even if nothing changed: the
   * store read it with an old key (see `LoadedSessionRecord.rewrite`).
   */
  rewrite = false;

  /**
   * @param init - The session's starting state.
   */
  constructor(init: {
    id: string;
    hasCookie: boolean;
    values: Partial<T>;
    expireTime: number;
    deadline: number;
    status: SessionStatus;
  }) {
    this.id = init.id;
    this.hasCookie = init.hasCookie;
    this.values = init.values;
    this.expireTime = init.expireTime;
    this.deadline = init.deadline;
    this.status = init.status;
    this.stored = init.status === 'unmodified';
  }
}
