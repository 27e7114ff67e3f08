// The session's token in a header (core/transport), for clients that keep no cookies:
// native and desktop apps, command-line tools. The request carries it (`Authorization:
// Bearer …` or a header of the app's choosing); a response that issues, renews or ends
// it says so in a response header, with `Cache-Control: no-store`. No Set-Cookie and no
// `Vary: Cookie`.
import type { RequestLike } from '../http.js';
import { checkOptionKeys, positive } from '../options.js';
import { SessionTokenTooLargeError } from '../SessionError.js';
import { HTTP_TOKEN, maxAgeSeconds, type SessionTransport, type TokenExpiry, type TransportHeaders } from './SessionTransport.js';

/** The longest token a header carries by default: well inside servers' and proxies' header limits. */
export const DEFAULT_MAX_HEADER_TOKEN_SIZE = 8192;

/**
 * What {@link HeaderTransport} is built with.
 */
export interface HeaderTransportOptions {
  /**
   * The request header that carries the token. `'authorization'` reads the Bearer
   * scheme (`Authorization: Bearer <token>`, RFC 6750); any other name reads the
   * header's whole value.
   * @default 'authorization'
   */
  readonly header?: string;
  /**
   * The response header that gives the client a new or renewed token, beside
   * `<responseHeader>-max-age` (seconds until it ends, counted from the response). An
   * ended session (log-out) is said plainly: the token header empty and the max-age `0`.
   * A response without it leaves the client's token as it is. Not `Set-Cookie`,
   * `Cookie`, `Vary` or `Cache-Control`.
   * @default 'session-token'
   */
  readonly responseHeader?: string;
  /**
   * Which requests that carry no token belong to this transport (so a session they
   * start is given to the client in the response header): a native client's log-in.
   * @default the requests that carry the request header, even empty; for `Authorization`,
   *   the Bearer scheme, even without a token (`Authorization: Bearer`)
   */
  readonly accepts?: (request: RequestLike) => boolean;
  /**
   * The longest token written or read, in characters.
   * @default 8192
   */
  readonly maxSize?: number;
}

const OPTIONS = ['header', 'responseHeader', 'accepts', 'maxSize'] as const satisfies readonly (keyof HeaderTransportOptions)[];
/** `Bearer <token>`: the scheme case-insensitive, one token of visible characters. */
const BEARER = /^bearer(?:[ \t]+([\x21-\x7e]+))?[ \t]*$/i;
/** A token as another header's whole value: visible characters only. */
const VALUE = /^[\x21-\x7e]+$/;
/** The Bearer scheme alone, as a client without a token yet sends it (`Authorization: Bearer`). */
const BEARER_SCHEME = /^bearer(?:[ \t]|$)/i;
/** Response headers a session header must not take: the cookie's, and those the manager merges by rules of their own. */
const RESERVED = new Set(['set-cookie', 'cookie', 'vary', 'cache-control']);
/**
 * What a response that carries a token (or ends one) says to caches: store nothing. A
 * private cache (a native client's HTTP cache) that kept the response would hand its
 * token back later, after a renewal has retired it (RFC 6749 5.1 asks the same of
 * token responses).
 */
const NO_STORE = ['cache-control', 'no-store'] as const;

/**
 * The session's token in a request header, and the new token in a response header:
 * for clients that keep no cookies. A browser never sends the header on its own, and
 * another site's page cannot make it without a CORS preflight the app allows, so a
 * request carrying it cannot be forged cross-site (no CSRF); the client must keep the
 * token safe itself. Its name (`header:<request header>`) is bound into every token an
 * `EncryptingStoreDecorator` seals, so a header token never opens as a cookie, nor a
 * cookie as a header token.
 *
 * @example
 * ```ts
 * const manager = new SessionManager(store, {
 *   transport: [new CookieTransport(), new HeaderTransport()], // browsers by cookie, apps by header
 * });
 * // a native client: `Authorization: Bearer <token>`; a new token comes back in `Session-Token`
 * ```
 */
export class HeaderTransport implements SessionTransport {
  /** `header:` and the request header's name, bound into every sealed token. */
  readonly name: string;
  readonly #header: string;
  readonly #bearer: boolean;
  readonly #responseHeader: string;
  readonly #maxAgeHeader: string;
  readonly #accepts: ((request: RequestLike) => boolean) | undefined;
  readonly #maxSize: number;

