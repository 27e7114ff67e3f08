import { decodeBase64url, encodeBase64url } from '../core/base64url.js';
import type { Clock } from '../core/Clock.js';
import { booleanOption, checkOptionKeys } from '../core/options.js';
import type { LoadedSessionRecord, SessionRecord, SessionStore } from '../core/SessionStore.js';

/**
 * Options of {@link CookieSessionStore}.
 */
export interface CookieSessionStoreOptions {
  /**
   * Let a `SessionManager` use this store without encryption. The client can then read
   * and forge every value: only for values that are neither secret nor trusted.
   * @default false
   */
  readonly allowPlaintext?: boolean;
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Keeps the whole session inside the cookie: no server needed, nothing to clean up.
 * The token is the record itself as base64url JSON, expiry included, so it is only
 * safe wrapped in `EncryptingStoreDecorator`, which seals it; a `SessionManager`
 * refuses a bare one unless `allowPlaintext` is set.
 *
 * What it cannot do: revoke a session before it expires (`deleteSession` does
 * nothing; a copied cookie stays valid until its expiry), or hold more than about
 * 3 KB of values (browsers drop cookies over 4 KB; the manager throws
 * `SessionCookieTooLargeError` instead). Records have no server-side id: `getSession`
 * gives `id: ''`.
 *
 * @typeParam T - The shape of the session's values.
 * @example
 * ```ts
 * const store = new EncryptingStoreDecorator(new CookieSessionStore(), { keys });
 * const manager = new SessionManager(store);
 * ```
 */
// It also has the (internal) self-contained ability of core/selfContainedStore.ts:
// encodeRecord and decodeRecord.
export class CookieSessionStore<T = Record<string, unknown>> implements SessionStore<T> {
  /** Whether a manager may use this store without encryption. */
  readonly allowPlaintext: boolean;
  /** `true` unless built with `allowPlaintext`: a manager then refuses this store alone. */
  readonly requiresEncryption: boolean;

  /**
   * @param options - See {@link CookieSessionStoreOptions}.
   * @param _clock - Unused, kept for callers that pass one: the store gives an expired
   *   record back as it is, and the manager tells it from a live one.
   * @throws TypeError when an option is unknown, or `allowPlaintext` is not a boolean.
   */
  constructor(
    options?: CookieSessionStoreOptions,
    _clock?: Clock,
  ) {
    checkOptionKeys('CookieSessionStore options', options, ['allowPlaintext']);
    // A string 'false' must not build a plaintext store: only `true` allows it.
    this.allowPlaintext = booleanOption('allowPlaintext', options?.allowPlaintext, false);
    this.requiresEncryption = !this.allowPlaintext;
  }

  /**
   * Decodes a session from its token.
   *
   * @param token - The token from the cookie.
   * @returns The record, or `undefined` when the token is malformed or expired.
   * @example
   * ```ts
   * const store = new CookieSessionStore({ allowPlaintext: true });
   * const token = await store.setSession('', { values: { theme: 'dark' }, expireTime, deadline });
   * const record = await store.getSession(token); // { id: '', values: { theme: 'dark' }, expireTime, deadline }
   * ```
   */
  async getSession(token: string): Promise<LoadedSessionRecord<T> | undefined> {
    const bytes = decodeBase64url(token);
    if (bytes === undefined) {
      return undefined;
    }
    let json: string;
    try {
      json = textDecoder.decode(bytes);
    } catch {
      return undefined;
    }
    return this.decodeRecord(json);
  }

  /**
   * Reads a record from the JSON its token encodes.
   *
   * @param json - What {@link CookieSessionStore.encodeRecord} wrote.
   * @returns The record (fresh objects on every call), or `undefined` when the JSON is
   *   malformed or expired.
   * @example
   * ```ts
   * const json = store.encodeRecord({ values: { theme: 'dark' }, expireTime, deadline });
   * const record = store.decodeRecord(json); // undefined once expireTime or deadline has passed
   * ```
   * @internal
   */
  decodeRecord(json: string): LoadedSessionRecord<T> | undefined {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      return undefined;
    }
    if (!isPlainObject(parsed) || !isPlainObject(parsed.v)) {
      return undefined;
    }
    const { e: expireTime, d: deadline, i: id, m: meta } = parsed;
    if (typeof expireTime !== 'number' || typeof deadline !== 'number' || Number.isNaN(expireTime) || Number.isNaN(deadline)) {
      return undefined;
    }
    // An expired record comes back as it is: the manager tells it from a live one and
    // reports it (the `expired` session event).
    return {
      id: typeof id === 'string' ? id : '',
      values: parsed.v as Partial<T>,
      expireTime,
      deadline,
      ...(typeof meta === 'string' ? { meta } : {}),
    };
  }

  /**
   * Encodes a session into a token.
   *
   * @param _id - Ignored: the cookie is the session.
   * @param record - The values and expiry.
   * @returns The record as base64url JSON.
   * @example
   * ```ts
   * // Readable by anyone who holds the cookie: a manager wants it sealed by EncryptingStoreDecorator.
   * const token = await store.setSession('', { values: { theme: 'dark' }, expireTime, deadline });
   * ```
   */
  async setSession(id: string, record: SessionRecord<T>): Promise<string> {
    return encodeBase64url(textEncoder.encode(this.encodeRecord(record, id)));
  }

  /**
   * Writes a record as the JSON its token encodes (as UTF-8, then base64url).
   *
   * @param record - The values and expiry.
   * @returns The JSON.
   * @example
   * ```ts
   * store.encodeRecord({ values: { theme: 'dark' }, expireTime, deadline }); // '{"v":{"theme":"dark"},"e":…,"d":…}'
   * ```
   * @internal
   */
  encodeRecord(record: SessionRecord<T>, id?: string): string {
    const { meta } = record;
    // A session with metadata (an authenticated one) keeps its id too, so that its
    // events (renewed, destroyed, revoked) name it by the same handle each time.
    return meta === undefined
      ? JSON.stringify({ v: record.values, e: record.expireTime, d: record.deadline })
      : JSON.stringify({ v: record.values, e: record.expireTime, d: record.deadline, m: meta, ...(id ? { i: id } : {}) });
  }

  /**
   * Does nothing: a cookie cannot be revoked from the server. The manager expires the
   * cookie in the browser, but a copy of it stays valid until its expiry.
   *
   * @param _id - Ignored: nothing is kept on the server.
   * @example
   * ```ts
   * await store.deleteSession(''); // resolves; the cookie stays valid until it expires
   * ```
   */
  async deleteSession(_id: string): Promise<void> {}
}
