// What the Durable Object store and its object say to each other: one JSON request per
// store call, one JSON answer. Internal: both ends are this package's.
import type { OwnerSessionLimit } from '../../core/SessionStore.js';

/** The calls the object answers. */
export type ObjectOperation =
  | 'get'
  | 'set'
  | 'patch'
  | 'renew'
  | 'delete'
  | 'deleteOwner'
  | 'list'
  | 'deleteByHandle'
  | 'deleteExpired'
  | 'generation'
  | 'bump';

/**
 * One call: the operation, its arguments (JSON: a record's values are JSON already), the
 * caller's time (the object decides liveness by the manager's clock, as every store
 * does) and the caller's bound on owners' sessions, if it has one.
 *
 * @internal
 */
export interface ObjectCall {
  readonly op: ObjectOperation;
  readonly args: readonly unknown[];
  readonly now: number;
  readonly limit?: Pick<OwnerSessionLimit, 'max' | 'policy'> | undefined;
}

/**
 * The object's answer: the value, with the evictions the call made (the caller reports
 * them), or the error, by name and message (neither carries a token or value).
 *
 * @internal
 */
export type ObjectAnswer =
  | { readonly ok: true; readonly value?: unknown; readonly evicted?: readonly (readonly [string, readonly string[]])[] }
  | { readonly ok: false; readonly error: { readonly name: string; readonly message: string } };
