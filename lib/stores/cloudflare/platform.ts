// The few parts of the Cloudflare Workers platform the stores of kit-session/cloudflare
// use, typed by their shape: nothing here imports `cloudflare:workers` or
// @cloudflare/workers-types, so the subpath loads (and type-checks) anywhere, and the
// app's own bindings (`env.SESSIONS`, `env.SESSIONS_KV`) fit these interfaces as they are.

/**
 * A Durable Object namespace binding (`env.SESSIONS`), as the Durable Object store uses it.
 */
export interface DurableObjectNamespaceLike {
  /**
   * The id of the object of a name: the same name gives the same object everywhere.
   *
   * @param name - The object's name.
   * @returns Its id.
   * @example
   * ```ts
   * const id = env.SESSIONS.idFromName('kit-session');
   * ```
   */
  idFromName(name: string): unknown;
  /**
   * A stub that sends requests to the object of an id.
   *
   * @param id - The object's id.
   * @returns The stub.
   * @example
   * ```ts
   * const stub = env.SESSIONS.get(env.SESSIONS.idFromName('kit-session'));
   * ```
   */
  get(id: never): DurableObjectStubLike;
}

/**
 * A stub of a Durable Object: what the store sends its calls through.
 */
export interface DurableObjectStubLike {
  /**
   * Sends one request to the object.
   *
   * @param request - The request.
   * @returns The object's answer.
   * @example
   * ```ts
   * const response = await stub.fetch(new Request('https://session-store/', { method: 'POST', body }));
   * ```
   */
  fetch(request: Request): Promise<Response>;
}

/**
 * A cursor of a Durable Object's SQL storage, as `ctx.storage.sql.exec` gives it.
 */
export interface SqlCursorLike {
  /**
   * Every row the statement gives.
   *
   * @returns The rows, as objects keyed by column name.
   * @example
   * ```ts
   * const rows = ctx.storage.sql.exec('SELECT 1 AS one').toArray();
   * ```
   */
  toArray(): Record<string, unknown>[];
}

/**
 * The storage of a Durable Object (`ctx.storage`) backed by SQLite: what the object of
 * the store uses of it.
 */
export interface DurableObjectStorageLike {
  /** Its SQL interface. */
  readonly sql: {
    /**
     * Runs one statement.
     *
     * @param query - The statement, with `?` parameters.
     * @param bindings - Their values.
     * @returns A cursor over its rows.
     * @example
     * ```ts
     * ctx.storage.sql.exec('SELECT data FROM sessions WHERE token = ?', handle);
     * ```
     */
    exec(query: string, ...bindings: unknown[]): SqlCursorLike;
  };
  /**
   * Runs `work` in one transaction, rolled back when it throws.
   *
   * @param work - Synchronous statements.
   * @returns What `work` returned.
   * @example
   * ```ts
   * ctx.storage.transactionSync(() => ctx.storage.sql.exec('DELETE FROM sessions'));
   * ```
   */
  transactionSync<R>(work: () => R): R;
  /**
   * When the object's alarm is set to ring, if it is.
   *
   * @returns Milliseconds since the epoch, or `null`.
   * @example
   * ```ts
   * const at = await ctx.storage.getAlarm();
   * ```
   */
  getAlarm(): Promise<number | null>;
  /**
   * Sets the object's alarm.
   *
   * @param at - Milliseconds since the epoch.
   * @example
   * ```ts
   * await ctx.storage.setAlarm(Date.now() + 60_000);
   * ```
   */
  setAlarm(at: number): Promise<void>;
}

/**
 * The state the Workers runtime gives a Durable Object's constructor (`ctx`).
 */
export interface DurableObjectStateLike {
  /** The object's storage: SQLite-backed (the class is listed under `new_sqlite_classes`). */
  readonly storage: DurableObjectStorageLike;
}

/**
 * A Workers KV namespace binding (`env.SESSIONS_KV`), as the KV store uses it.
 */
export interface KvNamespaceLike {
  /**
   * Reads a key.
   *
   * @param key - The key.
   * @param options - `type: 'text'`, and how long the location may cache it.
   * @returns Its value, or `null`.
   * @example
   * ```ts
   * const text = await env.SESSIONS_KV.get('s:abc', { type: 'text' });
   * ```
   */
  get(key: string, options: { type: 'text'; cacheTtl?: number }): Promise<string | null>;
  /**
   * Writes a key.
   *
   * @param key - The key.
   * @param value - The value.
   * @param options - `expirationTtl`: seconds it lives (at least 60).
   * @example
   * ```ts
   * await env.SESSIONS_KV.put('s:abc', '{}', { expirationTtl: 3_600 });
   * ```
   */
  put(key: string, value: string, options: { expirationTtl: number }): Promise<void>;
  /**
   * Deletes a key.
   *
   * @param key - The key.
   * @example
   * ```ts
   * await env.SESSIONS_KV.delete('s:abc');
   * ```
   */
  delete(key: string): Promise<void>;
}
