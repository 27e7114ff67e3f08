// The session cookie (core/transport): reads the token from a Cookie header and gives the
// Set-Cookie that carries it or expires it, with the attribute rules browsers enforce
// checked when it is built. The manager asks it through SessionTransport; it alone
// knows the token travels in a cookie.
import { parseCookie, stringifySetCookie, type SetCookie } from 'cookie';
import { isBase64urlText } from '../base64url.js';
import type { RequestLike } from '../http.js';
import { booleanOption, checkOptionKeys, positive } from '../options.js';
import { SessionCookieTooLargeError } from '../SessionError.js';
import {
  beginsAsSet,
  chunkIndex,
  chunkName,
  cutPoints,
  digits,
  firstHead,
  firstHeadLength,
  joinChunks,
  MAX_UNIT,
  newSetId,
  REST_HEAD_LENGTH,
} from './cookieChunks.js';
import { insecureOrigin, warnOnce } from './insecureOrigin.js';
import { HTTP_TOKEN, maxAgeSeconds, type SessionTransport, type TokenExpiry, type TransportHeaders } from './SessionTransport.js';

/** The default cookie name. */
export const DEFAULT_COOKIE_NAME = '__Host-session';
/** The longest Set-Cookie browsers are known to keep. */
export const DEFAULT_MAX_COOKIE_SIZE = 4096;
/**
 * With chunking, the most bytes a session's cookies take in a request's Cookie header:
 * 12 KB, under Node's 16 KB for all of a request's headers.
 */
export const DEFAULT_MAX_TOTAL_COOKIE_SIZE = 12_288;
/** The largest `maxTotalSize` accepted: 64 KB, some 16 cookies of 4 KB. */
const MAX_TOTAL_SIZE_LIMIT = 65_536;
/** The least room a chunk must have for its part, past its name, head and attributes. */
const MIN_CHUNK_ROOM = 64;

/**
 * How the session cookie is named and scoped: the `cookie` option of a manager, and
 * what {@link CookieTransport} is built with.
 */
export interface SessionCookieOptions {
  /**
   * The cookie's name; also the name the session is known by in the context.
   * The `__Host-` prefix makes browsers refuse the cookie unless it is Secure, has no
   * Domain and has Path=/, so no subdomain can plant or overwrite it; `__Host-Http-`
   * also makes them refuse it unless it is HttpOnly, and `__Http-` asks Secure and
   * HttpOnly alone. The rules of a prefix are checked when the cookie is built.
   * @default '__Host-session'
   */
  readonly name?: string;
  /**
   * Sent only over HTTPS. Browsers treat `http://localhost` as secure, so the default
   * works in development too; on plain http under another host name the browser drops
   * the cookie, and the first such response logs one warning that names the fix.
   * @default true
   */
  readonly secure?: boolean;
  /**
   * Hidden from `document.cookie`, so a cross-site script cannot read it.
   * @default true
   */
  readonly httpOnly?: boolean;
  /**
   * Whether the browser sends the cookie on cross-site requests.
   * `'none'` needs `secure`.
   * @default 'lax'
   */
  readonly sameSite?: 'lax' | 'strict' | 'none';
  /**
   * The cookie's Path. Must be `/` with a `__Host-` name.
   * @default '/'
   */
  readonly path?: string;
  /**
   * The cookie's Domain. Not allowed with a `__Host-` name.
   * @default undefined (this host only)
   */
  readonly domain?: string;
  /**
   * The default for sessions that made no choice of their own
   * (`Session.setPersistent`, "remember me" at log-in): a persistent cookie carries
   * Max-Age up to the session's expiry and survives a browser restart; `false` makes a
   * browser-session cookie that ends when the browser closes (the server-side expiry
   * still applies).
   * @default true
   */
  readonly persistent?: boolean;
  /**
   * The session's absolute lifetime in **seconds**, as `@revas-hq/kit-session`
   * documents it: the manager's `lifetime` (milliseconds, or a string with its unit such
   * as `'7d'`) said in seconds. The one duration of kit-session counted in seconds, so it
   * is bounded to what a cookie can mean: from 60 (a minute) to 34_560_000 (400 days,
   * the longest a browser keeps a cookie), and a number of milliseconds given here is a
   * `TypeError`. The cookie's own Max-Age then follows the session's expiry. Give this
   * or `lifetime`, not both. A manager option: `CookieTransport` itself refuses it.
   * @default undefined (`lifetime` applies)
   */
  readonly maxAge?: number;
  /**
   * Sets the `Partitioned` attribute (CHIPS), for a session inside a third-party
   * iframe. Needs `secure`.
   * @default false
   */
  readonly partitioned?: boolean;
  /**
   * Writes a session too large for one cookie over several: `name`, `name.1`, `name.2`,
   * … (the encrypted cookie store's sessions past about 3 KB of values). The cookies of
   * one write carry a random set id of their own and the token's length, and are read
   * back only whole and of one write: cookies of two responses (two tabs) never join,
   * and a set missing a cookie opens as a fresh session. A save expires the cookies of
   * an earlier, larger set that the request carried, and a log-out every cookie a set
   * can have. A session that fits in one cookie is written exactly as without
   * chunking, so turning it on logs no one out; turning it off logs out the sessions
   * written over several cookies. Each cookie keeps to `maxCookieSize`, all of them
   * together to `maxTotalSize`.
   * @default false
   */
  readonly chunking?: boolean;
  /**
   * With `chunking`: the most bytes all the session's cookies may take in a request's
   * Cookie header (`name=value; ` summed over the set); a larger session throws
   * `SessionCookieTooLargeError`. Every hop must accept a Cookie header this long: Node
   * refuses more than 16 KB of request headers in all (`--max-http-header-size`), and
   * nginx a header line longer than 8 KB (`large_client_header_buffers 4 8k`) with a
   * 400; behind nginx's default, give at most about 7500 or raise that buffer. At least
   * `maxCookieSize`, at most 65536.
   * @default 12288
   */
  readonly maxTotalSize?: number;
}

