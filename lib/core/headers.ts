import { parseSetCookie } from 'cookie';
import type { HeadersLike } from './http.js';
import type { TransportHeaders } from './transport/SessionTransport.js';

/**
 * Read and replace access to the response headers of one framework. Names are given in
 * lower case. `set` replaces every value of the header.
 *
 * @internal
 */
export interface HeaderTarget {
  /** The header's current value(s), or `undefined` when it is absent. */
  get(name: string): string | readonly string[] | undefined;
  /** Replaces the header's value(s). */
  set(name: string, value: string | readonly string[]): void;
}

/**
 * Merges one session header into a response's current values, by the rules of
 * {@link PendingHeaders}.
 *
 * @internal
 * @param name - The header's name, in lower case.
 * @param current - The response's current values of that header.
 * @param value - The session's value.
 * @returns The header's new value(s).
 */
export function mergeHeader(name: string, current: readonly string[], value: string): string | readonly string[] {
  if (current.length === 0) {
    return value;
  }
  switch (name) {
    case 'set-cookie': {
      const own = cookieName(value);
      return [...current.filter((cookie) => cookieName(cookie) !== own), value];
    }
    case 'vary': {
      const list = tokens(current);
      const present = list.some((token) => token === '*' || token.toLowerCase() === value.toLowerCase());
      return (present ? list : [...list, value]).join(', ');
    }
    case 'cache-control': {
      const list = tokens(current).filter((directive) => directiveName(directive) !== 'public');
      // `private` is enough where `no-store` is; `no-store` (a header token's) only where it is.
      const enough = directiveName(value) === 'no-store' ? ['no-store'] : ['private', 'no-store'];
      const present = list.some((directive) => enough.includes(directiveName(directive)));
      return (present ? list : [...list, value]).join(', ');
    }
    default:
      // A transport's own header (a HeaderTransport's token): a later save's value
      // replaces an earlier one, as a later Set-Cookie of the same name does.
      return value;
  }
}

/**
 * Writes headers into a response as they come, merged with what it holds by the rules
 * of {@link PendingHeaders}: what `fromNodeResponse` and a Web `Headers` given to
 * `SessionManager.injectSession` go through.
 *
 * @internal
 * @param target - The response's headers.
 * @returns Headers whose `append` merges.
 */
export function mergingHeaders(target: HeaderTarget): HeadersLike {
  return {
    append(name: string, value: string): void {
      mergeInto(target, name.toLowerCase(), value);
    },
  };
}

/**
 * Collects the headers `SessionManager.injectSession` writes, so that an adapter can
 * save the session first and touch the real response only once the save succeeded
 * (a `SessionCookieTooLargeError` or a store failure then leaves the response as the
 * app built it), and so that it can merge them with the app's own headers:
 *
 * - `Set-Cookie`: added beside the app's cookies; an earlier `Set-Cookie` of the same
 *   cookie name (from an earlier save in this response) is replaced, so the response
 *   carries one value per cookie.
 * - `Vary`: `Cookie` is added to the app's list unless it is there already (or `*`).
 * - `Cache-Control`: `private` (a cookie's) is added unless `private` or `no-store` is
 *   there already, `no-store` (a header token's) unless `no-store` is, and a `public`
 *   directive is dropped: a shared cache must never store a response that carries
 *   someone's session cookie, and no cache one that carries a header token.
 * - anything else (a `HeaderTransport`'s token and max-age): replaces the current
 *   value, so the response carries the last save's.
 *
 * @internal
 */
export class PendingHeaders implements HeadersLike {
  readonly #entries: [name: string, value: string][] = [];

  /**
   * Records a header to write later.
   *
   * @param name - The header's name.
   * @param value - The header's value.
   */
  append(name: string, value: string): void {
    this.#entries.push([name.toLowerCase(), value]);
  }

  /** Whether nothing was recorded: the session needs no header in this response. */
  get isEmpty(): boolean {
    return this.#entries.length === 0;
  }

  /**
   * Writes the recorded headers into a response, merged with what it holds.
   *
   * @param target - The response's headers.
   */
  applyTo(target: HeaderTarget): void {
    for (const [name, value] of this.#entries) {
      mergeInto(target, name, value);
    }
  }
}

/** Merges one header, named in lower case, into what the target holds. */
function mergeInto(target: HeaderTarget, name: string, value: string): void {
  target.set(name, mergeHeader(name, listOf(target.get(name)), value));
}

function listOf(current: string | readonly string[] | undefined): readonly string[] {
  if (current === undefined) {
    return [];
  }
  return typeof current === 'string' ? [current] : current;
}

function cookieName(setCookie: string): string {
  return parseSetCookie(setCookie).name;
}

function tokens(values: readonly string[]): string[] {
  return values
    .flatMap((value) => value.split(','))
    .map((token) => token.trim())
    .filter((token) => token !== '');
}

function directiveName(directive: string): string {
  const end = directive.indexOf('=');
  return (end === -1 ? directive : directive.slice(0, end)).trim().toLowerCase();
}

/**
 * A {@link HeaderTarget} over a Web `Headers` object (which must be mutable).
 *
 * @internal
 * @param headers - The headers to write into.
 * @returns The target.
 */
export function webHeaderTarget(headers: Headers): HeaderTarget {
  return {
    get(name) {
      if (name === 'set-cookie') {
        const cookies = headers.getSetCookie();
        return cookies.length === 0 ? undefined : cookies;
      }
      return headers.get(name) ?? undefined;
    },
    set(name, value) {
      if (typeof value === 'string') {
        headers.set(name, value);
        return;
      }
      headers.delete(name);
      for (const item of value) {
        headers.append(name, item);
      }
    },
  };
}

/**
 * Adds a transport's headers to a response: a Web `Headers` merged by the rules of
 * {@link PendingHeaders} (one `Set-Cookie` per cookie name), anything else appended.
 *
 * @internal
 * @param headers - The response's headers.
 * @param out - The transport's headers.
 */
export function appendHeaders(headers: HeadersLike, out: TransportHeaders): void {
  const target = typeof Headers === 'function' && headers instanceof Headers ? mergingHeaders(webHeaderTarget(headers)) : headers;
  for (const [name, value] of out) {
    target.append(name, value);
  }
}
