/**
 * What a store method answers: the value at once, or a promise of it. A store whose
 * backend answers synchronously (SQLite, an in-process map, a cookie sealed on
 * node:crypto) returns the value itself, and the manager takes it without a turn of the
 * microtask queue; any other returns a promise.
 *
 * @typeParam X - What the method gives.
 */
export type MaybePromise<X> = X | Promise<X>;

/**
 * @internal Whether an answer is a promise (or another thenable) rather than the value
 * itself. No record, token, count, list or adopted session has a `then` method.
 *
 * @param answer - A store's (or an adopter's) answer.
 * @returns Whether to await it.
 */
export function isThenable<X>(answer: MaybePromise<X>): answer is Promise<X> {
  return typeof (answer as { then?: unknown } | undefined)?.then === 'function';
}

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
  /**
   * The session's metadata, as opaque text the manager writes (its JSON, or that JSON
   * sealed by `EncryptingStoreDecorator` with `encryptValues`): when it was created and
   * last authenticated, and, for a session with an owner on a store that lists sessions,
   * when it was last seen, its user agent and (opted in) its client address. A store keeps
   * it beside the values, unchanged, and gives it back from `getSession` and
   * `listOwnerSessions`; it never reads it. It never holds the session id.
   * @default undefined (no metadata)
   */
  readonly meta?: string | undefined;
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
  /**
   * Set by a store that read this session with an old key (a key-rotation step): the
   * manager then writes the whole session again at the end of the request, every
   * value included, even when the request changed nothing, so that one request later
   * the session opens with the newest key alone.
   * @default undefined (nothing to rewrite)
   */
  readonly rewrite?: boolean;
  /**
   * Set by a store that loaded an id another request has since renewed
   * ({@link RenewableSessionStore.renewSession}), within the renewal's grace window: the
   * record is the session as it was when it was renewed. The manager serves it read-only:
   * the request's changes are not saved and it sends no cookie, so the browser keeps its
   * successor's.
   * @default undefined (a live session)
   */
  readonly superseded?: boolean;
}

/**
 * Where sessions live: the one interface every store implements. kit-session ships a
 * cookie store, a memory store, and server-side stores for Redis, PostgreSQL,
 * MySQL/MariaDB and SQLite behind their own subpath exports; an app can write its own
 * (docs/stores.md, "Writing a store", walks through one of about 100 lines of code), and one
 * shared test suite checks every store against this contract. Everything else a store
 * may do is an optional ability, each its own small interface below, found by the
 * manager at run time; the types and the shared server-store policy are in
 * `kit-session/store`.
 *
 * Two strings are in play. The **id** is chosen by the manager: at least 256 random
 * bits, base64url. The **token** is what `setSession` returns and what goes into the
 * cookie: a server-side store returns the id unchanged; the cookie store returns the
 * encoded session itself; the encrypting decorator returns a sealed token.
 *
 * The contract (all three methods are required; each may answer its value at once or
 * a promise of it, see {@link MaybePromise}):
 * - `getSession(token)` gives the record saved under the token, or `undefined` when
 *   there is none (unknown, deleted, malformed or tampered with). **Expiry:** a store
 *   may give a record whose `expireTime` or `deadline` has passed, or `undefined` for
 *   it; the manager never serves such a record (it reports it as the `expired` event),
 *   so a store need not check expiry to load, only to write (a patch or renewal never
 *   writes into a session that is not live). It fails only when the infrastructure
 *   fails, with a `SessionStoreError`.
 * - `setSession(id, record)` stores the record under `id`, replacing what was there,
 *   and gives the token for the cookie. The store should forget the record at
 *   `record.expireTime` (or `deadline`, if earlier) on its own (Redis `PX`, a swept
 *   map, a SQL predicate and a cleanup).
 * - `deleteSession(id)` forgets the session. It is idempotent: deleting an unknown id
 *   succeeds. A store that keeps nothing on the server (the cookie store) cannot
 *   revoke a session, and its `deleteSession` does nothing. On a store that renews
 *   ({@link RenewableSessionStore}), deleting a retired id still in its grace deletes
 *   its successor too, so that a log-out racing a renewal wins.
 *
 * Stores never throw for bad input from a client, and never put a token or a value
 * in an error message.
 *
 * | Member | Required | Interface |
 * | --- | --- | --- |
 * | `getSession`, `setSession`, `deleteSession` | yes | `SessionStore` |
 * | `tokenLength` | no | {@link TokenLengthSessionStore} |
 * | `requiresEncryption` | no | {@link PlaintextSessionStore} |
 * | `loadsAtOnce` | no | `SessionStore.loadsAtOnce`: loads never wait, so adapters may load on first touch |
 * | `useTokenName` | no | {@link NameBindingSessionStore} |
 * | `patchSession` | no | {@link PatchableSessionStore} |
 * | `renewSession` | no | {@link RenewableSessionStore} |
 * | `setSession(id, record, owner, evicted)`, `deleteOwnerSessions` | no | {@link OwnerIndexedSessionStore} |
 * | `listOwnerSessions`, `deleteSessionByHandle`, `limitOwnerSessions` | no | {@link OwnerListingSessionStore} |
 *
 * @typeParam T - The shape of the session's values.
 */
