// kit-session/adopt/express-session: adopts the sessions express-session made (its signed
// `connect.sid` cookie and the record in its store), so that a switch logs nobody out.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { RequestLike } from '../../core/http.js';
import { duration, type Duration } from '../../core/options.js';
import type { MaybePromise } from '../../core/SessionStore.js';
import { CookieAdopter, type CookieAdopterOptions, type OpenedSession } from '../CookieAdopter.js';

/**
 * An express-session session as its store gives it back: the app's keys, and express-session's
 * own `cookie` bookkeeping (the cookie's settings and expiry, serialised by the store).
 */
export interface ExpressSessionData {
  /**
   * express-session's bookkeeping: the cookie's settings when the session was saved.
   * `expires` is an ISO date string once the store has serialised it (a `Date` in
   * `MemoryStore`'s copy too, depending on the store), or `null` for a browser-session cookie.
   */
  readonly cookie?: {
    readonly expires?: string | Date | null;
    readonly originalMaxAge?: number | null;
    readonly [setting: string]: unknown;
  };
  /** The app's values, e.g. `userId`, or passport's `passport: { user }`. */
  readonly [key: string]: unknown;
}

/**
 * The part of an express-session store the adopter uses: the store object itself
 * (connect-redis's `RedisStore`, connect-pg-simple's `PGStore`, express-session's
 * `MemoryStore`, …), typed by its shape so that kit-session imports nothing of
 * express-session. Both methods are called as methods of the store, callback-style, as
 * express-session calls them; a store that also returns a promise is fine.
 */
export interface ExpressSessionStoreLike {
  /**
   * Reads a session: calls back with `(error)` when the store fails, with `(null, data)`
   * (an {@link ExpressSessionData}), or with `(null, null | undefined)` when there is none
   * (missing or expired). The data is typed `unknown` so that every store's own typing
   * fits (express-session's `SessionData`, a store's `any`); the adopter checks its shape.
   *
   * @example
   * ```ts
   * oldStore.get(sid, (error, data) => { if (error) throw error; console.log(data); });
   * ```
   */
  get(sid: string, callback: (error: unknown, session?: unknown) => void): unknown;
  /**
   * Deletes a session; calls back with `(error)` when the store fails.
   *
   * @example
   * ```ts
   * oldStore.destroy(sid, (error) => { if (error) throw error; });
   * ```
   */
  destroy(sid: string, callback?: (error?: unknown) => void): unknown;
  /**
   * Writes a session, its TTL taken from `cookie.expires` (every express-session store
   * has it): the adopter's default `oldRecord: 'expire'` writes the old record back with
   * an expiry `grace` away. Not needed with `'keep'` or `'delete'`.
   *
   * @example
   * ```ts
   * oldStore.set(sid, { ...data, cookie: { ...data.cookie, expires: new Date(Date.now() + 30_000).toISOString() } }, callback);
   * ```
   */
  set?(sid: string, session: never, callback?: (error?: unknown) => void): unknown;
}

/** The options of an {@link ExpressSessionAdopter}. */
export interface ExpressSessionAdopterOptions<T extends object> extends CookieAdopterOptions<T, ExpressSessionData> {
  /**
   * express-session's `secret` option, the same list in the same order. Every secret is
   * tried, as express-session does, so sessions signed before a rotation are adopted too.
   */
  readonly secret: string | readonly string[];
  /**
   * The express-session store object itself (the same instance or one over the same
   * backend, with the same prefix / table): the adopter reads the old record with its
   * `get` and deletes it with its `destroy`.
   */
  readonly store: ExpressSessionStoreLike;
  /**
   * express-session's `name` option: the old cookie's name.
   *
   * @default 'connect.sid'
   */
  readonly name?: string;
  /**
   * What becomes of the old record once the new session is saved:
   * - `'expire'`: written back (with the store's `set`) to expire `grace` from now, so the
   *   old store forgets it then by its own TTL, and the adopter refuses it after that by
   *   its `cookie.expires` whatever the store does;
   * - `'delete'`: deleted at once with the store's `destroy`;
   * - `'keep'`: left to expire by its own TTL (a copy of the old cookie stays adoptable
   *   until then, even after the user logs out of kit-session).
   *
   * A log-out in the request that adopted it always deletes it.
   *
   * `'expire'` is the default because a browser may have other requests in flight that
   * still carry only the old cookie (parallel tabs, images, API calls sent before the
   * response with the new cookie arrived): deleting the old record at once would log
   * those requests out, while a grace lets each of them be adopted too; and keeping it
   * whole would leave a copy of the old cookie good for as long as the old TTL. The old
   * cookie is expired in the browser either way.
   *
   * @default 'expire'
   */
  readonly oldRecord?: 'expire' | 'keep' | 'delete';
  /**
   * With `oldRecord: 'expire'`: how long the old record stays after the adoption, for the
   * requests of the same browser already on their way with the old cookie. Milliseconds,
   * or a string with its unit (`'30s'`); at least `'1s'`.
   *
   * @default '30s'
   */
  readonly grace?: Duration;
}

