import type { Context } from './Context.js';

/**
 * What kit-session needs of a request: a way to read one header. A Web `Request`
 * fits as it is; for node:http, wrap the `IncomingMessage` with `fromNodeRequest`.
 */
export interface RequestLike {
  readonly headers: {
    /**
     * Reads one header. Names are case-insensitive.
     *
     * @param name - The header's name.
     * @returns The header's value, or `null` when it is absent.
     * @example
     * ```ts
     * const cookie = request.headers.get('cookie'); // string | null
     * ```
     */
    get(name: string): string | null;
  };
  /**
   * Optional: the client's network address, for the manager's `clientAddress` option:
   * `fromNodeRequest` and the node:http adapter give the socket's remote address; the
   * Express, Fastify, Nest and Inversify HTTP adapters give the framework's (`req.ip`,
   * `request.ip`), which follows the app's trust-proxy setting.
   */
  readonly clientAddress?: string | undefined;
  /**
   * Optional: the request's URL (a Web `Request` has it; `fromNodeRequest` builds it from
   * the socket and the Host header). A cookie transport reads its scheme and host only to
   * warn, once, when a Secure cookie goes out over plain http to a host other than
   * localhost (where browsers drop it).
   */
  readonly url?: string | undefined;
}

/**
 * What kit-session needs of a response: a way to add one header. A Web `Headers`
 * fits as it is; for node:http, wrap the `ServerResponse` with `fromNodeResponse`.
 */
export interface HeadersLike {
  /**
   * Adds a header, keeping any earlier one of the same name.
   *
   * @param name - The header's name.
   * @param value - The header's value.
   * @example
   * ```ts
   * const headers: HeadersLike = new Headers(); // a Web `Headers` fits as it is
   * headers.append('Vary', 'Cookie');
   * ```
   */
  append(name: string, value: string): void;
}

/**
 * A step run before the endpoint: reads the request and returns the context the
 * endpoint will see.
 */
export type RequestFunction = (context: Context, request: RequestLike) => Context | Promise<Context>;

/**
 * A step run after the endpoint, before the response headers are sent: writes headers
 * and returns the context.
 */
export type ResponseFunction = (context: Context, headers: HeadersLike) => Context | Promise<Context>;
