// The SQL of MysqlSessionStore and MysqlOwnerGenerations (`kit-session/mysql`; internal,
// not exported): every statement the two send, for one table, in one place.
//
// Written for both MariaDB (10.5 and later; tested on 10.11) and MySQL 8 (untested here):
// it keeps to what both accept. InnoDB row locks (`SELECT … FOR UPDATE`), `INSERT … ON
// DUPLICATE KEY UPDATE … VALUES(col)` (MySQL 8.0.20+ warns that `VALUES()` is deprecated
// there, but runs it), a STORED generated column, `WITH RECURSIVE` (MariaDB 10.2+, MySQL
// 8.0+), `GET_LOCK`, and `LAST_INSERT_ID(expr)`. No `RETURNING` (MySQL has none), no
// data-modifying CTE, no JSON function (MySQL's rewrite the text; see sessionTableSql).
//
// Columns: `token` the SHA-256 of the session id, base64url (the key and the public
// handle); `data` the values as JSON text; `expire_time`, `deadline`, `write_time`
// milliseconds since the epoch by the store's clock (BIGINT; always a parameter, never
// `NOW()`); `end_time` = LEAST(expire_time, deadline), generated and indexed; `owner`
// (VARBINARY: compared byte for byte, no collation, no trailing-space padding); `meta`;
// `successor` the token this row was renewed into (NULL while it is a session of its own).
// Every table name is a checked identifier in backticks (see `qualifiedTable`).

/** A letter or `_`, then letters, digits or `_`: at most 48 characters. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/;

/**
 * A table's name checked, quoted in backticks and qualified by its database.
 *
 * @internal
 * @param options - The table's name and database.
 * @param fallback - The name when `options.table` is unset.
 * @returns The quoted, qualified name.
 * @throws TypeError when a name breaks the rules.
 */
export function qualifiedTable(options: { readonly table?: string; readonly database?: string }, fallback: string): string {
  const quote = (kind: string, name: unknown) => {
    if (typeof name !== 'string' || !IDENTIFIER.test(name)) {
      throw new TypeError(`${kind} must be a letter or _, then letters, digits or _ (at most 48 characters)`);
    }
    return `\`${name}\``;
  };
  const table = quote('table', options.table ?? fallback);
  return options.database === undefined ? table : `${quote('database', options.database)}.${table}`;
}

/**
 * The SQL that creates the session table: see `sessionTableSql`.
 *
 * @internal
 * @param table - The quoted, qualified table.
 * @returns One statement.
 */