export interface SessionStore<T> {
  /**
   * `true` when `getSession` always answers at once, never with a promise (the sealed
   * cookie store on node:crypto). The manager's default `load: 'auto'` then leaves each
   * request's session unloaded until its first touch, which loads it inline. A store that
   * cannot promise it for every call leaves this out: its sessions load before the
   * handler.
   */
  readonly loadsAtOnce?: boolean;

  /**
   * Loads a session by the token from the cookie.
   *
   * @param token - The token a previous `setSession` returned.
   * @returns The record and its id, or `undefined` when not found.
   * @throws SessionStoreError when the store's infrastructure fails.
   * @example
   * ```ts
   * const record = await store.getSession(token);
   * if (record === undefined) {
   *   // unknown, expired, malformed or tampered with: start a fresh session
   * }
   * ```
   */
  getSession(token: string): MaybePromise<LoadedSessionRecord<T> | undefined>;

  /**
   * Saves a session, replacing any earlier record with the same id.
   *
   * @param id - The session's id.
   * @param record - The values and expiry to keep.
   * @returns The token for the cookie.
   * @throws SessionStoreError when the store's infrastructure fails.
   * @example
   * ```ts
   * const now = Date.now();
   * const record = { values: { userId: 'u1' }, expireTime: now + 30 * 60_000, deadline: now + 86_400_000 };
   * const token = await store.setSession(id, record); // goes into the cookie
   * ```
   */
  setSession(id: string, record: SessionRecord<T>): MaybePromise<string>;

  /**
   * Forgets a session. Deleting an unknown id succeeds.
   *
   * @param id - The session's id.
   * @throws SessionStoreError when the store's infrastructure fails.
   * @example
   * ```ts
   * await store.deleteSession(record.id);
   * await store.deleteSession(record.id); // succeeds again: deleting is idempotent
   * ```
   */
  deleteSession(id: string): MaybePromise<void>;
}

/**
 * Optional ability: tell the length of a save's token before anything is written.
 *
 * @typeParam T - The shape of the session's values.
 */
export interface TokenLengthSessionStore<T> extends SessionStore<T> {
  /**
   * The length of the token that a save under `id` will resolve to, known
   * before anything is written. A store that writes on a server gives it, so that the
   * manager refuses a cookie too large for a browser *before* the write and a refused
   * save leaves the store as it was. (A store whose token is the session itself writes
   * nothing on a server and need not give it: the manager checks its token after.)
   *
   * @param id - The session's id.
   * @returns The token's length in characters.
   * @example
   * ```ts
   * const length = store.tokenLength(id); // before the save
   * ```
   */
  tokenLength(id: string): number;
}

/**
 * Tells whether a store tells its tokens' length before a save.
 *
 * @param store - Any store.
 * @returns `true` when it implements {@link TokenLengthSessionStore}.
 * @example
 * ```ts
 * hasTokenLength(new RedisSessionStore(redis)); // true: its token is the id
 * ```
 */
export function hasTokenLength<T>(store: SessionStore<T>): store is TokenLengthSessionStore<T> {
  return typeof (store as Partial<TokenLengthSessionStore<T>>).tokenLength === 'function';
}

/**
 * Optional ability: say that the store keeps sessions where a client can read and
 * forge them, so that a manager refuses it unwrapped.
 *
 * @typeParam T - The shape of the session's values.
 */
export interface PlaintextSessionStore<T> extends SessionStore<T> {
  /**
   * `true` when the store keeps the session where the client can read and
   * forge it (a bare cookie store). A manager refuses such a store: wrap it in
   * `EncryptingStoreDecorator`.
   */
  readonly requiresEncryption: boolean;
}

/**
 * Optional ability: be told the name each of the manager's transports binds (the
 * encrypting decorator seals it into each token).
 *
 * @typeParam T - The shape of the session's values.
 */
