import { webHeaderTarget, type PendingHeaders } from '../core/headers.js';
import type { SessionHeaderSink } from './lifecycle.js';

/**
 * Where the Fetch and Hono adapters put the session's headers: collected while the
 * handler runs, then added to the `Response` it returns. A `Response`'s own headers may
 * be immutable (`Response.redirect`, a proxied `fetch`) and a `Response` may be shared,
 * so the headers go on a copy; nothing is copied when the session sends no header.
 *
 * @internal
 */
export class ResponseHeaders implements SessionHeaderSink {
  readonly #saved: PendingHeaders[] = [];

  /** The response has not been handed back yet: headers can always be added. */
  headSent(): boolean {
    return false;
  }

  /**
   * Keeps one save's headers for the response.
   *
   * @param headers - The session's headers.
   */
  write(headers: PendingHeaders): void {
    this.#saved.push(headers);
  }

  /**
   * Adds the kept headers to a response, merged with its own.
   *
   * @param response - The response the app built.
   * @returns The same response when the session sent no header, else a copy with them.
   */
  onto(response: Response): Response {
    if (this.#saved.length === 0) {
      return response;
    }
    const copy = new Response(response.body, response);
    const target = webHeaderTarget(copy.headers);
    for (const headers of this.#saved) {
      headers.applyTo(target);
    }
    return copy;
  }
}
