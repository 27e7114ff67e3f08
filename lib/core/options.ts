import { resolveAdopters, type SessionAdopter } from './adoption.js';
import type { SessionEvent } from './events.js';
import type { SessionTelemetry } from './SessionTelemetry.js';
import { CookieTransport, type SessionCookieOptions } from './transport/CookieTransport.js';
import type { SessionTransport } from './transport/SessionTransport.js';
import type { RequestLike } from './http.js';
export type { SessionCookieOptions } from './transport/CookieTransport.js';
export { DEFAULT_COOKIE_NAME, DEFAULT_MAX_COOKIE_SIZE, DEFAULT_MAX_TOTAL_COOKIE_SIZE } from './transport/CookieTransport.js';
import type { OwnerGenerations, SessionStore } from './SessionStore.js';

/**
 * How a {@link SessionManager} behaves.
 */
export interface SessionManagerOptions {
  /**
   * The name of the key the session is held under in the request's `Context` (the
   * `name` of `@revas-hq/kit-session`); give two managers of one app two names.
   * @default the cookie's name
   */
  readonly name?: string;
  /**
   * The session cookie: the name and attributes of the default transport, a
   * `CookieTransport`. Not with `transport`.
   */
  readonly cookie?: SessionCookieOptions;
  /**
   * What carries the session's token: a `CookieTransport`, a `HeaderTransport` (for
   * clients that keep no cookies), one of the app's own, or several. With several, a
   * request's session travels through the first that finds a token in it; a request
   * with none is taken by the first that `accepts` it (a `HeaderTransport` accepts the
   * requests that carry its header), else by the first that names no such rule (a
   * cookie). Each binds its own name into the seal, so a token never opens on another.
   * @default a `CookieTransport` built from `cookie` and `maxCookieSize`
   */
  readonly transport?: SessionTransport | readonly SessionTransport[];
  /**
   * The store, for `createSessionManager({ name, cookie, storage })` (the shape of
   * `@revas-hq/kit-session`). `new SessionManager(store, options)` takes the store as its
   * first argument and refuses another one here.
   * @default undefined
   */
  // Any value type: a store of any session shape may be given.
  readonly storage?: SessionStore<any>;
  /**
   * The absolute lifetime of a session, counted from its creation and never extended:
   * a {@link Duration}, milliseconds as a number (`8 * 60 * 60 * 1000`) or a string with
   * its unit (`'8h'`). At least one minute, so that seconds given as a number
   * (`3600`, which would be 3.6 s) are refused. `cookie.maxAge` says the same in seconds.
   * @default 86_400_000 (`'24h'`)
   */
  readonly lifetime?: Duration;
  /**
   * End a session after this long without a request: a {@link Duration} (`'30m'`, or
   * milliseconds). Each request moves the expiry forward (never past the lifetime). At
   * least one minute, and no longer than `lifetime`. Unset: no idle timeout.
   * @default undefined
   */
  readonly idleTimeout?: Duration;
  /**
   * With an idle timeout, an unchanged session is saved again to move its expiry only
   * when the expiry would move by at least this much (a {@link Duration}), so that a
   * burst of requests costs one write, not one each. Shorter than `idleTimeout`.
   * @default the smaller of one minute and a tenth of `idleTimeout`
   */
  readonly idleTouchInterval?: Duration;
  /**
   * After a session's id changes (`renew()` at log-in, or `renewalInterval`), how long
   * (a {@link Duration}: `'30s'`, or milliseconds) a request of the same browser that
   * still carries the old id (sent
   * before the new cookie arrived) is served the session as it was, read-only: it saves
   * nothing and sends no cookie, so it never logs the browser out, and it never sees the
   * new id or anything set after the renewal. After the window, the old id is unknown.
   * Needs a store that renews atomically (memory, Redis, PostgreSQL); 0 turns it off,
   * and anything else is at least one second (a request in flight takes that long).
   * @default 30_000 (`'30s'`)
   */
  readonly renewalGrace?: Duration;
  /**
   * Renews the id of a session in use at most this long after it was issued (OWASP's
   * renewal timeout; a {@link Duration}, at least one minute): the first request after
   * that gets a new id, with the same values and authentication time, and the
   * guarantees of `renewalGrace`.
   * @default undefined (no periodic renewal)
   */
  readonly renewalInterval?: Duration;
  /**
   * The longest `Set-Cookie` header accepted, in bytes (the default transport's
   * `maxSize`). Browsers drop longer cookies without a word; the manager throws
   * `SessionCookieTooLargeError` instead. Not with `transport`.
   * @default 4096
   */
  readonly maxCookieSize?: number;
  /**
   * The name of the value that says who owns the session (a user id, say). When set,
   * each save files the session under its owner, and
   * `SessionManager.destroyOwnerSessions` can end all of one owner's sessions ("log
   * out everywhere"). Needs a store with that ability (memory, Redis, PostgreSQL).
   * @default undefined
   */
  readonly ownerKey?: string;
  /**
   * The most live sessions one owner may have (7.1.2 of OWASP ASVS 5.0: bound concurrent
   * sessions). Needs `ownerKey` and a store that lists sessions (memory, Redis,
   * PostgreSQL). What a log-in beyond it does is `whenOwnerFull`'s.
   * @default undefined (no bound)
   */
  readonly maxSessionsPerOwner?: number;
  /**
   * With `maxSessionsPerOwner`: `'evict'` ends the owner's session seen least recently
   * to make room for the new one; `'refuse'` saves nothing and the save rejects with
   * `SessionLimitError`.
   * @default 'evict'
   */
  readonly whenOwnerFull?: 'evict' | 'refuse';
  /**
   * Records each owned session's client address in its metadata (off unless given):
   * a function that reads it from the request, e.g. `(request) => request.clientAddress`
   * (Express's `req.ip` and Fastify's `request.ip`, which follow the app's trust-proxy
   * setting, or node:http's socket address; a Web `Request` has none), or a header that
   * a proxy the app trusts sets (never a header a client can send past it).
   * @default undefined (no address recorded)
   */
  readonly clientAddress?: (request: RequestLike) => string | undefined;
  /**
   * Called for each session event, for audit logs: `created`, `renewed`, `destroyed`,
   * `expired` (a cookie came in for a session that had ended), `evicted` (by
   * `maxSessionsPerOwner`), `revoked` (a sealed cookie older than its owner's
   * generation). The event carries the session's handle (a hash of its id), never the
   * id. An error it throws, and a promise it returns that rejects, are ignored: they
   * never fail the request.
   * @default undefined
   */
  readonly onEvent?: (event: SessionEvent) => void;
  /**
   * Revocable sealed cookies: each log-in seals its owner's current generation into the
   * cookie, `destroyOwnerSessions` (and `destroyOtherSessions`) move it forward, and a
   * cookie sealed with an older generation opens as a fresh session. Needs `ownerKey`.
   * See {@link SessionRevocationOptions}.
   * @default undefined (a sealed cookie stays valid until it expires)
   */
  readonly revocation?: SessionRevocationOptions;
  /**
   * Metrics and traces of loads, saves, store calls and session events: an object that
   * implements the manager's telemetry hooks, such as `new SessionOpenTelemetry()` from
   * `kit-session/otel` (OpenTelemetry). Without it the manager reports nothing and loads
   * nothing of OpenTelemetry. See docs/telemetry.md.
   * @default undefined (no telemetry)
   */
  readonly telemetry?: SessionTelemetry;
  /**
   * Takes over sessions another library made, once per browser, so that switching to
   * kit-session logs nobody out: a request that carries no token of this manager's but a
   * valid session of the old library gets a new session (a new id, never the old one)
   * with the old values, the old cookie is expired in the same response, and the old
   * record is retired as the adopter's options say. The adopters are asked in order;
   * the first that answers wins. See docs/migrating.md and `ExpressSessionAdopter`
   * (kit-session/adopt/express-session), `IronSessionAdopter`
   * (kit-session/adopt/iron-session), `ReactRouterCookieAdopter` (kit-session/adopt/react-router).
   * @default undefined (nothing is adopted)
   */
  readonly adopt?: SessionAdopter<any> | readonly SessionAdopter<any>[];
  /**
   * When the adapters (`kit-session/node`, `/fetch`, `/express`, `/fastify`, `/hono`,
   * `/react-router`, `/nest`) load a request's session. A session loaded on its first
   * touch costs a request that never touches it nothing: no cookie opened, no store read,
   * no header sent, and its idle expiry does not move.
   * - `'auto'`: on first touch when every store declares that its loads never wait
   *   (`SessionStore.loadsAtOnce`: the sealed cookie store on node:crypto or sodium-native)
   *   and neither `adopt` nor `revocation` is set, whose loads wait; before the handler
   *   otherwise (Redis, PostgreSQL, the memory store, Web Crypto).
   * - `'lazy'`: always on first touch; where the store answers with a promise, the app
   *   calls `await session.load()` before touching the session (a touch before throws
   *   `SessionLoadPendingError`).
   * - `'eager'`: always before the handler, as `extractSession` does.
   *
   * `extractSession` and the hooks load at once whatever this says.
   * @default 'auto'
   */
  readonly load?: 'auto' | 'lazy' | 'eager';
}

