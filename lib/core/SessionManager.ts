import { adoptSession, retireAdoption, type SessionAdopter } from './adoption.js';
import { createContextKey, type Context, type ContextKey } from './Context.js';
import type { HeadersLike, RequestLike } from './http.js';
import { SessionAccess } from './SessionAccess.js';
import { callStore, storeError } from './SessionError.js';
import {
  isLive,
  isPatchableStore,
  isRenewableStore,
  isSessionStore,
  isThenable,
  type LoadedSessionRecord,
  type MaybePromise,
  type OwnerIndexedSessionStore,
  type SessionStore,
  type StoreMembers,
} from './SessionStore.js';
import { SessionAccounts } from './accounts/SessionAccounts.js';
import { SessionEvents } from './accounts/SessionEvents.js';
import { decodeMeta, MAX_META_TEXT, type OwnerSession } from './metadata.js';
import { systemClock, type Clock } from './Clock.js';
import { resolveOptions, type ResolvedOptions, type SessionManagerOptions } from './options.js';
import { appendHeaders } from './headers.js';
import { Session, type SessionClient, type SessionRules, type SessionValueName } from './Session.js';
import type {
  SessionLoadOutcome,
  SessionOperationProbe,
  SessionSaveOutcome,
  SessionStoreOperation,
  SessionTelemetryHooks,
} from './SessionTelemetry.js';
import { CookieTransport } from './transport/CookieTransport.js';
import type { SessionTransport, TokenExpiry, TransportHeaders } from './transport/SessionTransport.js';

/**
 * One way a token travels, with the store that opens its tokens (an encrypting store's
 * view bound to the transport's name).
 */
interface Route<T> {
  readonly transport: SessionTransport;
  readonly store: SessionStore<T>;
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
export class SessionManager<T extends object = Record<string, unknown>> extends SessionAccess<T> {
  /** The name the session is known by: its (first) transport's, the cookie's name by default. */
  readonly name: string;
  /** The context key the session is held under. */
  readonly contextKey: ContextKey<Session<T>>;

  /** Each transport with its store; the first is the default. */
  readonly #routes: readonly Route<T>[];
  readonly #clock: Clock;
  readonly #options: ResolvedOptions;
  readonly #rules: SessionRules;
  readonly #events: SessionEvents;
  readonly #accounts: SessionAccounts<T>;
  /**
   * The route an adopted session takes: the first cookie transport's (an old session lives
   * in the browser's cookies), or -1 when there is none and nothing is adopted.
   */
  readonly #adoptionRoute: number;
  /** The `telemetry` option's hooks for this manager, if any. */
  readonly #telemetry: SessionTelemetryHooks | undefined;

  /**
   * @param store - Where sessions live. A bare `CookieSessionStore` is refused unless
   *   built with `allowPlaintext: true`: wrap it in `EncryptingStoreDecorator`.
   * @param options - Cookie (or transport), lifetime and idle timeout.
   * @param clock - The source of time.
   * @throws TypeError when `store` lacks `getSession`, `setSession` or
   *   `deleteSession`, an option is invalid or unknown, the store would keep sessions
   *   in plain text in the cookie (`requiresEncryption`), or the store is bound to
   *   another name than this manager's transport (`useTokenName`).
   */
  constructor(
    store: SessionStore<T>,
    options?: SessionManagerOptions,
    clock?: Clock,
  ) {
    super();
    if (!isSessionStore(store)) {
      throw new TypeError('store must be a session store, with getSession, setSession and deleteSession methods');
    }
    if ((store as StoreMembers<T>).requiresEncryption === true) {
      throw new TypeError(
        'a bare CookieSessionStore lets the client read and forge its session: wrap it in EncryptingStoreDecorator',
      );
    }
    this.#options = resolveOptions(options);
    if (options?.storage !== undefined && options.storage !== store) {
      throw new TypeError('options.storage names another store than the one given: give the store once');
    }
    // Tells the store each transport's name once (throws when it serves another), and
    // takes the store that opens that transport's tokens.
    this.#routes = this.#options.transports.map((transport, index) => {
      const bound = (store as StoreMembers<T>).useTokenName?.(transport.name, index === 0) ?? store;
      return { transport, store: bound };
    });
    this.#adoptionRoute = this.#routes.findIndex(({ transport }) => transport instanceof CookieTransport);
    const sessionClock = clock ?? systemClock;
    this.#clock = sessionClock;
    const name = this.#options.transports[0]!.name;
    this.#telemetry = this.#options.telemetry?.attach({ name, store: store as SessionStore<unknown> });
    this.#events = new SessionEvents(this.#options.onEvent, sessionClock, this.#telemetry);
    this.#accounts = new SessionAccounts(store, this.#options, this.#events, sessionClock);
    this.#defersLoad =
      this.#options.load === 'lazy' ||
      (this.#options.load === 'auto' && this.#loadsAtOnce && this.#routes.every((route) => route.store.loadsAtOnce === true));
    this.#rules = {
      lifetime: this.#options.lifetime,
      idleTimeout: this.#options.idleTimeout,
      idleTouchInterval: this.#options.idleTouchInterval,
      now: () => sessionClock.now(),
    };
    this.name = name;
    this.contextKey = createContextKey<Session<T>>(this.#options.contextName);
  }

