// How a session's token travels between client and server (core/transport): the
// contract the manager asks to read a token from a request, write it with its expiry,
// clear it, and check its size. The cookie (CookieTransport.ts) is the first carrier, a
// request/response header (HeaderTransport.ts) the second; the manager never formats a
// header itself and nothing outside a transport knows what carries the token.
import type { RequestLike } from '../http.js';

/**
 * Response headers a transport asks the manager to add, as `[name, value]` pairs (names
 * in lower case). The manager appends them as they are, merged with the app's headers
 * by the rules of `PendingHeaders` (one `Set-Cookie` per cookie name, `Vary` and
 * `Cache-Control` extended, never duplicated).
 */
export type TransportHeaders = readonly (readonly [name: string, value: string])[];

/**
 * When a token that is being written ends, and whether it should outlive the client's
 * own session (a persistent cookie).
 */
export interface TokenExpiry {
  /** When the session ends unless activity extends it (ms since the epoch). */
  readonly expireTime: number;
  /** The current time (ms since the epoch). */
  readonly now: number;
  /**
   * The session's own choice, made at log-in (`Session.setPersistent`): `true` keeps the
   * token past a browser restart, `false` lets it end with the browser; `undefined`
   * leaves it to the transport's default (`cookie.persistent`).
   */
  readonly persistent: boolean | undefined;
}

/**
 * The carrier of a session's token: a cookie ({@link CookieTransport}), a header
 * ({@link HeaderTransport}), or one of the app's own. The manager asks it, and only it,
 * to read a token from a request, to write one into a response, and to clear one.
 *
 * @example
 * ```ts
 * const manager = new SessionManager(store, {
 *   transport: [new CookieTransport({ name: '__Host-app' }), new HeaderTransport()],
 * });
 * ```
 */
export interface SessionTransport {
  /**
   * The name a token is bound to: an encrypting store seals it into every token as
   * additional authenticated data, so a token made for one transport never opens on
   * another (a header token is no cookie, and the other way round). A cookie
   * transport's is its cookie's name.
   */
  readonly name: string;

  /**
   * Reads the token a request carries.
   *
   * @param request - The request.
   * @returns The token, or `undefined` when the request carries none this transport can
   *   read (absent, malformed, incomplete).
   * @example
   * ```ts
   * const token = transport.read(new Request('https://app.test/', { headers: { cookie: '__Host-session=abc' } }));
   * ```
   */
  read(request: RequestLike): string | undefined;

  /**
   * Optional: whether a request that carries no token belongs to this transport, so a
   * session it starts is sent back through it (a header transport takes the requests
   * that carry its header). A transport without it takes every such request that no
   * transport with it took.
   *
   * @param request - The request.
   * @returns `true` when a new session of this request should travel through this transport.
   * @example
   * ```ts
   * const accepts = (request: RequestLike) => request.headers.get('x-client') === 'native';
   * ```
   */
  accepts?(request: RequestLike): boolean;

  /**
   * The response headers that give the client a token.
   *
   * @param token - The token.
   * @param expiry - When it ends, and whether it outlives the client's session.
   * @param request - The request being answered, when the manager has it (a transport
   *   may read what it carried, to clear what is stale).
   * @returns The headers to add.
   * @throws SessionTokenTooLargeError (a `SessionCookieTooLargeError` for a cookie) when
   *   the client would not keep a token this large; nothing has been added.
   * @example
   * ```ts
   * const now = Date.now();
   * for (const [name, value] of transport.write(token, { expireTime: now + 3_600_000, now, persistent: undefined }, request)) {
   *   headers.append(name, value);
   * }
   * ```
   */
  write(token: string, expiry: TokenExpiry, request: RequestLike | undefined): TransportHeaders;

  /**
   * The response headers that tell the client its token is void (log-out).
   *
   * @param request - The request being answered, when the manager has it.
   * @returns The headers to add.
   * @example
   * ```ts
   * for (const [name, value] of transport.clear(request)) headers.append(name, value);
   * ```
   */
  clear(request: RequestLike | undefined): TransportHeaders;

  /**
   * Throws before a server-side save when a token of this length could not be written:
   * a session is never stored under a token the client cannot receive.
   *
   * @param length - The token's length, in characters (base64url).
   * @param expiry - When it would end.
   * @throws SessionTokenTooLargeError when it would be too large.
   * @example
   * ```ts
   * transport.checkTokenLength(44, { expireTime: Date.now() + 3_600_000, now: Date.now(), persistent: true });
   * ```
   */
  checkTokenLength(length: number, expiry: TokenExpiry): void;
}

/**
 * An HTTP token (RFC 9110): what a cookie's name and a header's name are made of.
 *
 * @internal
 */
export const HTTP_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Whole seconds until a token ends, never below 0: a cookie's Max-Age, a header's max-age.
 *
 * @internal
 * @param expiry - When the token ends.
 * @returns The seconds.
 */
export function maxAgeSeconds(expiry: TokenExpiry): number {
  return Math.max(0, Math.ceil((expiry.expireTime - expiry.now) / 1000));
}
