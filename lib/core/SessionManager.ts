import { parseCookie, stringifySetCookie } from 'cookie';
import { createContextKey, type Context, type ContextKey } from './Context.js';
import { mergingHeaders, webHeaderTarget } from './headers.js';
import type { HeadersLike, RequestLike } from './http.js';
import { SessionCookieTooLargeError, SessionError, SessionNotLoadedError, SessionStoreError } from './SessionError.js';
import {
  isOwnerIndexedStore,
  isPatchableStore,
  type LoadedSessionRecord,
  type OwnerIndexedSessionStore,
  type SessionStore,
} from './SessionStore.js';
import { systemClock, type Clock } from './Clock.js';
import { resolveOptions, type ResolvedOptions, type SessionManagerOptions } from './options.js';
import { Session, type SessionRules, type SessionStatus, type SessionValueName } from './Session.js';

const EXPIRED = new Date(0);

/** Whether something has the three methods every store must have. */
function isStore(store: unknown): boolean {
  const candidate = store as Partial<SessionStore<unknown>> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.getSession === 'function' &&
    typeof candidate.setSession === 'function' &&
    typeof candidate.deleteSession === 'function'
  );
}

/**
 * What `getValue` and `popValue` return: the value's own type from `T` (`T[K]`), or,
 * when a type argument is given, as in `getValue<string>(context, 'userId')` on an
 * untyped manager, that type.
 *
 * @typeParam T - The shape of the session's values.
 * @typeParam K - The value's name.
 * @typeParam V - The type asked for, if any.
 */
export type ValueOf<T, K extends keyof T, V> = ([V] extends [never] ? T[K] : V) | undefined;

/** A store's failure as the manager reports it: its own errors as they are, others wrapped. */
function storeError(error: unknown): SessionError {
  return error instanceof SessionError ? error : new SessionStoreError('session store failed', { cause: error });
}

/**
 * Loads, changes and saves sessions. One manager serves every request: it holds no
 * per-request state; each request's session lives in that request's {@link Context}.
 *
 * @typeParam T - The shape of the session's values, e.g. `{ userId: string; visits: number }`.
 * @example
 * ```ts
 * const keys = [await importRawKey(process.env.SESSION_KEY!)];
 * const store = new EncryptingStoreDecorator(new CookieSessionStore(), { keys });
 * const manager = new SessionManager<{ userId: string }>(store);
 *
 * let context = await manager.extractSession(Context.background, request);
 * manager.setValue(context, 'userId', 'u-42');
 * await manager.injectSession(context, responseHeaders);
 * ```
 */
export class SessionManager<T extends object = Record<string, unknown>> {
  /** The name the session is known by: the cookie's name. */
  readonly name: string;
  /** The context key the session is held under. */
  readonly contextKey: ContextKey<Session<T>>;

  readonly #store: SessionStore<T>;
  readonly #clock: Clock;
  readonly #options: ResolvedOptions;
  readonly #rules: SessionRules;

