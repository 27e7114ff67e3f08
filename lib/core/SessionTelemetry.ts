// Telemetry hooks (core): what a manager tells its `telemetry` option about each load,
// save and session event. Core defines the hooks and calls them; `kit-session/otel`
// implements them over OpenTelemetry. Without the option the manager calls nothing:
// no object, no closure, no promise per request.
import type { SessionEventReason, SessionEventType } from './events.js';
import type { SessionStore } from './SessionStore.js';

/**
 * How a load (`extractSession`) ended:
 * - `absent`: the request carried no token;
 * - `loaded`: the token's session was live and is the request's;
 * - `superseded`: the token's session was renewed by another request moments ago, and
 *   is served read-only in its grace window;
 * - `not_found`: the store knew nothing of the token (unknown, ended, tampered with,
 *   sealed with a key no longer listed): a fresh session;
 * - `expired`: the store still held it, past its idle timeout or lifetime: a fresh session;
 * - `revoked`: its sealed generation was older than its owner's: a fresh session;
 * - `error`: it threw (the store's infrastructure failed).
 */
export type SessionLoadOutcome = 'absent' | 'loaded' | 'superseded' | 'not_found' | 'expired' | 'revoked' | 'error';

/**
 * How a save (`injectSession`) ended:
 * - `unchanged`: nothing to write, nothing sent;
 * - `saved`: the request's changes were written (a new session, or a changed one);
 * - `touched`: an unchanged session was written only to move its idle expiry, record
 *   when it was last seen, or seal it again with the newest key;
 * - `renewed`: written under a new id (`renew()`, or `renewalInterval`);
 * - `destroyed`: ended and its token cleared;
 * - `stale`: renewed or ended by another request meanwhile: nothing written or sent;
 * - `lost`: ended elsewhere between its load and its save: nothing written or sent;
 * - `error`: it threw (the store failed, the token too large, the session not loaded).
 */
export type SessionSaveOutcome = 'unchanged' | 'saved' | 'touched' | 'renewed' | 'destroyed' | 'stale' | 'lost' | 'error';

/** The store method a timed store call ran. */
export type SessionStoreOperation = 'getSession' | 'setSession' | 'patchSession' | 'renewSession' | 'deleteSession';

/**
 * One load or save in flight, as a manager reports it: the store calls it made and how it
 * ended.
 *
 * @typeParam O - Its outcomes: {@link SessionLoadOutcome} or {@link SessionSaveOutcome}.
 */
export interface SessionOperationProbe<O extends string> {
  /**
   * Runs one store call of the operation and times it: the call runs at once, within
   * the operation's trace context (so a span the store's client starts is its child).
   *
   * @param operation - The store method called.
   * @param call - The call: its value, or a promise of it.
   * @returns What the call returned, the same promise or value.
   * @example
   * ```ts
   * const record = await probe.callStore('getSession', () => store.getSession(token));
   * ```
   */
  callStore<R>(operation: SessionStoreOperation, call: () => R): R;
  /**
   * Ends the operation, once.
   *
   * @param outcome - How it ended.
   * @param error - With `'error'`, what the manager throws.
   * @example
   * ```ts
   * probe.end('loaded');
   * ```
   */
  end(outcome: O, error?: unknown): void;
}

/**
 * The hooks one manager calls; built by {@link SessionTelemetry.attach} when the manager
 * is built. None of them may throw.
 */
export interface SessionTelemetryHooks {
  /**
   * Begins a load: called first thing in `extractSession`.
   *
   * @returns The load's probe.
   * @example
   * ```ts
   * const probe = hooks.startLoad();
   * ```
   */
  startLoad(): SessionOperationProbe<SessionLoadOutcome>;
  /**
   * Begins a save: called first thing in `injectSession`.
   *
   * @returns The save's probe.
   * @example
   * ```ts
   * const probe = hooks.startSave();
   * ```
   */
  startSave(): SessionOperationProbe<SessionSaveOutcome>;
  /**
   * Told of each session event the manager reports (those of `onEvent`, without their
   * handle and owner): `created`, `renewed`, `destroyed`, `expired`, `evicted`, `revoked`.
   *
   * @param type - What happened.
   * @param reason - Why.
   * @example
   * ```ts
   * hooks.event('evicted', 'limit');
   * ```
   */
  event(type: SessionEventType, reason: SessionEventReason): void;
}

/** What a manager tells its telemetry about itself, once, when it is built. */
export interface SessionTelemetryTarget {
  /** The manager's name (its first transport's: the cookie's name by default). */
  readonly name: string;
  /** The store the manager was given, as given (an `EncryptingStoreDecorator`, say). */
  readonly store: SessionStore<unknown>;
}

/**
 * Metrics and traces of a manager's loads, saves and session events: the manager's
 * `telemetry` option. `kit-session/otel`'s `SessionOpenTelemetry` is one, over
 * OpenTelemetry; an app may write its own.
 *
 * @example
 * ```ts
 * import { SessionOpenTelemetry } from 'kit-session/otel';
 *
 * const manager = new SessionManager(store, { telemetry: new SessionOpenTelemetry() });
 * ```
 */
export interface SessionTelemetry {
  /**
   * Called once by each manager given this telemetry, when it is built.
   *
   * @param target - The manager's name and store.
   * @returns The hooks that manager calls.
   * @example
   * ```ts
   * const hooks = telemetry.attach({ name: '__Host-session', store });
   * ```
   */
  attach(target: SessionTelemetryTarget): SessionTelemetryHooks;
}
