// kit-session/adopt/iron-session: IronSessionAdopter, which adopts the sealed cookies of iron-session 8.
import { unsealData } from 'iron-session';
import { parseCookie } from 'cookie';
import type { RequestLike } from '../../core/http.js';
import { checkOptionKeys } from '../../core/options.js';
import { CookieAdopter, type CookieAdopterOptions, type OpenedSession } from '../CookieAdopter.js';

/** iron-session's shortest password, which it and iron-webcrypto enforce. */
const MIN_PASSWORD_LENGTH = 32;

/** iron-session's default `ttl`: 14 days, in seconds. */
const DEFAULT_TTL_SECONDS = 14 * 24 * 3600;

/**
 * iron-webcrypto's allowance for clock skew (its `defaults.timestampSkewSec`, which
 * iron-session passes): a seal is refused once its expiry is this far in the past.
 */
const TIMESTAMP_SKEW_MS = 60_000;

const OPTION_KEYS = ['cookieName', 'password', 'ttl', 'path', 'domain', 'map', 'until'] as const;

/**
 * The options of an {@link IronSessionAdopter}: iron-session's own `cookieName`,
 * `password` and `ttl`, as the old app gave them to `getIronSession`, and the options
 * every cookie adopter takes.
 *
 * @typeParam T - The new session's values.
 */
export interface IronSessionAdopterOptions<T extends object> extends CookieAdopterOptions<T, Record<string, unknown>> {
  /**
   * iron-session's `cookieName`: the old cookie's name. The kit-session cookie must have
   * another (the manager refuses an adopter that reads its own cookie).
   */
  readonly cookieName: string;
  /**
   * iron-session's `password`, exactly as the old app gives it: one password, or a map
   * `{ id: password }` for rotation (each seal names the id it was made with, and is
   * opened with that id's password). Each password has at least 32 characters.
   */
  readonly password: string | Readonly<Record<string, string>>;
  /**
   * iron-session's `ttl` as the old app configured it, in **seconds**; `0` means no
   * expiry. It is passed to iron-session's `unsealData` as iron-session itself passes
   * it; the expiry checked is the one sealed in each cookie (the time it was sealed plus
   * the `ttl` then in force, with iron's 60 s allowance for clock skew), so a cookie
   * sealed with `ttl: 0` never expires, here as in iron-session. Use it to plan
   * `until`: no cookie of the old app outlives its last write by more than `ttl`.
   *
   * @default 1209600 (14 days, iron-session's default)
   */
  readonly ttl?: number;
}

/**
 * Adopts the sessions of iron-session 8 (kit-session/adopt/iron-session): a request
 * that carries no kit-session token but a valid iron-session cookie gets a new
 * kit-session session holding the old session's data, and the old cookie is expired in
 * the same response. Give it to the manager's `adopt` option.
 *
 * The cookie is opened by iron-session's own exported `unsealData` (iron-session is
 * an optional peer dependency, loaded only by this subpath): its password map, its
 * `~2` format suffix and the older format without it, its checks. Anything it cannot
 * open — a tampered or truncated seal, another password, an expired seal, a seal
 * naming a password id the map lacks, a session with no data — is not adopted, and the
 * request goes on with a fresh session; opening never throws.
 *
 * **Time.** iron-webcrypto checks a seal's expiry against `Date.now()`, and
 * iron-session's `unsealData` offers no way to pass another time (iron-webcrypto's
 * `localtimeOffsetMsec` is not reachable through it). The adopter keeps that check, so
 * the seal's own expiry always holds, and then checks the same expiry — read from the
 * seal only once `unsealData` has authenticated it — against the manager's clock too: a
 * seal is adopted only while both clocks say it is alive. Going through iron-session's
 * own function rather than calling iron-webcrypto directly keeps the format handling
 * iron-session's, and needs no dependency of kit-session's own on iron-webcrypto.
 *
 * **Replay.** iron-session keeps no server-side record, so an iron-session cookie
 * cannot be revoked, by design: there is no `retire`. Expiring the old cookie in the
 * browser does not end it, and a copy of it (a second device that never comes back,
 * a stolen cookie) stays adoptable until its own expiry — up to `ttl` after its last
 * write — or until `until`, whichever comes first. Set `until` to the end of the switch.
 *
 * **Cookie name.** iron-session does not bind the cookie name into the seal: a seal
 * made by another app sharing the password is accepted under this name, by
 * iron-session and by this adopter alike.
 *
 * Without `map`, the old data's keys are carried over as they are (iron-session 8
 * stores no bookkeeping of its own in the data). Its values are JSON, as sealed.
 *
 * @typeParam T - The new session's values.
 * @example
 * ```ts
 * import { SessionManager } from 'kit-session';
 * import { IronSessionAdopter } from 'kit-session/adopt/iron-session';
 *
 * const manager = new SessionManager<AppSession>(store, {
 *   cookie: { name: '__Host-app' },
 *   adopt: new IronSessionAdopter<AppSession>({
 *     cookieName: 'myapp_session', // as given to getIronSession
 *     password: { 2: process.env.IRON_PASSWORD_2!, 1: process.env.IRON_PASSWORD_1! },
 *     ttl: 7 * 24 * 3600, // iron-session's ttl, in seconds
 *     until: new Date('2026-08-01T00:00:00Z'), // the switch's start + ttl: no old cookie is alive after it
 *   }),
 * });
 * ```
 */
