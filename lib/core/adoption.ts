// Adoption (core): how a manager takes over a session another library made, once per
// browser, so that a switch to kit-session logs nobody out. The adopters themselves
// (express-session, iron-session, React Router) live behind kit-session/adopt/*.
import type { RequestLike } from './http.js';
import type { MaybePromise } from './SessionStore.js';

/**
 * Reads another library's session from a request that carries no kit-session token: the
 * `adopt` option of a {@link SessionManager}. When it answers, the manager starts a
 * session with a **new** id holding the values it gives, saves it at the end of the
 * request (so its cookie goes out), expires the old cookie in the same response, and
 * then lets the adopter delete the old record where it keeps one.
 *
 * kit-session ships three: `ExpressSessionAdopter` (kit-session/adopt/express-session),
 * `IronSessionAdopter` (kit-session/adopt/iron-session) and `ReactRouterCookieAdopter`
 * (kit-session/adopt/react-router). Another library's takes a few lines.
 *
 * @typeParam T - The shape of the new session's values.
 * @example
 * ```ts
 * const adopter: SessionAdopter<AppSession> = {
 *   source: 'legacy',
 *   adopt: async (request) => {
 *     const old = await legacy.read(request.headers.get('cookie'));
 *     return old && { values: { userId: old.user }, expireCookies: [legacy.expiredCookie()] };
 *   },
 * };
 * const manager = new SessionManager<AppSession>(store, { adopt: [adopter] });
 * ```
 */
export interface SessionAdopter<T extends object = Record<string, unknown>> {
  /** What the sessions come from, e.g. `'express-session'`: for errors and logs. */
  readonly source: string;
  /**
   * The names of the old cookies it reads, when they are cookies: a manager refuses an
   * adopter whose cookie has the name of its own (the old cookie would be read as a
   * kit-session token that opens nothing, and never adopted).
   */
  readonly cookieNames?: readonly string[];
  /**
   * Finds and checks the old library's session in the request, exactly as that library
   * would (signature, seal, expiry): anything that fails a check is "none".
   *
   * @param request - The request, which carried no token of the manager's.
   * @param now - The manager's clock, in milliseconds since the epoch.
   * @returns The session to adopt, or `undefined` when there is none to adopt.
   * @throws Anything, only when the old library's store fails: the manager then fails the
   *   request with a `SessionStoreError` (its state is unknown; a fresh session would log
   *   the user out).
   * @example
   * ```ts
   * const adopted = await adopter.adopt(request, Date.now()); // { values, expireCookies, retire? } or undefined
   * ```
   */
  adopt(request: RequestLike, now: number): MaybePromise<AdoptedSession<T> | undefined>;
}

/** What a {@link SessionAdopter} found: the values to carry over, and how to retire the old session. */
export interface AdoptedSession<T extends object = Record<string, unknown>> {
  /** The values the new session starts with (a copy: the manager keeps them as given). */
  readonly values: Partial<T>;
  /** `Set-Cookie` header values that expire the old cookie (or cookies) in the browser. */
  readonly expireCookies: readonly string[];
  /**
   * Called once, after the response's save: with `ended` false when the new session was
   * saved, true when the request ended it (a log-out). An adopter that keeps a server-side
   * record deletes it here when its options say so, and always when `ended`. Called a
   * second time, with `ended` true, when the request ends the session after a save
   * already retired it with `ended` false (a log-out after `session.commit()`).
   *
   * @param ended - Whether the request ended the adopted session.
   * @example
   * ```ts
   * // what an adopter over a store with a delete might answer
   * const adopted: AdoptedSession = { values, expireCookies, retire: (ended) => (ended || deleteOld ? oldStore.delete(sid) : undefined) };
   * ```
   */
  retire?(ended: boolean): MaybePromise<void>;
}

/**
 * Checks the `adopt` option: one adopter or a list of them.
 *
 * @internal
 * @param adopt - What was given.
 * @returns The adopters, in the order they are asked.
 * @throws TypeError when one of them has no `adopt` method or no `source`.
 */
export function resolveAdopters(adopt: SessionAdopter<any> | readonly SessionAdopter<any>[] | undefined): readonly SessionAdopter<any>[] {
  if (adopt === undefined) {
    return [];
  }
  const adopters: readonly unknown[] = Array.isArray(adopt) ? adopt : [adopt];
  for (const adopter of adopters) {
    const candidate = adopter as Partial<SessionAdopter> | null;
    if (typeof candidate?.adopt !== 'function' || typeof candidate.source !== 'string' || candidate.source === '') {
      throw new TypeError('adopt must be a session adopter (with a source and an adopt method) or a list of them');
    }
  }
  return adopters as readonly SessionAdopter<any>[];
}
