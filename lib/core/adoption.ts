// Adoption (core): how a manager takes over a session another library made, once per
// browser, so that a switch to kit-session logs nobody out. The adopters themselves
// (express-session, iron-session, React Router) live behind kit-session/adopt/*.
import type { RequestLike } from './http.js';
import { Session, type SessionClient, type SessionRules } from './Session.js';
import { callStore, storeError } from './SessionError.js';
import type { MaybePromise, SessionStore } from './SessionStore.js';
import type { SessionTransport } from './transport/SessionTransport.js';

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
 * @param transports - The manager's transports, whose names no adopter may read.
 * @returns The adopters, in the order they are asked.
 * @throws TypeError when one of them has no `adopt` method or no `source`, or reads a
 *   cookie of the name the manager writes (the old cookie would be read as a kit-session
 *   token that opens nothing, and never adopted).
 */
export function resolveAdopters(
  adopt: SessionAdopter<any> | readonly SessionAdopter<any>[] | undefined,
  transports: readonly SessionTransport[],
): readonly SessionAdopter<any>[] {
  if (adopt === undefined) {
    return [];
  }
  const adopters: readonly unknown[] = Array.isArray(adopt) ? adopt : [adopt];
  for (const adopter of adopters) {
    const candidate = adopter as Partial<SessionAdopter> | null;
    if (typeof candidate?.adopt !== 'function' || typeof candidate.source !== 'string' || candidate.source === '') {
      throw new TypeError('adopt must be a session adopter (with a source and an adopt method) or a list of them');
    }
    if (candidate.cookieNames?.some((cookie) => transports.some(({ name }) => name === cookie)) === true) {
      throw new TypeError(
        `the ${candidate.source} adopter reads a cookie of the name this manager writes: give the manager's cookie another name`,
      );
    }
  }
  return adopters as readonly SessionAdopter<any>[];
}

/**
 * Asks the adopters, in order, for another library's session in a request that carried
 * no token: the first that answers gives a new session (a new id) its values.
 *
 * @internal
 * @param adopters - The manager's adopters.
 * @param route - The manager's first cookie transport (the adopted session goes there,
 *   whatever route the request would take: a header transport's token would reach only a
 *   header the browser does not keep, while its old cookie is expired); -1 adopts nothing.
 * @param rules - The manager's rules, for the new session.
 * @param request - The request.
 * @param now - The manager's clock.
 * @param client - The request's user agent and address, when the manager records them.
 * @returns The adopted session, or `undefined`.
 * @throws SessionStoreError when an adopter fails (the old library's store): the old
 *   session's state is unknown, and a fresh session would log the user out.
 */
export async function adoptSession<T extends object>(
  adopters: readonly SessionAdopter<T>[],
  route: number,
  rules: SessionRules,
  request: RequestLike,
  now: number,
  client: SessionClient | undefined,
): Promise<Session<T> | undefined> {
  if (route === -1) {
    return undefined;
  }
  for (const adopter of adopters) {
    let adoption: AdoptedSession<T> | undefined;
    try {
      adoption = await adopter.adopt(request, now);
    } catch (error) {
      throw storeError(error);
    }
    if (adoption !== undefined) {
      const session = Session.fresh<T>(rules, false, now, route, request, client);
      session.adopt(adoption);
      return session;
    }
  }
  return undefined;
}

/**
 * Retires the old library's session a request adopted, once the new session is saved or
 * the request ended it: never both gone. When the retirement fails, the new session, whose
 * cookie is never sent, is deleted (no session is left that no browser holds, listed under
 * its owner and counted against `maxSessionsPerOwner`, for each retry) and the save fails
 * before any header: the next request, with the old cookie still, adopts again. A log-out
 * after a save of this request already retired it (`commit()`, then `destroy()`) retires
 * it again, ended.
 *
 * @internal
 * @param session - The request's session.
 * @param store - Where it was saved.
 * @param saved - Whether this save wrote it.
 * @param ended - Whether the request ended it.
 * @throws SessionStoreError when the retirement fails.
 */
export async function retireAdoption<T extends object>(
  session: Session<T>,
  store: SessionStore<T>,
  saved: boolean,
  ended: boolean,
): Promise<void> {
  const { adoption, adoptionKept } = session;
  if (adoption !== undefined) {
    if (!saved && !ended) {
      return;
    }
    if (adoption.retire !== undefined) {
      try {
        await callStore(() => adoption.retire!(ended));
      } catch (error) {
        if (saved) {
          try {
            await store.deleteSession(session.id);
          } catch {
            // The retirement's failure is the one to report.
          }
        }
        throw error;
      }
    }
    session.adoptionRetired(ended);
  } else if (adoptionKept !== undefined && ended) {
    if (adoptionKept.retire !== undefined) {
      await callStore(() => adoptionKept.retire!(true));
    }
    session.adoptionRetired(true);
  }
}
