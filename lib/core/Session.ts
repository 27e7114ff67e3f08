import { randomId } from './base64url.js';
import type { MetaFields } from './metadata.js';
import { SessionHeadersSentError, SessionNotFreshError, SessionNotLoadedError } from './SessionError.js';
import { checkValueName, storableValue } from './values.js';

/**
 * Where a session stands in the current request.
 * - `new`: no valid cookie came in, nothing has been stored yet;
 * - `unmodified`: loaded from the store and not changed;
 * - `modified`: changed; the response saves it and sends a cookie;
 * - `destroyed`: ended; the response deletes it and expires the cookie.
 */
export type SessionStatus = 'new' | 'unmodified' | 'modified' | 'destroyed';

/**
 * The names of a session's values: the string keys of `T`.
 *
 * @typeParam T - The shape of the session's values.
 */
export type SessionValueName<T> = keyof T & string;

/**
 * @internal What a session needs to know of its manager to change its own state: the
 * lifetime and idle rules, and the clock.
 */
export interface SessionRules {
  /** The absolute lifetime, in milliseconds. */
  readonly lifetime: number;
  /** The idle timeout, in milliseconds, if any. */
  readonly idleTimeout: number | undefined;
  /** How far the idle expiry must move before an unchanged session is written again. */
  readonly idleTouchInterval: number;
  /** The current time, in milliseconds since the epoch. */
  now(): number;
}

/** @internal How a session starts: loaded from a store, or new. */
export interface SessionInit<T> {
  readonly id: string;
  readonly hasCookie: boolean;
  readonly values: Partial<T>;
  readonly expireTime: number;
  readonly deadline: number;
  readonly status: 'new' | 'unmodified';
  /** The metadata loaded with it; a new session's is its creation time alone. */
  readonly meta: MetaFields;
}

/**
 * One request's session: its values, and everything handler code does to it. The
 * manager loads it at the start of the request (`SessionManager.extractSession`, or an
 * adapter), the handler reads and changes it, and the manager saves what changed when
 * the response goes out. Every adapter hands the handler this object; the manager's
 * `getValue(context, key)`-style methods are one-line forwards to it.
 *
 * Once the adapter has saved the session for the last time (the response head is out,
 * or the handler has returned), a change could no longer reach the browser, so every
 * method that changes the session throws `SessionHeadersSentError` instead of losing
 * the change without a word. Reading stays allowed.
 *
 * @typeParam T - The shape of the session's values, e.g. `{ userId: string; visits: number }`.
 * @example
 * ```ts
 * const visits = (session.get('visits') ?? 0) + 1;
 * session.set('visits', visits);
 * const flash = session.pop('flash');
 * if (loggingIn) {
 *   session.renew();
 *   session.set('userId', user.id);
 * }
 * ```
 */
export class Session<T extends object = Record<string, unknown>> {
  /** @internal The id the store keeps the session under. */
  id: string;
  /**
   * @internal Whether the browser holds a cookie for this session: one came in with
   * the request, or this response sends one. A destroyed session expires the cookie
   * only then.
   */
  hasCookie: boolean;
  /**
   * When the session ends unless activity extends it, in milliseconds since the epoch,
   * as loaded or last saved ({@link Session.expiresAt} counts the idle timeout from now).
   */
  expireTime: number;
  /**
   * The token the browser holds for this session, as it came in the cookie or as this
   * response sends it; `undefined` when there is none. It is a bearer credential: never
   * log it.
   */
  token: string | undefined;
  /** @internal The absolute end of the session (ms since the epoch). */
  deadlineTime: number;
  #values: Partial<T>;
  #state: SessionStatus;
  /** @internal Whether the store holds this session under {@link Session.id} as it was loaded. */
  stored: boolean;
  /** @internal Ids to delete from the store when the response is written (renewed or destroyed). */
  readonly retiredIds: string[] = [];
  /**
   * @internal The values as they were when the request first called {@link Session.destroy},
   * so that the `destroyed` event names the owner; cleared when the response is written.
   */
  destroyedValues: Partial<T> | undefined;
  /** @internal The names set or unset in this request. */
  readonly changedKeys = new Set<SessionValueName<T>>();
  /**
   * @internal Whether the response writes the whole session again even if nothing
   * changed: the store read it with an old key (see `LoadedSessionRecord.rewrite`).
   */
  rewrite = false;
  /** @internal Set by an adapter: tells whether changes can no longer be saved. */
  closed: () => boolean = () => false;
  /** @internal Set by an adapter: saves the session now. */
  committer: (() => Promise<void>) | undefined;
  /** @internal The session's metadata: created, authenticated, last seen, and more. */
  meta: MetaFields;
  /** @internal Whether `renew()` ran in this request (for the `renewed` event). */
  renewed = false;
  /** @internal Whether the session existed before this request (it was loaded, or has been saved since). */
  loaded: boolean;
  /** @internal The request's user agent and client address, for the metadata. */
  client: { readonly userAgent: string | undefined; readonly address: string | undefined } = NO_CLIENT;

