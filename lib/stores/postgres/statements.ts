// The SQL of PostgresSessionStore (`kit-session/postgres`; internal, not exported), each
// statement beside the one builder that lays out its parameters, so the `$n` a statement
// reads and the order the store sends live in one place.
//
// Columns: `token` the SHA-256 of the session id, base64url (the key and the public
// handle); `data` the values (jsonb); `expire_time` and `deadline` (timestamptz); `owner`;
// `meta` the manager's metadata text; `write_time` the store's clock at the last write;
// `successor` the token of the session this one was renewed into (NULL while it is a
// session of its own; set, the row is *retired*: served read-only until its
// `expire_time`, as long as its successor lives, and never listed, counted, patched or
// renewed). Every time is a parameter in milliseconds since the epoch, from the store's
// clock, never `now()`. Every table name is a checked, quoted identifier (tables.ts).
import { createHash } from 'node:crypto';
import { MAX_RENEWAL_STEPS } from '../policy.js';

/** A timestamptz from a parameter holding milliseconds since the epoch. */
const at = (n: number) => `to_timestamp($${n}::float8 / 1000)`;
/** Milliseconds since the epoch from a timestamptz column, exactly (values are whole ms). */
const ms = (column: string) => `round(extract(epoch from ${column}) * 1000)::float8`;
/** The row (of `alias`, when given) has not ended by the clock in parameter `now`. */
const live = (now: number, alias = '') => `least(${alias}expire_time, ${alias}deadline) > ${at(now)}`;
/** The row is a session of its own (not retired) that has not ended. */
const session = (now: number) => `${live(now)} AND successor IS NULL`;

/**
 * The SQL that creates the session table and its indexes, and brings a table made by
 * an earlier version up to date: see `sessionTableSql`.
 *
 * @internal
 * @param names - `table`: the quoted, qualified table; `name`: its bare name, for the
 *   names of its indexes.
 * @returns The statements, separated by `;`.
 */
export function tableSql({ table, name }: { readonly table: string; readonly name: string }): string {
  return [
    `CREATE TABLE IF NOT EXISTS ${table} (
  token       text        PRIMARY KEY,
  data        jsonb       NOT NULL,
  expire_time timestamptz NOT NULL,
  deadline    timestamptz NOT NULL,
  owner       text,
  meta        text,
  write_time  timestamptz NOT NULL DEFAULT now(),
  successor   text
);`,
    // The names are checked identifiers: no quote or dollar sign can reach this text.
    `DO $$ BEGIN
  IF (SELECT count(*) FROM pg_attribute WHERE attrelid = '${table}'::regclass
      AND attname IN ('meta', 'write_time', 'successor') AND NOT attisdropped) < 3 THEN
    ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS meta text,
      ADD COLUMN IF NOT EXISTS write_time timestamptz NOT NULL DEFAULT now(),
      ADD COLUMN IF NOT EXISTS successor text;
  END IF;
END $$;`,
    `CREATE INDEX IF NOT EXISTS "${name}_expiry_idx" ON ${table} (least(expire_time, deadline));`,
    `CREATE INDEX IF NOT EXISTS "${name}_owner_idx" ON ${table} (owner) WHERE owner IS NOT NULL;`,
  ].join('\n');
}

/**
 * The store's statements, for one table.
 *
 * @internal
 */
export interface SessionStatements {
  /** Loads a row, retired or not, naming its successor: {@link getArgs}. */
  readonly get: string;
  /** Whether a retired row is served: {@link servedArgs}. */
  readonly served: string;
  /** Writes a whole session (an upsert): {@link setArgs}. */
  readonly set: string;
  /** Applies a patch to a live session of its own: {@link patchArgs}. */
  readonly patch: string;
  /** Renews a session: {@link renewArgs}. */
  readonly renew: string;
  /** Forgets one row, retired or not, naming its successor: {@link deleteArgs}. */
  readonly delete: string;
  /** Ends the owner's sessions but one, and tells whether a row changed under it: {@link deleteOwnerArgs}. */
  readonly deleteOwner: string;
  /** Deletes the rows that have ended: {@link deleteExpiredArgs}. */
  readonly deleteExpired: string;
  /** Lists the owner's live sessions: {@link listArgs}. */
  readonly list: string;
  /** Deletes one row of an owner, retired or not, naming its successor: {@link deleteByHandleArgs}. */
  readonly deleteByHandle: string;
  /** {@link SessionStatements.set} under the owner's bound: {@link boundedSetArgs}. */
  readonly boundedSet: string;
  /** {@link SessionStatements.patch} that files under an owner, under its bound: {@link boundedPatchArgs}. */
  readonly boundedPatch: string;
  /** {@link SessionStatements.renew} under the successor's owner's bound: {@link boundedRenewArgs}. */
  readonly boundedRenew: string;
}