export class IronSessionAdopter<T extends object = Record<string, unknown>> extends CookieAdopter<T, Record<string, unknown>> {
  /** What the sessions come from, for errors and logs. */
  readonly source = 'iron-session';
  /** iron-session's `ttl`, in seconds, as given. */
  readonly ttl: number;
  readonly #password: Readonly<Record<string, string>>;

  /**
   * @param options - iron-session's cookie name, password (or password map) and ttl,
   *   and the options of every cookie adopter.
   * @throws TypeError naming the option when one is invalid: `cookieName` not a
   *   non-empty string, `password` not a string or a non-empty map of strings of at
   *   least 32 characters (the message never holds a password), `ttl` not a
   *   non-negative finite number, an unknown option, or a bad `path`, `domain`, `map`
   *   or `until`.
   * @example
   * ```ts
   * const adopter = new IronSessionAdopter({ cookieName: 'myapp_session', password: process.env.IRON_PASSWORD! });
   * ```
   */
  constructor(options: IronSessionAdopterOptions<T>) {
    checkOptionKeys('IronSessionAdopter options', options, OPTION_KEYS);
    if (options === undefined) {
      throw new TypeError('IronSessionAdopter options must be an object');
    }
    const { cookieName, password, ttl = DEFAULT_TTL_SECONDS, ...rest } = options;
    if (typeof cookieName !== 'string' || cookieName === '') {
      throw new TypeError('cookieName must be a non-empty string');
    }
    if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 0) {
      throw new TypeError('ttl must be a non-negative number of seconds (0: no expiry)');
    }
    const passwords = passwordMap(password);
    super(cookieName, rest);
    this.ttl = ttl;
    this.#password = passwords;
  }

  /**
   * Opens an iron-session seal with iron-session's `unsealData`, then checks its expiry
   * against the manager's clock as well.
   *
   * @param value - The cookie's value.
   * @param now - The manager's clock.
   * @returns The old session's data, or `undefined` when the seal does not open, has
   *   expired by either clock, or holds no data.
   * @example
   * ```ts
   * // Called by adopt(): a subclass may widen the checks.
   * protected override async open(value: string, now: number) {
   *   const opened = await super.open(value, now);
   *   return opened?.data.userId === undefined ? undefined : opened;
   * }
   * ```
   */
  protected override async open(value: string, now: number): Promise<OpenedSession<Record<string, unknown>> | undefined> {
    let data: unknown;
    try {
      data = await unsealData<unknown>(value, { password: this.#password, ttl: this.ttl });
    } catch {
      // iron-session answers {} for the failures it expects and rethrows the others (a
      // wrong prefix, a bad expiry field, a password id that names no password):
      // none of them is a session to adopt, and none is a store failure.
      return undefined;
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data) || Object.keys(data).length === 0) {
      return undefined;
    }
    const expiry = sealExpiry(value);
    if (expiry !== undefined && expiry <= now - TIMESTAMP_SKEW_MS) {
      return undefined;
    }
    return { data: data as Record<string, unknown> };
  }

  /**
   * The old cookie's value, read as iron-session 8 reads it (the `cookie` 0.7 parser):
   * percent-decoded, and a value in double quotes without its quotes.
   *
   * @param header - The request's `Cookie` header.
   * @returns The value, or `undefined` when the cookie is absent.
   * @example
   * ```ts
   * // Called by adopt() with the request's Cookie header:
   * // 'myapp_session="Fe26.2*1*…~2"' gives 'Fe26.2*1*…~2'
   * ```
   */
  protected override cookieValue(header: string): string | undefined {
    const value = parseCookie(header)[this.cookieName];
    if (value !== undefined && value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
      return value.slice(1, -1);
    }
    return value;
  }
}

/**
 * Checks iron-session's `password` option and copies it into a map without a
 * prototype, so that a forged seal naming a password id such as `constructor` finds no
 * password (iron-session turns a single password into `{ 1: password }`, as here).
 *
 * @param password - What was given.
 * @returns The passwords by id.
 * @throws TypeError naming `password`, never holding it.
 */
function passwordMap(password: unknown): Readonly<Record<string, string>> {
  const entries: [string, unknown][] =
    typeof password === 'string'
      ? [['1', password]]
      : typeof password === 'object' && password !== null && !Array.isArray(password)
        ? Object.entries(password)
        : [];
  if (entries.length === 0) {
    throw new TypeError('password must be a string or a non-empty map of password ids to strings, as given to iron-session');
  }
  const map: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [id, secret] of entries) {
    if (typeof secret !== 'string' || secret.length < MIN_PASSWORD_LENGTH) {
      throw new TypeError(`password must have at least ${MIN_PASSWORD_LENGTH} characters (each password of the map), as iron-session requires`);
    }
    map[id] = secret;
  }
  return Object.freeze(map);
}

/**
 * The expiry an iron seal carries, in milliseconds since the epoch:
 * `Fe26.2*id*salt*iv*data*expiry*hmacSalt*hmac`, then iron-session's `~2` version
 * suffix. Read only from a seal `unsealData` has opened (so its fields are authentic).
 *
 * @param seal - The cookie's value.
 * @returns The expiry, or `undefined` when the seal has none (`ttl: 0`).
 */
function sealExpiry(seal: string): number | undefined {
  const field = seal.split('~')[0]!.split('*')[5];
  return field === undefined || !/^\d+$/.test(field) ? undefined : Number.parseInt(field, 10);
}