export function tableSql(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${table} (
  token       CHAR(43) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  data        LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  expire_time BIGINT NOT NULL,
  deadline    BIGINT NOT NULL,
  end_time    BIGINT AS (LEAST(expire_time, deadline)) STORED,
  owner       VARBINARY(1024),
  meta        MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
  write_time  BIGINT NOT NULL,
  successor   CHAR(43) CHARACTER SET ascii COLLATE ascii_bin,
  PRIMARY KEY (token),
  KEY end_idx (end_time),
  KEY owner_idx (owner)
) ENGINE=InnoDB`;
}

/**
 * The statements of one session table. `?` parameters, in the order each comment gives.
 *
 * @internal
 */
export interface SessionStatements {
  /** token → data, expire_time, deadline, meta, successor (expired and retired rows too). */
  readonly get: string;
  /** token, (MAX_RENEWAL_STEPS) → successor, end_time of each row of its renewal chain, in order. */
  readonly chain: string;
  /** token, data, expire_time, deadline, owner, meta, write_time: an upsert of a whole session. */
  readonly set: string;
  /** owner, token, now → mine, own, live of the row, locked (absent: no row). */
  readonly lockRow: string;
  /** owner, token, now → data, mine of a live session of its own, locked. */
  readonly lockPatch: string;
  /** data, expire_time, deadline, owner, meta, write_time, token: a patch's write that names the owner. */
  readonly update: string;
  /** data, expire_time, deadline, meta, write_time, token: a patch's write that keeps the owner. */
  readonly updateKeepOwner: string;
  /** owner, token, token, now → the tokens of the owner's other live sessions, least recently written first, locked. */
  readonly others: string;
  /** tokens: deletes sessions of their own (eviction). */
  readonly evict: string;
  /** successor, now + grace, token: retires a renewed row. */
  readonly retire: string;
  /** token: deletes a row of its own, live or not. */
  readonly deleteOwn: string;
  /** token, owner: deletes a row of its own of the owner, live or not. */
  readonly deleteOwnOfOwner: string;
  /** token, successor: deletes a retired row. */
  readonly deleteRetired: string;
  /** now, token → successor, live of a row. */
  readonly peek: string;
  /** token, owner, now: deletes a live session of its own of the owner. */
  readonly deleteLiveOfOwner: string;
  /** now, token, owner → successor, live of a row of the owner. */
  readonly peekOfOwner: string;
  /** now, owner → token, successor, live of each row of the owner, locked. */
  readonly lockOwnerRows: string;
  /** tokens: deletes rows. */
  readonly deleteTokens: string;
  /** owner, now → handle, meta, expire_time, deadline of the owner's live sessions. */
  readonly list: string;
  /** now: deletes the rows that have ended. */
  readonly deleteExpired: string;
}

/**
 * Builds the statements of one session table.
 *
 * @internal
 * @param table - The quoted, qualified table.
 * @param steps - How many renewals a chain is followed through.
 * @returns Its statements.
 */
export function sessionStatements(table: string, steps: number): SessionStatements {
  return {
    get: `SELECT data, expire_time, deadline, meta, successor FROM ${table} WHERE token = ?`,
    chain:
      `WITH RECURSIVE chain (token, successor, end_time, step) AS (` +
      `SELECT token, successor, end_time, 0 FROM ${table} WHERE token = ? ` +
      `UNION ALL SELECT n.token, n.successor, n.end_time, chain.step + 1 FROM chain ` +
      `JOIN ${table} n ON n.token = chain.successor WHERE chain.step < ${steps}) ` +
      `SELECT successor, end_time FROM chain ORDER BY step`,
    // A whole write replaces the row, a retired one too (it is a session of its own again).
    set:
      `INSERT INTO ${table} (token, data, expire_time, deadline, owner, meta, write_time) VALUES (?, ?, ?, ?, ?, ?, ?) ` +
      `ON DUPLICATE KEY UPDATE data = VALUES(data), expire_time = VALUES(expire_time), deadline = VALUES(deadline), ` +
      `owner = VALUES(owner), meta = VALUES(meta), write_time = VALUES(write_time), successor = NULL`,
    lockRow:
      `SELECT (owner <=> ?) AS mine, (successor IS NULL) AS own, (end_time > ?) AS live ` +
      `FROM ${table} WHERE token = ? FOR UPDATE`,
    lockPatch:
      `SELECT data, (owner <=> ?) AS mine FROM ${table} ` +
      `WHERE token = ? AND successor IS NULL AND end_time > ? FOR UPDATE`,
    update:
      `UPDATE ${table} SET data = ?, expire_time = ?, deadline = ?, owner = ?, meta = COALESCE(?, meta), ` +
      `write_time = ? WHERE token = ?`,
    updateKeepOwner:
      `UPDATE ${table} SET data = ?, expire_time = ?, deadline = ?, meta = COALESCE(?, meta), ` +
      `write_time = ? WHERE token = ?`,
    others:
      `SELECT token FROM ${table} WHERE owner = ? AND token <> ? AND token <> ? AND successor IS NULL ` +
      `AND end_time > ? ORDER BY write_time, token FOR UPDATE`,
    evict: `DELETE FROM ${table} WHERE token IN (?) AND successor IS NULL`,
    retire: `UPDATE ${table} SET successor = ?, expire_time = LEAST(expire_time, ?) WHERE token = ?`,
    deleteOwn: `DELETE FROM ${table} WHERE token = ? AND successor IS NULL`,
    deleteOwnOfOwner: `DELETE FROM ${table} WHERE token = ? AND owner = ? AND successor IS NULL`,
    deleteRetired: `DELETE FROM ${table} WHERE token = ? AND successor = ?`,
    peek: `SELECT successor, (end_time > ?) AS live FROM ${table} WHERE token = ?`,
    deleteLiveOfOwner: `DELETE FROM ${table} WHERE token = ? AND owner = ? AND successor IS NULL AND end_time > ?`,
    peekOfOwner: `SELECT successor, (end_time > ?) AS live FROM ${table} WHERE token = ? AND owner = ?`,
    lockOwnerRows: `SELECT token, successor, (end_time > ?) AS live FROM ${table} WHERE owner = ? FOR UPDATE`,
    deleteTokens: `DELETE FROM ${table} WHERE token IN (?)`,
    list:
      `SELECT token AS handle, meta, expire_time, deadline FROM ${table} ` +
      `WHERE owner = ? AND successor IS NULL AND end_time > ?`,
    deleteExpired: `DELETE FROM ${table} WHERE end_time <= ?`,
  };
}

/**
 * Takes an owner's lock for a bounded save: the lock's name (the store hashes the table
 * and the owner into it: a name holds at most 64 characters, and never the owner's text),
 * and how many seconds to wait → `locked` 1 when taken.
 *
 * @internal
 */
export const LOCK_OWNER = 'SELECT GET_LOCK(?, ?) AS locked';
/** @internal Releases what {@link LOCK_OWNER} took: the lock's name. */
export const UNLOCK_OWNER = 'DO RELEASE_LOCK(?)';

/**
 * The SQL that creates the generations table: see `ownerGenerationsTableSql`.
 *
 * @internal
 * @param table - The quoted, qualified table.
 * @returns One statement.
 */
export function generationsTableSql(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${table} (
  owner      VARBINARY(1024) NOT NULL,
  generation BIGINT NOT NULL,
  PRIMARY KEY (owner)
) ENGINE=InnoDB`;
}

