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
   * The absolute lifetime of a session in milliseconds, counted from its creation and
   * never extended.
   * @default 86_400_000 (24 hours)
   */
  readonly lifetime?: number;
  /**
   * End a session after this many milliseconds without a request. Each request moves
   * the expiry forward (never past the lifetime). Unset: no idle timeout.
   * @default undefined
   */
  readonly idleTimeout?: number;
  /**
   * With an idle timeout, an unchanged session is saved again to move its expiry only
   * when the expiry would move by at least this many milliseconds, so that a burst of
   * requests costs one write, not one each.
   * @default the smaller of one minute and a tenth of `idleTimeout`
   */
  readonly idleTouchInterval?: number;
  /**
   * After a session's id changes (`renew()` at log-in, or `renewalInterval`), how long,
   * in milliseconds, a request of the same browser that still carries the old id (sent
   * before the new cookie arrived) is served the session as it was, read-only: it saves
   * nothing and sends no cookie, so it never logs the browser out, and it never sees the
   * new id or anything set after the renewal. After the window, the old id is unknown.
   * Needs a store that renews atomically (memory, Redis, PostgreSQL); 0 turns it off.
   * @default 30_000 (30 seconds)
   */
  readonly renewalGrace?: number;
  /**
   * Renews the id of a session in use at most this many milliseconds after it was
   * issued (OWASP's renewal timeout): the first request after that gets a new id, with
   * the same values and authentication time, and the guarantees of `renewalGrace`.
   * @default undefined (no periodic renewal)
   */
  readonly renewalInterval?: number;
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
   * (the socket's address, which the Node adapters fill in) or a header a trusted proxy sets.
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
}

/**
 * Options of revocable sealed cookies (`SessionManagerOptions.revocation`).
 */
export interface SessionRevocationOptions {
  /** Where owners' generations live: `MemoryOwnerGenerations`, `RedisOwnerGenerations`, `PostgresOwnerGenerations`. */
  readonly generations: OwnerGenerations;
  /**
   * How long, in milliseconds, an owner's generation read by this process is trusted
   * before it is read again: at most one read per owner in that time, and the longest a
   * cookie revoked by another process stays usable here. A revocation made through this
   * manager applies in this process at once. 0 reads on every request.
   * @default 5000
   */
  readonly maxStaleness?: number;
  /**
   * When the generations cannot be read (the server is down): `'fail'` makes the
   * request fail with `SessionStoreError`, as a server-side store would; `'trust'`
   * uses the last generation read, however old, or, for an owner never read, accepts
   * the cookie as sealed.
   * @default 'fail'
   */
  readonly whenUnavailable?: 'fail' | 'trust';
}

/** The default lifetime: 24 hours. */
export const DEFAULT_LIFETIME = 24 * 60 * 60 * 1000;
/** How long a renewed id is still served, read-only: 30 seconds. */
export const DEFAULT_RENEWAL_GRACE = 30_000;

/** Every key of {@link SessionCookieOptions}. */
const COOKIE_OPTIONS = ['name', 'secure', 'httpOnly', 'sameSite', 'path', 'domain', 'persistent', 'maxAge', 'partitioned', 'chunking', 'maxTotalSize'] as const satisfies readonly (keyof SessionCookieOptions)[];

/** Every key of {@link SessionManagerOptions}. */
const MANAGER_OPTIONS = ['name', 'storage', 'cookie', 'transport', 'lifetime', 'idleTimeout', 'idleTouchInterval', 'renewalGrace', 'renewalInterval', 'maxCookieSize', 'ownerKey', 'maxSessionsPerOwner', 'whenOwnerFull', 'clientAddress', 'onEvent', 'revocation', 'telemetry'] as const satisfies readonly (keyof SessionManagerOptions)[];

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
  readonly revocation: Required<SessionRevocationOptions> | undefined;
  readonly telemetry: SessionTelemetry | undefined;
}

/**
 * Checks that an options object names only options that exist, so that a misspelt or
 * unsupported option (`cookie.maxAge`, `idleTimout`) fails when the object is built
 * instead of being ignored.
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
 * Reads a duration option that may be 0: only an unset one takes the default (`null` is
 * a wrong type, as for every number option).
 *
 * @internal
 * @param name - The option's name, for the message.
 * @param value - What was given.
 * @param fallback - The default when nothing was given.
 * @returns The value, or the fallback.
 * @throws TypeError when a value was given that is not a finite number, 0 or more.
 */
export function milliseconds(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) {
    return fallback;
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`${name} must be a number of milliseconds, 0 or more`);
  }
  return value;
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
    throw new TypeError('give lifetime (milliseconds) or cookie.maxAge (seconds), not both');
  }
  const maxAge = positive('cookie.maxAge', cookie.maxAge, undefined, 'seconds');
  const lifetime = maxAge === undefined ? positive('lifetime', options.lifetime, DEFAULT_LIFETIME) : maxAge * 1000;
  const contextName = options.name ?? transports[0]!.name;
  if (typeof contextName !== 'string' || contextName === '') {
    throw new TypeError('name must be a non-empty string');
  }
  const idleTimeout = positive('idleTimeout', options.idleTimeout, undefined);
  if (options.idleTouchInterval !== undefined && idleTimeout === undefined) {
    throw new TypeError('idleTouchInterval needs idleTimeout');
  }
  const idleTouchInterval = positive(
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
  const renewalGrace = milliseconds('renewalGrace', options.renewalGrace, DEFAULT_RENEWAL_GRACE);
  const renewalInterval = positive('renewalInterval', options.renewalInterval, undefined);
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
  };
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

function resolveRevocation(revocation: SessionRevocationOptions): Required<SessionRevocationOptions> {
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
  const maxStaleness = milliseconds('revocation.maxStaleness', revocation.maxStaleness, 5_000);
  if (whenUnavailable !== 'fail' && whenUnavailable !== 'trust') {
    throw new TypeError("revocation.whenUnavailable must be 'fail' or 'trust'");
  }
  return { generations, maxStaleness, whenUnavailable };
}
