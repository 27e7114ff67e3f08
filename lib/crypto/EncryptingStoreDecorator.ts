import { systemClock, type Clock } from '../core/Clock.js';
import { isSelfContainedStore, type SelfContainedSessionStore } from '../core/selfContainedStore.js';
import { booleanOption, checkOptionKeys, DEFAULT_COOKIE_NAME } from '../core/options.js';
import { hashId } from '../core/sessionHandle.js';
import {
  isOwnerIndexedStore,
  isOwnerListingStore,
  type EvictionReport,
  isPatchableStore,
  isRenewableStore,
  isSessionStore,
  type LoadedSessionRecord,
  isThenable,
  type MaybePromise,
  type OwnerIndexedSessionStore,
  type OwnerListingSessionStore,
  type OwnerSessionRecord,
  type PatchableSessionStore,
  type RenewableSessionStore,
  type SessionPatch,
  type SessionRecord,
  type SessionRenewal,
  type SessionStore,
  type StoreMembers,
} from '../core/SessionStore.js';
import { decodeBase64url, encodeBase64url } from '../core/base64url.js';
import type { EncryptionKey } from './keys.js';
import { sealedLength } from './sealedFormat.js';
import { type Aead, createSealer, type CryptoPath, type Sealer } from './Sealer.js';
import { loadedOnRead, NOT_OPENED, unreadSealedText, valuesOpenedOnRead } from './valuesOnRead.js';

/**
 * Options of {@link EncryptingStoreDecorator}.
 */
export interface EncryptingStoreOptions {
  /**
   * The keys, from `importKeysFromEnv` (a newest-first list in one variable) or
   * `importRawKey`. The first seals; every one listed opens, so a new key goes first and
   * an old one stays listed until the sessions it sealed expire.
   */
  readonly keys: readonly EncryptionKey[];
  /**
   * The session cookie's name, bound into every seal as additional authenticated data,
   * so a value cut from one cookie does not open as another. Leave it out: the manager
   * the store is given to tells it the name of its (first) transport. Give it only to
   * use the store without a manager; a manager whose first transport has another name
   * then refuses the store. (Further transports' names, a `HeaderTransport`'s say, get
   * views of the store that seal tokens under their own name.)
   * @default the name of the manager's first transport, or '__Host-session' without a manager
   */
  readonly cookieName?: string;
  /**
   * Also encrypt the values handed to the inner store, so that what lies in Redis or
   * PostgreSQL is unreadable without the key. Each value is sealed on its own, bound to
   * the session id and its name, so patches of single values still work; the names of
   * the values stay readable. A value is opened when the request first reads it (on
   * node:crypto; Web Crypto opens them all at the load), so a request pays for the values
   * it reads; a value that does not open (tampered with, or moved from another session or
   * name) reads as absent, and one sealed under a key no longer listed leaves the whole
   * session not found. Around `CookieSessionStore` it changes nothing: its whole
   * record is inside the sealed token already.
   * @default false
   */
  readonly encryptValues?: boolean;
  /**
   * Which AES-GCM implementation to use. Both write the same format.
   * @default 'auto' (node:crypto where it exists, else Web Crypto)
   */
  readonly crypto?: CryptoPath;
  /**
   * Which AEAD seals. `'xchacha20-poly1305'` needs the optional `sodium-native` package
   * and Node, a 256-bit first key, and `crypto: 'auto'`; it costs about half of AES-GCM
   * through node:crypto per seal and open, makes each sealed value 12 bytes longer (16
   * characters of cookie), and lifts AES-GCM's bound of 2^32 seals per key
   * (docs/security.md). Either way, what the other AEAD sealed still opens (XChaCha20-
   * Poly1305 where sodium-native loads) and is sealed again with this one on its next
   * save, as under an older key: switching logs nobody out, in either direction.
   * @default 'aes-gcm'
   */
  readonly aead?: Aead;
}