/** How long `oldRecord: 'expire'` leaves the old record, by default. */
const DEFAULT_GRACE = 30_000;

/** express-session's default cookie name. */
const DEFAULT_NAME = 'connect.sid';
/** The prefix express-session puts before a signed value (`s:` + sid + `.` + signature). */
const SIGNED_PREFIX = 's:';

/**
 * Adopts the sessions of express-session: reads the signed `connect.sid` cookie, checks
 * its signature against every secret as express-session does (HMAC-SHA256, compared in
 * constant time), reads the record from the old store, and hands its values to the
 * manager, which starts a new session (a new id, never the old sid) and expires the old
 * cookie in the same response.
 *
 * - A cookie that is not signed (`s:`), or signed with none of the secrets, is not
 *   adopted, and its sid never reaches the store.
 * - A record that is missing, or whose `cookie.expires` is at or before the manager's
 *   clock (or is not a date), is not adopted.
 * - Without `map`, the record's own keys are carried over except express-session's
 *   `cookie` bookkeeping: passport's `passport: { user }` as it is (give a `map` to make
 *   it a `userId`).
 * - The old record is written back to expire in `grace` (30 s), kept, or deleted after
 *   the new session is saved (see {@link ExpressSessionAdopterOptions.oldRecord}), and
 *   always deleted when the adopting request logs out.
 *
 * @typeParam T - The new session's values.
 * @example
 * ```ts
 * import { RedisStore } from 'connect-redis';
 * import { createClient } from 'redis';
 * import { SessionManager } from 'kit-session';
 * import { ExpressSessionAdopter } from 'kit-session/adopt/express-session';
 * import { RedisSessionStore } from 'kit-session/redis';
 *
 * const redis = await createClient({ url: process.env.REDIS_URL }).connect();
 * // The store object and the secret list express-session was given.
 * const oldStore = new RedisStore({ client: redis, prefix: 'sess:' });
 * // kit-session's own records under another prefix than the old ones.
 * const manager = new SessionManager<{ userId: string; cart: string[] }>(new RedisSessionStore(redis, { prefix: 'kit:' }), {
 *   ownerKey: 'userId',
 *   adopt: new ExpressSessionAdopter({
 *     secret: [process.env.SESSION_SECRET!, process.env.OLD_SESSION_SECRET!],
 *     store: oldStore,
 *     // passport kept the user in `passport.user`: carry it as `userId`, with the cart.
 *     map: (data) => {
 *       const user = (data.passport as { user?: string } | undefined)?.user;
 *       return user === undefined ? undefined : { userId: user, cart: (data.cart as string[] | undefined) ?? [] };
 *     },
 *     until: new Date('2027-03-01'), // the end of the switch: nothing is adopted after
 *   }),
 * });
 * ```
 */
export class ExpressSessionAdopter<T extends object = Record<string, unknown>> extends CookieAdopter<T, ExpressSessionData> {
  /** `'express-session'`: what the adopted sessions come from, in errors and logs. */
  readonly source = 'express-session';
  readonly #secrets: readonly string[];
  readonly #store: ExpressSessionStoreLike;
  readonly #oldRecord: 'expire' | 'keep' | 'delete';
  readonly #grace: number;

