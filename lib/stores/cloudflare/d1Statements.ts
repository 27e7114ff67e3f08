// The SQL of D1SessionStore (`kit-session/cloudflare`; internal, not exported). The table,
// its columns and most statements are the SQLite store's (sqlite/statements.ts): D1 is
// SQLite. What differs is that D1 has no interactive transaction: between two awaits
// other requests interleave, and the only atomic unit is one statement or one
// `db.batch([...])` (one transaction, its statements in order). So every write that the
// SQLite store decides in JS inside BEGIN IMMEDIATE decides here in its own SQL:
//
// - a patch is one UPDATE whose SQL applies the changes itself (`json_set` of each value
//   set, `json_remove` of each unset, on the values the row holds when it runs), written
//   only while the row is a live session of its own; a key that a JSON path cannot name
//   (one with `"` or `\`), or more values than D1 binds parameters for, falls back to
//   compare-and-set: the UPDATE applies only while the
//   row still holds the values text it was merged from (`data = :old`), and the store
//   retries on a change;
// - the bound is a predicate: a bounded insert or patch applies only while the owner has
//   fewer than `:refuseMax` other live sessions, and the eviction is one DELETE whose
//   LIMIT counts the owner's other live sessions itself;
// - a renewal is one batch whose statements all carry the same condition (the old row is
//   a live session of its own, and the bound admits the successor), so either all apply
//   or none does;
// - ending a retired id and its successors is one DELETE over a recursive chain.
//
// Parameters common to the bound: `:owner`; `:token` the row written (or, in a renewal,
// the old row); `:other` another row left out of the owner's count (the successor in a
// renewal, else `:token` again); `:refuseMax` the bound when the policy refuses and the
// write counts, else NULL; `:evictMax` the same for eviction.
import { MAX_RENEWAL_STEPS } from '../policy.js';
import { sessionStatements, statement, type SessionStatements, type Statement } from '../sqlite/statements.js';

/** The row (of `alias`, when given) has not ended by the store's clock. */
const live = (alias = '') => `min(${alias}expire_time, ${alias}deadline) > :now`;
/** The row is a session of its own (not retired) that has not ended. */
const session = (alias = '') => `${live(alias)} AND ${alias}successor IS NULL`;

/**
 * The D1 store's statements, for one table.
 *
 * @internal
 */
export interface D1SessionStatements
  extends Pick<SessionStatements, 'get' | 'own' | 'set' | 'deleteOwner' | 'deleteExpired' | 'list'> {
  /**
   * The row `:token` as it is now, when it is a live session of its own: its values text,
   * its owner, and whether the bound admits `:owner` for it (`admitted`).
   */
  readonly probe: Statement;
  /** {@link SessionStatements.set}, applied only when the bound admits it. */
  readonly setBounded: Statement;
  /**
   * Writes a patched session only while it is a live session of its own still holding the
   * values text `:old`, and the bound admits it (compare-and-set).
   */
  readonly patch: Statement;
  /**
   * A patch that sets `sets` values and unsets `unsets`, applied by the SQL itself on the
   * values the row holds (`json_set`, then `json_remove`), while the row is a live session
   * of its own and the bound admits it. Each value set is `:setPath<n>` (a JSON path, see
   * {@link jsonPath}) and `:setValue<n>` (JSON text); each unset `:unsetPath<n>`, where
   * `<n>` is {@link parameterSuffix} of its index.
   */
  jsonPatch(sets: number, unsets: number): Statement;
  /**
   * Deletes the owner's least recently written other live sessions, as many as are over
   * `:evictMax` with one more, when `:token` does not count already and `:guard` holds
   * (1 always; 2: `:token` is a live session of its own holding `:old`; 3: `:token` is a
   * live session of its own). RETURNING each token evicted.
   */
  readonly evict: Statement;
  /** Writes the successor `:other` of a renewal while `:token` is live, of its own, and admitted. */
  readonly renewSet: Statement;
  /** Retires `:token` in favour of `:other` under the same condition as `renewSet`. */
  readonly renewRetire: Statement;
  /** Deletes `:token` (a renewal with no grace) under the same condition as `renewSet`. */
  readonly renewDelete: Statement;
  /**
   * Deletes `:token` and, while each row is live and renewed, its successors (at most
   * MAX_RENEWAL_STEPS more), RETURNING each row's successor and liveness.
   */
  readonly deleteChain: Statement;
  /** {@link D1SessionStatements.deleteChain} over rows of `:owner` only. */
  readonly deleteChainByHandle: Statement;
}

