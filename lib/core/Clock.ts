/**
 * The source of time for expiry. Inject a fake one in tests instead of sleeping.
 * @example
 * ```ts
 * let now = Date.UTC(2026, 0, 1);
 * const clock: Clock = { now: () => now };
 * const manager = new SessionManager(store, { idleTimeout: 60_000 }, clock);
 * now += 60_000; // a minute later, without sleeping
 * ```
 */
export interface Clock {
  /**
   * The current time.
   *
   * @returns Milliseconds since the Unix epoch.
   * @example
   * ```ts
   * const expireTime = clock.now() + 30 * 60_000; // half an hour from now
   * ```
   */
  now(): number;
}

/**
 * The real clock: `Date.now()`.
 * @example
 * ```ts
 * new SessionManager(store, {}, systemClock); // the default
 * ```
 */
export const systemClock: Clock = Object.freeze({ now: () => Date.now() });