  /**
   * @param options - The secret list and store express-session was given, its cookie
   *   name, what becomes of the old record, and the {@link CookieAdopterOptions}.
   * @throws TypeError naming the option when `secret` is missing, empty or not strings,
   *   `store` has no `get` and `destroy` methods (nor `set`, with `oldRecord: 'expire'`),
   *   `oldRecord` is not `'expire'`, `'keep'` or `'delete'`, `grace` is under a second or
   *   given without `'expire'`, or `name`, `path`, `domain`, `map` or `until` is invalid.
   */
  constructor(options: ExpressSessionAdopterOptions<T>) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError('options must be an object with secret and store');
    }
    const { secret, store, name = DEFAULT_NAME, oldRecord = 'expire', grace, ...cookieOptions } = options;
    if (typeof name !== 'string' || name === '') {
      throw new TypeError('name must be a non-empty string (the old cookie name)');
    }
    super(name, cookieOptions);
    const secrets: readonly unknown[] = typeof secret === 'string' ? [secret] : Array.isArray(secret) ? secret : [];
    if (secrets.length === 0 || secrets.some((one) => typeof one !== 'string' || one === '')) {
      throw new TypeError('secret must be a non-empty string or a non-empty list of them (express-session\'s secret option)');
    }
    if (typeof store?.get !== 'function' || typeof store.destroy !== 'function') {
      throw new TypeError('store must be an express-session store, with get and destroy methods');
    }
    if (oldRecord !== 'expire' && oldRecord !== 'keep' && oldRecord !== 'delete') {
      throw new TypeError("oldRecord must be 'expire', 'keep' or 'delete'");
    }
    if (oldRecord === 'expire' && typeof store.set !== 'function') {
      throw new TypeError("store must have a set method for oldRecord: 'expire' (or give oldRecord: 'keep' or 'delete')");
    }
    if (grace !== undefined && oldRecord !== 'expire') {
      throw new TypeError("grace is for oldRecord: 'expire'");
    }
    this.#secrets = [...(secrets as readonly string[])];
    this.#store = store;
    this.#oldRecord = oldRecord;
    this.#grace = duration('grace', grace, DEFAULT_GRACE, { min: 1000 });
  }

  /**
   * Checks the signed cookie value and reads its record.
   *
   * @param value - The cookie's value, percent-decoded.
   * @param now - The manager's clock.
   * @param _request - Unused.
   * @returns The old session, or `undefined` when the signature fails or the record is missing or expired.
   * @throws Whatever the old store fails with (the manager makes it a `SessionStoreError`).
   * @example
   * ```ts
   * // a subclass that adopts only sessions with a user in them
   * protected override async open(value: string, now: number, request: RequestLike) {
   *   const opened = await super.open(value, now, request);
   *   return opened?.data.userId === undefined ? undefined : opened;
   * }
   * ```
   */
  protected open(value: string, now: number, _request: RequestLike): MaybePromise<OpenedSession<ExpressSessionData> | undefined> {
    const sid = unsign(value, this.#secrets);
    if (sid === undefined) {
      return undefined;
    }
    return this.#read(sid, now);
  }

  async #read(sid: string, now: number): Promise<OpenedSession<ExpressSessionData> | undefined> {
    const store = this.#store;
    const found = await callStore<unknown>((callback) => store.get(sid, callback), true);
    if (typeof found !== 'object' || found === null || Array.isArray(found)) {
      return undefined;
    }
    const data = found as ExpressSessionData;
    if (isExpired(data, now)) {
      return undefined;
    }
    const retire = (ended: boolean): Promise<void> | undefined => {
      if (ended || this.#oldRecord === 'delete') {
        return callStore<void>((callback) => store.destroy(sid, callback), false);
      }
      if (this.#oldRecord === 'keep') {
        return undefined;
      }
      return this.#expire(sid, now);
    };
    return { data, retire };
  }

  /**
   * Writes the old record back to expire `grace` after the adoption: read again first, so
   * that a record deleted meanwhile (a log-out in a parallel adopting request) is not
   * written back, and a record another adoption already shortened is never lengthened (a
   * copy of the old cookie replayed within the grace does not extend it). The store takes
   * its TTL from `cookie.expires`, and #read refuses the record after it by the same field.
   * A delete that lands between this read and the write can still be undone for the
   * grace: express-session's stores have no conditional write.
   */
  async #expire(sid: string, now: number): Promise<void> {
    const store = this.#store;
    const current = await callStore<unknown>((callback) => store.get(sid, callback), true);
    if (typeof current !== 'object' || current === null || Array.isArray(current)) {
      return;
    }
    const data = current as ExpressSessionData;
    if (isExpired(data, now)) {
      return;
    }
    const heldAt = expiresAt(data);
    const at = heldAt === undefined ? now + this.#grace : Math.min(heldAt, now + this.#grace);
    const shortened = { ...data, cookie: { ...data.cookie, expires: new Date(at).toISOString(), originalMaxAge: at - now } };
    await callStore<void>((callback) => store.set!(sid, shortened as never, callback), false);
  }

  /**
   * The record's own keys, without express-session's `cookie` bookkeeping.
   *
   * @param data - The old record.
   * @returns The values to carry over.
   * @example
   * ```ts
   * // { cookie: { expires: '…' }, userId: 'u1', cart: [] } → { userId: 'u1', cart: [] }
   * ```
   */
  protected override defaultValues(data: ExpressSessionData): Partial<T> | undefined {
    const { cookie: _cookie, ...values } = data;
    return values as Partial<T>;
  }
}