/**
 * Builds the D1 store's statements for one table.
 *
 * @internal
 * @param table - The quoted table.
 * @returns Its statements.
 */
export function d1SessionStatements(table: string): D1SessionStatements {
  const sqlite = sessionStatements(table);
  // The owner's other live sessions, leaving out `:token` and `:other`.
  const others = (alias: string) =>
    `FROM ${table} ${alias} WHERE ${alias}.owner = :owner AND ${alias}.token <> :token AND ${alias}.token <> :other ` +
    `AND ${session(`${alias}.`)}`;
  // `:token` counts against the owner: it is not the owner's live session of its own already.
  const counts = `NOT EXISTS (SELECT 1 FROM ${table} h WHERE h.token = :token AND h.owner = :owner AND ${session('h.')})`;
  // The bound admits the write: it refuses nothing, or the write does not count, or the
  // owner has room.
  const admitted = `(:refuseMax IS NULL OR NOT (${counts}) OR (SELECT count(*) ${others('c')}) < :refuseMax)`;
  const own = `EXISTS (SELECT 1 FROM ${table} g WHERE g.token = :token AND ${session('g.')})`;
  const renewable = `${own} AND ${admitted}`;
  const columns = '(token, data, expire_time, deadline, owner, meta, write_time, successor)';
  const upsert =
    `ON CONFLICT (token) DO UPDATE SET data = excluded.data, expire_time = excluded.expire_time, ` +
    `deadline = excluded.deadline, owner = excluded.owner, meta = excluded.meta, ` +
    `write_time = excluded.write_time, successor = NULL`;
  const jsonPatches = new Map<string, Statement>();
  const jsonPatch = (sets: number, unsets: number): Statement => {
    const cached = jsonPatches.get(`${sets}/${unsets}`);
    if (cached !== undefined) {
      return cached;
    }
    let data = 'data';
    if (sets > 0) {
      const pairs = Array.from({ length: sets }, (_, i) => `:setPath${parameterSuffix(i)}, json(:setValue${parameterSuffix(i)})`);
      data = `json_set(${data}, ${pairs.join(', ')})`;
    }
    if (unsets > 0) {
      const paths = Array.from({ length: unsets }, (_, i) => `:unsetPath${parameterSuffix(i)}`);
      data = `json_remove(${data}, ${paths.join(', ')})`;
    }
    const compiled = statement(
      `UPDATE ${table} SET data = ${data}, expire_time = :expireTime, deadline = :deadline, ` +
        `owner = CASE WHEN :ownerGiven THEN :owner ELSE owner END, meta = coalesce(:meta, meta), ` +
        `write_time = :now WHERE token = :token AND ${session()} AND ${admitted}`,
    );
    if (jsonPatches.size < 256) {
      jsonPatches.set(`${sets}/${unsets}`, compiled);
    }
    return compiled;
  };
  const chain = (byOwner: boolean) => {
    const mine = (alias: string) => (byOwner ? ` AND ${alias}.owner = :owner` : '');
    return statement(
      `WITH RECURSIVE chain (token, successor, live, step) AS (` +
        `SELECT token, successor, ${live()}, 0 FROM ${table} WHERE token = :token${byOwner ? ' AND owner = :owner' : ''} ` +
        `UNION ALL SELECT n.token, n.successor, ${live('n.')}, chain.step + 1 FROM chain ` +
        `JOIN ${table} n ON n.token = chain.successor${mine('n')} ` +
        `WHERE chain.live AND chain.step < ${MAX_RENEWAL_STEPS}) ` +
        `DELETE FROM ${table} WHERE token IN (SELECT token FROM chain) ` +
        `RETURNING successor, ${live()} AS live`,
    );
  };
  return {
    get: sqlite.get,
    own: sqlite.own,
    set: sqlite.set,
    deleteOwner: sqlite.deleteOwner,
    deleteExpired: sqlite.deleteExpired,
    list: sqlite.list,
    probe: statement(`SELECT data, owner, ${admitted} AS admitted FROM ${table} WHERE token = :token AND ${session()}`),
    setBounded: statement(
      `INSERT INTO ${table} ${columns} SELECT :token, :data, :expireTime, :deadline, :owner, :meta, :now, NULL ` +
        `WHERE ${admitted} ${upsert}`,
    ),
    patch: statement(
      `UPDATE ${table} SET data = :data, expire_time = :expireTime, deadline = :deadline, ` +
        `owner = CASE WHEN :ownerGiven THEN :owner ELSE owner END, meta = coalesce(:meta, meta), ` +
        `write_time = :now WHERE token = :token AND data = :old AND ${session()} AND ${admitted}`,
    ),
    jsonPatch,
    evict: statement(
      `DELETE FROM ${table} WHERE token IN (SELECT e.token ${others('e')} ORDER BY e.write_time, e.token ` +
        `LIMIT max(0, (SELECT count(*) ${others('c')}) - :evictMax + 1)) ` +
        `AND :evictMax IS NOT NULL AND ${counts} ` +
        `AND CASE :guard WHEN 1 THEN 1 ` +
        `WHEN 2 THEN EXISTS (SELECT 1 FROM ${table} p WHERE p.token = :token AND p.data = :old AND ${session('p.')}) ` +
        `ELSE ${own} END ` +
        `RETURNING token`,
    ),
    renewSet: statement(
      `INSERT INTO ${table} ${columns} SELECT :other, :data, :expireTime, :deadline, :owner, :meta, :now, NULL ` +
        `WHERE ${renewable} ${upsert}`,
    ),
    renewRetire: statement(
      `UPDATE ${table} SET successor = :other, expire_time = min(expire_time, :now + :grace) ` +
        `WHERE token = :token AND ${renewable}`,
    ),
    renewDelete: statement(`DELETE FROM ${table} WHERE token = :token AND ${renewable}`),
    deleteChain: chain(false),
    deleteChainByHandle: chain(true),
  };
}

