// kit-session/adopt/react-router: adopts the sessions of React Router 7's createCookieSessionStorage.
import { createCookie, type Cookie, type CookieOptions, isCookie } from 'react-router';
import type { RequestLike } from '../../core/http.js';
import { CookieAdopter, type CookieAdopterOptions, type OpenedSession } from '../CookieAdopter.js';

/** The name React Router gives a session cookie whose options name none. */
const REACT_ROUTER_SESSION_COOKIE = '__session';

/** A flash value's key in React Router's session data: `session.flash('notice', …)` stores `__flash_notice__`. */
const FLASH_KEY = /^__flash_(.*)__$/s;

/**
 * The options form of a React Router session cookie: what `createCookie(name, options)`
 * takes, with its name beside them, as `createCookieSessionStorage({ cookie })` accepts
 * it. Unlike React Router, `secrets` is required.
 */
export type ReactRouterCookieOptions = Omit<CookieOptions, 'secrets'> & {
  /**
   * The cookie's name.
   *
   * @default '__session' (React Router's own default)
   */
  readonly name?: string;
  /**
   * The secrets the cookie is signed with, newest first (React Router signs with the
   * first and accepts any of them).
   */
  readonly secrets: readonly string[];
};

/**
 * The options of a {@link ReactRouterCookieAdopter}.
 *
 * @typeParam T - The new session's values.
 */
export interface ReactRouterCookieAdopterOptions<T extends object>
  extends Omit<CookieAdopterOptions<T, Record<string, unknown>>, 'path' | 'domain'> {
  /**
   * The app's React Router session cookie: the very `Cookie` it gave
   * `createCookieSessionStorage({ cookie })` (from `createCookie(name, { secrets, … })`),
   * or the options object it gave there instead. Its name, secrets, Path, Domain and
   * encoding are those the old sessions were written with: the adopter reads the cookie
   * with the Cookie's own `parse` (every secret, for rotation) and expires it with the
   * Cookie's own `serialize`, as `destroySession` does.
   *
   * It must be signed: an unsigned React Router cookie is plain base64 JSON that anyone
   * can write, and adopting it would let anyone start a session with any values.
   */
  readonly cookie: Cookie | ReactRouterCookieOptions;
  /**
   * Turns the old session's data into the new session's values; answer `undefined` to
   * adopt nothing (the old cookie is then left alone). It gets the data as React Router
   * keeps it (`session.data`): a flash value under `__flash_<key>__`.
   *
   * @default undefined (the data's keys are carried over, each flash value under its own
   *   `<key>`, to be read once with `session.pop(key)`)
   */
  readonly map?: (data: Record<string, unknown>) => Partial<T> | undefined;
}

/**
 * Adopts the sessions of React Router 7's `createCookieSessionStorage`, where the
 * session's data lives in the cookie itself, signed (HMAC-SHA256) but not encrypted:
 * the manager's `adopt` option, for a switch to kit-session that logs nobody out.
 *
 * The old cookie is read by React Router's own code, `cookie.parse(cookieHeader)`: a
 * value signed by none of the cookie's secrets (tampered, forged, unsigned, or signed
 * with a foreign secret) is not adopted. React Router keeps no server-side record and
 * puts no date in the value (the browser alone expires the cookie), so a copied cookie
 * opens as long as the secret is listed: until `until`, it is adopted wherever it is
 * replayed. Set `until` to the old cookie's `maxAge` after the switch.
 *
 * The data's keys become the new session's values, each flash value
 * (`session.flash('notice', 'hi')`, kept as `__flash_notice__`) under its own key, where
 * `session.pop('notice')` reads it once; a key set both plainly and as a flash keeps
 * its plain value, which is what React Router's `session.get` answers. The old cookie is
 * expired in the adopting response with the Cookie's own `serialize` (same name, Path,
 * Domain, Secure and Partitioned), as `destroySession` expires it.
 *
 * @typeParam T - The new session's values.
 * @example
 * ```ts
 * // app/sessions.server.ts, during the switch
 * import { createCookie } from 'react-router';
 * import { createCookieSessions, importKeysFromEnv } from 'kit-session';
 * import { ReactRouterCookieAdopter } from 'kit-session/adopt/react-router';
 *
 * // The cookie the app gave createCookieSessionStorage until now: kept only to adopt.
 * const oldCookie = createCookie('__session', {
 *   secrets: [process.env.SESSION_SECRET!],
 *   path: '/',
 *   httpOnly: true,
 *   sameSite: 'lax',
 *   secure: true,
 *   maxAge: 60 * 60 * 24 * 30,
 * });
 *
 * export const manager = createCookieSessions<AppSession>({
 *   keys: await importKeysFromEnv('SESSION_KEY'),
 *   adopt: new ReactRouterCookieAdopter<AppSession>({
 *     cookie: oldCookie,
 *     until: new Date('2026-08-01T00:00:00Z'), // the switch + the old cookie's 30 days
 *   }),
 * });
 * ```
 */
export class ReactRouterCookieAdopter<T extends object> extends CookieAdopter<T, Record<string, unknown>> {
  /** `'react-router'`. */
  readonly source = 'react-router';
  readonly #cookie: Cookie;
  #expiring: Promise<string> | undefined;