/** Every key of {@link EncryptingStoreOptions}. */
const ENCRYPTING_OPTIONS = ['keys', 'cookieName', 'encryptValues', 'crypto', 'aead'] as const satisfies readonly (keyof EncryptingStoreOptions)[];

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

// Token plaintext: flags (1 byte) | expireTime (float64, big-endian) | inner token.
// Flag bit 0: the inner token was base64url and is kept as its bytes (a third shorter).
const TOKEN_HEAD = 9;
const FLAG_BASE64URL = 1;

// The expiry goes in and out as a big-endian float64 through one shared 8-byte view:
// a DataView over each token's bytes costs more than copying 8 bytes.
const float64 = new DataView(new ArrayBuffer(8));
const float64Bytes = new Uint8Array(float64.buffer);

/** A token's plaintext with its head written and room for a body of `length` bytes. */
function tokenPlaintext(flags: number, expireTime: number, length: number): Uint8Array {
  // The caller writes the body over every byte after the head.
  const plain = new Uint8Array(TOKEN_HEAD + length);
  plain[0] = flags;
  float64.setFloat64(0, expireTime);
  plain.set(float64Bytes, 1);
  return plain;
}

/** What opening a sealed token gave. */
interface OpenedToken {
  readonly expireTime: number;
  /** The inner store's token; unset when `text` holds a self-contained store's record. */
  readonly innerToken: string | undefined;
  /** A self-contained store's record as text, read without going through base64url. */
  readonly text: string | undefined;
  /** Whether the first key sealed it; else the session is written again under that key. */
  readonly current: boolean;
}

/**
 * Wraps any store and encrypts what it hands out: AES-GCM with a fresh 96-bit IV per
 * seal (or XChaCha20-Poly1305, see {@link EncryptingStoreOptions.aead}), a versioned format with a key id (so keys rotate without logging anyone out),
 * the cookie name as additional authenticated data, and the expiry inside the seal (a
 * client cannot extend its session by editing the cookie). With `encryptValues`, the
 * values given to the inner store are sealed too, each bound to the session's id and
 * its own name. It offers the inner store's optional abilities (patches, owner index)
 * exactly when the inner store has them.
 *
 * Anything that does not open (tampered, truncated, another cookie's, a key no longer
 * listed, expired) is "not found": the manager starts a fresh session.
 *
 * @typeParam T - The shape of the session's values.
 * @example
 * ```ts
 * const keys = await importKeysFromEnv('SESSION_KEY'); // newest first: "<new>,<old>" while rotating
 * const store = new EncryptingStoreDecorator(new CookieSessionStore(), { keys });
 * const redis = new EncryptingStoreDecorator(new RedisSessionStore(client), { keys, encryptValues: true });
 * ```
 */
export class EncryptingStoreDecorator<T = Record<string, unknown>> implements SessionStore<T> {
  #cookieName: string;
  /** Views of this store bound to further transports' names (see useTokenName). */
  readonly #views = new Map<string, EncryptingStoreDecorator<T>>();
  readonly #options: EncryptingStoreOptions;
  /** Whether a manager bound its transport's name (useTokenName): the name cannot change then. */
  #managerBound = false;
  readonly #inner: SessionStore<T>;
  readonly #sealer: Sealer;
  readonly #clock: Clock;
  readonly #encryptValues: boolean;
  /** Whether the sealer opens at once (node:crypto): values then open on first read. */
  readonly #opensAtOnce: boolean;
  #tokenLabel: Uint8Array;
  #valuesLabel: string;
  /** The inner store when it keeps the session in its token (the cookie store). */
  readonly #selfContained: SelfContainedSessionStore<T> | undefined;
  /**
   * `true` around the cookie store on a sealer that answers at once (node:crypto,
   * sodium-native): every load answers without a promise, so the adapters load a
   * request's session on its first touch (see `SessionStore.loadsAtOnce`).
   */
  readonly loadsAtOnce: boolean;