/**
 * How many parameters the values of one SQL patch may take (two per value set, one per
 * value unset): D1 binds at most 100 parameters to one statement, and the rest of the
 * patch takes about 20. A patch that needs more compares and sets instead.
 *
 * @internal
 */
export const MAX_PATCH_PARAMETERS = 64;

/**
 * The letters that stand for an index in a parameter's name (parameter names are letters
 * only): 0 is `a`, 25 `z`, 26 `ba`.
 *
 * @internal
 * @param index - The index.
 * @returns Its letters.
 */
export function parameterSuffix(index: number): string {
  return [...index.toString(26)].map((digit) => String.fromCharCode(97 + parseInt(digit, 26))).join('');
}

/** Keys a quoted JSON path label names exactly: no `"` or `\`, no control character, no lone surrogate. */
const PATH_SAFE = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/u;

/**
 * The JSON path of one top-level key (`$."key"`), or `undefined` when SQLite's path syntax
 * cannot name it exactly: a key with `"` (which ends a quoted label), `\` (which starts
 * an escape), a control character, or a lone surrogate.
 *
 * @internal
 * @param key - The key.
 * @returns The path, or `undefined`.
 */
export function jsonPath(key: string): string | undefined {
  return PATH_SAFE.test(key) ? `$."${key}"` : undefined;
}