  /**
   * @param store - Where sessions live. A bare `CookieSessionStore` is refused unless
   *   built with `allowPlaintext: true`: wrap it in `EncryptingStoreDecorator`.
   * @param options - Cookie, lifetime and idle timeout.
   * @param clock - The source of time.
   * @throws TypeError when `store` lacks `getSession`, `setSession` or
   *   `deleteSession`, an option is invalid or unknown, the store would keep sessions
   *   in plain text in the cookie (`requiresEncryption`), or the store is bound to
   *   another cookie name than this manager's (`useCookieName`).
   */
  constructor(
    store: SessionStore<T>,
    options?: SessionManagerOptions,
    clock?: Clock,
  ) {
    if (!isStore(store)) {
      throw new TypeError('store must be a session store, with getSession, setSession and deleteSession methods');
    }
    if (store.requiresEncryption === true) {
      throw new TypeError(
        'a bare CookieSessionStore lets the client read and forge its session: wrap it in EncryptingStoreDecorator',
      );
    }
    this.#store = store;
    this.#options = resolveOptions(options);
    if (options?.storage !== undefined && options.storage !== store) {
      throw new TypeError('options.storage names another store than the one given: give the store once');
    }
    // Tells the store the cookie name once; throws when it serves another name.
    store.useCookieName?.(this.#options.name);
    if (this.#options.ownerKey !== undefined && !isOwnerIndexedStore(store)) {
      throw new TypeError('ownerKey needs a store that keeps an owner index (memory, Redis, PostgreSQL)');
    }
    const sessionClock = clock ?? systemClock;
    this.#clock = sessionClock;
    this.#rules = {
      lifetime: this.#options.lifetime,
      idleTimeout: this.#options.idleTimeout,
      idleTouchInterval: this.#options.idleTouchInterval,
      now: () => sessionClock.now(),
    };
    this.name = this.#options.name;
    this.contextKey = createContextKey<Session<T>>(this.#options.contextName);
  }

  /**
   * Reads the session cookie, loads the session from the store and returns a context
   * that holds it. A missing, expired, tampered or undecryptable cookie gives a fresh
   * empty session, not an error.
   *
   * @param context - The request's context so far.
   * @param request - Anything with `headers.get`: a Web `Request`, or `fromNodeRequest(req)`.
   * @returns A new context holding the session.
   * @throws SessionStoreError when the store's infrastructure fails (the session's
   *   state is unknown, so the request should fail rather than log the user out).
   * @example
   * ```ts
   * const context = await manager.extractSession(Context.background, request); // a Web Request
   * const node = await manager.extractSession(Context.background, fromNodeRequest(req));
   * ```
   */
  async extractSession(context: Context, request: RequestLike): Promise<Context> {
    const token = this.#readCookie(request.headers.get('cookie'));
    const now = this.#clock.now();
    let record: LoadedSessionRecord<T> | undefined;
    if (token !== undefined) {
      // What #call does, without a closure and an async frame on every request.
      try {
        record = await this.#store.getSession(token);
      } catch (error) {
        throw storeError(error);
      }
    }
    let session: Session<T>;
    if (record !== undefined && record.expireTime > now && record.deadline > now) {
      session = new Session<T>(this.#rules, {
        id: record.id,
        hasCookie: true,
        values: record.values,
        expireTime: record.expireTime,
        deadline: record.deadline,
        status: 'unmodified',
      });
      session.rewrite = record.rewrite === true;
      session.token = token;
    } else {
      session = Session.fresh<T>(this.#rules, token !== undefined, now);
    }
    return context.withValue(this.contextKey, session);
  }

  /**
   * Saves what the request changed and writes the cookie headers: a changed session
   * is stored and its cookie sent; a destroyed one is deleted and its cookie expired;
   * an unchanged one costs nothing (unless the idle timeout needs its expiry moved).
   * Call it before the response head is sent.
   *
   * @param context - A context from {@link SessionManager.extractSession}.
   * @param headers - Anything with `append`: a Web `Headers`, or `fromNodeResponse(res)`.
   * @returns The same context.
   * @throws SessionNotLoadedError when the context holds no session of this manager.
   * @throws SessionCookieTooLargeError when the cookie would be too large for a
   *   browser to keep; no header has been written.
   * @throws SessionStoreError when the store's infrastructure fails.
   * @example
   * ```ts
   * const headers = new Headers({ 'content-type': 'text/html' });
   * await manager.injectSession(context, headers);
   * return new Response(html, { headers });
   * ```
   */
  async injectSession(context: Context, headers: HeadersLike): Promise<Context> {
    const session = this.#session(context);
    const now = this.#clock.now();
    let cookie: string | undefined;

    if (session.rewriteDue(now)) {
      session.setState('modified');
    }
    if (session.state === 'modified') {
      session.expireTime = session.idleExpiry(now);
      // A store that writes on a server tells its token's length up front: a cookie
      // too large is refused before anything is written.
      const tokenLength = this.#store.tokenLength?.(session.id);
      if (tokenLength !== undefined) {
        this.#checkCookieSize(this.#cookieLength(tokenLength, session.expireTime, now));
      }
      let token: string | undefined;
      try {
        token = await this.#save(session);
      } catch (error) {
        throw storeError(error);
      }
      session.token = token;
      if (token === undefined) {
        // Ended elsewhere (log out everywhere, another request's logout or renewal)
        // since it was loaded: a patch never brings it back. No cookie either: an
        // expiring one could arrive after, and delete, the cookie of a concurrent
        // request that renewed the token; the stale cookie loads nothing anyway.
        session.reset(now);
      } else {
        cookie = this.#setCookie(token, session.expireTime, now);
      }
    }
    if (session.state === 'destroyed' && session.hasCookie) {
      cookie = stringifySetCookie({
        name: this.name,
        value: '',
        ...this.#options.attributes,
        maxAge: 0,
        expires: EXPIRED,
      });
    }

    if (session.retiredIds.length > 0) {
      // Forgotten only once deleted: a failed delete is retried by the next call.
      await this.#call(() => Promise.all(session.retiredIds.map((id) => this.#store.deleteSession(id))));
      session.retiredIds.length = 0;
    }
    if (cookie !== undefined) {
      const target =
        typeof Headers === 'function' && headers instanceof Headers ? mergingHeaders(webHeaderTarget(headers)) : headers;
      // Lower-case names: node:http and Headers look them up in lower case, and a name
      // that is lower case already costs no conversion.
      target.append('set-cookie', cookie);
      target.append('vary', 'Cookie');
      target.append('cache-control', 'private');
    }
    if (session.state === 'destroyed') {
      session.reset(now);
      session.hasCookie = false;
      session.token = undefined;
    } else if (cookie !== undefined) {
      session.stored = true;
      session.hasCookie = true;
      session.setState('unmodified');
      session.rewrite = false;
      session.changedKeys.clear();
    }
    return context;
  }

  /**
   * Returns the request's session: the object handler code reads and changes (every
   * adapter hands out the same object).
   *
   * @param context - A context from {@link SessionManager.extractSession}.
   * @returns The session.
   * @throws SessionNotLoadedError when the context holds no session of this manager.
   * @example
   * ```ts
   * const session = manager.session(context);
   * session.set('visits', (session.get('visits') ?? 0) + 1);
   * ```
   */
  session(context: Context): Session<T> {
    return this.#session(context);
  }

  /**
   * Reads a value.
   *
   * @typeParam V - The value's type, for a manager made without a value type (as
   *   `@revas-hq/kit-session` code writes it); a typed manager knows it already.
   * @param context - A context from {@link SessionManager.extractSession}.
   * @param key - The value's name.
   * @returns The value, or `undefined` when it is not set.
   * @throws SessionNotLoadedError when the context holds no session of this manager.
   * @example
   * ```ts
   * const userId = manager.getValue(context, 'userId'); // string | undefined
   * const theme = untyped.getValue<string>(context, 'theme'); // string | undefined
   * ```
   */
  getValue<V = never, K extends SessionValueName<T> = SessionValueName<T>>(context: Context, key: K): ValueOf<T, K, V> {
    return this.#session(context).get(key) as ValueOf<T, K, V>;
  }

  /**
   * Sets a value. The session then holds the value as JSON gives it back, on every
   * store: what `JSON.parse(JSON.stringify(value))` makes of it (a copy for objects; a
   * `Date` becomes its text, `NaN` `null`, a property holding `undefined` is dropped),
   * so this request reads what the next one will load. Setting `undefined` unsets the
   * value, as {@link SessionManager.unsetValue} does. After
   * {@link SessionManager.destroyValues} in the same request, this starts a new
   * session (with a new id) rather than reviving the old one.
   *
   * @param context - A context from {@link SessionManager.extractSession}.
   * @param key - The value's name.
   * @param value - A value JSON can carry, or `undefined` to unset it.
   * @throws SessionNotLoadedError when the context holds no session of this manager.
   * @throws SessionValueError when no store could keep the value or its name: JSON
   *   cannot encode it (a BigInt, a cycle, a throwing `toJSON`), it is a function or a
   *   symbol, it nests deeper than 64 levels, or its text or name holds U+0000 or a
   *   lone surrogate. The session is left as it was.
   * @example
   * ```ts
   * manager.setValue(context, 'visits', (manager.getValue(context, 'visits') ?? 0) + 1);
   * ```
   */
  setValue<K extends SessionValueName<T>>(context: Context, key: K, value: T[K]): void {
    this.#session(context).set(key, value);
  }

  /**
   * Removes a value. Removing a value that is not set changes nothing.
   *
   * @param context - A context from {@link SessionManager.extractSession}.
   * @param key - The value's name.
   * @throws SessionNotLoadedError when the context holds no session of this manager.
   * @example
   * ```ts
   * manager.unsetValue(context, 'cart');
   * ```
   */
  unsetValue(context: Context, key: SessionValueName<T>): void {
    this.#session(context).unset(key);
  }

  /**
   * Reads a value and removes it: a flash message shown once.
   *
   * @param context - A context from {@link SessionManager.extractSession}.
   * @param key - The value's name.
   * @returns The value, or `undefined` when it was not set.
   * @throws SessionNotLoadedError when the context holds no session of this manager.
   * @example
   * ```ts
   * manager.setValue(context, 'flash', 'Saved!'); // on the POST
   * const flash = manager.popValue(context, 'flash'); // on the next GET: shown once
   * ```
   */
  popValue<V = never, K extends SessionValueName<T> = SessionValueName<T>>(context: Context, key: K): ValueOf<T, K, V> {
    return this.#session(context).pop(key) as ValueOf<T, K, V>;
  }

  /**
   * Ends the session: its values are dropped, the store forgets it and the cookie is
   * expired when the response is written. Use it on logout.
   *
   * @param context - A context from {@link SessionManager.extractSession}.
   * @throws SessionNotLoadedError when the context holds no session of this manager.
   * @example
   * ```ts
   * // POST /logout
   * manager.destroyValues(context);
   * await manager.injectSession(context, headers); // deletes it and expires the cookie
   * ```
   */
  destroyValues(context: Context): void {
    this.#session(context).destroy();
  }

  /**
   * Gives the session a new id and token, keeps its values, and deletes the old id
   * from the store when the response is written. Call it whenever privileges change
   * (log in, log out, sudo mode): it defeats session fixation.
   *
   * @param context - A context from {@link SessionManager.extractSession}.
   * @throws SessionNotLoadedError when the context holds no session of this manager.
   * @example
   * ```ts
   * // POST /login, once the password checked out
   * manager.renewToken(context);
   * manager.setValue(context, 'userId', user.id);
   * ```
   */
  renewToken(context: Context): void {
    this.#session(context).renew();
  }

  /**
   * Tells whether the response will write the session: it was changed or destroyed.
   *
   * @param context - A context from {@link SessionManager.extractSession}.
   * @returns `true` when the session was changed or destroyed in this request.
   * @throws SessionNotLoadedError when the context holds no session of this manager.
   * @example
   * ```ts
   * if (manager.isModified(context)) {
   *   // this response carries a Set-Cookie: do not let a CDN cache it
   * }
   * ```
   */
  isModified(context: Context): boolean {
    return this.#session(context).isModified;
  }

  /**
   * Tells where the session stands in this request.
   *
   * @param context - A context from {@link SessionManager.extractSession}.
   * @returns `'new'`, `'unmodified'`, `'modified'` or `'destroyed'`.
   * @throws SessionNotLoadedError when the context holds no session of this manager.
   * @example
   * ```ts
   * if (manager.getStatus(context) === 'new') {
   *   // no session came in: show the login link
   * }
   * ```
   */
  getStatus(context: Context): SessionStatus {
    return this.#session(context).status;
  }

  /**
   * Tells when the session ends: the sooner of its absolute deadline and, with an idle
   * timeout, the end of the idle period counted from now.
   *
   * @param context - A context from {@link SessionManager.extractSession}.
   * @returns The moment the session ends if no other request comes.
   * @throws SessionNotLoadedError when the context holds no session of this manager.
   * @example
   * ```ts
   * const endsAt = manager.getExpireTime(context).toISOString();
   * ```
   */
  getExpireTime(context: Context): Date {
    return this.#session(context).expiresAt;
  }

  /**
   * Tells the absolute end of the session, which activity never moves.
   *
   * @param context - A context from {@link SessionManager.extractSession}.
   * @returns The session's deadline.
   * @throws SessionNotLoadedError when the context holds no session of this manager.
   * @example
   * ```ts
   * const mustLogInAgainBy = manager.getDeadline(context);
   * ```
   */
  getDeadline(context: Context): Date {
    return this.#session(context).deadline;
  }

  /**
   * Ends every session of one owner, on every device ("log out everywhere"). Needs
   * the `ownerKey` option and a store that keeps an owner index. The current request's
   * own session, if it is one of them, should also get `destroyValues` so that its
   * cookie is expired now.
   *
   * @param owner - The owner, as held in the `ownerKey` value (numbers as their text).
   * @returns How many sessions were ended.
   * @throws TypeError when the manager has no `ownerKey`.
   * @throws SessionStoreError when the store's infrastructure fails.
   * @example
   * ```ts
   * // manager built with { ownerKey: 'userId' } over a Redis, PostgreSQL or memory store
   * const ended = await manager.destroyOwnerSessions(user.id);
   * manager.destroyValues(context); // and this request's own session, cookie included
   * ```
   */
  async destroyOwnerSessions(owner: string | number): Promise<number> {
    const store = this.#store;
    if (this.#options.ownerKey === undefined || !isOwnerIndexedStore(store)) {
      throw new TypeError('destroyOwnerSessions needs the ownerKey option');
    }
    return this.#call(() => store.deleteOwnerSessions(String(owner)));
  }

  /**
   * Saves a modified session: a patch of the changed keys when the store can (of every
   * value when the store asked for a rewrite).
   */
  #save(session: Session<T>): Promise<string | undefined> {
    const store = this.#store;
    const owner = this.#owner(session.values);
    if (session.stored && isPatchableStore(store)) {
      const set: [string, unknown][] = [];
      const unset: SessionValueName<T>[] = [];
      const keys = session.rewrite
        ? new Set([...session.changedKeys, ...(Object.keys(session.values) as SessionValueName<T>[])])
        : session.changedKeys;
      for (const key of keys) {
        if (Object.hasOwn(session.values, key)) {
          set.push([key, session.values[key]]);
        } else {
          unset.push(key);
        }
      }
      const { ownerKey } = this.#options;
      // The owner goes with the patch only when this request set or unset it: left
      // alone, the store keeps the owner it holds now (a concurrent request's, maybe).
      const ownerChanged = ownerKey !== undefined && keys.has(ownerKey as SessionValueName<T>);
      return store.patchSession(session.id, {
        set: Object.fromEntries(set) as Partial<T>,
        unset,
        expireTime: session.expireTime,
        deadline: session.deadlineTime,
        ...(ownerChanged ? { owner: owner ?? null } : {}),
      });
    }
    // The owner is undefined without ownerKey; only an owner-indexed store reads it.
    const record = { values: session.values, expireTime: session.expireTime, deadline: session.deadlineTime };
    return (store as OwnerIndexedSessionStore<T>).setSession(session.id, record, owner);
  }