/**
 * Options of revocable sealed cookies (`SessionManagerOptions.revocation`).
 */
export interface SessionRevocationOptions {
  /** Where owners' generations live: `MemoryOwnerGenerations`, `RedisOwnerGenerations`, `PostgresOwnerGenerations`. */
  readonly generations: OwnerGenerations;
  /**
   * How long an owner's generation read by this process is trusted before it is read
   * again (a {@link Duration}: `'5s'`, or milliseconds): at most one read per owner in
   * that time, and the longest a cookie revoked by another process stays usable here. A
   * revocation made through this manager applies in this process at once. 0 reads on
   * every request.
   * @default 5000 (`'5s'`)
   */
  readonly maxStaleness?: Duration;
  /**
   * When the generations cannot be read (the server is down): `'fail'` makes the
   * request fail with `SessionStoreError`, as a server-side store would; `'trust'`
   * uses the last generation read, however old, or, for an owner never read, accepts
   * the cookie as sealed.
   * @default 'fail'
   */
  readonly whenUnavailable?: 'fail' | 'trust';
}

/**
 * A unit a {@link Duration} string may name: milliseconds, seconds, minutes, hours or
 * days.
 * @example
 * ```ts
 * const unit: DurationUnit = 'h';
 * const lifetime: Duration = `${8}${unit}`; // '8h'
 * ```
 */
