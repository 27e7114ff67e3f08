import { parseCookie, stringifySetCookie } from 'cookie';
import { createContextKey, type Context, type ContextKey } from './Context.js';
import { isBase64urlText } from './base64url.js';
import { isImmediateStore, NOT_NOW, type ImmediateSessionStore } from './immediateStore.js';
import { mergingHeaders, webHeaderTarget } from './headers.js';
import type { HeadersLike, RequestLike } from './http.js';
import { SessionCookieTooLargeError, SessionError, SessionNotLoadedError, SessionStoreError } from './SessionError.js';
import {
  isOwnerIndexedStore,
  isOwnerListingStore,
  isPatchableStore,
  type LoadedSessionRecord,
  type OwnerIndexedSessionStore,
  type OwnerListingSessionStore,
  type SessionStore,
} from './SessionStore.js';
import type { SessionEventReason, SessionEventType } from './events.js';
import { GenerationCache } from './GenerationCache.js';
import { decodeMeta, encodeMeta, MAX_META_TEXT, metadataOf, type MetaFields, type OwnerSession } from './metadata.js';
import { hashId } from './sessionHandle.js';
import { systemClock, type Clock } from './Clock.js';
import { resolveOptions, type ResolvedOptions, type SessionManagerOptions } from './options.js';
import { Session, type SessionRules, type SessionStatus, type SessionValueName } from './Session.js';

const EXPIRED = new Date(0);
/**
 * A token as the cookie's value: URI-encoded as `cookie` would, except that base64url
 * (every token of the built-in stores) is left as it is without a pass of
 * `encodeURIComponent` over a long token, which it would not change.
 */
