// The part every cookie-borne adopter shares (adopt): finding the old cookie, the cut-off
// date, the mapping of the old values, and the Set-Cookie line that expires the old cookie.
import { parseCookie, stringifySetCookie } from 'cookie';
import type { AdoptedSession, SessionAdopter } from '../core/adoption.js';
import type { RequestLike } from '../core/http.js';
import { isThenable, type MaybePromise } from '../core/SessionStore.js';

/**
 * The options every adopter of a cookie-borne session takes.
 *
 * @typeParam T - The new session's values.
 * @typeParam Data - The old session's data, as the old library gives it.
 */
export interface CookieAdopterOptions<T extends object, Data> {
  /**
   * The old cookie's Path, so that the `Set-Cookie` that expires it names the same cookie.
   *
   * @default '/'
   */
  readonly path?: string;
  /**
   * The old cookie's Domain, when it had one.
   *
   * @default undefined
   */
  readonly domain?: string;
  /**
   * Turns the old session's data into the new session's values; answer `undefined` to
   * adopt nothing (an anonymous old session, say): the old cookie is then left alone.
   * Without it, the old data's own keys are carried over as they are (each adopter says
   * which of its library's bookkeeping keys it leaves out).
   *
   * @default undefined
   */
  readonly map?: (data: Data) => Partial<T> | undefined;
  /**
   * The moment after which nothing is adopted any more: the end of the switch, when the
   * old library's longest session has ended. A `Date` or milliseconds since the epoch.
   *
   * @default undefined (no end)
   */
  readonly until?: Date | number;
}

/** An old session, opened and checked by the old library's rules. */
export interface OpenedSession<Data> {
  /** Its data. */
  readonly data: Data;
  /** Retires the old server-side record, where there is one (see {@link AdoptedSession.retire}). */
  readonly retire?: (ended: boolean) => MaybePromise<void>;
  /**
   * The `Set-Cookie` lines that expire the old cookie, when the old library writes them
   * itself (with the cookie's own Path, Domain, Secure and Partitioned); else the base
   * class writes one from the `path` and `domain` options.
   */
  readonly expireCookies?: readonly string[];
}

/**
 * The base of the adopters of cookie-borne sessions: reads the old cookie, opens it by the
 * old library's rules (the subclass's {@link CookieAdopter.open}), maps its data, and
 * expires the old cookie.
 *
 * @typeParam T - The new session's values.
 * @typeParam Data - The old session's data.
 */
export abstract class CookieAdopter<T extends object, Data> implements SessionAdopter<T> {
  abstract readonly source: string;
  /** The old cookie's name. */
  readonly cookieName: string;
  /** The old cookie's name, as the manager checks it against its own. */
  readonly cookieNames: readonly string[];
  readonly #expired: string;
  readonly #map: ((data: Data) => Partial<T> | undefined) | undefined;
  readonly #until: number;