export type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd';

/**
 * A length of time, as every duration option of kit-session takes it: a number is
 * milliseconds (as JavaScript's timers and `Date` count), and a string names its unit
 * (`'500ms'`, `'30s'`, `'30m'`, `'8h'`, `'7d'`), so that nobody has to remember which.
 * The one option counted in seconds is `cookie.maxAge`, the name and unit of
 * `@revas-hq/kit-session`, which also bounds it to what a cookie can mean.
 *
 * @example
 * ```ts
 * const options: SessionManagerOptions = { lifetime: '8h', idleTimeout: '30m', renewalGrace: 30_000 };
 * ```
 */
export type Duration = number | `${number}${DurationUnit}`;

/** Milliseconds in one of each {@link DurationUnit}. */
const UNIT_MILLISECONDS: Readonly<Record<DurationUnit, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration string: a number with no sign or exponent, then its unit. */
const DURATION_TEXT = /^(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h|d)$/;

/**
 * @internal The shortest `lifetime`, `idleTimeout` and `renewalInterval`: one minute. Shorter is no
 * session a person can use, and it is where a number of seconds lands when it is read
 * as milliseconds (`lifetime: 3600`, an hour meant, is 3.6 s).
 */
export const MIN_SESSION_DURATION = 60_000;

/** @internal The shortest `renewalGrace` but 0 (off): one second, the time a request is in flight. */
export const MIN_RENEWAL_GRACE = 1000;

/**
 * @internal The longest `cookie.maxAge`: 400 days in seconds, the longest a browser keeps a cookie
 * (RFC 6265bis). Longer is where a number of milliseconds lands (`maxAge: 86_400_000`,
 * a day meant, is 1000 days).
 */
export const MAX_COOKIE_MAX_AGE = 400 * 24 * 60 * 60;

/** The default lifetime: 24 hours. */
export const DEFAULT_LIFETIME = 24 * 60 * 60 * 1000;
/** How long a renewed id is still served, read-only: 30 seconds. */
export const DEFAULT_RENEWAL_GRACE = 30_000;

/** Every key of {@link SessionCookieOptions}. */
const COOKIE_OPTIONS = ['name', 'secure', 'httpOnly', 'sameSite', 'path', 'domain', 'persistent', 'maxAge', 'partitioned', 'chunking', 'maxTotalSize'] as const satisfies readonly (keyof SessionCookieOptions)[];

