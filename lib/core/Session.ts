import { randomId } from './base64url.js';
import type { AdoptedSession } from './adoption.js';
import type { RequestLike } from './http.js';
import type { MetaFields } from './metadata.js';
import {
  SessionHeadersSentError,
  SessionLoadPendingError,
  SessionNotFreshError,
  SessionNotLoadedError,
  SessionStaleError,
  SessionValueError,
} from './SessionError.js';
import { isThenable, type MaybePromise } from './SessionStore.js';
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
  /** Whether the client holds a token for it (one came in). */
  readonly hasToken: boolean;
  /** Which of the manager's transports carries its token. */
  readonly route: number;
  /** The request it came with, which the transport may read again when it writes. */
  readonly request: RequestLike | undefined;
  readonly values: Partial<T>;
  readonly expireTime: number;
  readonly deadline: number;
  readonly status: 'new' | 'unmodified';
  /** The metadata loaded with it; a new session's is its creation time alone. */
  readonly meta: MetaFields;
  /** The token it was loaded with. */
  readonly token?: string | undefined;
  /** The store read it with an old key (see `LoadedSessionRecord.rewrite`). */
  readonly rewrite?: boolean | undefined;
  /** The store served a renewed id (see `LoadedSessionRecord.superseded`). */
  readonly superseded?: boolean | undefined;
  /** The request's user agent and client address. */
  readonly client?: SessionClient | undefined;
}

/**
 * @internal What a session that loads on first touch runs to load: the manager's load of
 * the request's session, answered at once when the store answers at once.
 */
export type SessionLoader<T extends object> = () => MaybePromise<Session<T>>;

/** @internal The request's user agent and client address, for the metadata. */
export interface SessionClient {
  readonly userAgent: string | undefined;
  readonly address: string | undefined;
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
  #id: string;
  #hasToken: boolean;
  #route: number;
  #request: RequestLike | undefined;
  #expireTime: number;
  #token: string | undefined;
  #deadline: number;
  #values: Partial<T>;
  #state: SessionStatus;
  /** Whether the store holds this session under #id as it was loaded (or last saved). */
  #stored: boolean;
  /** Ids to delete from the store when the response is written (destroyed sessions). */
  readonly #retiredIds: string[] = [];
  /** The stored id this request renewed: retired by the store when the successor is saved. */
  #predecessor: string | undefined;
  /** The values as they were when the request first called destroy(), for the event. */
  #destroyedValues: Partial<T> | undefined;
  readonly #changedKeys = new Set<SessionValueName<T>>();
  /** The store read it with an old key: the response writes it whole again. */
  #rewrite = false;
  #closed: () => boolean = NEVER_CLOSED;
  #committer: (() => Promise<void>) | undefined;
  #meta: MetaFields;
  /** How the id was renewed in this request, if it was: by renew(), or by the renewal interval. */
  #renewal: 'request' | 'interval' | undefined;
  /** Whether the session existed before this request (it was loaded, or has been saved since). */
  #loaded: boolean;
  #client: SessionClient = NO_CLIENT;
  /** Renewed or ended by another request: nothing of this request is saved. */
  #stale: boolean;
  /** Whether the last save dropped changes because the session was stale. */
  #dropped = false;
  /** Another library's session this one was started from, until the response retires it. */
  #adoption: AdoptedSession<T> | undefined;
  /** The adopted session retired by a save that did not end it: a later log-out in the request retires it again. */
  #adoptionKept: AdoptedSession<T> | undefined;
  /** Whether this request chose the session's persistence (setPersistent). */
  #persistentChosen = false;
  /** The load a session that loads on first touch still has to run; `undefined` once loaded. */
  #loader: SessionLoader<T> | undefined;
  /** That load, while the store has not answered it. */
  #loading: Promise<void> | undefined;

  readonly #rules: SessionRules;