/**
 * express-session's `unsigncookie` over cookie-signature's `unsign`: the sid of
 * `s:<sid>.<base64 HMAC-SHA256(sid, secret) without '='>` when one of the secrets signed it.
 *
 * @param value - The cookie's value.
 * @param secrets - The secrets, tried in order.
 * @returns The sid, or `undefined`.
 */
function unsign(value: string, secrets: readonly string[]): string | undefined {
  if (!value.startsWith(SIGNED_PREFIX)) {
    return undefined;
  }
  const signed = value.slice(SIGNED_PREFIX.length);
  const dot = signed.lastIndexOf('.');
  if (dot <= 0) {
    return undefined;
  }
  const sid = signed.slice(0, dot);
  const given = Buffer.from(signed.slice(dot + 1), 'utf8');
  let found = false;
  for (const secret of secrets) {
    const expected = Buffer.from(createHmac('sha256', secret).update(sid, 'utf8').digest('base64').replace(/=+$/, ''), 'utf8');
    // Every secret is tried: the time taken does not tell which one matched.
    if (expected.length === given.length && timingSafeEqual(expected, given)) {
      found = true;
    }
  }
  return found ? sid : undefined;
}

/**
 * Whether express-session's record has expired by the manager's clock: its
 * `cookie.expires` is at or before `now`, or is not a date at all.
 */
function isExpired(data: ExpressSessionData, now: number): boolean {
  const expires = data.cookie?.expires;
  if (expires === undefined || expires === null) {
    return false;
  }
  const at = expiresAt(data);
  return at === undefined || at <= now;
}

/** The record's `cookie.expires` in milliseconds, or `undefined` when it holds no date. */
function expiresAt(data: ExpressSessionData): number | undefined {
  const expires = data.cookie?.expires;
  const at = expires instanceof Date ? expires.getTime() : typeof expires === 'string' ? Date.parse(expires) : Number.NaN;
  return Number.isNaN(at) ? undefined : at;
}

/**
 * Calls a callback-style store method as a promise; a store that also returns a promise,
 * or throws, settles it too (the first answer wins).
 *
 * @param invoke - Calls the method with the callback.
 * @param notFoundIsNone - Whether an `ENOENT` error means "none" (a file store's missing
 *   session), as express-session reads it in `get`.
 */
function callStore<R>(invoke: (callback: (error?: unknown, result?: R) => void) => unknown, notFoundIsNone: boolean): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    const callback = (error?: unknown, result?: R): void => {
      if (error !== undefined && error !== null && error !== false) {
        if (notFoundIsNone && (error as { code?: unknown }).code === 'ENOENT') {
          resolve(undefined as R);
        } else {
          reject(error);
        }
        return;
      }
      resolve(result as R);
    };
    let returned: unknown;
    try {
      returned = invoke(callback);
    } catch (error) {
      reject(error);
      return;
    }
    if (typeof (returned as { then?: unknown } | undefined)?.then === 'function') {
      (returned as Promise<unknown>).then(undefined, reject);
    }
  });
}
