// The session cookie (core/transport): reads the token from a Cookie header and gives the
// Set-Cookie that carries it or expires it, with the attribute rules browsers enforce
// checked when it is built. The manager asks it through SessionTransport; it alone
// knows the token travels in a cookie.
import { parseCookie, stringifySetCookie, type SetCookie } from 'cookie';
import { isBase64urlText } from '../base64url.js';
import type { RequestLike } from '../http.js';
import { booleanOption, checkOptionKeys, positive } from '../options.js';
import { SessionCookieTooLargeError } from '../SessionError.js';
import { insecureOrigin, warnOnce } from './insecureOrigin.js';
import type { SessionTransport, TokenExpiry, TransportHeaders } from './SessionTransport.js';

/** The default cookie name. */
export const DEFAULT_COOKIE_NAME = '__Host-session';
/** The longest Set-Cookie browsers are known to keep. */
export const DEFAULT_MAX_COOKIE_SIZE = 4096;

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
   * documents it: the same as the manager's `lifetime` (which is in milliseconds) times
   * 1000. The cookie's own Max-Age then follows the session's expiry. Give one or the
   * other. A manager option: `CookieTransport` itself refuses it.
   * @default undefined (`lifetime` applies)
   */
  readonly maxAge?: number;
  /**
   * Sets the `Partitioned` attribute (CHIPS), for a session inside a third-party
   * iframe. Needs `secure`.
   * @default false
   */
  readonly partitioned?: boolean;
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
const TRANSPORT_OPTIONS = ['name', 'secure', 'httpOnly', 'sameSite', 'path', 'domain', 'persistent', 'partitioned', 'maxSize'] as const satisfies readonly (keyof CookieTransportOptions)[];

const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
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

    if (typeof name !== 'string' || !COOKIE_NAME.test(name)) {
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
  }

  /**
   * Reads the session's token from a request's Cookie header.
   *
   * @param request - The request.
   * @returns The token, or `undefined` when there is none (or the header does not parse).
   */
  read(request: RequestLike): string | undefined {
    const header = request.headers.get('cookie');
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
   */
  write(token: string, expiry: TokenExpiry, request: RequestLike | undefined): TransportHeaders {
    const cookie = this.#stringify(token, expiry);
    this.#checkSize(cookie.length);
    if (this.#secure && !this.#warned && request !== undefined && insecureOrigin(request)) {
      this.#warned = true;
      warnOnce(this.name);
    }
    return [['set-cookie', cookie], ['vary', 'Cookie'], ['cache-control', 'private']];
  }

  /**
   * The Set-Cookie that expires the cookie.
   *
   * @returns The headers.
   */
  clear(): TransportHeaders {
    return [['set-cookie', this.#expired], ['vary', 'Cookie'], ['cache-control', 'private']];
  }

  /**
   * Throws before a server-side write when the Set-Cookie for a base64url token of this
   * length (which URI-encoding leaves as it is) would be too large.
   *
   * @param length - The token's length.
   * @param expiry - The session's expiry.
   * @throws SessionCookieTooLargeError when a browser would not keep it.
   */
  checkTokenLength(length: number, expiry: TokenExpiry): void {
    this.#checkSize(this.#stringify('', expiry).length + length);
  }

  /** The session's Set-Cookie, as `cookie` writes it (the value URI-encoded, a no-op for base64url). */
  #stringify(token: string, expiry: TokenExpiry): string {
    const persistent = expiry.persistent ?? this.#persistent;
    return stringifySetCookie(
      {
        name: this.name,
        value: token,
        ...(persistent ? { maxAge: Math.max(0, Math.ceil((expiry.expireTime - expiry.now) / 1000)) } : {}),
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