/**
 * What {@link CookieTransport} is built with: the cookie's name and attributes, and the
 * size browsers keep.
 */
export interface CookieTransportOptions extends Omit<SessionCookieOptions, 'maxAge'> {
  /**
   * The longest `Set-Cookie` header written, in bytes. Browsers drop longer cookies
   * without a word; the transport throws `SessionCookieTooLargeError` instead.
   * @default 4096
   */
  readonly maxSize?: number;
}

/** Every key of {@link CookieTransportOptions}. */
const TRANSPORT_OPTIONS = ['name', 'secure', 'httpOnly', 'sameSite', 'path', 'domain', 'persistent', 'partitioned', 'chunking', 'maxTotalSize', 'maxSize'] as const satisfies readonly (keyof CookieTransportOptions)[];

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

/** What keeps a shared cache from serving a response that sets someone's cookie: the same pairs every time. */
const VARY = Object.freeze(['vary', 'Cookie'] as const);
const PRIVATE = Object.freeze(['cache-control', 'private'] as const);

/** What a transport with `chunking` knows beyond its cookie: its budget and its set's names. */
interface Chunking {
  /** The most bytes of the whole set in a Cookie header. */
  readonly maxTotalSize: number;
  /** The most cookies a set may have within the budget. */
  readonly maxCount: number;
  /** A log-out's Set-Cookies: `name` and every `name.k` a set can have, expired. */
  readonly clearAll: readonly string[];
  /**
   * The most cookies a set written for a request had, when more than one: a second save
   * in the same response (`commit()`, then the adapter's) expires what the first wrote
   * and the second does not use, though the request never carried it.
   */
  readonly written: WeakMap<RequestLike, number>;
}

/**
 * The session's token in a cookie: the manager's default transport, built from its
 * `cookie` options when no `transport` is given. Build one yourself to serve browsers
 * by cookie beside another transport.
 *
 * @example
 * ```ts
 * const manager = new SessionManager(store, {
 *   transport: [new CookieTransport({ name: '__Host-app', sameSite: 'strict' }), new HeaderTransport()],
 * });
 * ```
 */
export class CookieTransport implements SessionTransport {
  /** The cookie's name, bound into every sealed token. */
  readonly name: string;
  readonly #attributes: Omit<SetCookie, 'name' | 'value' | 'maxAge' | 'expires'>;
  readonly #persistent: boolean;
  readonly #maxSize: number;
  /** The Set-Cookie that expires the cookie: the same every time. */
  readonly #expired: string;
  readonly #secure: boolean;
  /** Set with `chunking`; the single-cookie paths never look further. */
  readonly #chunking: Chunking | undefined;
  #warned = false;