/**
 * Builds the statements of one table.
 *
 * @internal
 * @param table - The quoted, qualified table.
 * @returns Its statements.
 */
export function sessionStatements(table: string): SessionStatements {
  const record = `data, ${ms('expire_time')} AS expire_time, ${ms('deadline')} AS deadline, meta`;
  // A bounded save in one statement. `before`: CTEs the others read; `others`: the owner's
  // other live sessions (referenced twice, so computed once); `excess`: how many must go
  // for one more; `evicted`: the least recently written of them, deleted when the policy
  // evicts (a row retired meanwhile is not: it has left the owner's count on its own);
  // `saved`: the write, done when the policy evicts or nothing is in excess; `after`: CTEs
  // that follow the write.
  const bounded = (
    max: number,
    evict: number,
    parts: { readonly before?: string; readonly others: string; readonly write: string; readonly after?: string },
  ) =>
    `WITH ${parts.before ?? ''}others AS (${parts.others}), ` +
    `excess AS (SELECT greatest(count(*) - $${max}::bigint + 1, 0)::int AS n FROM others), ` +
    `evicted AS (DELETE FROM ${table} WHERE $${evict}::boolean AND successor IS NULL AND token IN ` +
    `(SELECT token FROM others ORDER BY write_time, token LIMIT (SELECT n FROM excess)) RETURNING token), ` +
    `saved AS (${parts.write} RETURNING 1)${parts.after ?? ''} ` +
    `SELECT (SELECT count(*) FROM saved)::int AS saved, (SELECT n FROM excess) AS excess, ` +
    `ARRAY(SELECT token FROM evicted) AS evicted`;
  const insert = `INSERT INTO ${table} (token, data, expire_time, deadline, owner, meta, write_time) `;
  // A whole write replaces the row, a retired one too (it is a session of its own again).
  const onConflict =
    `ON CONFLICT (token) DO UPDATE SET data = excluded.data, expire_time = excluded.expire_time, ` +
    `deadline = excluded.deadline, owner = excluded.owner, meta = excluded.meta, ` +
    `write_time = excluded.write_time, successor = NULL`;
  // Both patches send the same parameters (patchArgs): a bounded patch always gives its owner.
  const patchSet =
    `UPDATE ${table} SET data = (data || $3::jsonb) - $4::text[], expire_time = ${at(5)}, ` +
    `deadline = ${at(6)}, owner = CASE WHEN $8::boolean THEN $7::text ELSE owner END, ` +
    `meta = coalesce($9::text, meta), write_time = ${at(2)} `;

  // A renewal. `old`: the session, locked, when it is live and of its own (a concurrent
  // save or end of it waits for this statement; when this one waited for it, READ
  // COMMITTED re-checks the row as it left it). The successor is written only from it;
  // then the old row is retired (its expiry cut to the grace) or, with no grace, deleted.
  const old =
    `old AS (SELECT token, owner FROM ${table} WHERE token = $1 AND ${session(2)} FOR UPDATE), `;
  const successor = (when: string) =>
    `${insert}SELECT $3, $4::jsonb, ${at(5)}, ${at(6)}, $7, $8, ${at(2)} FROM old ${when}${onConflict}`;
  const retire =
    `, retired AS (UPDATE ${table} SET successor = $3, ` +
    `expire_time = least(expire_time, to_timestamp(($2::float8 + $9::float8) / 1000)) ` +
    `WHERE token = $1 AND $9::float8 > 0 AND EXISTS (SELECT 1 FROM saved)), ` +
    `dropped AS (DELETE FROM ${table} WHERE token = $1 AND $9::float8 <= 0 AND EXISTS (SELECT 1 FROM saved))`;

  // deleteOwner's rows: the owner's sessions of their own, but the one kept, and its
  // retired rows renewed into another owner's session (one renewed within the owner ends
  // with its successor).
  // The one kept is followed through its renewals (the same device, renewed meanwhile).
  const ownersOthers =
    `o.owner = $1 AND o.token <> ALL (SELECT token FROM kept WHERE token IS NOT NULL) AND (o.successor IS NULL OR NOT EXISTS ` +
    `(SELECT 1 FROM ${table} n WHERE n.token = o.successor AND n.owner = $1))`;
  const kept =
    `kept (token, step) AS (SELECT $3::text, 0 UNION ALL SELECT k.successor, kept.step + 1 FROM kept ` +
    `JOIN ${table} k ON k.token = kept.token WHERE k.successor IS NOT NULL AND kept.step < ${MAX_RENEWAL_STEPS})`;

  return {
    // Expired rows too (until swept): the manager reports them as the `expired` event.
    get: `SELECT ${record}, successor FROM ${table} WHERE token = $1`,
    // A retired row is served while it and the successors it leads to are live, up to a
    // session of its own within MAX_RENEWAL_STEPS. A statement of its own, run only for a
    // retired row: read in `get`, the chain would cost every load the planning of a
    // recursive CTE.
    served:
      `WITH RECURSIVE chain (successor, live, step) AS (` +
      `SELECT successor, ${live(2)}, 0 FROM ${table} WHERE token = $1 ` +
      `UNION ALL SELECT next.successor, ${live(2, 'next.')}, chain.step + 1 FROM chain ` +
      `JOIN ${table} next ON next.token = chain.successor WHERE chain.step < ${MAX_RENEWAL_STEPS}) ` +
      `SELECT coalesce(bool_and(live) AND bool_or(successor IS NULL), false) AS served FROM chain`,
    set: `${insert}VALUES ($1, $3::jsonb, ${at(4)}, ${at(5)}, $6, $7, ${at(2)}) ${onConflict}`,
    patch: `${patchSet}WHERE token = $1 AND ${session(2)}`,
    renew:
      `WITH ${old}saved AS (${successor('')} RETURNING 1)${retire} ` +
      `SELECT (SELECT count(*) FROM saved)::int AS saved`,
    // A retired row in its grace names its successor: the store deletes that too.
    delete: `DELETE FROM ${table} WHERE token = $1 RETURNING successor, ${live(2)} AS live`,
    // `missed`: rows seen but not deleted, because a concurrent statement changed them
    // after this one's snapshot (renewed one: its successor is not in the snapshot). The
    // store then runs it again, with a snapshot that sees what changed.
    deleteOwner:
      // A row seen of its own but deleted retired was renewed meanwhile: missed too (its
      // successor, not in this snapshot, is found by the run again).
      `WITH RECURSIVE ${kept}, seen AS (SELECT o.token, o.successor FROM ${table} o WHERE ${ownersOthers}), ` +
      `ended AS (DELETE FROM ${table} o WHERE ${ownersOthers} ` +
      `RETURNING o.token, o.successor, ${live(2, 'o.')} AND o.successor IS NULL AS live) ` +
      `SELECT count(*) FILTER (WHERE live)::int AS live, ` +
      `((SELECT count(*) FROM seen) - count(*) + count(*) FILTER (WHERE ended.successor IS NOT NULL AND ` +
      `NOT EXISTS (SELECT 1 FROM seen WHERE seen.token = ended.token AND seen.successor IS NOT NULL)))::int AS missed ` +
      `FROM ended`,
    deleteExpired: `DELETE FROM ${table} WHERE least(expire_time, deadline) <= ${at(1)}`,
    list:
      `SELECT token AS handle, meta, ${ms('expire_time')} AS expire_time, ${ms('deadline')} AS deadline ` +
      `FROM ${table} WHERE owner = $1 AND ${session(2)}`,
    // A retired row of the owner too: the store then ends its successor, the same device.
    deleteByHandle:
      `DELETE FROM ${table} WHERE token = $1 AND owner = $3 RETURNING ${live(2)} AS live, successor`,
    // A session the owner holds already (live, of its own) counts nothing; nor does a
    // record that is not live itself.
    boundedSet: bounded(8, 9, {
      others:
        `SELECT token, write_time FROM ${table} WHERE owner = $6 AND token <> $1 AND ${session(2)} ` +
        `AND least($4::float8, $5::float8) > $2::float8 ` +
        `AND NOT EXISTS (SELECT 1 FROM ${table} WHERE token = $1 AND owner = $6 AND ${session(2)})`,
      write:
        `${insert}SELECT $1, $3::jsonb, ${at(4)}, ${at(5)}, $6, $7, ${at(2)} ` +
        `WHERE $9::boolean OR (SELECT n FROM excess) = 0 ${onConflict}`,
    }),
    // Counts only when the session is live, of its own, and not the owner's already.
    boundedPatch: bounded(10, 11, {
      others:
        `SELECT token, write_time FROM ${table} WHERE owner = $7 AND token <> $1 AND ${session(2)} ` +
        `AND EXISTS (SELECT 1 FROM ${table} WHERE token = $1 AND owner IS DISTINCT FROM $7 AND ${session(2)})`,
      write: `${patchSet}WHERE token = $1 AND ${session(2)} AND ($11::boolean OR (SELECT n FROM excess) = 0)`,
    }),
    // The successor takes its predecessor's place when the predecessor was the owner's:
    // then nothing counts. Nothing counts either when there is nothing to renew.
    boundedRenew: bounded(10, 11, {
      before: old,
      others:
        `SELECT token, write_time FROM ${table} WHERE owner = $7 AND token <> $1 AND token <> $3 AND ${session(2)} ` +
        `AND least($5::float8, $6::float8) > $2::float8 ` +
        `AND EXISTS (SELECT 1 FROM old WHERE old.owner IS DISTINCT FROM $7)`,
      write: successor('WHERE $11::boolean OR (SELECT n FROM excess) = 0 '),
      after: retire,
    }),
  };
}