/** Every key of {@link SessionManagerOptions}. */
const MANAGER_OPTIONS = ['name', 'storage', 'cookie', 'transport', 'lifetime', 'idleTimeout', 'idleTouchInterval', 'renewalGrace', 'renewalInterval', 'maxCookieSize', 'ownerKey', 'maxSessionsPerOwner', 'whenOwnerFull', 'clientAddress', 'onEvent', 'revocation', 'telemetry', 'adopt', 'load'] as const satisfies readonly (keyof SessionManagerOptions)[];

/**
 * Options with every default filled in and every rule checked.
 *
 * @internal
 */
export interface ResolvedOptions {
  /** The transports, the default one (a cookie) when none was given; never empty. */
  readonly transports: readonly SessionTransport[];
  /** The context key's name. */
  readonly contextName: string;
  readonly lifetime: number;
  readonly idleTimeout: number | undefined;
  readonly idleTouchInterval: number;
  readonly renewalGrace: number;
  readonly renewalInterval: number | undefined;
  readonly ownerKey: string | undefined;
  readonly maxSessionsPerOwner: number | undefined;
  readonly whenOwnerFull: 'evict' | 'refuse';
  readonly clientAddress: ((request: RequestLike) => string | undefined) | undefined;
  readonly onEvent: ((event: SessionEvent) => void) | undefined;
  readonly revocation: ResolvedRevocation | undefined;
  readonly telemetry: SessionTelemetry | undefined;
  /** The adopters of other libraries' sessions, in the order they are asked; often none. */
  readonly adopters: readonly SessionAdopter<any>[];
  /** When adapters load a request's session. */
  readonly load: 'auto' | 'lazy' | 'eager';
}

/**
 * The revocation options with every default filled in, durations in milliseconds.
 *
 * @internal
 */
export interface ResolvedRevocation extends Required<SessionRevocationOptions> {
  readonly maxStaleness: number;
}

/**
 * Checks that an options object names only options that exist, so that a misspelt or
 * unsupported option (`idleTimout`, `maxAge` beside `keys`) fails when the object is
 * built instead of being ignored.
 *
 * @internal
 * @param what - What the options belong to, for the message (`'SessionManager options'`).
 * @param options - The options given, if any.
 * @param known - Every option name the object accepts.
 * @throws TypeError naming the first unknown option, or when `options` is not an object.
 */