export interface NameBindingSessionStore<T> extends SessionStore<T> {
  /**
   * The manager calls it once per transport, when it is built, with the name
   * that transport binds (a cookie transport's is its cookie's name), so that a store
   * that binds the name into what it writes (the encrypting decorator seals it into
   * each token as additional authenticated data) is told the name by the manager. It
   * returns the store that serves that transport's tokens: itself, or a view of itself
   * bound to that name (sharing everything else); nothing means itself.
   *
   * @param name - The transport's name.
   * @param first - Whether it is the manager's first transport (a store given a name of
   *   its own refuses a manager whose first transport has another).
   * @returns The store to use for that transport's tokens, or nothing for this one.
   * @throws TypeError when the store is bound to another name than a first transport's.
   * @example
   * ```ts
   * const store = new EncryptingStoreDecorator(new CookieSessionStore(), { keys });
   * new SessionManager(store, { cookie: { name: '__Host-app' } }); // calls store.useTokenName('__Host-app', true)
   * ```
   */
  useTokenName(name: string, first: boolean): SessionStore<T> | undefined;
}

/**
 * Told which sessions of an owner a save evicted to keep the owner's bound
 * ({@link OwnerListingSessionStore.limitOwnerSessions}), with their handles: the manager
 * that saved reports them. A save passes its own, so that two managers sharing one
 * store each report the evictions of their own saves.
 */
export type EvictionReport = (owner: string, handles: readonly string[]) => void;

/**
 * Tells whether something has the three methods every store must have.
 *
 * @param store - Anything.
 * @returns `true` when it has `getSession`, `setSession` and `deleteSession`.
 * @example
 * ```ts
 * if (!isSessionStore(inner)) throw new TypeError('inner must be a session store');
 * ```
 */