function encodeToken(token: string): string {
  return isBase64urlText(token) ? token : encodeURIComponent(token);
}
const TOKEN_ENCODING = { encode: encodeToken };

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
/** What a rejected `onEvent` promise is handed to: nothing. */
function ignoreHookError(): void {}

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
  /** The store, when it can answer some loads and saves without a promise (immediateStore.ts). */
  readonly #immediate: ImmediateSessionStore<T> | undefined;
  readonly #clock: Clock;
  readonly #options: ResolvedOptions;
  readonly #rules: SessionRules;
  /** Whether saves record when an owned session was last seen, and by what client. */
  readonly #recordsVisits: boolean;
  readonly #generations: GenerationCache | undefined;

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
    this.#immediate = isImmediateStore(store) ? store : undefined;
    this.#options = resolveOptions(options);
    if (options?.storage !== undefined && options.storage !== store) {
      throw new TypeError('options.storage names another store than the one given: give the store once');
    }
    // Tells the store the cookie name once; throws when it serves another name.
    store.useCookieName?.(this.#options.name);
    const { ownerKey, maxSessionsPerOwner, revocation } = this.#options;
    if (ownerKey !== undefined && !isOwnerIndexedStore(store) && revocation === undefined) {
      throw new TypeError('ownerKey needs a store that keeps an owner index (memory, Redis, PostgreSQL), or revocation');
    }
    if (maxSessionsPerOwner !== undefined) {
      if (!isOwnerListingStore(store)) {
        throw new TypeError('maxSessionsPerOwner needs a store that lists sessions (memory, Redis, PostgreSQL)');
      }
      store.limitOwnerSessions({
        max: maxSessionsPerOwner,
        policy: this.#options.whenOwnerFull,
        evicted: (owner, handles) => {
          for (const handle of handles) {
            this.#emit('evicted', 'limit', handle, owner);
          }
        },
      });
    }
    this.#recordsVisits = ownerKey !== undefined && isOwnerListingStore(store);
    const sessionClock = clock ?? systemClock;
    this.#generations =
      revocation === undefined
        ? undefined
        : new GenerationCache(revocation.generations, revocation.maxStaleness, revocation.whenUnavailable === 'trust', () =>
            sessionClock.now(),
          );
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
        const immediate = this.#immediate === undefined ? NOT_NOW : this.#immediate.loadNow(token);
        record = immediate === NOT_NOW ? await this.#store.getSession(token) : immediate;
      } catch (error) {
        throw storeError(error);
      }
    }
    let session: Session<T> | undefined;
    if (record !== undefined && record.expireTime > now && record.deadline > now) {
      const meta = decodeMeta(record.meta) ?? { c: record.deadline - this.#rules.lifetime };
      if (this.#generations === undefined || !(await this.#revoked(record, meta))) {
        session = new Session<T>(this.#rules, {
          id: record.id,
          hasCookie: true,
          values: record.values,
          expireTime: record.expireTime,
          deadline: record.deadline,
          status: 'unmodified',
          meta,
        });
        session.rewrite = record.rewrite === true;
        session.token = token;
      }
    } else if (record !== undefined) {
      this.#emitFor('expired', record.deadline > now ? 'idle' : 'lifetime', record.id, this.#owner(record.values));
    }
    session ??= Session.fresh<T>(this.#rules, token !== undefined, now);
    if (this.#recordsVisits) {
      const address = this.#options.clientAddress?.(request);
      session.client = {
        userAgent: request.headers.get('user-agent')?.slice(0, MAX_META_TEXT) ?? undefined,
        address: typeof address === 'string' ? address.slice(0, MAX_META_TEXT) : undefined,
      };
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
    const retired = this.#options.onEvent === undefined ? undefined : [...session.retiredIds];
    const wasStored = session.stored;

    // An unchanged session written only to record when it was last seen.
    const seenOnly = session.rewriteDue(now);
    if (seenOnly) {
      session.setState('modified');
    }
    let saved = false;
    if (session.state === 'modified') {
      // The browser's cookie stays good when an unchanged server-side session is patched
      // only to record when it was last seen and its expiry does not move: that write
      // sends no Set-Cookie (the token the store gives, sealed again, goes unused).
      const cookieStays =
        seenOnly &&
        session.stored &&
        session.hasCookie &&
        !session.rewrite &&
        session.token !== undefined &&
        isPatchableStore(this.#store);
      const cookieExpiry = session.expireTime;
      session.expireTime = session.idleExpiry(now);
      // A store that writes on a server tells its token's length up front: a cookie
      // too large is refused before anything is written.
      const tokenLength = this.#store.tokenLength?.(session.id);
      if (tokenLength !== undefined) {
        this.#checkCookieSize(this.#cookieLength(tokenLength, session.expireTime, now));
      }
      let token: string | undefined;
      try {
        const saving = this.#save(session, now, session.expireTime === cookieExpiry ? session.token : undefined);
        token = typeof saving === 'object' ? await saving : saving;
      } catch (error) {
        throw storeError(error);
      }
      if (token === undefined) {
        // Ended elsewhere (log out everywhere, another request's logout or renewal)
        // since it was loaded: a patch never brings it back. No cookie either: an
        // expiring one could arrive after, and delete, the cookie of a concurrent
        // request that renewed the token; the stale cookie loads nothing anyway.
        session.token = undefined;
        session.reset(now);
      } else {
        saved = true;
        if (!cookieStays || session.expireTime !== cookieExpiry) {
          session.token = token;
          cookie = this.#setCookie(token, session.expireTime, now);
        }
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
    if (retired !== undefined) {
      this.#reportSave(session, retired, wasStored, saved);
    }
    session.destroyedValues = undefined;
    if (session.state === 'destroyed') {
      session.reset(now);
      session.hasCookie = false;
      session.token = undefined;
    } else if (saved) {
      session.loaded = true;
      session.renewed = false;
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
    if (this.#options.ownerKey === undefined) {
      throw new TypeError('destroyOwnerSessions needs the ownerKey option');
    }
    const name = String(owner);
    if (this.#generations !== undefined) {
      const generations = this.#generations;
      await this.#call(() => generations.bump(name));
    }
    const ended = isOwnerIndexedStore(store) ? await this.#call(() => store.deleteOwnerSessions(name)) : 0;
    this.#emit('destroyed', 'owner', undefined, name);
    return ended;
  }

  /**
   * Lists the live sessions of one owner, most recently seen first, with their metadata
   * (created, authenticated, last seen, user agent, client address) and a handle for
   * {@link SessionManager.destroySessionByHandle}: a "Your sessions" page. Needs the
   * `ownerKey` option and a store that lists sessions (memory, Redis, PostgreSQL).
   *
   * @param owner - The owner, as held in the `ownerKey` value (numbers as their text).
   * @param context - The asking request's context, so that its own session is marked
   *   `current`.
   * @returns The sessions.
   * @throws TypeError when the manager has no `ownerKey` or its store cannot list sessions.
   * @throws SessionStoreError when the store's infrastructure fails.
   * @example
   * ```ts
   * const sessions = await manager.listOwnerSessions(userId, context);
   * for (const { handle, current, userAgent, lastSeen } of sessions) {
   *   console.log(current ? '(this device)' : handle, userAgent, lastSeen?.toISOString());
   * }
   * ```
   */
  async listOwnerSessions(owner: string | number, context?: Context): Promise<OwnerSession[]> {
    const store = this.#listingStore('listOwnerSessions');
    const records = await this.#call(() => store.listOwnerSessions(String(owner)));
    const own = context === undefined ? undefined : await this.#handleOf(this.#session(context));
    const sessions = records.map((record): OwnerSession => {
      const fields = decodeMeta(record.meta) ?? { c: record.deadline - this.#rules.lifetime };
      return {
        handle: record.handle,
        current: record.handle === own,
        expiresAt: new Date(record.expireTime),
        deadline: new Date(record.deadline),
        ...metadataOf(fields),
      };
    });
    const seen = (session: OwnerSession) => (session.lastSeen ?? session.createdAt).getTime();
    return sessions.sort((a, b) => seen(b) - seen(a));
  }

  /**
   * Ends one session of an owner, named by the handle `listOwnerSessions` gave: "end
   * this session" on a "Your sessions" page. A handle of another owner's session ends
   * nothing. If it names the asking request's own session, give that one
   * `destroyValues` too so that its cookie is expired now.
   *
   * @param owner - The owner.
   * @param handle - The session's handle.
   * @returns `true` when a live session was ended.
   * @throws TypeError when the manager has no `ownerKey` or its store cannot list sessions.
   * @throws SessionStoreError when the store's infrastructure fails.
   * @example
   * ```ts
   * // POST /sessions/end, with the handle from the form
   * await manager.destroySessionByHandle(userId, form.get('handle'));
   * ```
   */
  async destroySessionByHandle(owner: string | number, handle: string): Promise<boolean> {
    const store = this.#listingStore('destroySessionByHandle');
    if (typeof handle !== 'string' || handle === '') {
      return false;
    }
    const name = String(owner);
    const ended = await this.#call(() => store.deleteSessionByHandle(name, handle));
    if (ended) {
      this.#emit('destroyed', 'handle', handle, name);
    }
    return ended;
  }

  /**
   * Ends every session of the request's owner except the request's own: "log out my
   * other devices", and what to do after a password change (OWASP ASVS 7.4.3). With
   * `revocation`, the owner's generation moves forward too, so sealed cookies elsewhere
   * stop working, and this request's cookie is sealed again with the new generation.
   *
   * @param context - A context from {@link SessionManager.extractSession}; its session's
   *   `ownerKey` value names the owner.
   * @returns How many sessions the store ended (0 when the session has no owner; with a
   *   cookie store, 0 as well: its sessions are not known, the generation ends them).
   * @throws TypeError when the manager has neither a store that lists sessions nor `revocation`.
   * @throws SessionStoreError when the store's infrastructure fails.
   * @throws SessionHeadersSentError with `revocation`, when this request's session has been
   *   saved for the last time (its new cookie could not reach the browser).
   * @example
   * ```ts
   * // POST /password, once the new password is saved
   * await manager.destroyOtherSessions(context);
   * ```
   */
  async destroyOtherSessions(context: Context): Promise<number> {
    const session = this.#session(context);
    const store = this.#store;
    if (!isOwnerListingStore(store) && this.#generations === undefined) {
      throw new TypeError('destroyOtherSessions needs a store that lists sessions, or the revocation option');
    }
    const owner = this.#owner(session.values);
    if (owner === undefined) {
      return 0;
    }
    let ended = 0;
    if (this.#generations !== undefined) {
      session.markChanged();
      const generations = this.#generations;
      const generation = await this.#call(() => generations.bump(owner));
      session.meta = { ...session.meta, g: generation };
    }
    if (isOwnerListingStore(store)) {
      const keep = session.stored ? await this.#handleOf(session) : undefined;
      ended = await this.#call(() => store.deleteOwnerSessions(owner, keep));
    }
    this.#emit('destroyed', 'others', undefined, owner);
    return ended;
  }

  /**
   * Tells whether the request's session was authenticated (renewed at log-in) within
   * `maxAge` milliseconds.
   *
   * @param context - A context from {@link SessionManager.extractSession}.
   * @param maxAge - How old the authentication may be, in milliseconds.
   * @returns `true` when it is recent enough.
   * @throws SessionNotLoadedError when the context holds no session of this manager.
   * @example
   * ```ts
   * if (!manager.isFresh(context, 5 * 60_000)) {
   *   // ask for the password again
   * }
   * ```
   */
  isFresh(context: Context, maxAge: number): boolean {
    return this.#session(context).isFresh(maxAge);
  }

  /**
   * Throws unless the request's session was authenticated within `maxAge` milliseconds.
   *
   * @param context - A context from {@link SessionManager.extractSession}.
   * @param maxAge - How old the authentication may be, in milliseconds.
   * @throws SessionNotFreshError when it is older, or never happened.
   * @throws SessionNotLoadedError when the context holds no session of this manager.
   * @example
   * ```ts
   * manager.requireFresh(context, 5 * 60_000); // before deleting the account
   * ```
   */
  requireFresh(context: Context, maxAge: number): void {
    this.#session(context).requireFresh(maxAge);
  }

  /**
   * Saves a modified session: a patch of the changed keys when the store can (of every
   * value when the store asked for a rewrite).
   */
  #save(session: Session<T>, now: number, token: string | undefined): string | undefined | Promise<string | undefined> {
    const owner = this.#owner(session.values);
    const generations = this.#generations;
    if (
      generations !== undefined &&
      owner !== undefined &&
      (session.meta.g === undefined || session.changedKeys.has(this.#options.ownerKey as SessionValueName<T>))
    ) {
      // A log-in seals the generation of now, past the cache: a stale one would be revoked.
      return generations.fresh(owner).then((generation) => {
        session.meta = { ...session.meta, g: generation };
        return this.#write(session, owner, now, token);
      });
    }
    return this.#write(session, owner, now, token);
  }

  #write(
    session: Session<T>,
    owner: string | undefined,
    now: number,
    token: string | undefined,
  ): string | undefined | Promise<string | undefined> {
    const store = this.#store;
    const meta = this.#metaText(session, owner, now);
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
        ...(meta === undefined ? {} : { meta }),
        ...(ownerChanged ? { owner: owner ?? null } : {}),
        ...(token === undefined ? {} : { token }),
      });
    }
    // The owner is undefined without ownerKey; only an owner-indexed store reads it.
    const record = {
      values: session.values,
      expireTime: session.expireTime,
      deadline: session.deadlineTime,
      ...(meta === undefined ? {} : { meta }),
    };
    const saved = this.#immediate === undefined ? NOT_NOW : this.#immediate.saveNow(session.id, record);
    return saved === NOT_NOW ? (store as OwnerIndexedSessionStore<T>).setSession(session.id, record, owner) : saved;
  }

  /**
   * The metadata the save writes, as text (and kept on the session): with an owner on a
   * store that lists sessions, everything (last seen now, the client); else only the
   * creation, authentication and generation, when there is an authentication or a
   * generation to keep; else none.
   */
  #metaText(session: Session<T>, owner: string | undefined, now: number): string | undefined {
    const known = session.meta;
    const generation = owner === undefined ? undefined : known.g;
    let fields: MetaFields | undefined;
    if (this.#recordsVisits && owner !== undefined) {
      const { client } = session;
      fields = {
        c: known.c,
        a: known.a,
        s: now,
        u: client.userAgent ?? known.u,
        i: this.#options.clientAddress === undefined ? undefined : (client.address ?? known.i),
        g: generation,
      };
    } else if (known.a !== undefined || generation !== undefined) {
      fields = { c: known.c, a: known.a, g: generation };
    }
    if (fields === undefined) {
      session.meta = { c: known.c };
      // Metadata held from before (an owner since removed) is replaced, not kept.
      const held = known.a !== undefined || known.s !== undefined || known.g !== undefined || known.u !== undefined;
      return held ? encodeMeta(session.meta) : undefined;
    }
    session.meta = fields;
    return encodeMeta(fields);
  }

  /** Whether a loaded session's cookie was sealed before its owner's latest revocation. */
  async #revoked(record: LoadedSessionRecord<T>, meta: MetaFields): Promise<boolean> {
    const owner = this.#owner(record.values);
    if (owner === undefined) {
      return false;
    }
    let current: number | undefined;
    try {
      current = await this.#generations!.current(owner);
    } catch (error) {
      throw storeError(error);
    }
    if (current === undefined || (meta.g ?? 0) >= current) {
      return false;
    }
    this.#emitFor('revoked', 'generation', record.id, owner);
    return true;
  }

  /** Reports what a save did: created, renewed, destroyed. */
  #reportSave(session: Session<T>, retired: readonly string[], wasStored: boolean, sent: boolean): void {
    const owner = this.#owner(session.values);
    // destroy() emptied the values: the ended session's owner is in those it held.
    const ended = session.destroyedValues === undefined ? owner : this.#owner(session.destroyedValues);
    if (session.state === 'destroyed') {
      if (retired.length === 0 && session.loaded) {
        this.#emit('destroyed', 'request', undefined, ended);
      }
      for (const id of retired) {
        this.#emitFor('destroyed', 'request', id, ended);
      }
      return;
    }
    if (!sent) {
      return;
    }
    if (session.renewed && session.loaded) {
      this.#emitFor('renewed', 'request', session.id, owner);
      return;
    }
    for (const id of retired) {
      // Destroyed, then set again: the old session ended, a new one begins.
      this.#emitFor('destroyed', 'request', id, ended);
    }
    if (!wasStored && !session.loaded) {
      this.#emitFor('created', 'request', session.id, owner);
    }
  }

  /** Reports an event about a session known by its id (hashed here; '' when the store keeps none). */
  #emitFor(type: SessionEventType, reason: SessionEventReason, id: string, owner: string | undefined): void {
    if (this.#options.onEvent === undefined) {
      return;
    }
    if (id === '') {
      this.#emit(type, reason, undefined, owner);
      return;
    }
    const handle = hashId(id);
    if (typeof handle === 'string') {
      this.#emit(type, reason, handle, owner);
    } else {
      handle.then(
        (hash) => this.#emit(type, reason, hash, owner),
        () => this.#emit(type, reason, undefined, owner),
      );
    }
  }

  #emit(type: SessionEventType, reason: SessionEventReason, handle: string | undefined, owner: string | undefined): void {
    const listener = this.#options.onEvent;
    if (listener === undefined) {
      return;
    }
    try {
      const result: unknown = listener({ type, reason, handle, owner, at: new Date(this.#clock.now()) });
      if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
        // An async hook that rejects is ignored too, never an unhandled rejection.
        (result as PromiseLike<unknown>).then(undefined, ignoreHookError);
      }
    } catch {
      // An audit hook that throws must not fail the request.
    }
  }

  /** The handle of a stored session, or `undefined` when the store does not hold it. */
  async #handleOf(session: Session<T>): Promise<string | undefined> {
    return session.stored && session.id !== '' ? hashId(session.id) : undefined;
  }

  #listingStore(what: string): OwnerListingSessionStore<T> {
    const store = this.#store;
    if (this.#options.ownerKey === undefined || !isOwnerListingStore(store)) {
      throw new TypeError(`${what} needs the ownerKey option and a store that lists sessions (memory, Redis, PostgreSQL)`);
    }
    return store;
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
    return stringifySetCookie(
      {
        name: this.name,
        value: token,
        ...(persistent ? { maxAge: Math.max(0, Math.ceil((expireTime - now) / 1000)) } : {}),
        ...attributes,
      },
      TOKEN_ENCODING,
    );
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