  #owner(values: Partial<T>): string | undefined {
    const { ownerKey } = this.#options;
    if (ownerKey === undefined || !Object.hasOwn(values, ownerKey)) {
      return undefined;
    }
    const owner = (values as Record<string, unknown>)[ownerKey];
    return typeof owner === 'string' || typeof owner === 'number' ? String(owner) : undefined;
  }

  #session(context: Context): Session<T> {
    const session = context.value(this.contextKey);
    if (session === undefined) {
      throw new SessionNotLoadedError(
        `no session "${this.name}" in this context: call extractSession (or use SessionRequestHook) first`,
      );
    }
    return session;
  }






  #readCookie(header: string | null): string | undefined {
    if (header === null || !header.includes(this.name)) {
      return undefined;
    }
    try {
      const value = parseCookie(header)[this.name];
      return value === undefined || value === '' ? undefined : value;
    } catch {
      return undefined;
    }
  }

  #setCookie(token: string, expireTime: number, now: number): string {
    const cookie = this.#stringify(token, expireTime, now);
    this.#checkCookieSize(cookie.length);
    return cookie;
  }

  /** The session's Set-Cookie, as `cookie` writes it (the value URI-encoded, a no-op for base64url). */
  #stringify(token: string, expireTime: number, now: number): string {
    const { persistent, attributes } = this.#options;
    return stringifySetCookie({
      name: this.name,
      value: token,
      ...(persistent ? { maxAge: Math.max(0, Math.ceil((expireTime - now) / 1000)) } : {}),
      ...attributes,
    });
  }

  /**
   * The length of the Set-Cookie {@link SessionManager.#setCookie} writes for a
   * base64url token of this length (which URI-encoding leaves as it is).
   */
  #cookieLength(tokenLength: number, expireTime: number, now: number): number {
    return this.#stringify('', expireTime, now).length + tokenLength;
  }

  #checkCookieSize(length: number): void {
    const { maxCookieSize } = this.#options;
    if (length > maxCookieSize) {
      throw new SessionCookieTooLargeError(length, maxCookieSize);
    }
  }

  async #call<R>(operation: () => Promise<R>): Promise<R> {
    try {
      return await operation();
    } catch (error) {
      throw storeError(error);
    }
  }
}