/**
 * The statement that opens a bounded save's transaction and takes its owner's advisory
 * lock, in the two-key form (its keys never meet the one-key locks of other code). The
 * owner's key is 32 bits of the SHA-256 of the owner, written into the text as a number,
 * so that this stays one simple query (no parameters) that holds no owner text. Two
 * owners that share a key only wait for each other's bounded saves.
 *
 * @internal
 * @param table - The quoted, qualified table.
 * @param owner - The owner.
 * @returns One simple query: `BEGIN` and the lock.
 */
export function lockOwnerSql(table: string, owner: string): string {
  const key = createHash('sha256').update(owner, 'utf8').digest().readInt32BE(0);
  return `BEGIN; SELECT pg_advisory_xact_lock(hashtext('kit-session owner ${table}'), ${key})`;
}

/** @internal The session's token (the hash of its id) and the store's clock. */
export interface KeyInput {
  /** The session's token: the SHA-256 of its id, base64url. */
  readonly token: string;
  /** The store's clock (ms since the epoch). */
  readonly now: number;
}

/**
 * @internal `get`: $1 token.
 *
 * @param token - The token.
 * @returns The parameters.
 */
export function getArgs(token: string): unknown[] {
  return [token];
}

/**
 * @internal `served`: $1 the retired row's token, $2 now.
 *
 * @param input - The token and the clock.
 * @returns The parameters.
 */
