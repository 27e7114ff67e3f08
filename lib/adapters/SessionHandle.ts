import type { Context } from '../core/Context.js';
import { SessionHeadersSentError } from '../core/SessionError.js';
import type { SessionStatus } from '../core/Session.js';
import type { SessionKey, SessionManager } from '../core/SessionManager.js';

/**
 * The session of one request, as handler code sees it in every framework adapter: a
 * thin typed wrapper that calls the {@link SessionManager}'s methods with the request's
 * {@link Context}, so handlers write `session.get('userId')` rather than
 * `manager.getValue(context, 'userId')`.
 *
 * Changes are kept in memory and saved by the adapter just before the response head
 * goes out. Once the head is out a change can no longer reach the browser, so every
 * method that changes the session throws a `SessionHeadersSentError` from then on, instead of
 * losing the change without a word. Reading stays allowed.
 *
 * @typeParam T - The shape of the session's values, e.g. `{ userId: string; visits: number }`.
 * @example
 * ```ts
 * const visits = (session.get('visits') ?? 0) + 1;
 * session.set('visits', visits);
 * const flash = session.pop('flash');
 * if (loggingIn) {
 *   session.renew();
 *   session.set('userId', user.id);
 * }
 * ```
 */
export class SessionHandle<T extends object = Record<string, unknown>> {
  /** The manager that loaded the session. */
  readonly manager: SessionManager<T>;
  /**
   * The request's context, which holds the session under `manager.contextKey`: for
   * calling the manager directly or passing on to code that takes a `Context`.
   */
  readonly context: Context;
  readonly #headSent: () => boolean;

  /**
   * Adapters build handles; an app needs to only when it writes an adapter of its own.
   *
   * @param manager - The manager that loaded the session.
   * @param context - A context from `manager.extractSession`.
   * @param headSent - Tells whether the response head has gone out (or the adapter
   *   has already saved the session for good): from then on, changes throw.
   * @default headSent `() => false`
   */
  constructor(manager: SessionManager<T>, context: Context, headSent: () => boolean = () => false) {
    this.manager = manager;
    this.context = context;
    this.#headSent = headSent;
  }

  /**
   * Reads a value.
   *
   * @param key - The value's name.
   * @returns The value, or `undefined` when it is not set.
   * @throws SessionNotLoadedError when the context holds no session of this manager.
   * @example
   * ```ts
   * const userId = session.get('userId');
   * ```
   */
  get<K extends SessionKey<T>>(key: K): T[K] | undefined {
    return this.manager.getValue(this.context, key);
  }

  /**
   * Sets a value; the response saves it. After {@link SessionHandle.destroy}, this
   * starts a new session rather than reviving the old one.
   *
   * @param key - The value's name.
   * @param value - Anything `JSON.stringify` keeps as it is.
   * @throws SessionHeadersSentError when the response head has already gone
   *   out, so the change could not be saved.
   * @example
   * ```ts
   * session.set('visits', (session.get('visits') ?? 0) + 1);
   * ```
   */
  set<K extends SessionKey<T>>(key: K, value: T[K]): void {
    this.#assertOpen();
    this.manager.setValue(this.context, key, value);
  }

  /**
   * Removes a value. Removing a value that is not set changes nothing.
   *
   * @param key - The value's name.
   * @throws SessionHeadersSentError when the response head has already gone out.
   * @example
   * ```ts
   * session.unset('cart');
   * ```
   */
  unset(key: SessionKey<T>): void {
    this.#assertOpen();
    this.manager.unsetValue(this.context, key);
  }

  /**
   * Reads a value and removes it: a flash message shown once.
   *
   * @param key - The value's name.
   * @returns The value, or `undefined` when it was not set.
   * @throws SessionHeadersSentError when the response head has already gone out.
   * @example
   * ```ts
   * const notice = session.pop('flash'); // shown on this page, gone on the next
   * ```
   */
  pop<K extends SessionKey<T>>(key: K): T[K] | undefined {
    this.#assertOpen();
    return this.manager.popValue(this.context, key);
  }

  /**
   * Ends the session: its values are dropped, the store forgets it and the response
   * expires the cookie. Use it on logout.
   *
   * @throws SessionHeadersSentError when the response head has already gone out.
   * @example
   * ```ts
   * session.destroy();
   * ```
   */
  destroy(): void {
    this.#assertOpen();
    this.manager.destroyValues(this.context);
  }

  /**
   * Gives the session a new id and token and keeps its values; the old id is deleted
   * from the store when the response is saved. Call it whenever privileges change (log
   * in, log out, sudo mode): it defeats session fixation.
   *
   * @throws SessionHeadersSentError when the response head has already gone out.
   * @example
   * ```ts
   * session.renew();
   * session.set('userId', user.id);
   * ```
   */
  renew(): void {
    this.#assertOpen();
    this.manager.renewToken(this.context);
  }

  /**
   * Where the session stands: `'new'`, `'unmodified'`, `'modified'` or `'destroyed'`.
   * After the adapter has saved it, `'unmodified'` (or `'new'` after a destroy).
   */
  get status(): SessionStatus {
    return this.manager.getStatus(this.context);
  }

  /** Whether the session holds changes (or a destroy) that have not been saved yet. */
  get isModified(): boolean {
    return this.manager.isModified(this.context);
  }

  /**
   * When the session ends if no other request comes: the sooner of its absolute
   * deadline and, with an idle timeout, the end of the idle period.
   */
  get expireTime(): Date {
    return this.manager.getExpireTime(this.context);
  }

  /** The absolute end of the session, which activity never moves. */
  get deadline(): Date {
    return this.manager.getDeadline(this.context);
  }

  #assertOpen(): void {
    if (this.#headSent()) {
      throw new SessionHeadersSentError(
        'the session was changed after the response head was sent, so the change cannot be saved: ' +
          'change the session before the response is written',
      );
    }
  }
}