  /**
   * @param cookieName - The old cookie's name.
   * @param options - Path, domain, mapping and cut-off.
   * @throws TypeError naming the option when one is invalid.
   */
  protected constructor(cookieName: string, options: CookieAdopterOptions<T, Data> = {}) {
    if (typeof cookieName !== 'string' || cookieName === '') {
      throw new TypeError('the old cookie name must be a non-empty string');
    }
    const { path = '/', domain, map, until } = options;
    if (typeof path !== 'string' || !path.startsWith('/')) {
      throw new TypeError('path must be a cookie path starting with /');
    }
    if (domain !== undefined && (typeof domain !== 'string' || domain === '')) {
      throw new TypeError('domain must be a non-empty string');
    }
    if (map !== undefined && typeof map !== 'function') {
      throw new TypeError('map must be a function');
    }
    const end = until instanceof Date ? until.getTime() : until;
    if (end !== undefined && (typeof end !== 'number' || Number.isNaN(end))) {
      throw new TypeError('until must be a Date or milliseconds since the epoch');
    }
    this.cookieName = cookieName;
    this.cookieNames = [cookieName];
    this.#map = map;
    this.#until = end ?? Number.POSITIVE_INFINITY;
    // A __Secure- or __Host- cookie is only replaced by a Secure Set-Cookie.
    const secure = /^__(secure|host)-/i.test(cookieName);
    this.#expired = stringifySetCookie({
      name: cookieName,
      value: '',
      path,
      ...(domain === undefined ? {} : { domain }),
      ...(secure ? { secure: true } : {}),
      httpOnly: true,
      maxAge: 0,
      expires: new Date(0),
    });
  }

  /**
   * Opens the old cookie's value by the old library's rules.
   *
   * @param value - The cookie's value, decoded as the old library decodes it.
   * @param now - The manager's clock.
   * @param request - The request, for an adopter that reads more of it.
   * @returns The old session, or `undefined` when the value fails any of the old library's checks.
   * @example
   * ```ts
   * protected open(value: string) {
   *   const sid = verifySignature(value, this.#secrets); // the old library's own check
   *   return sid === undefined ? undefined : { data: { sid } };
   * }
   * ```
   */
  protected abstract open(value: string, now: number, request: RequestLike): MaybePromise<OpenedSession<Data> | undefined>;

  /**
   * The old cookie's value in a `Cookie` header, or `undefined`. Decoded as the `cookie`
   * package decodes it (percent-decoding), as express-session and iron-session read it;
   * an adopter whose library reads it otherwise overrides this.
   *
   * @param header - The request's `Cookie` header.
   * @returns The value.
   * @example
   * ```ts
   * adopter.cookieValue('connect.sid=s%3Aabc.sig; theme=dark'); // 's:abc.sig'
   * ```
   */
  protected cookieValue(header: string): string | undefined {
    return parseCookie(header)[this.cookieName];
  }

  /**
   * Finds and opens the old session, if the request has one and the switch has not ended.
   *
   * @param request - A request that carried no kit-session token.
   * @param now - The manager's clock.
   * @returns What to adopt, or `undefined`.
   * @example
   * ```ts
   * const adopted = await adopter.adopt(request, Date.now()); // { values, expireCookies } or undefined
   * ```
   */
  adopt(request: RequestLike, now: number): MaybePromise<AdoptedSession<T> | undefined> {
    if (now >= this.#until) {
      return undefined;
    }
    const header = request.headers.get('cookie');
    if (header === null) {
      return undefined;
    }
    const value = this.cookieValue(header);
    if (value === undefined || value === '') {
      return undefined;
    }
    const opened = this.open(value, now, request);
    return isThenable(opened) ? opened.then((session) => this.#adopted(session)) : this.#adopted(opened);
  }

  #adopted(opened: OpenedSession<Data> | undefined): AdoptedSession<T> | undefined {
    if (opened === undefined) {
      return undefined;
    }
    const values = this.#map === undefined ? this.defaultValues(opened.data) : this.#map(opened.data);
    if (values === undefined) {
      return undefined;
    }
    if (typeof values !== 'object' || values === null || Array.isArray(values)) {
      throw new TypeError(`the map of ${this.source} sessions must answer an object of values or undefined`);
    }
    const { retire } = opened;
    return {
      values: { ...values },
      expireCookies: opened.expireCookies ?? [this.#expired],
      ...(retire === undefined ? {} : { retire }),
    };
  }

  /**
   * The values carried over when no `map` is given: the old data's own keys. A subclass
   * leaves out its library's bookkeeping.
   *
   * @param data - The old session's data.
   * @returns The values, or `undefined` when the data holds none.
   * @example
   * ```ts
   * protected defaultValues({ cookie, ...values }: ExpressSessionData) {
   *   return values; // express-session's own `cookie` key left out
   * }
   * ```
   */
  protected defaultValues(data: Data): Partial<T> | undefined {
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      return undefined;
    }
    return { ...(data as Partial<T>) };
  }
}
