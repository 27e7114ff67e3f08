// The session cookie (core): reads the token from a Cookie header and writes the
// Set-Cookie that carries it or expires it, with the attributes the options resolved.
// The manager asks it; it never formats a header itself.
import { parseCookie, stringifySetCookie } from 'cookie';
import { isBase64urlText } from './base64url.js';
import { mergingHeaders, webHeaderTarget } from './headers.js';
import type { HeadersLike } from './http.js';
import type { ResolvedOptions } from './options.js';
import { SessionCookieTooLargeError } from './SessionError.js';

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
 * @internal The session cookie of one manager: its name and attributes, and the size
 * browsers keep.
 */
export class SessionCookie {
  readonly #name: string;
  readonly #options: ResolvedOptions;

  /**
   * @param options - The manager's resolved options.
   */
  constructor(options: ResolvedOptions) {
    this.#name = options.name;
    this.#options = options;
  }

  /**
   * Reads the session's token from a request's Cookie header.
   *
   * @param header - The Cookie header, or `null`.
   * @returns The token, or `undefined` when there is none (or the header does not parse).
   */
  read(header: string | null): string | undefined {
    if (header === null || !header.includes(this.#name)) {
      return undefined;
    }
    try {
      const value = parseCookie(header)[this.#name];
      return value === undefined || value === '' ? undefined : value;
    } catch {
      return undefined;
    }
  }

  /**
   * The Set-Cookie that gives the browser a token until `expireTime`.
   *
   * @param token - The token.
   * @param expireTime - The session's expiry (ms since the epoch).
   * @param now - The current time.
   * @returns The header's value.
   * @throws SessionCookieTooLargeError when a browser would not keep it.
   */
  write(token: string, expireTime: number, now: number): string {
    const cookie = this.#stringify(token, expireTime, now);
    this.#checkSize(cookie.length);
    return cookie;
  }

  /**
   * Throws before a server-side write when the Set-Cookie for a base64url token of this
   * length (which URI-encoding leaves as it is) would be too large.
   *
   * @param tokenLength - The token's length.
   * @param expireTime - The session's expiry.
   * @param now - The current time.
   * @throws SessionCookieTooLargeError when a browser would not keep it.
   */
  checkTokenLength(tokenLength: number, expireTime: number, now: number): void {
    this.#checkSize(this.#stringify('', expireTime, now).length + tokenLength);
  }

  /**
   * The Set-Cookie that expires the cookie.
   *
   * @returns The header's value.
   */
  expire(): string {
    return stringifySetCookie({ name: this.#name, value: '', ...this.#options.attributes, maxAge: 0, expires: EXPIRED });
  }

  /**
   * Adds a Set-Cookie to a response's headers, with the `Vary` and `Cache-Control`
   * that keep a shared cache from serving it to someone else.
   *
   * @param headers - The response's headers.
   * @param cookie - The Set-Cookie's value.
   */
  append(headers: HeadersLike, cookie: string): void {
    const target =
      typeof Headers === 'function' && headers instanceof Headers ? mergingHeaders(webHeaderTarget(headers)) : headers;
    // Lower-case names: node:http and Headers look them up in lower case, and a name
    // that is lower case already costs no conversion.
    target.append('set-cookie', cookie);
    target.append('vary', 'Cookie');
    target.append('cache-control', 'private');
  }

  /** The session's Set-Cookie, as `cookie` writes it (the value URI-encoded, a no-op for base64url). */
  #stringify(token: string, expireTime: number, now: number): string {
    const { persistent, attributes } = this.#options;
    return stringifySetCookie(
      {
        name: this.#name,
        value: token,
        ...(persistent ? { maxAge: Math.max(0, Math.ceil((expireTime - now) / 1000)) } : {}),
        ...attributes,
      },
      TOKEN_ENCODING,
    );
  }

  #checkSize(length: number): void {
    const { maxCookieSize } = this.#options;
    if (length > maxCookieSize) {
      throw new SessionCookieTooLargeError(length, maxCookieSize);
    }
  }
}
