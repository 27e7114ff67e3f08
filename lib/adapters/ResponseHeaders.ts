import { webHeaderTarget, type PendingHeaders } from '../core/headers.js';
import type { SessionHeaderSink } from './lifecycle.js';

/**
 * Where the Fetch and Hono adapters put the session's headers: collected while the
 * handler runs, then added to the `Response` it returns. The Fetch adapter adds them to
 * a copy ({@link ResponseHeaders.onto}): a `Response`'s own headers may be immutable
 * (`Response.redirect`, a proxied `fetch`) and a `Response` may be shared. Hono's
 * `c.res` belongs to its request, so the Hono adapter adds them to its own headers
 * ({@link ResponseHeaders.into}), copying only when those are immutable. Nothing is
 * copied when the session sends no header.
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

  /**
   * Adds the kept headers to a response's own headers, merged with them; when those are
   * immutable, to a copy, as {@link ResponseHeaders.onto} does. Copying costs more than
   * the whole session layer on `@hono/node-server`: reading `response.body` turns its
   * light response into a stream that is then piped out.
   *
   * @param response - A response made for this request alone.
   * @returns The same response, or a copy with the headers when its own are immutable.
   */
  into(response: Response): Response {
    if (this.#saved.length === 0) {
      return response;
    }
    const target = webHeaderTarget(response.headers);
    try {
      for (const headers of this.#saved) {
        headers.applyTo(target);
      }
    } catch (error) {
      // An immutable Headers refuses its first change, so nothing was written; and the
      // merge replaces what it wrote, so a second write could not repeat a header.
      if (error instanceof TypeError) {
        return this.onto(response);
      }
      throw error;
    }
    return response;
  }
}