  /**
   * @internal Sessions are made by `SessionManager.extractSession`.
   *
   * @param rules - The manager's lifetime and idle rules, and its clock.
   * @param init - The session's starting state.
   */
  constructor(rules: SessionRules, init: SessionInit<T>) {
    this.#rules = rules;
    this.#id = init.id;
    this.#hasToken = init.hasToken;
    this.#route = init.route;
    this.#request = init.request;
    this.#values = init.values;
    this.#expireTime = init.expireTime;
    this.#deadline = init.deadline;
    this.#state = init.status;
    this.#stored = init.status === 'unmodified';
    this.#token = init.token;
    this.#meta = init.meta;
    this.#loaded = init.status === 'unmodified';
    this.#rewrite = init.rewrite === true;
    this.#stale = init.superseded === true;
    this.#client = init.client ?? NO_CLIENT;
  }

  /**
   * @internal A new, empty session: a fresh id and deadline.
   *
   * @param rules - The manager's rules.
   * @param hasToken - Whether a token came in (one that loaded nothing).
   * @param now - The current time.
   * @param route - Which of the manager's transports carries its token.
   * @param request - The request it came with.
   * @param client - The request's user agent and address, for the metadata.
   * @returns The session.
   */
  static fresh<T extends object>(
    rules: SessionRules,
    hasToken: boolean,
    now: number,
    route: number,
    request: RequestLike | undefined,
    client?: SessionClient,
  ): Session<T> {
    const deadline = now + rules.lifetime;
    return new Session<T>(rules, {
      id: randomId(),
      hasToken,
      route,
      request,
      values: {},
      expireTime: idleExpiry(rules, deadline, now),
      deadline,
      status: 'new',
      meta: { c: now },
      ...(client === undefined ? {} : { client }),
    });
  }

  /**
   * @internal A session that loads on first touch: nothing is read (no cookie opened, no
   * store call) until the handler reads or changes it, or calls {@link Session.load}.
   * Until then it holds no state, and saving it does nothing.
   *
   * @param rules - The manager's rules.
   * @param request - The request it comes with.
   * @param loader - The manager's load of the request's session.
   * @returns The session.
   */
  static deferred<T extends object>(rules: SessionRules, request: RequestLike, loader: SessionLoader<T>): Session<T> {
    const session = new Session<T>(rules, UNLOADED as SessionInit<T>);
    session.#request = request;
    session.#loader = loader;
    return session;
  }

  /**
   * Whether the session's state is here: always, but for a session an adapter hands over
   * unloaded (see {@link Session.load}) until its first touch has loaded it.
   *
   * @example
   * ```ts
   * if (!session.isLoaded) {
   *   // the handler has not touched it: the response will save nothing
   * }
   * ```
   */
  get isLoaded(): boolean {
    return this.#loader === undefined;
  }

  /**
   * Loads the session now, if it was not loaded yet. Adapters hand the handler a session
   * that loads on its first touch (`get`, `set`, `status`, …), so that a request that
   * never touches it costs nothing: no cookie is opened, no store is read, no header is
   * sent. When the store answers at once (the default cookie store on node:crypto, the
   * memory store, SQLite), the first touch loads it and nothing else is needed. When the
   * store answers with a promise (Redis, PostgreSQL, the Web Crypto cookie), a touch
   * cannot wait for it: await this first, or the touch throws `SessionLoadPendingError`.
   * Calls made while a load is under way share it; a failed load is tried again by the
   * next call or touch.
   *
   * @returns When the session is loaded.
   * @throws SessionStoreError when the store's infrastructure fails.
   * @example
   * ```ts
   * await session.load(); // a Redis store: load before the first get
   * const userId = session.get('userId');
   * ```
   */
  load(): Promise<void> {
    if (this.#loader === undefined) {
      return Promise.resolve();
    }
    try {
      this.#ready();
    } catch (error) {
      if (error instanceof SessionLoadPendingError && this.#loading !== undefined) {
        return this.#loading;
      }
      return Promise.reject(error);
    }
    return this.#loading ?? Promise.resolve();
  }