/**
 * The statements of one generations table.
 *
 * @internal
 * @param table - The quoted, qualified table.
 * @returns Its statements.
 */
export function generationsStatements(table: string) {
  return {
    /** owner's row, marker's row → generation, marker. */
    current:
      `SELECT (SELECT generation FROM ${table} WHERE owner = ?) AS generation, ` +
      `(SELECT generation FROM ${table} WHERE owner = ?) AS marker`,
    /** marker's row → generation. */
    marker: `SELECT generation FROM ${table} WHERE owner = ?`,
    /** marker's row, the new marker, the marker found (NULL: none): a compare and set. */
    mark:
      `INSERT INTO ${table} (owner, generation) VALUES (?, ?) ` +
      `ON DUPLICATE KEY UPDATE generation = IF(generation <=> ?, VALUES(generation), generation)`,
    /**
     * owner's row, floor, floor: one above the generation or the floor. The new value
     * comes back as the result's `insertId` (`LAST_INSERT_ID(expr)`), in the same round trip.
     */
    bump:
      `INSERT INTO ${table} (owner, generation) VALUES (?, LAST_INSERT_ID(? + 1)) ` +
      `ON DUPLICATE KEY UPDATE generation = LAST_INSERT_ID(GREATEST(generation, ?) + 1)`,
  } as const;
}

/**
 * MySQL's errors about bad input quote it (`Incorrect string value: '\xF0…'`,
 * `Duplicate entry '…'`), and mysql2 puts the whole statement, values included, in `sql`.
 * Drops `sql` and replaces every quoted piece of the messages, so that a logged `cause`
 * carries no token, owner or session value; `code`, `errno` and `sqlState` stay.
 *
 * @internal
 * @param error - What mysql2 threw.
 * @returns The same error, scrubbed.
 */
export function withoutData(error: unknown): unknown {
  if (typeof error === 'object' && error !== null) {
    const fields = error as Record<string, unknown>;
    const scrub = (text: unknown) => (typeof text === 'string' ? text.replace(/'(?:[^'\\]|\\.)*'/g, "'…'") : text);
    try {
      if ('sql' in fields) {
        fields.sql = undefined;
      }
      for (const field of ['message', 'sqlMessage'] as const) {
        if (typeof fields[field] === 'string') {
          fields[field] = scrub(fields[field]);
        }
      }
      if (typeof fields.stack === 'string') {
        fields.stack = scrub(fields.stack);
      }
    } catch {
      // A frozen error keeps its fields.
    }
  }
  return error;
}