  readonly #rules: SessionRules;

  /**
   * @internal Sessions are made by `SessionManager.extractSession`.
   *
   * @param rules - The manager's lifetime and idle rules, and its clock.
   * @param init - The session's starting state.
   */
  constructor(rules: SessionRules, init: SessionInit<T>) {
    this.#rules = rules;
    this.id = init.id;
    this.hasCookie = init.hasCookie;
    this.#values = init.values;
    this.expireTime = init.expireTime;
    this.deadlineTime = init.deadline;
    this.#state = init.status;
    this.stored = init.status === 'unmodified';
    this.token = undefined;
    this.meta = init.meta;
    this.loaded = init.status === 'unmodified';
  }

  /**
   * @internal A new, empty session: a fresh id and deadline.
   *
   * @param rules - The manager's rules.
   * @param hasCookie - Whether a cookie came in (one that loaded nothing).
   * @param now - The current time.
   * @returns The session.
   */
  static fresh<T extends object>(rules: SessionRules, hasCookie: boolean, now: number): Session<T> {
    const deadline = now + rules.lifetime;
    return new Session<T>(rules, {
      id: randomId(),
      hasCookie,
      values: {},
      expireTime: idleExpiry(rules, deadline, now),
      deadline,
      status: 'new',
      meta: { c: now },
    });
  }