  /**
   * Loads an unloaded session on its first touch: at once when the store answers at once;
   * else starts the load (once, shared) and throws, since a touch cannot wait for it.
   *
   * @throws SessionLoadPendingError when the store answers with a promise.
   * @throws SessionStoreError when the store's infrastructure fails.
   */
  #ready(): void {
    const loader = this.#loader;
    if (loader === undefined) {
      return;
    }
    if (this.#loading === undefined) {
      const answer = loader();
      if (!isThenable(answer)) {
        this.#takeOver(answer);
        return;
      }
      const loading = answer.then(
        (session) => {
          this.#loading = undefined;
          if (this.#loader !== undefined) {
            this.#takeOver(session);
          }
        },
        (error: unknown) => {
          // Tried again by the next touch or load().
          this.#loading = undefined;
          throw error;
        },
      );
      // Nobody may wait for it (the handler caught the error below and went on): its
      // failure reaches whoever calls load(), and is never an unhandled rejection.
      loading.catch(NOTHING);
      this.#loading = loading;
    }
    throw new SessionLoadPendingError(
      'the session is still loading from its store: await session.load() before reading or changing it',
    );
  }

  /** Takes over the state of the session the load made: this object is the one the handler holds. */
  #takeOver(loaded: Session<T>): void {
    this.#loader = undefined;
    this.#id = loaded.#id;
    this.#hasToken = loaded.#hasToken;
    this.#route = loaded.#route;
    this.#request = loaded.#request;
    this.#expireTime = loaded.#expireTime;
    this.#token = loaded.#token;
    this.#deadline = loaded.#deadline;
    this.#values = loaded.#values;
    this.#state = loaded.#state;
    this.#stored = loaded.#stored;
    this.#retiredIds.push(...loaded.#retiredIds);
    this.#predecessor = loaded.#predecessor;
    this.#destroyedValues = loaded.#destroyedValues;
    for (const key of loaded.#changedKeys) {
      this.#changedKeys.add(key);
    }
    this.#rewrite = loaded.#rewrite;
    this.#meta = loaded.#meta;
    this.#renewal = loaded.#renewal;
    this.#loaded = loaded.#loaded;
    this.#client = loaded.#client;
    this.#stale = loaded.#stale;
    this.#dropped = loaded.#dropped;
    this.#adoption = loaded.#adoption;
    this.#adoptionKept = loaded.#adoptionKept;
    this.#persistentChosen = loaded.#persistentChosen;
  }

  /**
   * @internal Starts this new session from another library's: its values are set (so the
   * response saves the session, with its own new id and cookie), and the old session is
   * retired when the response is written. A value no store could keep (text with U+0000
   * or a lone surrogate, which JSON and the old libraries carry; a BigInt a `map` made) is
   * left out, as its key is: an old session never fails the requests of its browser.
   *
   * @param adoption - What the adopter found.
   */
  adopt(adoption: AdoptedSession<T>): void {
    this.#ready();
    for (const key of Object.keys(adoption.values) as SessionValueName<T>[]) {
      try {
        this.set(key, adoption.values[key] as T[typeof key]);
      } catch (error) {
        if (!(error instanceof SessionValueError)) {
          throw error;
        }
      }
    }
    // Saved even when nothing was carried over: the new cookie replaces the old one.
    this.#state = 'modified';
    this.#adoption = adoption;
  }

  /** @internal The adopted session still to be retired when the response is written, if any. */
  get adoption(): AdoptedSession<T> | undefined {
    this.#ready();
    return this.#adoption;
  }

  /**
   * @internal The adopted session a save of this request retired without ending it, if
   * any: a log-out later in the same request (after a `commit()`) retires it again, ended.
   */
  get adoptionKept(): AdoptedSession<T> | undefined {
    this.#ready();
    return this.#adoptionKept;
  }

  /**
   * @internal Records that the adopted session was retired.
   *
   * @param ended - Whether it was retired as ended (then it is never retired again).
   */
  adoptionRetired(ended: boolean): void {
    this.#ready();
    this.#adoptionKept = ended ? undefined : (this.#adoption ?? this.#adoptionKept);
    this.#adoption = undefined;
  }

  /**
   * When the session ends unless activity extends it, in milliseconds since the epoch,
   * as loaded or last saved ({@link Session.expiresAt} counts the idle timeout from now).
   */
  get expireTime(): number {
    this.#ready();
    return this.#expireTime;
  }

  /**
   * The token the browser holds for this session, as it came in the cookie or as this
   * response sends it; `undefined` when there is none. It is a bearer credential: never
   * log it.
   */
  get token(): string | undefined {
    this.#ready();
    return this.#token;
  }

  /**
   * Whether another request renewed or ended this session while this request was on its
   * way with the old id (another tab's log-in, the manager's `renewalInterval`, "log out
   * everywhere"). A stale session can be read (as it was when it was renewed) and
   * changed, but nothing of this request is saved and its response sends no cookie, so
   * the browser keeps its successor's; `commit()` then rejects with `SessionStaleError`.
   * The one exception is a log-out (`destroy()`): it is saved and ends the successor too,
   * and a session it starts (a value set after it) is a new session, not stale.
   *
   * @example
   * ```ts
   * if (session.isStale) {
   *   return new Response(null, { status: 409 }); // the browser's next request has the new cookie
   * }
   * ```
   */
  get isStale(): boolean {
    this.#ready();
    return this.#stale;
  }

  /** @internal The id the store keeps the session under. */
  get id(): string {
    this.#ready();
    return this.#id;
  }

  /** @internal Whether the client holds a token for this session (one came in, or this response sent one). */
  get hasToken(): boolean {
    this.#ready();
    return this.#hasToken;
  }

  /** @internal Which of the manager's transports carries this session's token. */
  get route(): number {
    this.#ready();
    return this.#route;
  }

  /** @internal The request the session came with. */
  get request(): RequestLike | undefined {
    return this.#request;
  }

  /** @internal The absolute end of the session (ms since the epoch). */
  get deadlineTime(): number {
    this.#ready();
    return this.#deadline;
  }

  /** @internal Whether the store holds this session under {@link Session.id} as it was loaded. */
  get stored(): boolean {
    this.#ready();
    return this.#stored;
  }

  /** @internal Ids to delete from the store when the response is written. */
  get retiredIds(): readonly string[] {
    this.#ready();
    return this.#retiredIds;
  }

  /** @internal The stored id this request renewed, which the store retires when the successor is saved. */
  get predecessor(): string | undefined {
    this.#ready();
    return this.#predecessor;
  }

  /** @internal The values as they were when the request first called destroy(), so the event names the owner. */
  get destroyedValues(): Readonly<Partial<T>> | undefined {
    this.#ready();
    return this.#destroyedValues;
  }

  /** @internal The names set or unset in this request. */
  get changedKeys(): ReadonlySet<SessionValueName<T>> {
    this.#ready();
    return this.#changedKeys;
  }

  /** @internal Whether the response writes the whole session again: the store read it with an old key. */
  get rewrite(): boolean {
    this.#ready();
    return this.#rewrite;
  }

  /** @internal The session's metadata: created, authenticated, last seen, and more. */
  get meta(): MetaFields {
    this.#ready();
    return this.#meta;
  }

  /** @internal How the id was renewed in this request, if it was. */
  get renewal(): 'request' | 'interval' | undefined {
    this.#ready();
    return this.#renewal;
  }

  /**
   * @internal When the session's id was last issued: its creation, last authentication
   * or last periodic renewal, whichever came last (ms since the epoch).
   */
  get idIssuedAt(): number {
    this.#ready();
    const { c, a, r } = this.#meta;
    return Math.max(c, a ?? c, r ?? c);
  }

  /** @internal Whether the session existed before this request (loaded, or saved since). */
  get loaded(): boolean {
    this.#ready();
    return this.#loaded;
  }

  /** @internal The request's user agent and client address, for the metadata. */
  get client(): SessionClient {
    this.#ready();
    return this.#client;
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
    this.#ready();
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
    this.#ready();
    checkValueName(key);
    if (value === undefined) {
      this.unset(key);
      return;
    }
    value = storableValue(value) as T[K];
    if (this.#state === 'destroyed') {
      this.#restart();
    }
    if (key === '__proto__') {
      // Assignment would replace the prototype; keep it an ordinary value, as JSON does.
      Object.defineProperty(this.#values, key, { value, enumerable: true, writable: true, configurable: true });
    } else {
      this.#values[key] = value;
    }
    this.#changedKeys.add(key);
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
    this.#ready();
    if (!Object.hasOwn(this.#values, key)) {
      return;
    }
    delete this.#values[key];
    this.#changedKeys.add(key);
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
    this.#ready();
    this.#retire();
    if (this.#predecessor !== undefined) {
      // Renewed, then destroyed, in one request: the loaded id is deleted, not retired.
      this.#retiredIds.push(this.#predecessor);
      this.#predecessor = undefined;
    }
    this.#destroyedValues ??= this.#values;
    this.#values = {};
    this.#changedKeys.clear();
    this.#stored = false;
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
    this.#ready();
    const now = this.#rules.now();
    this.#renewId('request');
    this.#meta = { ...this.#meta, a: now };
  }

  /**
   * @internal Renews the id of a session in use, as the manager's `renewalInterval`
   * asks: a new id, as {@link Session.renew} gives, but no new authentication.
   *
   * @param now - The current time.
   */
  renewPeriodically(now: number): void {
    this.#ready();
    this.#renewId('interval');
    this.#meta = { ...this.#meta, r: now };
  }

  #renewId(how: 'request' | 'interval'): void {
    if (this.#stored && this.#id !== '' && this.#state !== 'destroyed') {
      // The store retires it when the successor is saved (or deletes it, if it cannot).
      this.#predecessor ??= this.#id;
    } else {
      this.#retire();
    }
    this.#id = randomId();
    this.#stored = false;
    this.#renewal = this.#renewal === 'request' ? 'request' : how;
    if (this.#state !== 'destroyed') {
      this.#state = 'modified';
    }
  }

  /**
   * The session's own choice, made at log-in ("remember me"), of whether its cookie
   * outlives the browser: `true` a persistent cookie, `false` a cookie that ends when
   * the browser closes, `undefined` when it made none (the transport's default,
   * `cookie.persistent`, applies). It holds across requests and renewals.
   *
   * @example
   * ```ts
   * const remembered = session.persistent ?? true;
   * ```
   */
  get persistent(): boolean | undefined {
    this.#ready();
    const { p } = this.#meta;
    return p === undefined ? undefined : p === 1;
  }

  /**
   * Chooses, for this session only, whether its cookie outlives the browser: "remember
   * me" at log-in. `false` makes a cookie that ends when the browser closes (the
   * session's own expiry still applies on the server); `true` a persistent cookie up to
   * the session's expiry. The choice is kept with the session, across requests and
   * renewals, and the response sends the cookie again with it. Choosing what the
   * session already has changes nothing. After {@link Session.destroy} in the same
   * request, this starts a new session, as {@link Session.set} does.
   *
   * Make the choice with {@link Session.renew}, as a log-in does: a concurrent request
   * that loaded the session before the choice, and saves after it, could otherwise
   * write the earlier choice back (a renewal makes that request stale instead).
   *
   * @param persistent - Whether the cookie outlives the browser.
   * @throws TypeError when `persistent` is not `true` or `false`.
   * @throws SessionHeadersSentError when the session has been saved for the last time.
   * @example
   * ```ts
   * // POST /login
   * session.renew();
   * session.set('userId', user.id);
   * session.setPersistent(form.get('remember') === 'on');
   * ```
   */
  setPersistent(persistent: boolean): void {
    this.#assertOpen();
    this.#ready();
    if (typeof persistent !== 'boolean') {
      throw new TypeError('persistent must be true or false');
    }
    const p = persistent ? 1 : 0;
    const restarted = this.#state === 'destroyed';
    if (restarted) {
      this.#restart();
    }
    this.#persistentChosen = true;
    if (!restarted && this.#meta.p === p) {
      return;
    }
    this.#meta = { ...this.#meta, p };
    this.#state = 'modified';
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
    this.#ready();
    return new Date(this.#meta.c);
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
    this.#ready();
    return this.#meta.a === undefined ? undefined : new Date(this.#meta.a);
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
    this.#ready();
    if (typeof maxAge !== 'number' || !(maxAge > 0)) {
      throw new TypeError('maxAge must be a positive number of milliseconds');
    }
    const { a } = this.#meta;
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
   * @throws SessionStaleError when another request renewed or ended the session
   *   meanwhile, so this request's changes were not saved (see {@link Session.isStale}).
   * @example
   * ```ts
   * session.renew();
   * session.set('userId', user.id);
   * await session.commit();
   * res.writeHead(303, { location: '/' }).end();
   * ```
   */
  commit(): Promise<void> {
    const committer = this.#committer;
    if (committer === undefined) {
      return Promise.reject(
        new SessionNotLoadedError('no adapter saves this session: call manager.injectSession with the response headers'),
      );
    }
    return committer().then(() => {
      if (this.#dropped) {
        throw new SessionStaleError(
          'another request renewed or ended this session meanwhile: this request\'s changes were not saved',
        );
      }
    });
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
    this.#ready();
    return this.#state;
  }

  /**
   * The same as {@link Session.status}, under the name `@revas-hq/kit-session` gives it.
   */
  get state(): SessionStatus {
    this.#ready();
    return this.#state;
  }

  /**
   * @internal Marks an unchanged session to be written again (its metadata changed).
   *
   * @throws SessionHeadersSentError when the session has been saved for the last time.
   */
  markChanged(): void {
    this.#assertOpen();
    this.#ready();
    if (this.#state === 'unmodified') {
      this.#state = 'modified';
    }
  }

  /**
   * @internal Connects the adapter that loaded the session: what tells whether changes
   * can still be saved, and what saves now ({@link Session.commit}).
   *
   * @param closed - Whether the session has been saved for the last time.
   * @param commit - Saves the session and adds its headers to the response.
   */
  bindAdapter(closed: () => boolean, commit: () => Promise<void>): void {
    this.#closed = closed;
    this.#committer = commit;
  }

  /**
   * @internal Starts a save at `now`: an unchanged session that is due to be written
   * again (old key, idle expiry, last seen) becomes modified, and a modified session's
   * expiry moves.
   *
   * @param now - The current time.
   * @returns Whether the session was due only for that rewrite (no change of its own).
   */
  beginSave(now: number): boolean {
    this.#ready();
    const rewriteOnly = this.#rewriteDue(now);
    if (rewriteOnly) {
      this.#state = 'modified';
    }
    if (this.#state === 'modified') {
      this.#expireTime = idleExpiry(this.#rules, this.#deadline, now);
    }
    return rewriteOnly;
  }

  /**
   * @internal Records the metadata the save writes.
   *
   * @param meta - The metadata.
   */
  recordMeta(meta: MetaFields): void {
    this.#meta = meta;
  }

  /**
   * @internal Records that the store saved the session.
   *
   * @param token - The token the browser now holds (a new cookie, or the one it has).
   */
  saved(token: string | undefined): void {
    this.#token = token;
    this.#loaded = true;
    this.#renewal = undefined;
    this.#predecessor = undefined;
    this.#stored = true;
    this.#hasToken = true;
    this.#state = 'unmodified';
    this.#rewrite = false;
    this.#dropped = false;
    this.#changedKeys.clear();
  }

  /**
   * @internal Records that the save found the session renewed or ended by another
   * request: nothing was written and no cookie is sent. The session starts over, new
   * and empty, and is stale.
   *
   * @param now - The current time.
   * @param changed - Whether the request had changes of its own that were dropped.
   */
  lostAtSave(now: number, changed: boolean): void {
    this.#reset(now);
    this.#stale = true;
    this.#dropped = changed;
  }

  /**
   * @internal Records that the save wrote nothing because the session was stale when it
   * was loaded (a renewed id in its grace window).
   */
  skippedAsStale(): void {
    this.#dropped = this.isModified;
  }

  /**
   * @internal Records that the destroyed session was deleted and its cookie expired:
   * the session starts over, new and empty, with no cookie.
   *
   * @param now - The current time.
   */
  destroySaved(now: number): void {
    this.#reset(now);
    this.#hasToken = false;
  }

  /** @internal Forgets the ids deleted from the store. */
  retiredIdsDeleted(): void {
    this.#retiredIds.length = 0;
    this.#destroyedValues = undefined;
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
    this.#ready();
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
    this.#ready();
    return this.#state === 'modified' || this.#state === 'destroyed';
  }

  /**
   * @internal Whether saving the session now would write anything: a change or a
   * destroy, ids to delete, or an unchanged session the store must write again (read
   * with an old key, or its idle expiry due to move). An adapter that has to hold the
   * response while it saves asks this first, so an unchanged session costs nothing.
   */
  get saveDue(): boolean {
    if (this.#loader !== undefined) {
      // Never touched: nothing to save, and no idle expiry moved.
      return false;
    }
    if (this.#stale) {
      // Nothing of a stale session is saved but a log-out.
      return this.#state === 'destroyed';
    }
    if (this.isModified || this.#retiredIds.length > 0) {
      return true;
    }
    return this.#rewriteDue(this.#rules.now());
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
    this.#ready();
    const now = this.#rules.now();
    const saved = this.#state === 'unmodified' && !this.#touchDue(now);
    return new Date(saved ? this.#expireTime : idleExpiry(this.#rules, this.#deadline, now));
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
    this.#ready();
    return new Date(this.#deadline);
  }

  /**
   * A destroyed session changed again: a new session. An authentication and a
   * persistence choice made in this request (destroy, renew, set: a log-in after a
   * log-out) stay with it. It is stale no longer, even when the destroyed one was: the
   * log-out is saved (ending the successor of a renewed id), and the new session, which
   * shares nothing with that successor, is saved with it.
   */
  #restart(): void {
    const authenticated = this.#renewal === 'request' ? this.#meta.a : undefined;
    const persistent = this.#persistentChosen ? this.#meta.p : undefined;
    this.#reset(this.#rules.now());
    this.#stale = false;
    if (authenticated !== undefined || persistent !== undefined) {
      this.#meta = { ...this.#meta, a: authenticated, p: persistent };
    }
  }

  /** Makes the session new and empty, with a new id, deadline and expiry. */
  #reset(now: number): void {
    this.#meta = { c: now };
    this.#renewal = undefined;
    this.#loaded = false;
    this.#id = randomId();
    this.#token = undefined;
    this.#stored = false;
    this.#predecessor = undefined;
    this.#state = 'new';
    this.#values = {};
    this.#changedKeys.clear();
    this.#deadline = now + this.#rules.lifetime;
    this.#expireTime = idleExpiry(this.#rules, this.#deadline, now);
  }

  /** Whether an unchanged session is due to be written again, so that its idle expiry moves forward. */
  #touchDue(now: number): boolean {
    return (
      this.#rules.idleTimeout !== undefined &&
      idleExpiry(this.#rules, this.#deadline, now) - this.#expireTime >= this.#rules.idleTouchInterval
    );
  }

  /** Whether an unchanged session is written again anyway: read under an old key, its idle expiry or last-seen time due to move. */
  #rewriteDue(now: number): boolean {
    return this.#state === 'unmodified' && (this.#rewrite || this.#touchDue(now) || this.#seenDue(now));
  }

  /** Whether an unchanged session that records when it was last seen is due to record it again. */
  #seenDue(now: number): boolean {
    const { s } = this.#meta;
    return s !== undefined && now - s >= this.#rules.idleTouchInterval;
  }

  #retire(): void {
    if (this.#stored && this.#id !== '') {
      this.#retiredIds.push(this.#id);
    }
  }

  #assertOpen(): void {
    if (this.#closed()) {
      throw new SessionHeadersSentError(
        'the session was changed after the response head was sent, so the change cannot be saved: ' +
          'change the session before the response is written',
      );
    }
  }
}

const NO_CLIENT: SessionClient = { userAgent: undefined, address: undefined };
/** What an unloaded session holds until its load: nothing. */
const UNLOADED: SessionInit<object> = {
  id: '',
  hasToken: false,
  route: 0,
  request: undefined,
  values: {},
  expireTime: 0,
  deadline: 0,
  status: 'new',
  meta: { c: 0 },
};
const NOTHING = (): void => {};
const NEVER_CLOSED = (): boolean => false;

function idleExpiry(rules: SessionRules, deadline: number, now: number): number {
  return rules.idleTimeout === undefined ? deadline : Math.min(deadline, now + rules.idleTimeout);
}