  /**
   * @param options - The app's React Router cookie, and the mapping and cut-off.
   * @throws TypeError naming the option when one is invalid: `cookie` not a React Router
   *   `Cookie` nor its options, a cookie without `secrets` (unsigned), or `path` or
   *   `domain` given beside it (they are the cookie's own: give them to `createCookie`).
   */
  constructor(options: ReactRouterCookieAdopterOptions<T>) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError('options must be an object with the React Router cookie');
    }
    const given = options as ReactRouterCookieAdopterOptions<T> & { readonly path?: unknown; readonly domain?: unknown };
    if (given.path !== undefined || given.domain !== undefined) {
      throw new TypeError('path and domain are the cookie\'s own: give them to createCookie, or in the cookie options');
    }
    const { cookie: cookieOption, ...rest } = options;
    const { cookie, path, domain } = resolveCookie(cookieOption);
    super(cookie.name, { ...rest, ...(path === undefined ? {} : { path }), ...(domain === undefined ? {} : { domain }) });
    this.#cookie = cookie;
  }

  /**
   * Opens the old cookie with React Router's own `cookie.parse`, given the whole `Cookie`
   * header as React Router parses it: `null` for a value no secret signed.
   *
   * @param _value - The cookie's value (React Router reads it from the header itself).
   * @param _now - Unused: React Router's value holds no date.
   * @param request - The request, whose `Cookie` header is parsed.
   * @returns The session's data, or `undefined` when the cookie fails the signature
   *   check or holds no data object.
   * @example
   * ```ts
   * // a subclass that adopts only sessions with a user in them
   * protected override async open(value: string, now: number, request: RequestLike) {
   *   const opened = await super.open(value, now, request);
   *   return opened?.data.userId === undefined ? undefined : opened;
   * }
   * ```
   */
  protected override async open(
    _value: string,
    _now: number,
    request: RequestLike,
  ): Promise<OpenedSession<Record<string, unknown>> | undefined> {
    const data: unknown = await this.#cookie.parse(request.headers.get('cookie'));
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      return undefined;
    }
    // Expired with React Router's own `destroySession` line: the cookie's real Path,
    // Domain, Secure and Partitioned (a Partitioned cookie is deleted only by a Partitioned line).
    return { data: data as Record<string, unknown>, expireCookies: [await this.#expiringCookie()] };
  }

  /**
   * The values carried over without a `map`: the data's keys, each flash value under its
   * own key (a plain value of the same key wins, as in React Router's `session.get`).
   *
   * @param data - The old session's data, as React Router keeps it.
   * @returns The values.
   * @example
   * ```ts
   * // { userId: 'u1', __flash_notice__: 'Saved' } → { userId: 'u1', notice: 'Saved' }
   * ```
   */
  protected override defaultValues(data: Record<string, unknown>): Partial<T> | undefined {
    const plain: [string, unknown][] = [];
    const flashed: [string, unknown][] = [];
    for (const [key, value] of Object.entries(data)) {
      const flash = FLASH_KEY.exec(key);
      if (flash === null) {
        plain.push([key, value]);
      } else {
        flashed.push([flash[1]!, value]);
      }
    }
    // fromEntries defines each key as an own property: a `__proto__` key stays a key.
    return Object.fromEntries([...flashed, ...plain]) as Partial<T>;
  }

  /** React Router's `destroySession` line for this cookie, written once. */
  #expiringCookie(): Promise<string> {
    if (this.#expiring === undefined) {
      const expiring = this.#cookie.serialize('', { maxAge: undefined, expires: new Date(0) });
      this.#expiring = expiring;
      expiring.catch(() => {
        this.#expiring = undefined;
      });
    }
    return this.#expiring;
  }
}

/**
 * Checks the `cookie` option and builds a Cookie from its options form.
 *
 * @param option - What was given.
 * @returns The signed Cookie, with the Path and Domain of its options form.
 * @throws TypeError when it is neither a Cookie nor its options, or is not signed.
 */
function resolveCookie(option: Cookie | ReactRouterCookieOptions): { cookie: Cookie; path?: string; domain?: string } {
  if (isCookie(option)) {
    if (!option.isSigned) {
      throw new TypeError(
        'cookie must be signed: create it with secrets (an unsigned React Router cookie can be forged by anyone)',
      );
    }
    return { cookie: option };
  }
  if (typeof option !== 'object' || option === null) {
    throw new TypeError('cookie must be a React Router Cookie (from createCookie) or the options it was created with');
  }
  const { name = REACT_ROUTER_SESSION_COOKIE, secrets, ...cookieOptions } = option;
  if (typeof name !== 'string' || name === '') {
    throw new TypeError('cookie.name must be a non-empty string');
  }
  if (!Array.isArray(secrets) || secrets.length === 0 || !secrets.every((secret) => typeof secret === 'string' && secret !== '')) {
    throw new TypeError(
      'cookie.secrets must be a non-empty list of non-empty strings (an unsigned React Router cookie can be forged by anyone)',
    );
  }
  const cookie = createCookie(name, { ...cookieOptions, secrets: [...secrets] });
  return {
    cookie,
    ...(cookieOptions.path === undefined ? {} : { path: cookieOptions.path }),
    ...(cookieOptions.domain === undefined ? {} : { domain: cookieOptions.domain }),
  };
}
