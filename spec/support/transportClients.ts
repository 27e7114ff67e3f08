import { parseSetCookie } from 'cookie';
import { Context, DEFAULT_COOKIE_NAME, type SessionManager } from 'kit-session';

/** One exchange through a manager: the context the endpoint saw and the response headers. */
export interface Exchange {
  readonly context: Context;
  readonly headers: Headers;
}

/**
 * A client of one manager, driven without HTTP: it builds a Web `Request` with what it
 * holds, runs extract → act → inject, and keeps what the response gives it.
 */
abstract class Client<T extends object> {
  readonly #manager: SessionManager<T>;

  constructor(manager: SessionManager<T>) {
    this.#manager = manager;
  }

  /** The headers of the next request. */
  protected abstract requestHeaders(): Record<string, string>;

  /** Keeps what a response gives. */
  protected abstract keep(headers: Headers): void;

  /** Loads the session of a request carrying what the client holds. */
  load(extra: Record<string, string> = {}): Promise<Context> {
    const request = new Request('https://app.test/', { headers: { ...this.requestHeaders(), ...extra } });
    return this.#manager.extractSession(Context.background, request);
  }

  /** Saves a loaded session, as the response hook does, and keeps what the response gives. */
  async save(context: Context): Promise<Headers> {
    const headers = new Headers();
    await this.#manager.injectSession(context, headers);
    this.keep(headers);
    return headers;
  }

  /** One whole request: load, act, save. */
  async request(act: (context: Context) => void | Promise<void> = () => {}, extra?: Record<string, string>): Promise<Exchange> {
    const context = await this.load(extra);
    await act(context);
    return { context, headers: await this.save(context) };
  }
}

/** A browser: keeps the session cookie (by default `__Host-session`). */
export class CookieClient<T extends object> extends Client<T> {
  token: string | undefined;
  readonly #name: string;

  constructor(manager: SessionManager<T>, token?: string, name = DEFAULT_COOKIE_NAME) {
    super(manager);
    this.token = token;
    this.#name = name;
  }

  protected requestHeaders(): Record<string, string> {
    return this.token === undefined ? {} : { cookie: `${this.#name}=${this.token}` };
  }

  protected keep(headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const { name, value, maxAge } = parseSetCookie(line);
      if (name === this.#name) {
        this.token = maxAge === 0 || value === '' ? undefined : value;
      }
    }
  }
}

/**
 * A native client: sends `Authorization: Bearer <token>` (or the bare scheme before it
 * has a token, which is how a `HeaderTransport` knows a new session is its), and takes a
 * new token from `session-token`; an empty one ends it.
 */
export class HeaderClient<T extends object> extends Client<T> {
  token: string | undefined;

  constructor(manager: SessionManager<T>, token?: string) {
    super(manager);
    this.token = token;
  }

  protected requestHeaders(): Record<string, string> {
    return { authorization: this.token === undefined ? 'Bearer' : `Bearer ${this.token}` };
  }

  protected keep(headers: Headers): void {
    const token = headers.get('session-token');
    if (token !== null) {
      this.token = token === '' ? undefined : token;
    }
  }
}

/** The `Vary` tokens of a response, in lower case. */
export function varyTokens(headers: Headers): string[] {
  return (headers.get('vary') ?? '')
    .split(',')
    .map((token) => token.trim().toLowerCase())
    .filter((token) => token !== '');
}

/**
 * Asserts what every response that carries a header token (or ends one) must hold:
 * the token headers, `Cache-Control: no-store`, and nothing of a cookie.
 */
export function expectHeaderResponse(headers: Headers): void {
  expect(headers.get('session-token')).not.toBeNull();
  expect(headers.get('session-token-max-age')).toMatch(/^\d+$/);
  expect(headers.get('cache-control')).toBe('no-store');
  expect(headers.getSetCookie()).toEqual([]);
  expect(varyTokens(headers)).not.toContain('cookie');
}

/**
 * A native client over HTTP: sends `Authorization: Bearer <token>` (the bare scheme
 * before it has one) and keeps the token each response's `session-token` gives; an
 * empty one ends it. It keeps no cookies.
 */
export class TokenClient {
  token: string | undefined;

  constructor(token?: string) {
    this.token = token;
  }

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('authorization', this.token === undefined ? 'Bearer' : `Bearer ${this.token}`);
    const response = await fetch(url, { redirect: 'manual', ...init, headers });
    const token = response.headers.get('session-token');
    if (token !== null) {
      this.token = token === '' ? undefined : token;
    }
    return response;
  }
}