  /**
   * @param options - The cookie's name, attributes and size limit.
   * @throws TypeError when an option is unknown or invalid, or breaks a rule browsers
   *   enforce (a `__Host-` name with a Domain, `sameSite: 'none'` without `secure`, …).
   */
  constructor(options: CookieTransportOptions = {}) {
    checkOptionKeys('cookie options', options, TRANSPORT_OPTIONS);
    const name = options.name ?? DEFAULT_COOKIE_NAME;
    // Read before any rule uses them: a string 'false' is truthy.
    const secure = booleanOption('cookie.secure', options.secure, true);
    const httpOnly = booleanOption('cookie.httpOnly', options.httpOnly, true);
    const partitioned = booleanOption('cookie.partitioned', options.partitioned, false);
    this.#persistent = booleanOption('cookie.persistent', options.persistent, true);
    const path = options.path ?? '/';
    const sameSite = options.sameSite ?? 'lax';
    const { domain } = options;

    if (typeof name !== 'string' || !HTTP_TOKEN.test(name)) {
      throw new TypeError('cookie.name must be a non-empty cookie token (letters, digits and !#$%&\'*+-.^_`|~)');
    }
    checkPrefix(name, { secure, httpOnly, domain, path });
    if (!['lax', 'strict', 'none'].includes(sameSite)) {
      throw new TypeError('cookie.sameSite must be "lax", "strict" or "none"');
    }
    if (sameSite === 'none' && !secure) {
      throw new TypeError('cookie.sameSite "none" needs secure: true');
    }
    if (partitioned && !secure) {
      throw new TypeError('cookie.partitioned needs secure: true');
    }
    const attributes = {
      path,
      ...(domain === undefined ? {} : { domain }),
      httpOnly,
      secure,
      sameSite,
      ...(partitioned ? { partitioned: true } : {}),
    };
    let expired: string;
    try {
      // The cookie library checks path and domain characters; let it do so now.
      expired = stringifySetCookie({ name, value: '', ...attributes, maxAge: 0, expires: EXPIRED });
    } catch (error) {
      throw new TypeError('cookie.path or cookie.domain holds characters a cookie cannot carry', { cause: error });
    }
    this.name = name;
    this.#attributes = attributes;
    this.#secure = secure;
    this.#expired = expired;
    this.#maxSize = positive('maxCookieSize', options.maxSize, DEFAULT_MAX_COOKIE_SIZE, 'bytes');
    const chunking = booleanOption('cookie.chunking', options.chunking, false);
    const maxTotalSize = positive('cookie.maxTotalSize', options.maxTotalSize, DEFAULT_MAX_TOTAL_COOKIE_SIZE, 'bytes', MAX_TOTAL_SIZE_LIMIT);
    if (options.maxTotalSize !== undefined && !chunking) {
      throw new TypeError('cookie.maxTotalSize needs cookie.chunking: true');
    }
    this.#chunking = chunking ? this.#chunkingOf(maxTotalSize, attributes) : undefined;
  }

