/**
 * A typed key for a value held in a {@link Context}. Keys compare by identity: two keys
 * made with the same name are different keys.
 */
export interface ContextKey<V> {
  /** A name for debugging; not used for lookup. */
  readonly name: string;
  /** Carries the value type only; never set at run time. */
  readonly __value?: V;
}

/**
 * Makes a new typed context key.
 *
 * @param name - A name for debugging.
 * @returns A key unlike every other key.
 * @example
 * ```ts
 * const userKey = createContextKey<User>('user');
 * const next = context.withValue(userKey, user);
 * next.value(userKey); // User | undefined
 * ```
 */
export function createContextKey<V>(name: string): ContextKey<V> {
  return Object.freeze({ name });
}

/**
 * An immutable bag of request-scoped values. {@link Context.withValue} returns a new
 * context and leaves the old one as it was, so a context can be shared without fear.
 *
 * Lookups walk a short chain of parents, like Go's `context.Context`: a request
 * carries a handful of values, so this is cheaper than copying a map on every write.
 *
 * @example
 * ```ts
 * const base = Context.background;
 * const withSession = await manager.extractSession(base, request);
 * ```
 */
export class Context {
  /** The empty root context. */
  static readonly background: Context = new Context(undefined, undefined, undefined);

  readonly #parent: Context | undefined;
  readonly #key: ContextKey<unknown> | undefined;
  readonly #value: unknown;

  private constructor(parent: Context | undefined, key: ContextKey<unknown> | undefined, value: unknown) {
    this.#parent = parent;
    this.#key = key;
    this.#value = value;
  }

  /**
   * Returns a new context that holds `value` under `key`, and everything this one holds.
   *
   * @param key - The typed key.
   * @param value - The value to hold.
   * @returns A new context; this one is unchanged.
   * @example
   * ```ts
   * const traced = context.withValue(requestIdKey, crypto.randomUUID());
   * ```
   */
  withValue<V>(key: ContextKey<V>, value: V): Context {
    return new Context(this, key, value);
  }

  /**
   * Reads the value held under `key`, the newest if it was set more than once.
   *
   * @param key - The typed key.
   * @returns The value, or `undefined` when none is held.
   * @example
   * ```ts
   * const requestId = context.value(requestIdKey); // string | undefined
   * ```
   */
  value<V>(key: ContextKey<V>): V | undefined {
    for (let context: Context | undefined = this; context !== undefined; context = context.#parent) {
      if (context.#key === key) {
        return context.#value as V;
      }
    }
    return undefined;
  }
}