export function checkOptionKeys(what: string, options: unknown, known: readonly string[]): void {
  if (options === undefined) {
    return;
  }
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${what} must be an object`);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new TypeError(`${what} have no option "${key}" (known: ${known.join(', ')})`);
    }
  }
}

/**
 * Reads a boolean option, so that untyped configuration (`'false'`, `0`, `'no'`) fails
 * when the object is built instead of being read by its truthiness.
 *
 * @internal
 * @param name - The option's name, for the message (`'cookie.secure'`).
 * @param value - What was given.
 * @param fallback - The default when nothing was given.
 * @returns The value, or the fallback.
 * @throws TypeError naming the option when a value was given that is not `true` or
 *   `false` (the message never holds the value).
 */
export function booleanOption(name: string, value: boolean | undefined, fallback: boolean): boolean {
  if (value === undefined) {
    return fallback;
  }
  if (typeof value !== 'boolean') {
    throw new TypeError(`${name} must be true or false`);
  }
  return value;
}

/**
 * The longest delay, in milliseconds, a timer takes (`setTimeout`, `setInterval`): a
 * longer one fires at once.
 *
 * @internal
 */
export const MAX_TIMER_DELAY = 2_147_483_647;

/**
 * The unit a number option is given in, for its error message.
 *
 * @internal
 */
export type OptionUnit = 'milliseconds' | 'seconds' | 'bytes' | 'entries';

/** @internal */
export function positive(name: string, value: number | undefined, fallback: number, unit?: OptionUnit, max?: number): number;
/** @internal */
export function positive(
  name: string,
  value: number | undefined,
  fallback: undefined,
  unit?: OptionUnit,
  max?: number,
): number | undefined;
/**
 * Reads a positive, finite number option.
 *
 * @internal
 * @param name - The option's name, for the message.
 * @param value - What was given.
 * @param fallback - The default when nothing was given.
 * @param unit - What the number counts, for the message.
 * @param max - The largest value accepted (a timer's delay: {@link MAX_TIMER_DELAY}).
 * @returns The value, or the fallback.
 * @throws TypeError when a value was given that is not a positive, finite number, or
 *   is more than `max`.
 */
export function positive(
  name: string,
  value: number | undefined,
  fallback: number | undefined,
  unit: OptionUnit = 'milliseconds',
  max = Number.MAX_VALUE,
): number | undefined {
  if (value === undefined) {
    return fallback;
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`${name} must be a positive, finite number of ${unit}`);
  }
  if (value > max) {
    throw new TypeError(`${name} must be at most ${max} ${unit}`);
  }
  return value;
}

/** @internal */
export function positiveInteger(name: string, value: number | undefined, fallback: number): number;
/** @internal */
export function positiveInteger(name: string, value: number | undefined, fallback: undefined): number | undefined;
/**
 * Reads a positive integer option (a count).
 *
 * @internal
 * @param name - The option's name, for the message.
 * @param value - What was given.
 * @param fallback - The default when nothing was given.
 * @returns The value, or the fallback.
 * @throws TypeError naming the option when a value was given that is not a positive
 *   safe integer.
 */
export function positiveInteger(name: string, value: number | undefined, fallback: number | undefined): number | undefined {
  if (value === undefined) {
    return fallback;
  }
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new TypeError(`${name} must be a positive integer`);
  }
  return value;
}

/**
 * How a duration option is bounded, for {@link duration}.
 *
 * @internal
 */
export interface DurationRule {
  /** The shortest accepted (but 0 with `zero`), in milliseconds. @default any more than 0 */
  readonly min?: number;
  /** Whether 0 is accepted (an option that 0 turns off). @default false */
  readonly zero?: boolean;
  /** The longest accepted, in milliseconds (a timer's delay: {@link MAX_TIMER_DELAY}). */
  readonly max?: number;
}

/** @internal */
export function duration(name: string, value: Duration | undefined, fallback: number, rule?: DurationRule): number;
/** @internal */
export function duration(name: string, value: Duration | undefined, fallback: undefined, rule?: DurationRule): number | undefined;
/**
 * Reads a {@link Duration} option: a number of milliseconds, or a string with its unit.
 * A number shorter than the option's minimum is refused with a message that says
 * numbers are milliseconds, since that is what a number of seconds looks like.
 *
 * @internal
 * @param name - The option's name, for the message (`'lifetime'`).
 * @param value - What was given.
 * @param fallback - The default when nothing was given (only an unset option takes it:
 *   `null` is a wrong type, as for every number option).
 * @param rule - The bounds.
 * @returns The duration in milliseconds, or the fallback.
 * @throws TypeError naming the option and the unit when the value is not a finite number
 *   nor a duration string, or is out of bounds (the message never holds the value).
 */
export function duration(name: string, value: Duration | undefined, fallback: number | undefined, rule: DurationRule = {}): number | undefined {
  if (value === undefined) {
    return fallback;
  }
  const { min, zero = false, max } = rule;
  const shortest = min === undefined ? 'more than 0' : `at least ${describeMilliseconds(min)} (${min} milliseconds)`;
  const allowed = zero ? `0 or ${shortest}` : shortest;
  let ms: number;
  let text = false;
  if (typeof value === 'number' && Number.isFinite(value)) {
    ms = value;
  } else if (typeof value === 'string' && DURATION_TEXT.test(value)) {
    const [, amount, unit] = DURATION_TEXT.exec(value)!;
    ms = Number(amount) * UNIT_MILLISECONDS[unit as DurationUnit];
    text = true;
  } else {
    throw new TypeError(`${name} must be a number of milliseconds, or a string that names its unit ('30s', '30m', '8h', '7d'): ${allowed}`);
  }
  if ((ms === 0 && zero) || ((min === undefined ? ms > 0 : ms >= min) && (max === undefined || ms <= max))) {
    return ms;
  }
  if (max !== undefined && ms > max) {
    throw new TypeError(`${name} must be at most ${describeMilliseconds(max)} (${max} milliseconds)`);
  }
  if (!text && min !== undefined && ms > 0) {
    throw new TypeError(
      `${name} must be ${allowed}: a number is milliseconds, not seconds; write the unit ('30m', '8h') or multiply by 1000`,
    );
  }
  throw new TypeError(`${name} must be ${allowed}`);
}

/** A whole number of milliseconds in words, for a message: `'1 minute'`, `'1 second'`. */
function describeMilliseconds(ms: number): string {
  for (const [unit, size] of [['day', 86_400_000], ['hour', 3_600_000], ['minute', 60_000], ['second', 1000]] as const) {
    if (ms >= size && ms % size === 0) {
      const count = ms / size;
      return `${count} ${unit}${count === 1 ? '' : 's'}`;
    }
  }
  return `${ms} ms`;
}

/**
 * Fills in defaults and checks the rules browsers enforce, so a bad option fails when
 * the manager is built rather than silently in a browser.
 *
 * @internal
 * @param options - The options given.
 * @returns The options to use.
 * @throws TypeError when an option is invalid.
 */
export function resolveOptions(options: SessionManagerOptions = {}): ResolvedOptions {
  checkOptionKeys('SessionManager options', options, MANAGER_OPTIONS);
  const cookie = options.cookie ?? {};
  const transports = resolveTransports(options);
  if (options.lifetime !== undefined && cookie.maxAge !== undefined) {
    throw new TypeError('give lifetime (milliseconds, or a string with its unit) or cookie.maxAge (seconds), not both');
  }
  const maxAge = cookieMaxAge(cookie.maxAge);
  const lifetime = maxAge === undefined ? duration('lifetime', options.lifetime, DEFAULT_LIFETIME, { min: MIN_SESSION_DURATION }) : maxAge * 1000;
  const contextName = options.name ?? transports[0]!.name;
  if (typeof contextName !== 'string' || contextName === '') {
    throw new TypeError('name must be a non-empty string');
  }
  const idleTimeout = duration('idleTimeout', options.idleTimeout, undefined, { min: MIN_SESSION_DURATION });
  if (options.idleTouchInterval !== undefined && idleTimeout === undefined) {
    throw new TypeError('idleTouchInterval needs idleTimeout');
  }
  const idleTouchInterval = duration(
    'idleTouchInterval',
    options.idleTouchInterval,
    idleTimeout === undefined ? 60_000 : Math.min(60_000, idleTimeout / 10),
  );
  if (idleTimeout !== undefined && idleTimeout > lifetime) {
    // The lifetime ends the session first: an idle timeout that long would never apply.
    throw new TypeError('idleTimeout must not be longer than lifetime');
  }
  if (idleTimeout !== undefined && idleTouchInterval >= idleTimeout) {
    // The expiry could never move by that much: active sessions would still time out.
    throw new TypeError('idleTouchInterval must be shorter than idleTimeout');
  }
  const renewalGrace = duration('renewalGrace', options.renewalGrace, DEFAULT_RENEWAL_GRACE, { min: MIN_RENEWAL_GRACE, zero: true });
  const renewalInterval = duration('renewalInterval', options.renewalInterval, undefined, { min: MIN_SESSION_DURATION });
  const { ownerKey } = options;
  if (ownerKey !== undefined && (typeof ownerKey !== 'string' || ownerKey === '')) {
    throw new TypeError('ownerKey must be a non-empty string');
  }
  const { whenOwnerFull = 'evict', clientAddress, onEvent, revocation, telemetry } = options;
  const maxSessionsPerOwner = positiveInteger('maxSessionsPerOwner', options.maxSessionsPerOwner, undefined);
  if ((maxSessionsPerOwner !== undefined || revocation !== undefined) && ownerKey === undefined) {
    throw new TypeError('maxSessionsPerOwner and revocation need the ownerKey option');
  }
  if (whenOwnerFull !== 'evict' && whenOwnerFull !== 'refuse') {
    throw new TypeError("whenOwnerFull must be 'evict' or 'refuse'");
  }
  for (const [key, value] of [['clientAddress', clientAddress], ['onEvent', onEvent]] as const) {
    if (value !== undefined && typeof value !== 'function') {
      throw new TypeError(`${key} must be a function`);
    }
  }
  const { load = 'auto' } = options;
  if (load !== 'auto' && load !== 'lazy' && load !== 'eager') {
    throw new TypeError("load must be 'auto', 'lazy' or 'eager'");
  }
  if (telemetry !== undefined && typeof (telemetry as Partial<SessionTelemetry> | null)?.attach !== 'function') {
    throw new TypeError('telemetry must be a session telemetry, with an attach method (new SessionOpenTelemetry() from kit-session/otel)');
  }

  return {
    transports,
    contextName,
    lifetime,
    idleTimeout,
    idleTouchInterval,
    renewalGrace,
    renewalInterval,
    ownerKey,
    maxSessionsPerOwner,
    whenOwnerFull,
    clientAddress,
    onEvent,
    revocation: revocation === undefined ? undefined : resolveRevocation(revocation),
    telemetry,
    adopters: resolveAdopters(options.adopt, transports),
    load,
  };
}

/**
 * Reads `cookie.maxAge`: the lifetime in seconds, the seed's name and unit. Bounded to
 * what a cookie can mean, so that milliseconds given here are refused.
 *
 * @param maxAge - What was given.
 * @returns The seconds, or `undefined` when it was not given.
 * @throws TypeError naming the option and the unit when it is not a finite number of
 *   seconds from one minute to 400 days.
 */
function cookieMaxAge(maxAge: number | undefined): number | undefined {
  if (maxAge === undefined) {
    return undefined;
  }
  const seconds = MIN_SESSION_DURATION / 1000;
  if (typeof maxAge !== 'number' || !Number.isFinite(maxAge) || maxAge <= 0) {
    throw new TypeError(`cookie.maxAge must be a positive, finite number of seconds (or give lifetime, which takes a unit: '8h')`);
  }
  if (maxAge < seconds) {
    throw new TypeError(`cookie.maxAge is in seconds and must be at least ${seconds} (1 minute)`);
  }
  if (maxAge > MAX_COOKIE_MAX_AGE) {
    throw new TypeError(
      `cookie.maxAge is in seconds and must be at most ${MAX_COOKIE_MAX_AGE} (400 days, the longest a browser keeps a cookie): ` +
        `a number of milliseconds is 1000 times too large; give seconds, or lifetime: '7d'`,
    );
  }
  return maxAge;
}

/**
 * The manager's transports: those given, or a `CookieTransport` built from `cookie` and
 * `maxCookieSize` (`cookie.maxAge` is the lifetime, read by resolveOptions).
 */
function resolveTransports(options: SessionManagerOptions): readonly SessionTransport[] {
  const { transport } = options;
  if (transport === undefined) {
    checkOptionKeys('cookie options', options.cookie, COOKIE_OPTIONS);
    const { maxAge: _lifetime, ...cookie } = options.cookie ?? {};
    return [new CookieTransport({ ...cookie, ...(options.maxCookieSize === undefined ? {} : { maxSize: options.maxCookieSize }) })];
  }
  if (options.cookie !== undefined || options.maxCookieSize !== undefined) {
    throw new TypeError('cookie and maxCookieSize build the default transport: with transport, give them to its CookieTransport');
  }
  const list: readonly unknown[] = Array.isArray(transport) ? transport : [transport];
  if (list.length === 0) {
    throw new TypeError('transport must name at least one transport');
  }
  const names = new Set<string>();
  for (const item of list) {
    if (!isTransport(item)) {
      throw new TypeError('transport must be a session transport, with name, read, write, clear and checkTokenLength');
    }
    if (names.has(item.name)) {
      throw new TypeError('transport names two transports of one name: each binds its name into the seal');
    }
    names.add(item.name);
  }
  return list as readonly SessionTransport[];
}

function isTransport(value: unknown): value is SessionTransport {
  const transport = value as Partial<SessionTransport> | null;
  return (
    typeof transport === 'object' &&
    transport !== null &&
    typeof transport.name === 'string' &&
    transport.name !== '' &&
    typeof transport.read === 'function' &&
    typeof transport.write === 'function' &&
    typeof transport.clear === 'function' &&
    typeof transport.checkTokenLength === 'function'
  );
}

function resolveRevocation(revocation: SessionRevocationOptions): ResolvedRevocation {
  checkOptionKeys('revocation options', revocation, ['generations', 'maxStaleness', 'whenUnavailable']);
  const { generations, whenUnavailable = 'fail' } = revocation;
  if (
    typeof generations !== 'object' ||
    generations === null ||
    typeof generations.current !== 'function' ||
    typeof generations.bump !== 'function'
  ) {
    throw new TypeError('revocation.generations must have current and bump methods');
  }
  // Only an unset one takes the default: null is a wrong type, as for every number option.
  const maxStaleness = duration('revocation.maxStaleness', revocation.maxStaleness, 5_000, { zero: true });
  if (whenUnavailable !== 'fail' && whenUnavailable !== 'trust') {
    throw new TypeError("revocation.whenUnavailable must be 'fail' or 'trust'");
  }
  return { generations, maxStaleness, whenUnavailable };
}