  /**
   * The budget of a set, and the most cookies one can have within it: the count of the
   * cheapest set that could still be written, every cookie but the last full (less a
   * character cut short) under the longest attributes a cookie can get (a Max-Age of 21
   * digits), the last one a character. No write within the budget has more.
   */
  #chunkingOf(maxTotalSize: number, attributes: Omit<SetCookie, 'name' | 'value' | 'maxAge' | 'expires'>): Chunking {
    if (maxTotalSize < this.#maxSize) {
      throw new TypeError('cookie.maxTotalSize must be at least maxCookieSize: the budget of a set holds one whole cookie');
    }
    const longest = stringifySetCookie({ name: this.name, value: '', maxAge: 1e20, ...attributes }).length - this.name.length - 1;
    // The count and the token's length have at most as many digits as the budget.
    const numberDigits = digits(maxTotalSize);
    const room = (index: number): number =>
      this.#maxSize - (chunkName(this.name, index).length + 1 + longest) - (index === 0 ? firstHeadLength(numberDigits, 10 ** (numberDigits - 1)) : REST_HEAD_LENGTH);
    if (Math.min(room(0), room(10 ** (numberDigits - 1))) < MIN_CHUNK_ROOM) {
      throw new TypeError('cookie.maxCookieSize leaves chunks too little room with this name and these attributes');
    }
    // Bytes of `name.k=setId~` and `; ` in the Cookie header, beside the part.
    const frame = (index: number): number => chunkName(this.name, index).length + 1 + REST_HEAD_LENGTH + 2;
    let count = 1;
    let full = 0;
    while (full + frame(count - 1) + room(count - 1) - (MAX_UNIT - 1) + frame(count) + 1 <= maxTotalSize) {
      full += frame(count - 1) + room(count - 1) - (MAX_UNIT - 1);
      count++;
    }
    const expiredAttributes = this.#expired.slice(this.name.length);
    const clearAll = Array.from({ length: count }, (_, index) => chunkName(this.name, index) + expiredAttributes);
    return { maxTotalSize, maxCount: count, clearAll, written: new WeakMap() };
  }

  /**
   * Reads the session's token from a request's Cookie header.
   *
   * @param request - The request.
   * @returns The token, or `undefined` when there is none (or the header does not parse).
   * @example
   * ```ts
   * const token = new CookieTransport().read(new Request('https://app.test/', { headers: { cookie: '__Host-session=abc' } })); // 'abc'
   * ```
   */
  read(request: RequestLike): string | undefined {
    const header = request.headers.get('cookie');
    if (header === null || !header.includes(this.name)) {
      return undefined;
    }
    if (this.#chunking !== undefined) {
      return this.#readChunks(header, this.#chunking);
    }
    try {
      const value = parseCookie(header)[this.name];
      return value === undefined || value === '' ? undefined : value;
    } catch {
      return undefined;
    }
  }

  /**
   * The Set-Cookie that gives the browser a token until its expiry, with the `Vary` and
   * `Cache-Control` that keep a shared cache from serving it to someone else.
   *
   * @param token - The token.
   * @param expiry - The session's expiry, and whether the cookie outlives the browser.
   * @param request - The request being answered: a Secure cookie on plain http under a
   *   host name other than localhost gets one warning.
   * @returns The headers.
   * @throws SessionCookieTooLargeError when a browser would not keep it.
   * @example
   * ```ts
   * const now = Date.now();
   * const headers = new CookieTransport().write(token, { expireTime: now + 3_600_000, now, persistent: undefined }, request);
   * // [['set-cookie', '__Host-session=…; Max-Age=3600; Path=/; HttpOnly; Secure; SameSite=Lax'], ['vary', 'Cookie'], …]
   * ```
   */
  write(token: string, expiry: TokenExpiry, request: RequestLike | undefined): TransportHeaders {
    if (this.#chunking !== undefined) {
      return this.#writeChunks(token, expiry, request, this.#chunking);
    }
    const cookie = this.#stringify(token, expiry);
    this.#checkSize(cookie.length);
    this.#warnIfInsecure(request);
    return [['set-cookie', cookie], VARY, PRIVATE];
  }

  /**
   * The Set-Cookie that expires the cookie; with chunking, also every cookie a set can
   * have (a set another response wrote, which this request did not carry, included).
   *
   * @param request - The request being answered: with chunking, a cookie of a set
   *   larger than today's budget that it carries is expired too.
   * @returns The headers.
   * @example
   * ```ts
   * const headers = new CookieTransport().clear(request); // [['set-cookie', '__Host-session=; Max-Age=0; …'], …]
   * ```
   */
  clear(request?: RequestLike): TransportHeaders {
    if (this.#chunking !== undefined) {
      const { clearAll, maxCount } = this.#chunking;
      return withCacheHeaders([...clearAll, ...this.#carried(request, maxCount).map((index) => this.#expiredChunk(index))]);
    }
    return [['set-cookie', this.#expired], VARY, PRIVATE];
  }

  /**
   * Throws before a server-side write when the Set-Cookie for a base64url token of this
   * length (which URI-encoding leaves as it is) would be too large.
   *
   * @param length - The token's length.
   * @param expiry - The session's expiry.
   * @throws SessionCookieTooLargeError when a browser would not keep it.
   * @example
   * ```ts
   * new CookieTransport().checkTokenLength(5000, { expireTime: Date.now() + 60_000, now: Date.now(), persistent: true }); // throws
   * ```
   */
  checkTokenLength(length: number, expiry: TokenExpiry): void {
    const empty = this.#stringify('', expiry);
    if (this.#chunking === undefined || empty.length + length <= this.#maxSize) {
      this.#checkSize(empty.length + length);
      return;
    }
    // A base64url token never begins as a set does: past one cookie, it is cut by length.
    this.#cut(length, length, empty.slice(this.name.length + 1), this.#chunking);
  }

  /** With chunking: the token of a plain cookie, or of a whole set, or `undefined`. */
  #readChunks(header: string, chunking: Chunking): string | undefined {
    let cookies: Record<string, string | undefined>;
    try {
      cookies = parseCookie(header);
    } catch {
      return undefined;
    }
    const first = cookies[this.name];
    if (first === undefined || first === '') {
      return undefined;
    }
    return beginsAsSet(first) ? joinChunks(cookies, this.name, first, chunking.maxCount) : first;
  }

  /**
   * With chunking: one cookie when the token fits (as without chunking), else a set;
   * and the expiry of every cookie of an earlier set the new one does not use.
   */
  #writeChunks(token: string, expiry: TokenExpiry, request: RequestLike | undefined, chunking: Chunking): TransportHeaders {
    let cookies: string[] | undefined;
    if (!beginsAsSet(token)) {
      const cookie = this.#stringify(token, expiry);
      if (cookie.length <= this.#maxSize) {
        cookies = [cookie];
      }
    }
    cookies ??= this.#chunkCookies(token, expiry, chunking);
    const count = cookies.length;
    const stale = this.#carried(request, count);
    if (request !== undefined) {
      const written = chunking.written.get(request) ?? 0;
      for (let index = Math.max(count, 1); index < written; index++) {
        if (!stale.includes(index)) {
          stale.push(index);
        }
      }
      if (count > written && count > 1) {
        chunking.written.set(request, count);
      }
    }
    this.#warnIfInsecure(request);
    return withCacheHeaders([...cookies, ...stale.map((index) => this.#expiredChunk(index))]);
  }

  /** The Set-Cookies of a set: the token cut into parts, each cookie within `maxSize`. */
  #chunkCookies(token: string, expiry: TokenExpiry, chunking: Chunking): string[] {
    const value = encodeToken(token);
    const attributes = this.#stringify('', expiry).slice(this.name.length + 1);
    const ends = this.#cut(value, token.length, attributes, chunking);
    const setId = newSetId();
    const cookies: string[] = [];
    let start = 0;
    for (let index = 0; index < ends.length; index++) {
      const head = index === 0 ? firstHead(ends.length, token.length, setId) : `${setId}~`;
      cookies.push(`${chunkName(this.name, index)}=${head}${value.slice(start, ends[index])}${attributes}`);
      start = ends[index]!;
    }
    return cookies;
  }

  /**
   * Where a set's parts end, each cookie within `maxSize`.
   *
   * @param value - The encoded token, or its length (base64url).
   * @param length - The token's length.
   * @param attributes - What follows `name=value` in each Set-Cookie.
   * @throws SessionCookieTooLargeError when the set would pass the budget (its size is
   *   the set's bytes in a Cookie header, its limit the budget).
   */
  #cut(value: string | number, length: number, attributes: string, chunking: Chunking): number[] {
    const fixed = this.name.length + 1 + attributes.length;
    const ends = cutPoints(
      value,
      (index, countDigits) =>
        this.#maxSize - fixed - (index === 0 ? firstHeadLength(countDigits, length) : 1 + digits(index) + REST_HEAD_LENGTH),
    );
    const encoded = typeof value === 'number' ? value : value.length;
    if (ends === undefined) {
      // No room for a character past the attributes: a Max-Age longer than 21 digits.
      throw new SessionCookieTooLargeError(fixed + encoded, this.#maxSize);
    }
    const count = ends.length;
    let size = firstHeadLength(digits(count), length) - REST_HEAD_LENGTH + encoded;
    for (let index = 0; index < count; index++) {
      size += chunkName(this.name, index).length + 1 + REST_HEAD_LENGTH + 2;
    }
    if (size > chunking.maxTotalSize || count > chunking.maxCount) {
      throw new SessionCookieTooLargeError(size, chunking.maxTotalSize);
    }
    return ends;
  }

  /** The indexes (from `from` on) of the set's cookies a request carries. */
  #carried(request: RequestLike | undefined, from: number): number[] {
    const header = request?.headers.get('cookie');
    const indexes: number[] = [];
    if (header === undefined || header === null || !header.includes(`${this.name}.`)) {
      return indexes;
    }
    let cookies: Record<string, string | undefined>;
    try {
      cookies = parseCookie(header);
    } catch {
      return indexes;
    }
    for (const name in cookies) {
      const index = chunkIndex(name, this.name);
      if (index !== undefined && index >= from) {
        indexes.push(index);
      }
    }
    return indexes;
  }

  /** The Set-Cookie that expires `name.index`, with the cookie's attributes. */
  #expiredChunk(index: number): string {
    return chunkName(this.name, index) + this.#expired.slice(this.name.length);
  }

  #warnIfInsecure(request: RequestLike | undefined): void {
    if (!this.#secure || this.#warned || request === undefined) {
      return;
    }
    // A request that carries the cookie shows the browser keeps it: nothing to check
    // (a browser that drops it never sends it, so its every request is checked).
    const header = request.headers.get('cookie');
    if (header !== null && carriesCookie(header, this.name)) {
      return;
    }
    if (insecureOrigin(request)) {
      this.#warned = true;
      warnOnce(this.name);
    }
  }

  /** The session's Set-Cookie, as `cookie` writes it (the value URI-encoded, a no-op for base64url). */
  #stringify(token: string, expiry: TokenExpiry): string {
    const persistent = expiry.persistent ?? this.#persistent;
    return stringifySetCookie(
      {
        name: this.name,
        value: token,
        ...(persistent ? { maxAge: maxAgeSeconds(expiry) } : {}),
        ...this.#attributes,
      },
      TOKEN_ENCODING,
    );
  }

  #checkSize(length: number): void {
    if (length > this.#maxSize) {
      throw new SessionCookieTooLargeError(length, this.#maxSize);
    }
  }
}