  /**
   * Reads the session's token (the cookie, or what the transport carries), loads the
   * session from the store and returns a context that holds it. A missing, expired,
   * tampered or undecryptable token gives a fresh empty session, not an error.
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
    const loading = this.#load(request);
    return context.withValue(this.contextKey, isThenable(loading) ? await loading : loading);
  }

  /**
   * Returns a context holding the request's session unloaded: it loads on its first touch
   * (see `Session.load`), so a request that never touches it opens no cookie, reads no
   * store and sends no header ({@link SessionManager.injectSession} then does nothing).
   * The adapters call it as the manager's `load` option says; for your own hooks, use it
   * where {@link SessionManager.extractSession} would load sessions no handler reads.
   *
   * @param context - The request's context so far.
   * @param request - Anything with `headers.get`: a Web `Request`, or `fromNodeRequest(req)`.
   * @returns A new context holding the unloaded session.
   * @example
   * ```ts
   * const context = manager.deferSession(Context.background, request);
   * // … the handler may never touch it; when it does:
   * await manager.session(context).load(); // needed only when the store answers with a promise
   * await manager.injectSession(context, headers);
   * ```
   */
  deferSession(context: Context, request: RequestLike): Context {
    return context.withValue(this.contextKey, Session.deferred<T>(this.#rules, request, () => this.#load(request)));
  }

  /**
   * @internal Whether the adapters hand over the request's session unloaded
   * ({@link SessionManager.deferSession}) rather than load it before the handler, as the
   * `load` option says: with `'auto'`, when every store it loads from declares that its
   * loads never wait (`SessionStore.loadsAtOnce`) and no adoption or revocation makes a
   * load wait.
   */
  get defersLoad(): boolean {
    return this.#defersLoad;
  }

  readonly #defersLoad: boolean;

  /**
   * Reads the request's token and loads its session: the session itself when the store
   * (and everything else the load asks) answers at once, else a promise of it.
   */
  #load(request: RequestLike): MaybePromise<Session<T>> {
    // With telemetry, the load is reported and its store call timed; without, nothing is.
    const probe = this.#telemetry?.startLoad();
    try {
      const routes = this.#routes;
      let route = 0;
      let token = routes[0]!.transport.read(request);
      if (token === undefined && routes.length > 1) {
        [route, token] = this.#choose(request);
      }
      const now = this.#clock.now();
      if (token === undefined) {
        return reported(this.#open(request, route, token, undefined, now, probe), probe);
      }
      const { store } = routes[route]!;
      let answer: MaybePromise<LoadedSessionRecord<T> | undefined>;
      // What callStore does, without a closure and an async frame on every request.
      try {
        // A store that answers at once (a cookie opened on node:crypto, SQLite) is
        // taken without a promise and a turn of the microtask queue.
        answer = probe === undefined ? store.getSession(token) : probe.callStore('getSession', loading(store, token));
      } catch (error) {
        throw storeError(error);
      }
      if (isThenable(answer)) {
        return this.#openLater(answer, request, route, token, now, probe);
      }
      return reported(this.#open(request, route, token, answer, now, probe), probe);
    } catch (error) {
      probe?.end('error', error);
      throw error;
    }
  }

  /** Whether loads can answer at once whatever the store does: no adoption and no revocation, which wait. */
  get #loadsAtOnce(): boolean {
    return this.#options.adopters.length === 0 && !this.#accounts.revocation.active;
  }

  /** The rest of a load whose store answered with a promise. */
  async #openLater(
    answer: Promise<LoadedSessionRecord<T> | undefined>,
    request: RequestLike,
    route: number,
    token: string,
    now: number,
    probe: SessionOperationProbe<SessionLoadOutcome> | undefined,
  ): Promise<Session<T>> {
    try {
      let record: LoadedSessionRecord<T> | undefined;
      try {
        record = await answer;
      } catch (error) {
        throw storeError(error);
      }
      const opened = this.#open(request, route, token, record, now, probe);
      return isThenable(opened) ? await opened : opened;
    } catch (error) {
      probe?.end('error', error);
      throw error;
    }
  }

  /**
   * Makes the session of a loaded record (or of none): checks it is live and not revoked,
   * else adopts another library's session or starts a fresh one. Answers at once unless a
   * revocation check or an adoption waits.
   */
  #open(
    request: RequestLike,
    route: number,
    token: string | undefined,
    record: LoadedSessionRecord<T> | undefined,
    now: number,
    probe: SessionOperationProbe<SessionLoadOutcome> | undefined,
  ): MaybePromise<Session<T>> {
    const client = this.#accounts.recordsVisits ? this.#client(request) : undefined;
    if (record !== undefined && isLive(record, now)) {
      const meta = decodeMeta(record.meta) ?? { c: record.deadline - this.#rules.lifetime };
      const session = new Session<T>(this.#rules, {
        id: record.id,
        hasToken: true,
        route,
        request,
        values: record.values,
        expireTime: record.expireTime,
        deadline: record.deadline,
        status: 'unmodified',
        meta,
        token,
        rewrite: record.rewrite,
        superseded: record.superseded,
        client,
      });
      // Without revocation there is nothing to wait for: no promise on every load.
      const { revocation } = this.#accounts;
      if (!revocation.active) {
        return this.#opened(request, route, token, record, session, now, client, probe);
      }
      return revocation
        .revoked(record, meta, this.#accounts.owner(record.values))
        .then((revoked) => this.#opened(request, route, token, record, revoked ? undefined : session, now, client, probe));
    }
    if (record !== undefined) {
      const reason = record.deadline > now ? 'idle' : 'lifetime';
      this.#events.emitFor('expired', reason, record.id, this.#accounts.owner(record.values));
    }
    if (token === undefined && this.#options.adopters.length > 0) {
      return adoptSession(this.#options.adopters as readonly SessionAdopter<T>[], this.#adoptionRoute, this.#rules, request, now, client).then(
        (adopted) => this.#opened(request, route, token, record, adopted, now, client, probe),
      );
    }
    return this.#opened(request, route, token, record, undefined, now, client, probe);
  }

  /** The end of a load: reports it, and starts a fresh session when none was found. */
  #opened(
    request: RequestLike,
    route: number,
    token: string | undefined,
    record: LoadedSessionRecord<T> | undefined,
    session: Session<T> | undefined,
    now: number,
    client: SessionClient | undefined,
    probe: SessionOperationProbe<SessionLoadOutcome> | undefined,
  ): Session<T> {
    if (probe !== undefined) {
      probe.end(loadOutcome(token, record, session, now));
    }
    return session ?? Session.fresh<T>(this.#rules, token !== undefined, now, route, request, client);
  }

  /**
   * Saves what the request changed and writes the transport's headers: a changed
   * session is stored and its cookie sent; a destroyed one is deleted and its cookie expired;
   * an unchanged one costs nothing (unless the idle timeout needs its expiry moved).
   * Call it before the response head is sent.
   *
   * @param context - A context from {@link SessionManager.extractSession}.
   * @param headers - Anything with `append`: a Web `Headers`, or `fromNodeResponse(res)`.
   * @returns The same context.
   * @throws SessionNotLoadedError when the context holds no session of this manager.
   * @throws SessionTokenTooLargeError when the token would be too large for its
   *   transport (a `SessionCookieTooLargeError` for a cookie a browser would not keep); no
   *   header has been written.
   * @throws SessionStoreError when the store's infrastructure fails.
   * @example
   * ```ts
   * const headers = new Headers({ 'content-type': 'text/html' });
   * await manager.injectSession(context, headers);
   * return new Response(html, { headers });
   * ```
   */
  async injectSession(context: Context, headers: HeadersLike): Promise<Context> {
    if (!this.session(context).isLoaded) {
      // Never touched (see deferSession): nothing was read, so nothing is saved or sent.
      return context;
    }
    // With telemetry, the save is reported and its store calls timed; without, nothing is.
    const probe = this.#telemetry?.startSave();
    try {
      const session = this.session(context);
      if (session.isStale && session.status !== 'destroyed') {
        // Renewed or ended by another request while this one was on its way: nothing of it
        // is saved, and no cookie replaces the successor's in the browser. (A log-out is
        // saved: it deletes the retired id, which ends its successor too.)
        session.skippedAsStale();
        probe?.end('stale');
        return context;
      }
      const ownChanges = session.isModified;
      const now = this.#clock.now();
      const { renewalInterval } = this.#options;
      if (
        renewalInterval !== undefined &&
        session.loaded &&
        session.stored &&
        session.status !== 'destroyed' &&
        now - session.idIssuedAt >= renewalInterval
      ) {
        session.renewPeriodically(now);
      }
      const retired = this.#events.listening ? [...session.retiredIds] : undefined;
      const { status, loaded, renewal, destroyedValues, predecessor } = session;
      const wasStored = session.stored;
      const tokenExpiry = session.expireTime;
      // An unchanged session written only to record when it was last seen, or to move
      // its expiry: it is then 'modified' too.
      const rewriteOnly = session.beginSave(now);
      const route = this.#routes[session.route]!;
      const { transport, store } = route;
      let out: TransportHeaders | undefined;
      let saved = false;
      if (session.status === 'modified') {
        // The browser's cookie stays good when an unchanged server-side session is patched
        // only to record when it was last seen and its expiry does not move: that write
        // sends no Set-Cookie (the token the store gives, sealed again, goes unused).
        const tokenStays =
          rewriteOnly &&
          session.stored &&
          session.hasToken &&
          !session.rewrite &&
          session.token !== undefined &&
          session.expireTime === tokenExpiry &&
          isPatchableStore(store);
        const expiry: TokenExpiry = { expireTime: session.expireTime, now, persistent: session.persistent };
        // A store that writes on a server tells its token's length up front: a cookie
        // too large is refused before anything is written.
        let tokenLength: number | undefined;
        try {
          tokenLength = (store as StoreMembers<T>).tokenLength?.(session.id);
        } catch (error) {
          throw storeError(error);
        }
        if (tokenLength !== undefined) {
          transport.checkTokenLength(tokenLength, expiry);
        }
        let token: string | undefined;
        try {
          const saving = this.#save(route, session, now, session.expireTime === tokenExpiry ? session.token : undefined, probe);
          token = isThenable(saving) ? await saving : saving;
        } catch (error) {
          throw storeError(error);
        }
        if (token === undefined) {
          // Ended or renewed elsewhere (log out everywhere, another request's log-out or
          // renewal) since it was loaded: a save never brings it back. No cookie either: an
          // expiring one could arrive after, and delete, the cookie of a concurrent
          // request that renewed the token; the stale cookie loads nothing anyway.
          // A renewal of the interval alone, or a rewrite alone, were no changes of the request's.
          session.lostAtSave(now, ownChanges);
        } else {
          saved = true;
          if (!tokenStays) {
            out = transport.write(token, expiry, session.request);
          }
          session.saved(tokenStays ? session.token : token);
        }
      }
      if (session.status === 'destroyed' && session.hasToken) {
        out = transport.clear(session.request);
      }
      let deleted = session.retiredIds;
      if (saved && predecessor !== undefined && !isRenewableStore(store)) {
        // A store that cannot renew atomically: the successor is written, the old id deleted.
        deleted = [...deleted, predecessor];
      }
      if (deleted.length > 0) {
        // Forgotten only once deleted: a failed delete is retried by the next call.
        await callStore(
          probe === undefined ? () => Promise.all(deleted.map((id) => store.deleteSession(id))) : deleting(probe, store, deleted),
        );
      }
      const { adoption } = session;
      if (adoption !== undefined || session.adoptionKept !== undefined) {
        await retireAdoption(session, store, saved, session.status === 'destroyed' || destroyedValues !== undefined);
      }
      if (out !== undefined) {
        appendHeaders(headers, out);
      }
      if (adoption !== undefined && session.adoption === undefined) {
        for (const line of adoption.expireCookies) {
          headers.append('Set-Cookie', line);
        }
      }
      if (retired !== undefined) {
        const owner = this.#accounts.owner(session.values);
        this.#events.reportSave({
          status: session.status === 'destroyed' ? 'destroyed' : status,
          id: session.id,
          retired,
          renewal,
          loaded,
          wasStored,
          sent: saved,
          owner,
          // destroy() emptied the values: the ended session's owner is in those it held.
          ended: destroyedValues === undefined ? owner : this.#accounts.owner(destroyedValues),
          adopted: adoption !== undefined,
        });
      }
      session.retiredIdsDeleted();
      if (probe !== undefined) {
        probe.end(saveOutcome(session, saved, renewal, rewriteOnly));
      }
      if (session.status === 'destroyed') {
        session.destroySaved(now);
      }
      return context;
    } catch (error) {
      probe?.end('error', error);
      throw error;
    }
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
  destroyOwnerSessions(owner: string | number): Promise<number> {
    return this.#accounts.destroyOwnerSessions(owner);
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
  listOwnerSessions(owner: string | number, context?: Context): Promise<OwnerSession[]> {
    return this.#accounts.listOwnerSessions(owner, context === undefined ? undefined : this.session(context));
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
  destroySessionByHandle(owner: string | number, handle: string): Promise<boolean> {
    return this.#accounts.destroySessionByHandle(owner, handle);
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
  destroyOtherSessions(context: Context): Promise<number> {
    return this.#accounts.destroyOtherSessions(this.session(context));
  }

  /**
   * Saves a modified session: a renewal of the loaded id when the request renewed it and
   * the store can; a patch of the changed keys when the store can (of every value when
   * the store asked for a rewrite); else the whole record. With telemetry, the store's
   * call (not the read of the owner's generation before it) is timed.
   */
  #save(
    route: Route<T>,
    session: Session<T>,
    now: number,
    token: string | undefined,
    probe: SessionOperationProbe<SessionSaveOutcome> | undefined,
  ): string | undefined | Promise<string | undefined> {
    const owner = this.#accounts.owner(session.values);
    const sealing = this.#accounts.revocation.seal(session, owner);
    if (probe !== undefined) {
      return this.#observedSave(probe, route, session, owner, now, token, sealing);
    }
    return sealing === undefined
      ? this.#write(route, session, owner, now, token)
      : sealing.then(() => this.#write(route, session, owner, now, token));
  }

  /** `#save` with telemetry: the store's call (not the read of the owner's generation before it) is timed. */
  #observedSave(
    probe: SessionOperationProbe<SessionSaveOutcome>,
    route: Route<T>,
    session: Session<T>,
    owner: string | undefined,
    now: number,
    token: string | undefined,
    sealing: Promise<void> | undefined,
  ): string | undefined | Promise<string | undefined> {
    const operation = writeOperation(route.store, session);
    const write = () => this.#write(route, session, owner, now, token);
    return sealing === undefined ? probe.callStore(operation, write) : sealing.then(() => probe.callStore(operation, write));
  }

  #write(
    { store }: Route<T>,
    session: Session<T>,
    owner: string | undefined,
    now: number,
    token: string | undefined,
  ): string | undefined | Promise<string | undefined> {
    const meta = this.#accounts.metadata.text(session, owner, now);
    // Reports the evictions of this manager's own saves (a store may be shared by several).
    const { evicted } = this.#accounts;
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
        evicted,
      });
    }
    const record = {
      values: session.values,
      expireTime: session.expireTime,
      deadline: session.deadlineTime,
      ...(meta === undefined ? {} : { meta }),
    };
    // A renewed session is never `stored`: it is renewed, not patched.
    const { predecessor } = session;
    if (predecessor !== undefined && isRenewableStore(store)) {
      return store.renewSession(predecessor, session.id, { record, owner, grace: this.#options.renewalGrace, evicted });
    }
    // The owner is undefined without ownerKey; only an owner-indexed store reads it.
    return (store as OwnerIndexedSessionStore<T>).setSession(session.id, record, owner, evicted);
  }

  /**
   * The transport of a request whose first transport found no token: the first that
   * finds one, else the first that accepts the request, else the first that names no
   * rule of its own (the catch-all, a cookie), else the first.
   */
  #choose(request: RequestLike): [route: number, token: string | undefined] {
    const routes = this.#routes;
    for (let index = 1; index < routes.length; index++) {
      const token = routes[index]!.transport.read(request);
      if (token !== undefined) {
        return [index, token];
      }
    }
    const accepting = routes.findIndex(({ transport }) => transport.accepts?.(request) === true);
    if (accepting !== -1) {
      return [accepting, undefined];
    }
    const catchAll = routes.findIndex(({ transport }) => transport.accepts === undefined);
    return [Math.max(catchAll, 0), undefined];
  }

