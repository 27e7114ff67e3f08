// The request's session through its context (core): the per-request methods every
// manager offers (`getValue`, `setValue`, … as `@revas-hq/kit-session` names them), each a
// one-line forward to the request's `Session<T>`.
import type { Context, ContextKey } from './Context.js';
import type { Session, SessionStatus, SessionValueName } from './Session.js';
import { SessionNotLoadedError } from './SessionError.js';

/**
 * What `getValue` and `popValue` return: the value's own type from `T` (`T[K]`), or,
 * when a type argument is given, as in `getValue<string>(context, 'userId')` on an
 * untyped manager, that type.
 *
 * @typeParam T - The shape of the session's values.
 * @typeParam K - The value's name.
 * @typeParam V - The type asked for, if any.
 */
export type ValueOf<T, K extends keyof T, V> = ([V] extends [never] ? T[K] : V) | undefined;

/**
 * The per-request methods of a `SessionManager`: each finds the request's session
 * in its context and reads or changes it. `SessionManager` extends it; use a manager.
 *
 * @typeParam T - The shape of the session's values.
 * @example
 * ```ts
 * const context = await manager.extractSession(Context.background, request);
 * manager.setValue(context, 'visits', (manager.getValue(context, 'visits') ?? 0) + 1);
 * ```
 */
export abstract class SessionAccess<T extends object> {
  /** The name the session is known by: its transport's (the cookie's name by default). */
  abstract readonly name: string;
  /** The context key the session is held under. */
  abstract readonly contextKey: ContextKey<Session<T>>;

  /**
   * Returns the request's session: the object handler code reads and changes (every
   * adapter hands out the same object).
   *
   * @param context - A context from `SessionManager.extractSession`.
   * @returns The session.
   * @throws SessionNotLoadedError when the context holds no session of this manager.
   * @example
   * ```ts
   * const session = manager.session(context);
   * session.set('visits', (session.get('visits') ?? 0) + 1);
   * ```
   */
  session(context: Context): Session<T> {
    const session = context.value(this.contextKey);
    if (session === undefined) {
      throw new SessionNotLoadedError(
        `no session "${this.name}" in this context: call extractSession (or use SessionRequestHook) first`,
      );
    }
    return session;
  }


  /**
   * Reads a value.
   *
   * @typeParam V - The value's type, for a manager made without a value type (as
   *   `@revas-hq/kit-session` code writes it); a typed manager knows it already.
   * @param context - A context from `SessionManager.extractSession`.
   * @param key - The value's name.
   * @returns The value, or `undefined` when it is not set.
   * @throws SessionNotLoadedError when the context holds no session of this manager.
   * @example
   * ```ts
   * const userId = manager.getValue(context, 'userId'); // string | undefined
   * const theme = untyped.getValue<string>(context, 'theme'); // string | undefined
   * ```
   */
  getValue<V = never, K extends SessionValueName<T> = SessionValueName<T>>(context: Context, key: K): ValueOf<T, K, V> {
    return this.session(context).get(key) as ValueOf<T, K, V>;
  }

  /**
   * Sets a value. The session then holds the value as JSON gives it back, on every
   * store: what `JSON.parse(JSON.stringify(value))` makes of it (a copy for objects; a
   * `Date` becomes its text, `NaN` `null`, a property holding `undefined` is dropped),
   * so this request reads what the next one will load. Setting `undefined` unsets the
   * value, as {@link SessionAccess.unsetValue} does. After
   * {@link SessionAccess.destroyValues} in the same request, this starts a new
   * session (with a new id) rather than reviving the old one.
   *
   * @param context - A context from `SessionManager.extractSession`.
   * @param key - The value's name.
   * @param value - A value JSON can carry, or `undefined` to unset it.
   * @throws SessionNotLoadedError when the context holds no session of this manager.
   * @throws SessionValueError when no store could keep the value or its name: JSON
   *   cannot encode it (a BigInt, a cycle, a throwing `toJSON`), it is a function or a
   *   symbol, it nests deeper than 64 levels, or its text or name holds U+0000 or a
   *   lone surrogate. The session is left as it was.
   * @example
   * ```ts
   * manager.setValue(context, 'visits', (manager.getValue(context, 'visits') ?? 0) + 1);
   * ```
   */
  setValue<K extends SessionValueName<T>>(context: Context, key: K, value: T[K]): void {
    this.session(context).set(key, value);
  }

  /**
   * Removes a value. Removing a value that is not set changes nothing.
   *
   * @param context - A context from `SessionManager.extractSession`.
   * @param key - The value's name.
   * @throws SessionNotLoadedError when the context holds no session of this manager.
   * @example
   * ```ts
   * manager.unsetValue(context, 'cart');
   * ```
   */
  unsetValue(context: Context, key: SessionValueName<T>): void {
    this.session(context).unset(key);
  }

  /**
   * Reads a value and removes it: a flash message shown once.
   *
   * @param context - A context from `SessionManager.extractSession`.
   * @param key - The value's name.
   * @returns The value, or `undefined` when it was not set.
   * @throws SessionNotLoadedError when the context holds no session of this manager.
   * @example
   * ```ts
   * manager.setValue(context, 'flash', 'Saved!'); // on the POST
   * const flash = manager.popValue(context, 'flash'); // on the next GET: shown once
   * ```
   */
  popValue<V = never, K extends SessionValueName<T> = SessionValueName<T>>(context: Context, key: K): ValueOf<T, K, V> {
    return this.session(context).pop(key) as ValueOf<T, K, V>;
  }