  /**
   * Present when the inner store can apply patches: seals the changed values and the
   * token, as `setSession` does. See `PatchableSessionStore`.
   */
  readonly patchSession?: PatchableSessionStore<T>['patchSession'];
  /**
   * Present when the inner store renews atomically: seals the successor's values and
   * token, as `setSession` does. See `RenewableSessionStore`.
   */
  readonly renewSession?: RenewableSessionStore<T>['renewSession'];
  /**
   * Present when the inner store keeps an owner index: deletes every session of an
   * owner. See `OwnerIndexedSessionStore`.
   */
  readonly deleteOwnerSessions?: OwnerIndexedSessionStore<T>['deleteOwnerSessions'];
  /**
   * Present when the inner store lists sessions: lists an owner's sessions, their
   * metadata opened when `encryptValues` sealed it. See `OwnerListingSessionStore`.
   */
  readonly listOwnerSessions?: OwnerListingSessionStore<T>['listOwnerSessions'];
  /** Present when the inner store lists sessions: ends one by its handle. */
  readonly deleteSessionByHandle?: OwnerListingSessionStore<T>['deleteSessionByHandle'];
  /** Present when the inner store lists sessions: bounds each owner's sessions. */
  readonly limitOwnerSessions?: OwnerListingSessionStore<T>['limitOwnerSessions'];
  /**
   * Present when the inner store writes on a server and tells its token's length: the
   * length of the sealed token a save under an id gives. See `SessionStore.tokenLength`.
   */
  readonly tokenLength?: (id: string) => number;