  /** The request's user agent and client address, for the metadata of owned sessions. */
  #client(request: RequestLike): SessionClient {
    const address = this.#options.clientAddress?.(request);
    return {
      userAgent: request.headers.get('user-agent')?.slice(0, MAX_META_TEXT) ?? undefined,
      address: typeof address === 'string' ? address.slice(0, MAX_META_TEXT) : undefined,
    };
  }

}

/** A load that waits (a revocation check, an adoption), its failure reported to telemetry. */
function reported<T extends object>(
  opening: MaybePromise<Session<T>>,
  probe: SessionOperationProbe<SessionLoadOutcome> | undefined,
): MaybePromise<Session<T>> {
  if (probe === undefined || !isThenable(opening)) {
    return opening;
  }
  return opening.catch((error: unknown) => {
    probe.end('error', error);
    throw error;
  });
}

/** How a load ended, for telemetry. */
function loadOutcome<T extends object>(
  token: string | undefined,
  record: LoadedSessionRecord<T> | undefined,
  session: Session<T> | undefined,
  now: number,
): SessionLoadOutcome {
  if (token === undefined) {
    return 'absent';
  }
  if (record === undefined) {
    return 'not_found';
  }
  if (session !== undefined) {
    return record.superseded === true ? 'superseded' : 'loaded';
  }
  return isLive(record, now) ? 'revoked' : 'expired';
}