/** Set-Cookie values with the `Vary` and `Cache-Control` every cookie response carries. */
function withCacheHeaders(cookies: readonly string[]): TransportHeaders {
  return [...cookies.map((cookie) => ['set-cookie', cookie] as const), VARY, PRIVATE];
}

/**
 * Whether a Cookie header holds a cookie of exactly this name (not one whose name or
 * value merely contains it), without parsing the whole header: `name=` at the start or
 * after a `;` and optional whitespace.
 */
function carriesCookie(header: string, name: string): boolean {
  let at = header.indexOf(name);
  while (at !== -1) {
    if (header.charCodeAt(at + name.length) === 0x3d /* = */) {
      let before = at - 1;
      while (before >= 0 && (header.charCodeAt(before) === 0x20 || header.charCodeAt(before) === 0x09)) {
        before--;
      }
      if (before < 0 || header.charCodeAt(before) === 0x3b /* ; */) {
        return true;
      }
    }
    at = header.indexOf(name, at + 1);
  }
  return false;
}

/**
 * Checks the rules a cookie name's prefix makes browsers enforce (RFC 6265bis, and the
 * `__Http-` / `__Host-Http-` prefixes that add HttpOnly). Browsers match the prefixes
 * case-insensitively: so does this check.
 */
function checkPrefix(
  name: string,
  { secure, httpOnly, domain, path }: { secure: boolean; httpOnly: boolean; domain: string | undefined; path: string },
): void {
  const lower = name.toLowerCase();
  const host = lower.startsWith('__host-');
  const http = lower.startsWith('__http-') || lower.startsWith('__host-http-');
  const needsSecure = host || http || lower.startsWith('__secure-');
  const prefix = name.slice(0, name.indexOf('-', 2) + 1);
  if (host && (!secure || domain !== undefined || path !== '/')) {
    throw new TypeError(`a ${prefix} cookie needs secure: true, no domain and path "/"`);
  }
  if (needsSecure && !secure) {
    throw new TypeError(`a ${prefix} cookie needs secure: true`);
  }
  if (http && !httpOnly) {
    throw new TypeError(`a ${lower.startsWith('__host-') ? '__Host-Http-' : '__Http-'} cookie needs httpOnly: true`);
  }
}