export function servedArgs(input: KeyInput): unknown[] {
  return [input.token, input.now];
}

/**
 * @internal `delete`: $1 token, $2 now.
 *
 * @param token - The token.
 * @param now - The store's clock (ms since the epoch): a retired row names its successor
 *   only while it is live (in its grace).
 * @returns The parameters.
 */
export function deleteArgs(token: string, now: number): unknown[] {
  return [token, now];
}

/** @internal A whole session to write. */
export interface WriteInput extends KeyInput {
  /** The values, as JSON text. */
  readonly values: string;
  /** The session's expiry (ms since the epoch). */
  readonly expireTime: number;
  /** The session's absolute end (ms since the epoch). */
  readonly deadline: number;
  /** The session's owner, or `null` for none. */
  readonly owner: string | null;
  /** The metadata text, or `null` for none. */
  readonly meta: string | null;
}

/** @internal An owner's bound, for a bounded save. */
export interface BoundInput {
  /** The most live sessions the owner may have. */
  readonly max: number;
  /** Whether a save that would exceed it evicts (else it writes nothing). */
  readonly evict: boolean;
}

/**
 * @internal `set`: $1 token, $2 now, $3 values, $4 expiry, $5 deadline, $6 owner, $7 meta.
 *
 * @param input - The session.
 * @returns The parameters.
 */
export function setArgs(input: WriteInput): unknown[] {
  return [input.token, input.now, input.values, input.expireTime, input.deadline, input.owner, input.meta];
}