/** How a save ended, for telemetry: read before the destroyed session starts over. */
function saveOutcome<T extends object>(
  session: Session<T>,
  saved: boolean,
  renewal: 'request' | 'interval' | undefined,
  rewriteOnly: boolean,
): SessionSaveOutcome {
  if (session.status === 'destroyed') {
    return 'destroyed';
  }
  if (saved) {
    return renewal !== undefined ? 'renewed' : rewriteOnly ? 'touched' : 'saved';
  }
  // Nothing written: found renewed or ended at the save (the session is stale since), or nothing to write.
  return session.isStale ? 'lost' : 'unchanged';
}

// The store calls of a load or save with telemetry, as functions for its probe to run and
// time: made here, so that the manager's own methods capture nothing for them (a variable
// a closure captures lives in a context object allocated on every call, closure or not;
// bench/README.md, "Telemetry, counted", has the figures without telemetry).

/** A load's store call. */
function loading<T>(store: SessionStore<T>, token: string): () => MaybePromise<LoadedSessionRecord<T> | undefined> {
  return () => store.getSession(token);
}

/** The deletes of retired ids, timed as one `deleteSession` call. */
function deleting<T>(
  probe: SessionOperationProbe<SessionSaveOutcome>,
  store: SessionStore<T>,
  ids: readonly string[],
): () => Promise<void[]> {
  return () => probe.callStore('deleteSession', () => Promise.all(ids.map((id) => store.deleteSession(id))));
}

/** The store method a save calls, as `#write` chooses it. */
function writeOperation<T extends object>(store: SessionStore<T>, session: Session<T>): SessionStoreOperation {
  if (session.stored && isPatchableStore(store)) {
    return 'patchSession';
  }
  return session.predecessor !== undefined && isRenewableStore(store) ? 'renewSession' : 'setSession';
}