  /**
   * @param inner - The store to wrap.
   * @param options - Keys and what to encrypt.
   * @param clock - The source of time for the sealed expiry.
   * @throws TypeError when `inner` is not a store, no key is given, a key was not made
   *   by `importRawKey`, an option is unknown, or `encryptValues` is not a boolean; with
   *   `aead: 'xchacha20-poly1305'`, when sodium-native cannot be loaded, the first key is
   *   not 256 bits, or `crypto` is `'webcrypto'`.
   */
  constructor(
    inner: SessionStore<T>,
    options: EncryptingStoreOptions,
    clock?: Clock,
  ) {
    if (!isSessionStore(inner)) {
      throw new TypeError('inner must be a session store, with getSession, setSession and deleteSession methods');
    }
    if (options === null || typeof options !== 'object') {
      throw new TypeError('options with keys are needed');
    }
    checkOptionKeys('EncryptingStoreDecorator options', options, ENCRYPTING_OPTIONS);
    this.#inner = inner;
    this.#options = options;
    this.#sealer = createSealer(options.keys, options.crypto, options.aead);
    this.#clock = clock ?? systemClock;
    this.#cookieName = options.cookieName ?? DEFAULT_COOKIE_NAME;
    this.#tokenLabel = textEncoder.encode(`token\0${this.#cookieName}`);
    this.#valuesLabel = `values\0${this.#cookieName}\0`;
    this.#selfContained = isSelfContainedStore(inner) ? inner : undefined;
    // Around a store that keeps the session in its token (the cookie store), the values
    // are inside the sealed token already: encryptValues asks for nothing more there.
    // (Sealing them apart would bind them to an id such a store does not keep.)
    this.#encryptValues = booleanOption('encryptValues', options.encryptValues, false) && this.#selfContained === undefined;
    // A sealer answers either at once or with a promise, whatever it opens: ask it once.
    const probe = this.#sealer.open('', this.#tokenLabel);
    this.#opensAtOnce = !isThenable(probe);
    // A token opened at once whose record is its own text (the cookie store) is a load
    // that never waits: adapters may then load on first touch (the manager's `load`).
    this.loadsAtOnce = this.#opensAtOnce && this.#selfContained !== undefined;
    if (isThenable(probe)) {
      (probe as Promise<unknown>).catch(() => undefined);
    }
    if (isPatchableStore(inner)) {
      this.patchSession = (id, patch) => this.#patch(inner, id, patch);
    }
    if (isRenewableStore(inner)) {
      this.renewSession = (id, newId, renewal) => this.#renew(inner, id, newId, renewal);
    }
    if (isOwnerIndexedStore(inner)) {
      this.deleteOwnerSessions = (owner, keep) => inner.deleteOwnerSessions(owner, keep);
    }
    if (isOwnerListingStore(inner)) {
      this.listOwnerSessions = (owner) => this.#list(inner, owner);
      this.deleteSessionByHandle = (owner, handle) => inner.deleteSessionByHandle(owner, handle);
      this.limitOwnerSessions = (limit) => inner.limitOwnerSessions(limit);
    }
    const { tokenLength } = inner as StoreMembers<T>;
    if (typeof tokenLength === 'function' && this.#selfContained === undefined) {
      this.tokenLength = (id) => {
        // A server-side store's token is the id; #sealToken seals a base64url one as its bytes.
        const innerLength = tokenLength.call(inner, id);
        const bytes = innerLength === id.length ? decodeBase64url(id)?.length : undefined;
        return sealedLength(TOKEN_HEAD + (bytes ?? textEncoder.encode(id).length), this.#sealer.aead);
      };
    }
  }

  /**
   * The store it wraps (what `kit-session/otel` names in `kit_session.store`).
   *
   * @example
   * ```ts
   * new EncryptingStoreDecorator(new MemorySessionStore(), { keys }).inner; // the MemorySessionStore
   * ```
   */
  get inner(): SessionStore<T> {
    return this.#inner;
  }

  /** The cookie name bound into every seal. */
  get cookieName(): string {
    return this.#cookieName;
  }

  /**
   * Binds a transport's name into the tokens it seals: the manager calls it once per
   * transport when it is built (see `SessionStore.useTokenName`). The first name binds
   * this store itself (its tokens, and with `encryptValues` its values); each further
   * name gets a view of this store that seals and opens tokens under that name and
   * shares the inner store, the keys and the values' binding, so a session reached
   * through either is the same session. A view is built through this store's own class
   * (with the arguments this one was built with, `cookieName` set to the name), so a
   * subclass's overrides run for every transport.
   *
   * @param name - The transport's name.
   * @param first - Whether it is the manager's first transport: with `cookieName` given,
   *   every manager's first transport must have that name.
   * @returns This store, or its view for `name`.
   * @throws TypeError when a first transport's name differs from the `cookieName` given
   *   in the options.
   * @example
   * ```ts
   * const store = new EncryptingStoreDecorator(new CookieSessionStore(), { keys });
   * const manager = new SessionManager(store, { cookie: { name: '__Host-app' } }); // binds '__Host-app'
   * ```
   */
  useTokenName(name: string, first = true): EncryptingStoreDecorator<T> {
    const given = this.#options.cookieName;
    if (first && given !== undefined && name !== given) {
      throw new TypeError("this EncryptingStoreDecorator was given another cookieName than the manager's transport has");
    }
    if (!this.#managerBound) {
      this.#managerBound = true;
      if (name !== this.#cookieName) {
        this.#bind(name, name);
      }
      (this.#inner as StoreMembers<T>).useTokenName?.(name, first);
      return this;
    }
    if (name === this.#cookieName) {
      return this;
    }
    let view = this.#views.get(name);
    if (view === undefined) {
      // Through the app's own class: a subclass that audits or counts sees every transport.
      const Decorator = this.constructor as new (
        inner: SessionStore<T>,
        options: EncryptingStoreOptions,
        clock?: Clock,
      ) => EncryptingStoreDecorator<T>;
      view = new Decorator(this.#inner, { ...this.#options, cookieName: name }, this.#clock);
      view.#managerBound = true;
      view.#bind(name, this.#cookieName);
      this.#views.set(name, view);
    }
    return view;
  }

  /** Seals tokens under `tokenName`, and values under `valuesName`. */
  #bind(tokenName: string, valuesName: string): void {
    this.#cookieName = tokenName;
    this.#tokenLabel = textEncoder.encode(`token\0${tokenName}`);
    this.#valuesLabel = `values\0${valuesName}\0`;
  }

  /**
   * Opens a sealed token and loads the session from the inner store.
   *
   * @param token - The sealed token from the cookie.
   * @returns The record with its values opened, or `undefined` when the token does not
   *   open under any listed key, the inner store does not know it (or holds it as
   *   expired), or, for a store that keeps the session in its token, the expiry sealed
   *   in the token has passed.
   * @throws SessionStoreError when the inner store's infrastructure fails.
   * @example
   * ```ts
   * const record = await store.getSession(cookieValue); // undefined when it does not open
   * ```
   */
  getSession(token: string): MaybePromise<LoadedSessionRecord<T> | undefined> {
    // No cache of opened tokens: under a load of many distinct cookies it hit almost
    // never and cost more than it saved (bench/README.md, "The speed work, A/B'd").
    const opening = this.#openToken(token);
    // Opened at once (node:crypto): a cookie store's session answers at once too, with no
    // promise and no turn of the microtask queue on the busiest path. The callback for a
    // promise is made in a method of its own: a closure here would make every call
    // allocate a context for `this`, promise or not.
    return opening instanceof Promise ? this.#loadLater(opening) : this.#loadOpened(opening);
  }

  /** Loads the session of a token still being opened (Web Crypto). */
  #loadLater(opening: Promise<OpenedToken | undefined>): Promise<LoadedSessionRecord<T> | undefined> {
    return opening.then((opened) => this.#loadOpened(opened));
  }

  /** Loads the session an opened token names: from its own text, or from the inner store. */
  #loadOpened(opened: OpenedToken | undefined): MaybePromise<LoadedSessionRecord<T> | undefined> {
    if (opened === undefined) {
      return undefined;
    }
    // The sealed expiry is what ends a session kept in its cookie. A server-side
    // session's expiry is the store's: another request (another holder of the same id)
    // may have moved it past the one sealed in this copy of the cookie.
    if (opened.text !== undefined) {
      return this.#selfContainedRecord(opened);
    }
    return this.#loadInner(opened);
  }

  /** Loads a server-side session through the inner store, opening its values with `encryptValues`. */
  async #loadInner(opened: OpenedToken): Promise<LoadedSessionRecord<T> | undefined> {
    const answer = this.#inner.getSession(opened.innerToken!);
    const record = isThenable(answer) ? await answer : answer;
    if (record === undefined || !this.#encryptValues) {
      return record === undefined || opened.current ? record : { ...record, rewrite: true };
    }
    // On a sealer that opens at once, values sealed under the current key open on their
    // first read (valuesOnRead.ts); else, and for values under an older key, all at once.
    const values = this.#opensAtOnce
      ? this.#valuesOnRead(record.id, record.values)
      : await this.#openValues(record.id, record.values);
    if (values === undefined) {
      return undefined;
    }
    let meta: string | undefined;
    if (record.meta !== undefined) {
      meta = await this.#openMeta(await hashId(record.id), record.meta);
      if (meta === undefined) {
        return undefined;
      }
    }
    const current =
      opened.current &&
      Object.values(record.values).every((sealed) => this.#sealer.sealsCurrent(sealed as string)) &&
      (record.meta === undefined || this.#sealer.sealsCurrent(record.meta));
    return { ...record, values, meta, ...(current ? {} : { rewrite: true }) };
  }

  /** The record of a self-contained store's opened text, to be written again when an older key sealed it. */
  #selfContainedRecord(opened: OpenedToken): LoadedSessionRecord<T> | undefined {
    // An expired record comes back as it is (its sealed expiry is the one in the text):
    // the manager tells it from a live one and reports it.
    const record = this.#selfContained!.decodeRecord(opened.text!);
    return record === undefined || opened.current ? record : { ...record, rewrite: true };
  }

  /** Opens a sealed token: its expiry, and the inner token or a self-contained store's text. */
  #openToken(token: string): OpenedToken | undefined | Promise<OpenedToken | undefined> {
    const opening = this.#sealer.open(token, this.#tokenLabel);
    return opening instanceof Promise
      ? opening.then((plain) => this.#openedToken(token, plain))
      : this.#openedToken(token, opening);
  }

  /** Reads an opened token's plaintext. */
  #openedToken(token: string, plain: Uint8Array | undefined): OpenedToken | undefined {
    if (plain === undefined || plain.length < TOKEN_HEAD) {
      return undefined;
    }
    const flags = plain[0]!;
    for (let i = 0; i < 8; i++) {
      float64Bytes[i] = plain[1 + i]!;
    }
    const expireTime = float64.getFloat64(0);
    const body = plain.subarray(TOKEN_HEAD);
    const current = this.#sealer.sealsCurrent(token);
    if (flags & FLAG_BASE64URL && this.#selfContained !== undefined) {
      let text: string;
      try {
        text = textDecoder.decode(body);
      } catch {
        return undefined;
      }
      return { expireTime, innerToken: undefined, text, current };
    }
    const innerToken = flags & FLAG_BASE64URL ? encodeBase64url(body) : textDecoder.decode(body);
    return { expireTime, innerToken, text: undefined, current };
  }

