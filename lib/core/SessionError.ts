/**
 * The stable codes carried by {@link SessionError} and its subclasses.
 */
export type SessionErrorCode =
  | 'ERR_SESSION'
  | 'ERR_SESSION_NOT_LOADED'
  | 'ERR_SESSION_STORE'
  | 'ERR_SESSION_GENERATIONS_LOST'
  | 'ERR_SESSION_VALUE'
  | 'ERR_SESSION_TOKEN_TOO_LARGE'
  | 'ERR_SESSION_COOKIE_TOO_LARGE'
  | 'ERR_SESSION_HEADERS_SENT'
  | 'ERR_SESSION_LIMIT'
  | 'ERR_SESSION_NOT_FRESH'
  | 'ERR_SESSION_STALE'
  | 'ERR_SESSION_LOAD_PENDING';

/**
 * Base class of every error kit-session throws on purpose.
 *
 * Recognise errors by class (`instanceof`) or by {@link SessionError.code}, never by
 * message: messages may change, codes do not. No message ever contains a token, a key
 * or a session value.
 *
 * @example
 * ```ts
 * try {
 *   await manager.injectSession(context, headers);
 * } catch (error) {
 *   if (error instanceof SessionError && error.code === 'ERR_SESSION_COOKIE_TOO_LARGE') {
 *     // tell the user, keep less in the session
 *   }
 * }
 * ```
 */
export class SessionError extends Error {
  /** A stable, machine-readable code. */
  readonly code: SessionErrorCode;

  /**
   * @param message - What went wrong, without any token, key or session value.
   * @param options - `cause`: the underlying error, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = (new.target as unknown as { readonly CODE: SessionErrorCode }).CODE;
  }

  /** The code given to instances of this class. */
  static readonly CODE: SessionErrorCode = 'ERR_SESSION';
}

/**
 * A session function was called with a context that never went through
 * `SessionManager.extractSession` (or went through another manager).
 * @example
 * ```ts
 * manager.getValue(Context.background, 'userId'); // throws SessionNotLoadedError
 * ```
 */
export class SessionNotLoadedError extends SessionError {
  static override readonly CODE = 'ERR_SESSION_NOT_LOADED' as const;
}

/**
 * The session store could not do its work: its server is unreachable, timed out or
 * answered with an error. `cause` holds the underlying error.
 * @example
 * ```ts
 * try {
 *   context = await manager.extractSession(context, request);
 * } catch (error) {
 *   if (error instanceof SessionStoreError) return new Response('Try again shortly', { status: 503 });
 *   throw error;
 * }
 * ```
 */
export class SessionStoreError extends SessionError {
  // Typed as any code: a subclass narrows it to its own.
  static override readonly CODE: SessionErrorCode = 'ERR_SESSION_STORE';
}

/**
 * The owners' generations of revocable sealed cookies (`revocation`) lost data they
 * held: a generation read lower than one this process had read, or the generations
 * store's marker gone or replaced (Redis restarted without persistence, the table
 * truncated). Never read as "nothing was revoked": the manager handles it as
 * `revocation.whenUnavailable` says ('fail': the request fails with this error, a
 * {@link SessionStoreError}), and the store begins a new epoch above every generation
 * handed out before, so the cookies sealed before the loss read as revoked. Keep the
 * generations store durable (Redis persistence, a backed-up table).
 * @example
 * ```ts
 * catch (error) {
 *   if (error instanceof SessionGenerationsLostError) console.error('revocation data lost: check the generations store persists');
 * }
 * ```
 */
export class SessionGenerationsLostError extends SessionStoreError {
  static override readonly CODE = 'ERR_SESSION_GENERATIONS_LOST' as const;
}

/**
 * A value, or a value's name, that no store can keep as it is, refused by
 * `SessionManager.setValue` before anything changes: a programming error, not an outage
 * (unlike {@link SessionStoreError}, do not answer 503 and retry). Refused: what JSON
 * cannot encode (a BigInt, a cycle, a `toJSON` that throws), a function or a symbol
 * (JSON gives nothing for them), nesting deeper than 64 levels, and text that some
 * store cannot hold (the character U+0000, a lone UTF-16 surrogate), in a value or in
 * its name. The message never holds the value; `cause` holds the encoder's own error,
 * if any.
 * @example
 * ```ts
 * manager.setValue(context, 'total', 10n); // throws SessionValueError
 * ```
 */
export class SessionValueError extends SessionError {
  static override readonly CODE = 'ERR_SESSION_VALUE' as const;
}

/**
 * The session's token would be larger than its transport can carry (a header longer
 * than servers and proxies accept), so the client would never get it back and the
 * session would be lost. Thrown by `SessionManager.injectSession` before any header is
 * written; a cookie's is the subclass {@link SessionCookieTooLargeError}.
 * @example
 * ```ts
 * catch (error) {
 *   if (error instanceof SessionTokenTooLargeError) console.warn(`token is ${error.size} of ${error.limit} bytes`);
 * }
 * ```
 */
export class SessionTokenTooLargeError extends SessionError {
  // Typed as any code: the cookie's subclass narrows it to its own.
  static override readonly CODE: SessionErrorCode = 'ERR_SESSION_TOKEN_TOO_LARGE';