/**
 * @internal `boundedSet`: {@link setArgs}, then $8 max, $9 evict.
 *
 * @param input - The session and the bound.
 * @returns The parameters.
 */
export function boundedSetArgs(input: WriteInput & BoundInput): unknown[] {
  return [...setArgs(input), input.max, input.evict];
}

/** @internal A patch to apply. */
export interface PatchInput extends KeyInput {
  /** The values set, as a JSON object's text. */
  readonly set: string;
  /** The names of the values unset. */
  readonly unset: readonly string[];
  /** The new expiry (ms since the epoch). */
  readonly expireTime: number;
  /** The new absolute end (ms since the epoch). */
  readonly deadline: number;
  /** The owner after the patch: `undefined` keeps the stored one, `null` clears it. */
  readonly owner: string | null | undefined;
  /** The new metadata, or `null` to keep the stored one. */
  readonly meta: string | null;
}

/**
 * @internal `patch`: $1 token, $2 now, $3 set, $4 unset, $5 expiry, $6 deadline, $7 owner,
 * $8 whether the owner is given, $9 meta.
 *
 * @param input - The patch.
 * @returns The parameters.
 */
export function patchArgs(input: PatchInput): unknown[] {
  const { owner } = input;
  return [
    input.token,
    input.now,
    input.set,
    [...input.unset],
    input.expireTime,
    input.deadline,
    owner ?? null,
    owner !== undefined,
    input.meta,
  ];
}

/**
 * @internal `boundedPatch`: {@link patchArgs} (the owner given), then $10 max, $11 evict.
 *
 * @param input - The patch, which names its owner, and the bound.
 * @returns The parameters.
 */
export function boundedPatchArgs(input: PatchInput & { readonly owner: string } & BoundInput): unknown[] {
  return [...patchArgs(input), input.max, input.evict];
}

/** @internal A renewal: the old session's token, and its successor. */
export interface RenewInput extends WriteInput {
  /** The successor's token. */
  readonly newToken: string;
  /** How long the retired row is still served (ms); 0 or less deletes it. */
  readonly grace: number;
}

/**
 * @internal `renew`: $1 the old token, $2 now, $3 the successor's token, $4 values,
 * $5 expiry, $6 deadline, $7 owner, $8 meta, $9 grace.
 *
 * @param input - The renewal.
 * @returns The parameters.
 */
export function renewArgs(input: RenewInput): unknown[] {
  return [
    input.token,
    input.now,
    input.newToken,
    input.values,
    input.expireTime,
    input.deadline,
    input.owner,
    input.meta,
    input.grace,
  ];
}

/**
 * @internal `boundedRenew`: {@link renewArgs} (the owner given), then $10 max, $11 evict.
 *
 * @param input - The renewal, which names its owner, and the bound.
 * @returns The parameters.
 */
export function boundedRenewArgs(input: RenewInput & { readonly owner: string } & BoundInput): unknown[] {
  return [...renewArgs(input), input.max, input.evict];
}

/** @internal An owner, and the store's clock. */
export interface OwnerInput {
  /** The owner. */
  readonly owner: string;
  /** The store's clock (ms since the epoch). */
  readonly now: number;
}

/**
 * @internal `deleteOwner`: $1 owner, $2 now, $3 the handle to keep (or null).
 *
 * @param input - The owner, the clock and the handle to keep.
 * @returns The parameters.
 */
export function deleteOwnerArgs(input: OwnerInput & { readonly keep: string | null }): unknown[] {
  return [input.owner, input.now, input.keep];
}

/**
 * @internal `list`: $1 owner, $2 now.
 *
 * @param input - The owner and the clock.
 * @returns The parameters.
 */
export function listArgs(input: OwnerInput): unknown[] {
  return [input.owner, input.now];
}

/**
 * @internal `deleteByHandle`: $1 handle, $2 now, $3 owner.
 *
 * @param input - The handle, the owner and the clock.
 * @returns The parameters.
 */
export function deleteByHandleArgs(input: OwnerInput & { readonly handle: string }): unknown[] {
  return [input.handle, input.now, input.owner];
}

/**
 * @internal `deleteExpired`: $1 now.
 *
 * @param now - The store's clock.
 * @returns The parameters.
 */
export function deleteExpiredArgs(now: number): unknown[] {
  return [now];
}