  /**
   * Ends the session: its values are dropped, the store forgets it and the cookie is
   * expired when the response is written. Use it on logout.
   *
   * @param context - A context from `SessionManager.extractSession`.
   * @throws SessionNotLoadedError when the context holds no session of this manager.
   * @example
   * ```ts
   * // POST /logout
   * manager.destroyValues(context);
   * await manager.injectSession(context, headers); // deletes it and expires the cookie
   * ```
   */
  destroyValues(context: Context): void {
    this.session(context).destroy();
  }

  /**
   * Gives the session a new id and token, keeps its values, and deletes the old id
   * from the store when the response is written. Call it whenever privileges change
   * (log in, log out, sudo mode): it defeats session fixation.
   *
   * @param context - A context from `SessionManager.extractSession`.
   * @throws SessionNotLoadedError when the context holds no session of this manager.
   * @example
   * ```ts
   * // POST /login, once the password checked out
   * manager.renewToken(context);
   * manager.setValue(context, 'userId', user.id);
   * ```
   */
  renewToken(context: Context): void {
    this.session(context).renew();
  }

  /**
   * Chooses, for the request's session only, whether its cookie outlives the browser
   * ("remember me" at log-in): `true` a persistent cookie, `false` one that ends when
   * the browser closes. The choice holds across requests and renewals; sessions that
   * make none follow `cookie.persistent`.
   *
   * @param context - A context from `SessionManager.extractSession`.
   * @param persistent - Whether the cookie outlives the browser.
   * @throws TypeError when `persistent` is not `true` or `false`.
   * @throws SessionNotLoadedError when the context holds no session of this manager.
   * @example
   * ```ts
   * // POST /login, once the password checked out
   * manager.renewToken(context);
   * manager.setValue(context, 'userId', user.id);
   * manager.setPersistent(context, form.get('remember') === 'on');
   * ```
   */
  setPersistent(context: Context, persistent: boolean): void {
    this.session(context).setPersistent(persistent);
  }

  /**
   * Tells whether the response will write the session: it was changed or destroyed.
   *
   * @param context - A context from `SessionManager.extractSession`.
   * @returns `true` when the session was changed or destroyed in this request.
   * @throws SessionNotLoadedError when the context holds no session of this manager.
   * @example
   * ```ts
   * if (manager.isModified(context)) {
   *   // this response carries a Set-Cookie: do not let a CDN cache it
   * }
   * ```
   */
  isModified(context: Context): boolean {
    return this.session(context).isModified;
  }

  /**
   * Tells where the session stands in this request.
   *
   * @param context - A context from `SessionManager.extractSession`.
   * @returns `'new'`, `'unmodified'`, `'modified'` or `'destroyed'`.
   * @throws SessionNotLoadedError when the context holds no session of this manager.
   * @example
   * ```ts
   * if (manager.getStatus(context) === 'new') {
   *   // no session came in: show the login link
   * }
   * ```
   */
  getStatus(context: Context): SessionStatus {
    return this.session(context).status;
  }

  /**
   * Tells when the session ends: the sooner of its absolute deadline and, with an idle
   * timeout, the end of the idle period counted from now.
   *
   * @param context - A context from `SessionManager.extractSession`.
   * @returns The moment the session ends if no other request comes.
   * @throws SessionNotLoadedError when the context holds no session of this manager.
   * @example
   * ```ts
   * const endsAt = manager.getExpireTime(context).toISOString();
   * ```
   */
  getExpireTime(context: Context): Date {
    return this.session(context).expiresAt;
  }

  /**
   * Tells the absolute end of the session, which activity never moves.
   *
   * @param context - A context from `SessionManager.extractSession`.
   * @returns The session's deadline.
   * @throws SessionNotLoadedError when the context holds no session of this manager.
   * @example
   * ```ts
   * const mustLogInAgainBy = manager.getDeadline(context);
   * ```
   */
  getDeadline(context: Context): Date {
    return this.session(context).deadline;
  }

  /**
   * Tells whether the request's session was authenticated (renewed at log-in) within
   * `maxAge` milliseconds.
   *
   * @param context - A context from `SessionManager.extractSession`.
   * @param maxAge - How old the authentication may be, in milliseconds.
   * @returns `true` when it is recent enough.
   * @throws SessionNotLoadedError when the context holds no session of this manager.
   * @example
   * ```ts
   * if (!manager.isFresh(context, 5 * 60_000)) {
   *   // ask for the password again
   * }
   * ```
   */
  isFresh(context: Context, maxAge: number): boolean {
    return this.session(context).isFresh(maxAge);
  }

  /**
   * Throws unless the request's session was authenticated within `maxAge` milliseconds.
   *
   * @param context - A context from `SessionManager.extractSession`.
   * @param maxAge - How old the authentication may be, in milliseconds.
   * @throws SessionNotFreshError when it is older, or never happened.
   * @throws SessionNotLoadedError when the context holds no session of this manager.
   * @example
   * ```ts
   * manager.requireFresh(context, 5 * 60_000); // before deleting the account
   * ```
   */
  requireFresh(context: Context, maxAge: number): void {
    this.session(context).requireFresh(maxAge);
  }
}