  /**
   * Reads a value.
   *
   * @param key - The value's name.
   * @returns The value, or `undefined` when it is not set.
   * @example
   * ```ts
   * const userId = session.get('userId'); // string | undefined
   * ```
   */
  get<K extends SessionValueName<T>>(key: K): T[K] | undefined {
    return Object.hasOwn(this.#values, key) ? this.#values[key] : undefined;
  }

  /**
   * Sets a value. The session then holds the value as JSON gives it back, on every
   * store: what `JSON.parse(JSON.stringify(value))` makes of it (a copy for objects; a
   * `Date` becomes its text, `NaN` `null`, a property holding `undefined` is dropped),
   * so this request reads what the next one will load. Setting `undefined` unsets the
   * value, as {@link Session.unset} does. After {@link Session.destroy} in the same
   * request, this starts a new session (with a new id) rather than reviving the old one.
   *
   * @param key - The value's name.
   * @param value - A value JSON can carry, or `undefined` to unset it.
   * @throws SessionValueError when no store could keep the value or its name: JSON
   *   cannot encode it (a BigInt, a cycle, a throwing `toJSON`), it is a function or a
   *   symbol, it nests deeper than 64 levels, or its text or name holds U+0000 or a
   *   lone surrogate. The session is left as it was.
   * @throws SessionHeadersSentError when the session has been saved for the last time.
   * @example
   * ```ts
   * session.set('visits', (session.get('visits') ?? 0) + 1);
   * ```
   */
  set<K extends SessionValueName<T>>(key: K, value: T[K]): void {
    this.#assertOpen();
    checkValueName(key);
    if (value === undefined) {
      this.unset(key);
      return;
    }
    value = storableValue(value) as T[K];
    if (this.#state === 'destroyed') {
      // A new session; an authentication made in this request (destroy, renew, set: a
      // log-in after a log-out) stays with it.
      const authenticated = this.renewed ? this.meta.a : undefined;
      this.reset(this.#rules.now());
      if (authenticated !== undefined) {
        this.meta = { ...this.meta, a: authenticated };
      }
    }
    if (key === '__proto__') {
      // Assignment would replace the prototype; keep it an ordinary value, as JSON does.
      Object.defineProperty(this.#values, key, { value, enumerable: true, writable: true, configurable: true });
    } else {
      this.#values[key] = value;
    }
    this.changedKeys.add(key);
    this.#state = 'modified';
  }

  /**
   * Removes a value. Removing a value that is not set changes nothing.
   *
   * @param key - The value's name.
   * @throws SessionHeadersSentError when the session has been saved for the last time.
   * @example
   * ```ts
   * session.unset('cart');
   * ```
   */
  unset(key: SessionValueName<T>): void {
    this.#assertOpen();
    if (!Object.hasOwn(this.#values, key)) {
      return;
    }
    delete this.#values[key];
    this.changedKeys.add(key);
    if (this.#state !== 'destroyed') {
      this.#state = 'modified';
    }
  }

  /**
   * Reads a value and removes it: a flash message shown once.
   *
   * @param key - The value's name.
   * @returns The value, or `undefined` when it was not set.
   * @throws SessionHeadersSentError when the session has been saved for the last time.
   * @example
   * ```ts
   * session.set('flash', 'Saved!'); // on the POST
   * const flash = session.pop('flash'); // on the next GET: shown once
   * ```
   */
  pop<K extends SessionValueName<T>>(key: K): T[K] | undefined {
    this.#assertOpen();
    const value = this.get(key);
    this.unset(key);
    return value;
  }

  /**
   * Ends the session: log out. Its values are dropped, the store forgets it and the
   * cookie is expired when the response is written.
   *
   * @throws SessionHeadersSentError when the session has been saved for the last time.
   * @example
   * ```ts
   * // POST /logout
   * session.destroy();
   * ```
   */
  destroy(): void {
    this.#assertOpen();
    this.#retire();
    this.destroyedValues ??= this.#values;
    this.#values = {};
    this.changedKeys.clear();
    this.stored = false;
    this.#state = 'destroyed';
  }

  /**
   * Gives the session a new id and token, keeps its values, and deletes the old id from
   * the store when the response is written. Call it whenever privileges change (log in,
   * log out, sudo mode): it defeats session fixation.
   *
   * @throws SessionHeadersSentError when the session has been saved for the last time.
   * @example
   * ```ts
   * // POST /login, once the password checked out
   * session.renew();
   * session.set('userId', user.id);
   * ```
   */
  renew(): void {
    this.#assertOpen();
    this.#retire();
    this.id = randomId();
    this.stored = false;
    this.renewed = true;
    this.meta = { ...this.meta, a: this.#rules.now() };
    if (this.#state !== 'destroyed') {
      this.#state = 'modified';
    }
  }

  /**
   * When the session was created.
   *
   * @example
   * ```ts
   * const since = session.createdAt.toISOString();
   * ```
   */
  get createdAt(): Date {
    return new Date(this.meta.c);
  }

  /**
   * When the session was last renewed ({@link Session.renew}, which a log-in calls), or
   * `undefined` if it never was.
   *
   * @example
   * ```ts
   * const loggedInAt = session.authenticatedAt;
   * ```
   */
  get authenticatedAt(): Date | undefined {
    return this.meta.a === undefined ? undefined : new Date(this.meta.a);
  }

  /**
   * Whether the session was authenticated ({@link Session.renew}) within the last
   * `maxAge` milliseconds: for actions that want a recent log-in (change the password,
   * delete the account).
   *
   * @param maxAge - How old the authentication may be, in milliseconds.
   * @returns `true` when it is recent enough.
   * @throws TypeError when `maxAge` is not a positive number.
   * @example
   * ```ts
   * if (!session.isFresh(5 * 60_000)) {
   *   return redirect('/reauthenticate');
   * }
   * ```
   */
  isFresh(maxAge: number): boolean {
    if (typeof maxAge !== 'number' || !(maxAge > 0)) {
      throw new TypeError('maxAge must be a positive number of milliseconds');
    }
    const { a } = this.meta;
    return a !== undefined && this.#rules.now() - a < maxAge;
  }

  /**
   * Throws unless the session was authenticated within the last `maxAge` milliseconds
   * (see {@link Session.isFresh}).
   *
   * @param maxAge - How old the authentication may be, in milliseconds.
   * @throws SessionNotFreshError when it is older, or the session never was authenticated.
   * @throws TypeError when `maxAge` is not a positive number.
   * @example
   * ```ts
   * session.requireFresh(5 * 60_000); // before changing the password
   * ```
   */
  requireFresh(maxAge: number): void {
    if (!this.isFresh(maxAge)) {
      throw new SessionNotFreshError('this action needs a more recent authentication');
    }
  }

  /**
   * Saves the session now and adds its headers to the response, through the adapter
   * that loaded it: for node:http handlers that write the response head themselves
   * (streams, `writeHead`), and for Express routes that handle a store failure
   * themselves (Express saves by itself otherwise). An unchanged session costs nothing.
   * It can be called again after further changes; the response then carries only the
   * last cookie.
   *
   * @returns When the session is saved and its headers are set.
   * @throws SessionCookieTooLargeError when the cookie would be too large for a
   *   browser; the response is left as it was.
   * @throws SessionStoreError when the store's infrastructure fails.
   * @throws SessionHeadersSentError when the response head went out before the
   *   session's headers could be added, so its changes cannot reach the browser.
   * @throws SessionNotLoadedError when no adapter loaded this session (with the
   *   manager alone, call `manager.injectSession`).
   * @example
   * ```ts
   * session.renew();
   * session.set('userId', user.id);
   * await session.commit();
   * res.writeHead(303, { location: '/' }).end();
   * ```
   */
  commit(): Promise<void> {
    if (this.committer === undefined) {
      return Promise.reject(
        new SessionNotLoadedError('no adapter saves this session: call manager.injectSession with the response headers'),
      );
    }
    return this.committer();
  }

  /**
   * Where the session stands: `'new'`, `'unmodified'`, `'modified'` or `'destroyed'`.
   * After it is saved, `'unmodified'` (or `'new'` after a destroy).
   *
   * @example
   * ```ts
   * if (session.status === 'new') {
   *   // no session came in: show the login link
   * }
   * ```
   */
  get status(): SessionStatus {
    return this.#state;
  }

  /**
   * The same as {@link Session.status}, under the name `@revas-hq/kit-session` gives it.
   */
  get state(): SessionStatus {
    return this.#state;
  }

  /**
   * @internal Marks an unchanged session to be written again (its metadata changed).
   *
   * @throws SessionHeadersSentError when the session has been saved for the last time.
   */
  markChanged(): void {
    this.#assertOpen();
    if (this.#state === 'unmodified') {
      this.#state = 'modified';
    }
  }

  /**
   * @internal Moves the session to another status; the manager does, when it saves.
   *
   * @param state - The new status.
   */
  setState(state: SessionStatus): void {
    this.#state = state;
  }

  /**
   * The session's values, as JSON gives them back. Read-only: change them with
   * {@link Session.set} and {@link Session.unset}, which the save depends on.
   *
   * @example
   * ```ts
   * const { userId, theme } = session.values;
   * ```
   */
  get values(): Readonly<Partial<T>> {
    return this.#values;
  }

  /**
   * Whether the session holds changes (or a destroy) that the response will save.
   *
   * @example
   * ```ts
   * if (session.isModified) {
   *   // this response carries a Set-Cookie: do not let a CDN cache it
   * }
   * ```
   */
  get isModified(): boolean {
    return this.#state === 'modified' || this.#state === 'destroyed';
  }

  /**
   * @internal Whether saving the session now would write anything: a change or a
   * destroy, ids to delete, or an unchanged session the store must write again (read
   * with an old key, or its idle expiry due to move). An adapter that has to hold the
   * response while it saves asks this first, so an unchanged session costs nothing.
   */
  get saveDue(): boolean {
    if (this.isModified || this.retiredIds.length > 0) {
      return true;
    }
    return this.rewriteDue(this.#rules.now());
  }

  /**
   * When the session ends if no other request comes: the sooner of its absolute
   * deadline and, with an idle timeout, the end of the idle period counted from now.
   *
   * @example
   * ```ts
   * const endsAt = session.expiresAt.toISOString();
   * ```
   */
  get expiresAt(): Date {
    const now = this.#rules.now();
    const saved = this.#state === 'unmodified' && !this.touchDue(now);
    return new Date(saved ? this.expireTime : idleExpiry(this.#rules, this.deadlineTime, now));
  }

  /**
   * The absolute end of the session, which activity never moves.
   *
   * @example
   * ```ts
   * const mustLogInAgainBy = session.deadline;
   * ```
   */
  get deadline(): Date {
    return new Date(this.deadlineTime);
  }

  /**
   * @internal Makes the session new and empty, with a new id, deadline and expiry.
   *
   * @param now - The current time.
   */
  reset(now: number): void {
    this.meta = { c: now };
    this.renewed = false;
    this.loaded = false;
    this.id = randomId();
    this.token = undefined;
    this.stored = false;
    this.#state = 'new';
    this.#values = {};
    this.changedKeys.clear();
    this.deadlineTime = now + this.#rules.lifetime;
    this.expireTime = idleExpiry(this.#rules, this.deadlineTime, now);
  }

  /**
   * @internal The expiry a save at `now` gives: the deadline, or sooner with an idle timeout.
   *
   * @param now - The current time.
   * @returns Milliseconds since the epoch.
   */
  idleExpiry(now: number): number {
    return idleExpiry(this.#rules, this.deadlineTime, now);
  }

  /**
   * @internal Whether an unchanged session is due to be written again, so that its idle
   * expiry moves forward.
   *
   * @param now - The current time.
   * @returns `true` when the expiry would move by the touch interval or more.
   */
  touchDue(now: number): boolean {
    return (
      this.#rules.idleTimeout !== undefined &&
      idleExpiry(this.#rules, this.deadlineTime, now) - this.expireTime >= this.#rules.idleTouchInterval
    );
  }

  /**
   * @internal Whether an unchanged session is written again anyway: the store read it
   * under an old key, or its idle expiry is due to move.
   *
   * @param now - The current time.
   * @returns `true` when the response writes the unchanged session.
   */
  rewriteDue(now: number): boolean {
    return this.#state === 'unmodified' && (this.rewrite || this.touchDue(now) || this.seenDue(now));
  }

  /**
   * @internal Whether an unchanged session that records when it was last seen is due to
   * record it again: once per idle-touch interval at most.
   *
   * @param now - The current time.
   * @returns `true` when its last-seen time is that old.
   */
  seenDue(now: number): boolean {
    const { s } = this.meta;
    return s !== undefined && now - s >= this.#rules.idleTouchInterval;
  }

  #retire(): void {
    if (this.stored && this.id !== '') {
      this.retiredIds.push(this.id);
    }
  }

  #assertOpen(): void {
    if (this.closed()) {
      throw new SessionHeadersSentError(
        'the session was changed after the response head was sent, so the change cannot be saved: ' +
          'change the session before the response is written',
      );
    }
  }
}

const NO_CLIENT = { userAgent: undefined, address: undefined };

function idleExpiry(rules: SessionRules, deadline: number, now: number): number {
  return rules.idleTimeout === undefined ? deadline : Math.min(deadline, now + rules.idleTimeout);
}