  /** The size that was refused, in bytes. */
  readonly size: number;
  /** The largest size accepted, in bytes. */
  readonly limit: number;

  /**
   * @param size - The refused size, in bytes.
   * @param limit - The largest size accepted, in bytes.
   * @param message - What was too large.
   */
  constructor(size: number, limit: number, message = `session token is ${size} bytes, more than the ${limit} bytes allowed`) {
    super(message);
    this.size = size;
    this.limit = limit;
  }
}

/**
 * The session's cookies would be longer than browsers accept (one `Set-Cookie` header,
 * or with chunking the whole set), so the browser would drop them silently and the
 * session would be lost. Thrown by `SessionManager.injectSession` before any header is
 * written.
 * @example
 * ```ts
 * catch (error) {
 *   if (error instanceof SessionCookieTooLargeError) console.warn(`session is ${error.size} of ${error.limit} bytes`);
 * }
 * ```
 */
export class SessionCookieTooLargeError extends SessionTokenTooLargeError {
  static override readonly CODE = 'ERR_SESSION_COOKIE_TOO_LARGE' as const;

  /**
   * @param size - The length of the refused header (or set of cookies), in bytes.
   * @param limit - The largest length accepted, in bytes.
   */
  constructor(size: number, limit: number) {
    super(size, limit, `session cookie is ${size} bytes, more than the ${limit} bytes browsers keep`);
  }
}

/**
 * A session was changed, or was to be saved, after the response head had gone out, so
 * its change or its cookie could not reach the browser. Thrown by the node:http
 * adapter, where a handler may write the head before the session is saved, and by
 * every adapter's session handle when a change comes after the response was written.
 * @example
 * ```ts
 * res.end('done');
 * session.set('late', true); // throws SessionHeadersSentError
 * ```
 */
export class SessionHeadersSentError extends SessionError {
  static override readonly CODE = 'ERR_SESSION_HEADERS_SENT' as const;
}

/**
 * A save would give an owner more live sessions than the manager's
 * `maxSessionsPerOwner`, and its policy is `'refuse'`: nothing was written. Answer the
 * log-in with "too many devices: end one first".
 * @example
 * ```ts
 * try {
 *   await session.commit();
 * } catch (error) {
 *   if (error instanceof SessionLimitError) {
 *     // show the user's sessions and let them end one
 *   }
 * }
 * ```
 */
export class SessionLimitError extends SessionError {
  static override readonly CODE = 'ERR_SESSION_LIMIT' as const;
}

/**
 * `requireFresh` found that the session's last authentication (its last `renew()`) is
 * older than the action allows: ask the user to authenticate again.
 * @example
 * ```ts
 * try {
 *   session.requireFresh(5 * 60_000);
 * } catch (error) {
 *   if (error instanceof SessionNotFreshError) {
 *     // redirect to "enter your password again"
 *   }
 * }
 * ```
 */
export class SessionNotFreshError extends SessionError {
  static override readonly CODE = 'ERR_SESSION_NOT_FRESH' as const;
}

/**
 * The request's session was renewed or ended by another request (another tab's log-in,
 * a periodic renewal, "log out everywhere") while this one was on its way with the old
 * id, so this request's changes were not saved and its response sends no cookie: the
 * browser keeps the cookie of the session's successor. `session.commit()` rejects with
 * it when there were changes to save; `session.isStale` tells it at any time.
 * @example
 * ```ts
 * try {
 *   await session.commit();
 * } catch (error) {
 *   if (error instanceof SessionStaleError) {
 *     // ask the browser to try again: its next request carries the new cookie
 *   }
 * }
 * ```
 */
export class SessionStaleError extends SessionError {
  static override readonly CODE = 'ERR_SESSION_STALE' as const;
}

/**
 * A session that loads on first touch was read or changed while its store had not
 * answered yet: the store answers with a promise (a server-side store, the Web Crypto
 * cookie), and a value read now would be empty rather than the stored one. The load has
 * started; `await session.load()` before touching the session, in the routes that need
 * it, or build the manager with `load: 'eager'` so that adapters load before the handler.
 * @example
 * ```ts
 * // manager built with { load: 'lazy' } over a Redis store
 * await session.load();
 * const userId = session.get('userId');
 * ```
 */
export class SessionLoadPendingError extends SessionError {
  static override readonly CODE = 'ERR_SESSION_LOAD_PENDING' as const;
}

/**
 * A store's failure as the manager reports it: its own errors as they are, others wrapped.
 *
 * @internal
 * @param error - What the store threw.
 * @returns The error to throw.
 */
export function storeError(error: unknown): SessionError {
  return error instanceof SessionError ? error : new SessionStoreError('session store failed', { cause: error });
}

/**
 * Runs a store operation, reporting its failure as {@link storeError} says.
 *
 * @internal
 * @param operation - The operation.
 * @returns What it resolves to.
 */
export async function callStore<R>(operation: () => R | Promise<R>): Promise<R> {
  try {
    return await operation();
  } catch (error) {
    throw storeError(error);
  }
}
