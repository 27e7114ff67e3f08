import type { Context } from './Context.js';

/**
 * What kit-session needs of a request: a way to read one header. A Web `Request`
 * fits as it is; for node:http, wrap the `IncomingMessage` with `fromNodeRequest`.
 */
export interface RequestLike {
  readonly headers: {
    /** Returns the header's value, or `null` when it is absent. Names are case-insensitive. */
    get(name: string): string | null;
  };
}

/**
 * What kit-session needs of a response: a way to add one header. A Web `Headers`
 * fits as it is; for node:http, wrap the `ServerResponse` with `fromNodeResponse`.
 */
export interface HeadersLike {
  /** Adds a header, keeping any earlier one of the same name. */
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
