import { parseSetCookie } from 'cookie';
/**
 * A tiny cookie jar for tests that drive a server with Node's global `fetch`: it keeps
 * the cookies each response sets (and drops the ones it expires) and sends them back.
 * It ignores Domain, Path and Secure: every cookie goes to the one test server.
 */
export class CookieJar {
  readonly #cookies = new Map<string, string>();

  /** Sends a request with the jar's cookies and stores the cookies of the response. */
  async fetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    const cookie = this.header();
    if (cookie !== '') {
      headers.set('cookie', cookie);
    }
    const response = await fetch(url, { redirect: 'manual', ...init, headers });
    this.store(response);
    return response;
  }

  /** Stores the cookies a response sets. */
  store(response: Response): void {
    this.storeLines(response.headers.getSetCookie());
  }

  /** Stores the cookies of some Set-Cookie lines. */
  storeLines(lines: Iterable<string>): void {
    for (const setCookie of lines) {
      const { name, value = '', maxAge, expires } = parseSetCookie(setCookie);
      if (name === '') {
        continue;
      }
      const expired = (maxAge !== undefined && maxAge <= 0) || (expires !== undefined && expires.getTime() <= Date.now());
      if (expired || value === '') {
        this.#cookies.delete(name);
      } else {
        this.#cookies.set(name, value);
      }
    }
  }

  /** The value of one cookie, if held. */
  get(name: string): string | undefined {
    return this.#cookies.get(name);
  }

  /** Puts a cookie in the jar, as a client may. */
  set(name: string, value: string): void {
    this.#cookies.set(name, value);
  }

  /** The `Cookie` header the jar sends. */
  header(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  /** The names of the cookies held. */
  names(): string[] {
    return [...this.#cookies.keys()];
  }

  /** A copy of the jar, to replay an old cookie later. */
  clone(): CookieJar {
    const copy = new CookieJar();
    for (const [name, value] of this.#cookies) {
      copy.set(name, value);
    }
    return copy;
  }
}