  /** A self-contained store's record sealed: its text, which its token would hold base64url-encoded, sealed directly. */
  #sealRecord(id: string, record: SessionRecord<T>): string | Promise<string> {
    return this.#sealText(this.#selfContained!.encodeRecord(record, id), FLAG_BASE64URL, record.expireTime);
  }

  /**
   * Saves through the inner store (sealing the values first with `encryptValues`) and
   * seals the token it returns, with the first key.
   *
   * @param id - The session's id.
   * @param record - The values and expiry.
   * @param owner - The session's owner, passed on to an owner-indexed inner store.
   * @param evicted - Told which sessions the save evicted, passed on likewise.
   * @returns The sealed token.
   * @throws SessionStoreError when the inner store's infrastructure fails.
   * @example
   * ```ts
   * const token = await store.setSession(id, { values: { userId: 'u-42' }, expireTime, deadline }); // the cookie's value
   * ```
   */
  setSession(id: string, record: SessionRecord<T>, owner?: string, evicted?: EvictionReport): MaybePromise<string> {
    // A cookie store's session is sealed at once on node:crypto: no promise.
    return this.#selfContained !== undefined ? this.#sealRecord(id, record) : this.#saveInner(id, record, owner, evicted);
  }

  /** Saves through a server-side inner store, sealing the values with `encryptValues`, then the token. */
  async #saveInner(id: string, record: SessionRecord<T>, owner?: string, evicted?: EvictionReport): Promise<string> {
    const stored = this.#encryptValues
      ? { ...record, values: await this.#sealValues(id, record.values), meta: await this.#sealMeta(id, record.meta) }
      : record;
    const innerToken = await (this.#inner as OwnerIndexedSessionStore<T>).setSession(id, stored, owner, evicted);
    return this.#sealToken(innerToken, record.expireTime);
  }

  /**
   * Deletes through the inner store.
   *
   * @param id - The session's id.
   * @throws SessionStoreError when the inner store's infrastructure fails.
   * @example
   * ```ts
   * await store.deleteSession(record.id); // the id a getSession gave, not the sealed token
   * ```
   */
  deleteSession(id: string): MaybePromise<void> {
    return this.#inner.deleteSession(id);
  }

  async #patch(inner: PatchableSessionStore<T>, id: string, patch: SessionPatch<T>): Promise<string | undefined> {
    const stored = this.#encryptValues
      ? {
          ...patch,
          set: await this.#sealValues(id, patch.set),
          unset: withUnopened(patch),
          meta: await this.#sealMeta(id, patch.meta),
        }
      : patch;
    const innerToken = await inner.patchSession(id, stored);
    if (innerToken === undefined) {
      return undefined;
    }
    // The cookie's token seals this very inner token (the id: the manager loaded the
    // session with it and neither the id nor the expiry moved since) under the current
    // key: give it back rather than seal the same again (one AES-GCM seal less a save).
    const { token } = patch;
    if (token !== undefined && innerToken === id && this.#sealer.sealsCurrent(token)) {
      return token;
    }
    return this.#sealToken(innerToken, patch.expireTime);
  }

  async #renew(
    inner: RenewableSessionStore<T>,
    id: string,
    newId: string,
    renewal: SessionRenewal<T>,
  ): Promise<string | undefined> {
    const { record } = renewal;
    const stored = this.#encryptValues
      ? {
          ...renewal,
          record: { ...record, values: await this.#sealValues(newId, record.values), meta: await this.#sealMeta(newId, record.meta) },
        }
      : renewal;
    const innerToken = await inner.renewSession(id, newId, stored);
    return innerToken === undefined ? undefined : this.#sealToken(innerToken, record.expireTime);
  }

  async #list(inner: OwnerListingSessionStore<T>, owner: string): Promise<OwnerSessionRecord[]> {
    const records = await inner.listOwnerSessions(owner);
    if (!this.#encryptValues) {
      return records;
    }
    // Metadata that does not open (another key, tampered) lists as none.
    return Promise.all(
      records.map(async (record) => ({
        ...record,
        meta: record.meta === undefined ? undefined : await this.#openMeta(record.handle, record.meta),
      })),
    );
  }

  /**
   * The metadata's label binds it to the session's handle, not its id: a listing knows
   * only handles.
   */
  #metaLabel(handle: string): Uint8Array {
    return textEncoder.encode(`${this.#valuesLabel}\0meta\0${handle}`);
  }

  async #sealMeta(id: string, meta: string | undefined): Promise<string | undefined> {
    if (meta === undefined) {
      return undefined;
    }
    return this.#sealer.seal(textEncoder.encode(meta), this.#metaLabel(await hashId(id)));
  }

  async #openMeta(handle: string, sealed: string): Promise<string | undefined> {
    const plain = await this.#sealer.open(sealed, this.#metaLabel(handle));
    if (plain === undefined) {
      return undefined;
    }
    try {
      return textDecoder.decode(plain);
    } catch {
      return undefined;
    }
  }

  async #sealToken(innerToken: string, expireTime: number): Promise<string> {
    const asBytes = decodeBase64url(innerToken);
    const sealing =
      asBytes === undefined
        ? this.#sealText(innerToken, 0, expireTime)
        : this.#sealBody(asBytes, FLAG_BASE64URL, expireTime);
    return typeof sealing === 'string' ? sealing : await sealing;
  }

  #sealBody(body: Uint8Array, flags: number, expireTime: number): string | Promise<string> {
    const plain = tokenPlaintext(flags, expireTime, body.length);
    plain.set(body, TOKEN_HEAD);
    return this.#sealer.seal(plain, this.#tokenLabel);
  }

  /** {@link EncryptingStoreDecorator.#sealBody} of a text's UTF-8, encoded in place. */
  #sealText(text: string, flags: number, expireTime: number): string | Promise<string> {
    // One byte per character covers ASCII (JSON of ASCII values, ids): encoded straight
    // after the head. Anything longer takes a second pass.
    const plain = tokenPlaintext(flags, expireTime, text.length);
    const { read } = textEncoder.encodeInto(text, plain.subarray(TOKEN_HEAD));
    return read === text.length
      ? this.#sealer.seal(plain, this.#tokenLabel)
      : this.#sealBody(textEncoder.encode(text), flags, expireTime);
  }

  #valueLabel(id: string, name: string): Uint8Array {
    return textEncoder.encode(`${this.#valuesLabel}${id}\0${name}`);
  }

  async #sealValues(id: string, values: Partial<T>): Promise<Partial<T>> {
    // A loaded session saved whole under the same id: a value neither read nor set since
    // the load keeps the text it was loaded with (sealed under the current key, bound to
    // this id and name), and is neither opened nor sealed again.
    const keep = loadedOnRead(values, id, this.#valuesLabel);
    const entries: [string, unknown][] = [];
    for (const name of Object.keys(values)) {
      const sealed = keep ? unreadSealedText(values, id, this.#valuesLabel, name) : undefined;
      if (sealed !== undefined && this.#sealer.sealsCurrent(sealed)) {
        entries.push([name, sealed]);
        continue;
      }
      const value = (values as Record<string, unknown>)[name];
      // A value that did not open on its read is gone (it read as undefined): not saved.
      if (value !== undefined) {
        entries.push([name, this.#sealer.seal(textEncoder.encode(JSON.stringify(value)), this.#valueLabel(id, name))]);
      }
    }
    const sealed = await Promise.all(entries.map(([, text]) => text));
    const out: Record<string, unknown> = {};
    for (let i = 0; i < entries.length; i++) {
      Object.defineProperty(out, entries[i]![0], { value: sealed[i], writable: true, enumerable: true, configurable: true });
    }
    return out as Partial<T>;
  }

  /**
   * The loaded values, those sealed under the current key to be opened on first read;
   * any other (an older key's, or not a sealed text) is opened now, and when one of those
   * does not open the session is not found, as with every value opened at the load.
   */
  #valuesOnRead(id: string, stored: Partial<T>): Partial<T> | undefined {
    const names: string[] = [];
    const opened: [string, unknown][] = [];
    for (const name of Object.keys(stored)) {
      const sealed = (stored as Record<string, unknown>)[name];
      if (typeof sealed === 'string' && this.#sealer.sealsCurrent(sealed)) {
        names.push(name);
        continue;
      }
      const value = typeof sealed === 'string' ? this.#openValue(id, name, sealed) : NOT_OPENED;
      if (value === NOT_OPENED) {
        return undefined;
      }
      opened.push([name, value]);
    }
    return valuesOpenedOnRead<T>(id, this.#valuesLabel, stored as Record<string, unknown>, names, opened, (name, sealed) =>
      this.#openValue(id, name, sealed),
    );
  }

  /** Opens one value on a sealer that opens at once: its value, or NOT_OPENED. */
  #openValue(id: string, name: string, sealed: string): unknown {
    const plain = this.#sealer.open(sealed, this.#valueLabel(id, name)) as Uint8Array | undefined;
    if (plain === undefined) {
      return NOT_OPENED;
    }
    try {
      return JSON.parse(textDecoder.decode(plain));
    } catch {
      return NOT_OPENED;
    }
  }

  async #openValues(id: string, values: Partial<T>): Promise<Partial<T> | undefined> {
    const entries = Object.entries(values);
    const opened = await Promise.all(
      entries.map(([name, sealed]) =>
        typeof sealed === 'string' ? this.#sealer.open(sealed, this.#valueLabel(id, name)) : undefined,
      ),
    );
    const out: [string, unknown][] = [];
    for (let i = 0; i < entries.length; i++) {
      const [name, sealed] = entries[i]!;
      const plain = opened[i];
      let value: unknown = NOT_OPENED;
      if (plain !== undefined) {
        try {
          value = JSON.parse(textDecoder.decode(plain));
        } catch {
          // not a value
        }
      }
      if (value !== NOT_OPENED) {
        out.push([name, value]);
      } else if (!(typeof sealed === 'string' && this.#sealer.sealsCurrent(sealed))) {
        // As on first read (#valuesOnRead): a value under the current key that does not
        // open is left out; any other leaves the session not found.
        return undefined;
      }
    }
    return Object.fromEntries(out) as Partial<T>;
  }
}

/**
 * A patch's removed names, with any value it sets to `undefined`: a value that did not
 * open on its read (a rewrite under a new key reads every value) is removed from the store.
 */
function withUnopened<T>(patch: SessionPatch<T>): readonly (keyof T & string)[] {
  const { set, unset } = patch;
  let out: (keyof T & string)[] | undefined;
  for (const name of Object.keys(set) as (keyof T & string)[]) {
    if (set[name] === undefined) {
      (out ??= [...unset]).push(name);
    }
  }
  return out ?? unset;
}