  /**
   * @param options - The request and response headers, and the size limit.
   * @throws TypeError when an option is unknown or invalid.
   */
  constructor(options: HeaderTransportOptions = {}) {
    checkOptionKeys('HeaderTransport options', options, OPTIONS);
    const header = options.header ?? 'authorization';
    const responseHeader = options.responseHeader ?? 'session-token';
    for (const [key, value] of [['header', header], ['responseHeader', responseHeader]] as const) {
      if (typeof value !== 'string' || !HTTP_TOKEN.test(value)) {
        throw new TypeError(`${key} must be a header name`);
      }
    }
    const lower = header.toLowerCase();
    if (lower === 'cookie' || lower === 'set-cookie') {
      throw new TypeError('header must not be Cookie: give the cookie to a CookieTransport');
    }
    if (RESERVED.has(responseHeader.toLowerCase())) {
      throw new TypeError('responseHeader must not be Set-Cookie, Cookie, Vary or Cache-Control');
    }
    if (options.accepts !== undefined && typeof options.accepts !== 'function') {
      throw new TypeError('accepts must be a function');
    }
    this.#header = lower;
    this.#bearer = lower === 'authorization';
    this.#responseHeader = responseHeader.toLowerCase();
    this.#maxAgeHeader = `${this.#responseHeader}-max-age`;
    this.#accepts = options.accepts;
    this.#maxSize = positive('maxSize', options.maxSize, DEFAULT_MAX_HEADER_TOKEN_SIZE, 'bytes');
    this.name = `header:${lower}`;
  }

  /**
   * Reads the token from the request header.
   *
   * @param request - The request.
   * @returns The token, or `undefined` when the header is absent, empty, of another
   *   scheme, malformed or too long.
   * @example
   * ```ts
   * const transport = new HeaderTransport();
   * transport.read(new Request('https://api.test/', { headers: { authorization: 'Bearer abc' } })); // 'abc'
   * ```
   */
  read(request: RequestLike): string | undefined {
    const value = request.headers.get(this.#header);
    if (value === null || value.length > this.#maxSize + 16) {
      return undefined;
    }
    let token: string | undefined;
    if (this.#bearer) {
      token = BEARER.exec(value.trim())?.[1];
    } else {
      const trimmed = value.trim();
      token = VALUE.test(trimmed) ? trimmed : undefined;
    }
    return token === undefined || token.length > this.#maxSize ? undefined : token;
  }

  /**
   * Whether a request without a token is this transport's: the app's rule, else
   * whether it carries the request header at all.
   *
   * @param request - The request.
   * @returns `true` when its new session travels in a header.
   * @example
   * ```ts
   * // a native client's log-in, before it has a token
   * new HeaderTransport().accepts(new Request('https://api.test/login', { headers: { authorization: 'Bearer' } })); // true
   * ```
   */
  accepts(request: RequestLike): boolean {
    if (this.#accepts !== undefined) {
      return this.#accepts(request) === true;
    }
    const value = request.headers.get(this.#header);
    return value !== null && (!this.#bearer || BEARER_SCHEME.test(value.trim()));
  }

  /**
   * The response headers that give the client its token, with the seconds until it ends
   * (always: a header token has no browser session to end with, so `persistent` does not
   * apply) and `Cache-Control: no-store`.
   *
   * @param token - The token.
   * @param expiry - When it ends.
   * @returns The headers.
   * @throws SessionTokenTooLargeError when the token is longer than `maxSize`.
   * @example
   * ```ts
   * const now = Date.now();
   * new HeaderTransport().write(token, { expireTime: now + 3_600_000, now, persistent: undefined });
   * // [['session-token', token], ['session-token-max-age', '3600'], ['cache-control', 'no-store']]
   * ```
   */
  write(token: string, expiry: TokenExpiry): TransportHeaders {
    this.checkTokenLength(token.length);
    const maxAge = maxAgeSeconds(expiry);
    return [
      [this.#responseHeader, token],
      [this.#maxAgeHeader, String(maxAge)],
      NO_STORE,
    ];
  }

  /**
   * The response headers that tell the client its session ended: an empty token, max-age
   * 0, and `Cache-Control: no-store`.
   *
   * @returns The headers.
   * @example
   * ```ts
   * new HeaderTransport().clear(); // [['session-token', ''], ['session-token-max-age', '0'], ['cache-control', 'no-store']]
   * ```
   */
  clear(): TransportHeaders {
    return [
      [this.#responseHeader, ''],
      [this.#maxAgeHeader, '0'],
      NO_STORE,
    ];
  }

  /**
   * Throws when a token of this length is longer than `maxSize`.
   *
   * @param length - The token's length.
   * @throws SessionTokenTooLargeError when it is.
   * @example
   * ```ts
   * new HeaderTransport({ maxSize: 4096 }).checkTokenLength(5000); // throws SessionTokenTooLargeError
   * ```
   */
  checkTokenLength(length: number): void {
    if (length > this.#maxSize) {
      throw new SessionTokenTooLargeError(length, this.#maxSize);
    }
  }
}