export function isSessionStore(store: unknown): store is SessionStore<unknown> {
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
 * The changes one request made to a session, for {@link PatchableSessionStore}.
 *
 * @typeParam T - The shape of the session's values.
 */
export interface SessionPatch<T> {
  /** The values the request set, with their new values. */
  readonly set: Partial<T>;
  /** The names of the values the request removed. */
  readonly unset: readonly (keyof T & string)[];
  /** The session's new expiry (ms since the epoch). */
  readonly expireTime: number;
  /** The session's absolute end (ms since the epoch). */
  readonly deadline: number;
  /**
   * The session's metadata after the change (see {@link SessionRecord.meta}), or
   * `undefined` to keep what the store holds.
   */
  readonly meta?: string | undefined;
  /**
   * The session's owner after the change, for {@link OwnerIndexedSessionStore}: a
   * string when the request set the owner value, `null` when it removed it (or set it
   * to something that names no owner), absent (`undefined`) when the request left it
   * alone, so that the store keeps whichever owner it holds now (a concurrent request
   * may have set it).
   */
  readonly owner?: string | null | undefined;
  /**
   * The token the session was loaded with, when this save keeps both its id and its
   * expiry; else absent. A store whose token for the save would say the same thing
   * may give it back as it is rather than make a new one (`EncryptingStoreDecorator`
   * then skips sealing the id again); any other store ignores it.
   */
  readonly token?: string | undefined;
  /**
   * Told which sessions this save evicted (see {@link EvictionReport}); when absent, the
   * bound's own `evicted` is.
   */
  readonly evicted?: EvictionReport | undefined;
}

/**
 * Optional ability: apply just the keys a request changed, atomically, on top of what
 * the store holds now. Two concurrent requests of one session that change different
 * keys then both keep their changes; when they change the same key, the later save
 * wins. The manager uses it for every save of a session it loaded (and whose id it
 * did not renew); new sessions still go through `setSession`.
 *
 * The stateless cookie store cannot offer this: each response carries a whole
 * session, and the browser keeps the last one it receives.
 *
 * @typeParam T - The shape of the session's values.
 */
export interface PatchableSessionStore<T> extends SessionStore<T> {
  /**
   * Applies a patch to a stored session.
   *
   * @param id - The session's id.
   * @param patch - What changed.
   * @returns The token for the cookie, or `undefined` when the session is no longer
   *   live (deleted, expired or renewed meanwhile): a patch never brings a session back
   *   and never writes into a retired one.
   * @throws SessionStoreError when the store's infrastructure fails.
   * @example
   * ```ts
   * const token = await store.patchSession(id, { set: { visits: 2 }, unset: ['flash'], expireTime, deadline });
   * if (token === undefined) {
   *   // deleted or expired meanwhile: nothing was written
   * }
   * ```
   */
  patchSession(id: string, patch: SessionPatch<T>): MaybePromise<string | undefined>;
}

/**
 * Tells whether a store can apply patches.
 *
 * @param store - Any store.
 * @returns `true` when it implements {@link PatchableSessionStore}.
 * @example
 * ```ts
 * isPatchableStore(new MemorySessionStore()); // true
 * isPatchableStore(new CookieSessionStore()); // false: each cookie carries a whole session
 * ```
 */
export function isPatchableStore<T>(store: SessionStore<T>): store is PatchableSessionStore<T> {
  return typeof (store as Partial<PatchableSessionStore<T>>).patchSession === 'function';
}

/**
 * What {@link RenewableSessionStore.renewSession} writes: the successor of a renewed
 * session, and how long the retired id is still served.
 *
 * @typeParam T - The shape of the session's values.
 */
export interface SessionRenewal<T> {
  /** The successor's record: its values, expiry, deadline and metadata. */
  readonly record: SessionRecord<T>;
  /**
   * The successor's owner, for a store that keeps an owner index
   * ({@link OwnerIndexedSessionStore}); `undefined` when it has none.
   */
  readonly owner?: string | undefined;
  /**
   * How long, in milliseconds, the retired id is still served, read-only and marked
   * {@link LoadedSessionRecord.superseded}, to a request that was already on its way
   * with it; 0 forgets it at once.
   */
  readonly grace: number;
  /**
   * Told which sessions this save evicted (see {@link EvictionReport}); when absent, the
   * bound's own `evicted` is.
   */
  readonly evicted?: EvictionReport | undefined;
}

/**
 * Optional ability: give a session a new id in one atomic step, so that a renewal never
 * brings back a session ended meanwhile, never counts against its owner's bound, and
 * never logs a browser out through a request that still carries the old id. The memory,
 * Redis and PostgreSQL stores have it. A store without it is renewed by `setSession`
 * under the new id and `deleteSession` of the old one, which offers none of this.
 *
 * @typeParam T - The shape of the session's values.
 */
export interface RenewableSessionStore<T> extends SessionStore<T> {
  /**
   * Renews a session, atomically against every other save and end:
   * - when `id` is not live (unknown, expired, ended, evicted, or renewed already),
   *   writes nothing and resolves to `undefined`;
   * - else writes `renewal.record` under `newId`, filed under `renewal.owner`. When the
   *   old session was filed under that same owner, the successor takes its place in the
   *   owner's bound ({@link OwnerListingSessionStore.limitOwnerSessions}): nothing is
   *   refused or evicted for it. Otherwise the bound applies as to any new session;
   * - and retires `id`: it is never listed or counted against a bound again; ending it
   *   by its handle ends its successor (the same device); an end of its owner's sessions
   *   (`deleteOwnerSessions`) ends it when it was renewed into another owner's session
   *   (else it ends with its successor); a patch or renewal of it writes nothing, and for
   *   `renewal.grace`
   *   milliseconds (never past its own expiry) `getSession` gives its record as it is
   *   stored, with `superseded: true`, as long as its successor (followed through later
   *   renewals) is live; after that, `undefined`.
   *
   * @param id - The session's current id.
   * @param newId - The successor's id.
   * @param renewal - The successor's record, owner, and the grace of the retired id.
   * @returns The successor's token for the cookie, or `undefined` when nothing was
   *   written.
   * @throws SessionLimitError when the owner's bound refuses the successor.
   * @throws SessionStoreError when the store's infrastructure fails.
   * @example
   * ```ts
   * const token = await store.renewSession(oldId, newId, { record, owner: 'user-42', grace: 30_000 });
   * if (token === undefined) {
   *   // ended or renewed elsewhere meanwhile: nothing was written
   * }
   * ```
   */
  renewSession(id: string, newId: string, renewal: SessionRenewal<T>): MaybePromise<string | undefined>;
}

/**
 * Tells whether a store can renew a session atomically.
 *
 * @param store - Any store.
 * @returns `true` when it implements {@link RenewableSessionStore}.
 * @example
 * ```ts
 * isRenewableStore(new MemorySessionStore()); // true
 * ```
 */
export function isRenewableStore<T>(store: SessionStore<T>): store is RenewableSessionStore<T> {
  return typeof (store as Partial<RenewableSessionStore<T>>).renewSession === 'function';
}

/**
 * Optional ability: find every session of one owner (a user), to end them all ("log
 * out everywhere"). The manager passes the owner with each save when its `ownerKey`
 * option names the value that holds it.
 *
 * @typeParam T - The shape of the session's values.
 */
export interface OwnerIndexedSessionStore<T> extends SessionStore<T> {
  /**
   * Saves a session and files it under its owner.
   *
   * @param id - The session's id.
   * @param record - The values and expiry.
   * @param owner - The owner, or `undefined` when the session has none (any earlier
   *   filing of this id is then dropped).
   * @param evicted - Told which sessions this save evicted (see {@link EvictionReport});
   *   when absent, the bound's own `evicted` is.
   * @returns The token for the cookie.
   * @example
   * ```ts
   * const token = await store.setSession(id, record, 'user-42');
   * ```
   */
  setSession(id: string, record: SessionRecord<T>, owner?: string, evicted?: EvictionReport): MaybePromise<string>;
  /**
   * Deletes every session filed under an owner.
   *
   * @param owner - The owner.
   * @param keep - Optional: the handle (the SHA-256 of the id, base64url) of one session to
   *   leave alone ("log out my other devices"), with what it was renewed into meanwhile
   *   (the same device). A store that lists sessions ({@link OwnerListingSessionStore})
   *   must honour it; others may ignore it, and the manager never passes it to them.
   * @returns How many live sessions were ended (sessions that had expired already,
   *   by the store's clock, are deleted too but not counted).
   * @throws SessionStoreError when the store's infrastructure fails.
   * @example
   * ```ts
   * const ended = await store.deleteOwnerSessions('user-42'); // "log out everywhere"
   * ```
   */
  deleteOwnerSessions(owner: string, keep?: string): MaybePromise<number>;
}

/**
 * Tells whether a store can end all sessions of one owner.
 *
 * @param store - Any store.
 * @returns `true` when it implements {@link OwnerIndexedSessionStore}.
 * @example
 * ```ts
 * if (isOwnerIndexedStore(store)) {
 *   await store.deleteOwnerSessions('user-42');
 * }
 * ```
 */
export function isOwnerIndexedStore<T>(store: SessionStore<T>): store is OwnerIndexedSessionStore<T> {
  return typeof (store as Partial<OwnerIndexedSessionStore<T>>).deleteOwnerSessions === 'function';
}

/**
 * One session of an owner, as {@link OwnerListingSessionStore.listOwnerSessions} gives
 * it: never its id.
 */
export interface OwnerSessionRecord {
  /**
   * The session's public handle: the SHA-256 of its id, base64url (what the server-side
   * stores key it by). It names the session in `deleteSessionByHandle` and in session
   * events; it is not the id and does not work as a cookie.
   */
  readonly handle: string;
  /** The metadata as the manager wrote it ({@link SessionRecord.meta}). */
  readonly meta: string | undefined;
  /** When the session ends unless activity extends it (ms since the epoch). */
  readonly expireTime: number;
  /** The session's absolute end (ms since the epoch). */
  readonly deadline: number;
}

/**
 * A bound on the live sessions of one owner, given to a store once by the manager
 * ({@link OwnerListingSessionStore.limitOwnerSessions}).
 */
export interface OwnerSessionLimit {
  /** The most live sessions one owner may have. */
  readonly max: number;
  /**
   * What a save that would exceed it does: `'evict'` ends the owner's sessions written
   * least recently (last seen longest ago) until the new one fits; `'refuse'` writes
   * nothing and rejects with `SessionLimitError`.
   */
  readonly policy: 'evict' | 'refuse';
  /**
   * Called by the store after a save that evicted sessions, with their handles, so the
   * manager can report them.
   */
  readonly evicted?: (owner: string, handles: readonly string[]) => void;
}

/**
 * Optional ability: list the sessions of one owner with their metadata, end one by its
 * handle, end all but one, and bound how many one owner may have. The memory, Redis and
 * PostgreSQL stores have it. Every operation is atomic against concurrent saves: a save
 * racing an end never brings the session back (a patch of an ended session writes
 * nothing).
 *
 * @typeParam T - The shape of the session's values.
 */
export interface OwnerListingSessionStore<T> extends OwnerIndexedSessionStore<T> {
  /**
   * Lists the live sessions filed under an owner.
   *
   * @param owner - The owner.
   * @returns Each live session's handle, metadata and expiry, in no set order.
   * @throws SessionStoreError when the store's infrastructure fails.
   * @example
   * ```ts
   * const sessions = await store.listOwnerSessions('user-42');
   * ```
   */
  listOwnerSessions(owner: string): MaybePromise<OwnerSessionRecord[]>;
  /**
   * Ends one session of an owner, named by its handle. A handle of a session that does
   * not belong to the owner ends nothing. A handle of a session renewed meanwhile (still
   * in its grace window, see {@link RenewableSessionStore}) ends its successor.
   *
   * @param owner - The owner.
   * @param handle - The session's handle, from `listOwnerSessions`.
   * @returns `true` when a live session was ended.
   * @throws SessionStoreError when the store's infrastructure fails.
   * @example
   * ```ts
   * await store.deleteSessionByHandle('user-42', handle); // "end this one"
   * ```
   */
  deleteSessionByHandle(owner: string, handle: string): MaybePromise<boolean>;
  /**
   * Sets the bound on each owner's live sessions; the manager calls it once, when built
   * with `maxSessionsPerOwner`. From then on, a save that files a session under an owner
   * that has `max` other live sessions evicts or refuses, as the policy says, atomically
   * with the save (a session that already belonged to the owner never counts against it).
   *
   * @param limit - The bound, its policy and the eviction callback.
   * @throws TypeError when the store is already bound differently.
   * @example
   * ```ts
   * store.limitOwnerSessions({ max: 5, policy: 'evict' });
   * ```
   */
  limitOwnerSessions(limit: OwnerSessionLimit): void;
}

/**
 * Tells whether a store can list an owner's sessions and end one by its handle.
 *
 * @param store - Any store.
 * @returns `true` when it implements {@link OwnerListingSessionStore}.
 * @example
 * ```ts
 * if (isOwnerListingStore(store)) {
 *   const sessions = await store.listOwnerSessions('user-42');
 * }
 * ```
 */
export function isOwnerListingStore<T>(store: SessionStore<T>): store is OwnerListingSessionStore<T> {
  return typeof (store as Partial<OwnerListingSessionStore<T>>).listOwnerSessions === 'function';
}

/**
 * Keeps one number per owner, the owner's generation, for revocable sealed cookies: a
 * cookie sealed at log-in carries the generation of its owner then, and opens as a fresh
 * session once the owner's generation has moved past it. `SessionManager`'s
 * `destroyOwnerSessions` bumps it. kit-session ships `MemoryOwnerGenerations`, and
 * `RedisOwnerGenerations` and `PostgresOwnerGenerations` behind their subpaths;
 * `CachedOwnerGenerations` keeps recent answers for a bounded time.
 */
export interface OwnerGenerations {
  /**
   * Reads an owner's current generation.
   *
   * @param owner - The owner.
   * @returns The generation: 0 for an owner never bumped.
   * @throws SessionStoreError when its infrastructure fails; SessionGenerationsLostError
   *   when it finds it lost generations it held (never answer 0 for them).
   * @example
   * ```ts
   * const generation = await generations.current('user-42');
   * ```
   */
  current(owner: string): Promise<number>;
  /**
   * Moves an owner's generation forward by one, atomically: every cookie sealed before
   * is revoked.
   *
   * @param owner - The owner.
   * @returns The new generation.
   * @throws SessionStoreError when its infrastructure fails.
   * @example
   * ```ts
   * await generations.bump('user-42'); // log out everywhere, sealed cookies included
   * ```
   */
  bump(owner: string): Promise<number>;
}

/**
 * A store seen with its optional members that are not methods of an ability guard:
 * what the manager and the decorator read off any store.
 *
 * @internal
 * @typeParam T - The shape of the session's values.
 */
export type StoreMembers<T> = SessionStore<T> &
  Partial<Pick<TokenLengthSessionStore<T>, 'tokenLength'>> &
  Partial<Pick<PlaintextSessionStore<T>, 'requiresEncryption'>> &
  Partial<Pick<NameBindingSessionStore<T>, 'useTokenName'>>;

/**
 * Whether a session is live at `now`: both its expiry and its absolute deadline are
 * later. The manager serves only a live record; a store never writes into one that is
 * not (a patch or renewal writes nothing), though its `getSession` may give it back.
 *
 * @param record - The session's expiry and deadline (ms since the epoch).
 * @param now - The clock's time.
 * @returns `true` when it is live.
 * @example
 * ```ts
 * if (row === undefined || !isLive(row, clock.now())) return undefined;
 * ```
 */
export function isLive(record: { readonly expireTime: number; readonly deadline: number }, now: number): boolean {
  return record.expireTime > now && record.deadline > now;
}
