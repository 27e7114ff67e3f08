// kit-session/mysql: each owner's generation in a small MySQL or MariaDB table, for
// revocable sealed cookies.
import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { checkOptionKeys } from '../../core/options.js';
import type { OwnerGenerations } from '../../core/SessionStore.js';
import { GenerationsEpoch, parseMarker } from '../generationsEpoch.js';
import { resolveTimeout, storeOperation } from '../policy.js';
import { generationsStatements, generationsTableSql, qualifiedTable, withoutData } from './statements.js';

/**
 * Where the generations table lives, for {@link ownerGenerationsTableSql} and
 * {@link MysqlOwnerGenerationsOptions}.
 */
export interface MysqlGenerationsTableOptions {
  /**
   * The table's name: a letter or `_`, then letters, digits or `_`, at most 48
   * characters. It is always quoted in backticks.
   * @default 'session_generations'
   */
  readonly table?: string;
  /**
   * The database the table is in (same rules as `table`); unset, the connection's
   * current database.
   * @default undefined
   */
  readonly database?: string;
}

/**
 * Options of {@link MysqlOwnerGenerations}.
 */
export interface MysqlOwnerGenerationsOptions extends MysqlGenerationsTableOptions {
  /**
   * The longest a query may take, in milliseconds, waiting for a pooled connection
   * included, before it rejects with `SessionStoreError` (cause: an error named
   * `TimeoutError`). The query itself is not cancelled.
   * @default 5000
   */
  readonly timeout?: number;
}

/** Every key of {@link MysqlGenerationsTableOptions}. */
const TABLE_OPTIONS = ['table', 'database'] as const satisfies readonly (keyof MysqlGenerationsTableOptions)[];
/** Every key of {@link MysqlOwnerGenerationsOptions}. */
const OPTIONS = [...TABLE_OPTIONS, 'timeout'] as const satisfies readonly (keyof MysqlOwnerGenerationsOptions)[];

/**
 * The default name of the generations table.
 *
 * @example
 * ```ts
 * await pool.query(`SELECT generation FROM \`${DEFAULT_MYSQL_GENERATIONS_TABLE}\` WHERE owner = ?`, ['user-42']);
 * ```
 */
export const DEFAULT_MYSQL_GENERATIONS_TABLE = 'session_generations';

/**
 * The SQL that creates the generations table; safe to run again (`IF NOT EXISTS`). Run
 * it in a migration, or call {@link MysqlOwnerGenerations.createTable}.
 *
 * ```sql
 * CREATE TABLE IF NOT EXISTS `session_generations` (
 *   owner      VARBINARY(1024) NOT NULL,
 *   generation BIGINT NOT NULL,
 *   PRIMARY KEY (owner)
 * ) ENGINE=InnoDB
 * ```
 *
 * One row per owner ever bumped; an owner without a row is at generation 0. Rows are
 * never deleted by kit-session: deleting one would move its owner back to 0 and let
 * cookies sealed before the last bump open again. One more row, written at first use,
 * is the store's marker (its owner is U+0001 then `epoch`; an owner that begins with
 * U+0001 is kept with one more in front): a table that lost it (truncated, restored
 * empty) is found out and begins a new epoch. `owner` is VARBINARY: compared byte for
 * byte, at most 1024 bytes of UTF-8.
 *
 * @param options - The table's name and database.
 * @returns One statement.
 * @throws TypeError when a name breaks the rules of {@link MysqlGenerationsTableOptions},
 *   or `options` names an option that does not exist.
 * @example
 * ```ts
 * await pool.query(ownerGenerationsTableSql({ database: 'auth' }));
 * ```
 */
export function ownerGenerationsTableSql(options: MysqlGenerationsTableOptions = {}): string {
  checkOptionKeys('ownerGenerationsTableSql options', options, TABLE_OPTIONS);
  return generationsTableSql(qualifiedTable(options, DEFAULT_MYSQL_GENERATIONS_TABLE));
}

/** The owner of the marker's row: no owner's row has it (see {@link rowOwner}). */
const MARKER_OWNER = '\u0001epoch';

/** The owner an owner's row is kept under: one more U+0001 in front of one that begins with it. */
function rowOwner(owner: string): string {
  return owner.startsWith('\u0001') ? `\u0001${owner}` : owner;
}

type Rows = RowDataPacket[];

/**
 * Keeps each owner's generation ({@link OwnerGenerations}) in a MySQL or MariaDB table
 * through a `mysql2/promise` pool, for revocable sealed cookies. `current` is one
 * `SELECT` of two rows by primary key (the owner's and the store's marker); `bump` a read
 * of the marker and one upsert, `INSERT … ON DUPLICATE KEY UPDATE generation =
 * LAST_INSERT_ID(GREATEST(generation, floor) + 1)`, which InnoDB runs atomically per row
 * (concurrent bumps are all counted) and which answers the new generation in the same
 * round trip. The schema is {@link ownerGenerationsTableSql}.
 *
 * The table must keep its rows (back it up; never truncate it): a generation lost
 * reopens the cookies it revoked. An object that finds the marker gone or replaced
 * rejects that read with `SessionGenerationsLostError` and begins a new epoch above every
 * generation handed out before, so every cookie sealed before the loss reads as revoked.
 *
 * A query that fails or takes longer than `timeout` rejects with `SessionStoreError`,
 * whose message and cause hold no owner.
 *
 * @example
 * ```ts
 * import mysql from 'mysql2/promise';
 * import { MysqlOwnerGenerations } from 'kit-session/mysql';
 *
 * const pool = mysql.createPool(process.env.MYSQL_URL!);
 * const generations = new MysqlOwnerGenerations(pool);
 * await generations.createTable();
 * await generations.bump('user-42'); // every cookie sealed before is revoked
 * ```
 */
export class MysqlOwnerGenerations implements OwnerGenerations {
  readonly #pool: Pool;
  readonly #timeout: number;
  readonly #create: string;
  readonly #sql: ReturnType<typeof generationsStatements>;
  readonly #epoch = new GenerationsEpoch();

  /**
   * @param pool - A `mysql2/promise` pool, owned by the app (never ended here).
   * @param options - See {@link MysqlOwnerGenerationsOptions}.
   * @throws TypeError when the pool has no `query` method, an option is invalid, or
   *   `options` names an option that does not exist.
   */
  constructor(pool: Pool, options: MysqlOwnerGenerationsOptions = {}) {
    checkOptionKeys('MysqlOwnerGenerations options', options, OPTIONS);
    if (pool === null || typeof pool !== 'object' || typeof pool.query !== 'function') {
      throw new TypeError('pool must be a mysql2/promise pool');
    }
    const table = qualifiedTable(options, DEFAULT_MYSQL_GENERATIONS_TABLE);
    this.#timeout = resolveTimeout(options.timeout);
    this.#pool = pool;
    this.#create = generationsTableSql(table);
    this.#sql = generationsStatements(table);
  }

  /**
   * Creates the generations table if it does not exist: runs
   * {@link ownerGenerationsTableSql} (safe when app instances start at once).
   *
   * @throws SessionStoreError when the server fails or does not answer within `timeout`.
   * @example
   * ```ts
   * await new MysqlOwnerGenerations(pool).createTable();
   * ```
   */
  async createTable(): Promise<void> {
    await this.#query('create table', this.#create, []);
  }

  /**
   * Reads an owner's generation: one `SELECT` of its row and the marker's.
   *
   * @param owner - The owner.
   * @returns The generation; 0 for an owner never bumped (the epoch's floor after a loss).
   * @throws SessionGenerationsLostError when the marker is gone or replaced: the table
   *   lost its rows. The next read answers from the new epoch.
   * @throws SessionStoreError when the server fails or does not answer within `timeout`.
   * @example
   * ```ts
   * const generation = await generations.current('user-42');
   * ```
   */
  async current(owner: string): Promise<number> {
    const [row] = await this.#query<Rows>('read', this.#sql.current, [rowOwner(owner), MARKER_OWNER]);
    const found = parseMarker(row?.marker as string | number | null | undefined);
    const floor = await this.#epoch.floorFor(found, (next) => this.#mark(found, next), true);
    return this.#epoch.answer(Number(row?.generation ?? 0), floor);
  }

  /**
   * Moves an owner's generation forward by one: one atomic upsert (after a read of the
   * marker, whose epoch it stays above).
   *
   * @param owner - The owner.
   * @returns The new generation.
   * @throws SessionStoreError when the server fails or does not answer within `timeout`.
   * @example
   * ```ts
   * await generations.bump('user-42'); // log out everywhere, sealed cookies included
   * ```
   */
  async bump(owner: string): Promise<number> {
    const [marker] = await this.#query<Rows>('read marker', this.#sql.marker, [MARKER_OWNER]);
    const found = parseMarker(marker?.generation as string | number | undefined);
    // A bump after a loss still revokes: it begins the new epoch and goes on above it.
    const floor = await this.#epoch.floorFor(found, (next) => this.#mark(found, next), false);
    const result = await this.#query<ResultSetHeader>('bump', this.#sql.bump, [rowOwner(owner), floor, floor]);
    return this.#epoch.answer(Number(result.insertId), floor);
  }

  /** Writes `next` as the marker if it is still `found`; answers the marker in place after. */
  async #mark(found: number | undefined, next: number): Promise<number | undefined> {
    await this.#query('mark', this.#sql.mark, [MARKER_OWNER, next, found ?? null]);
    const [row] = await this.#query<Rows>('mark', this.#sql.marker, [MARKER_OWNER]);
    return parseMarker(row?.generation as string | number | undefined);
  }

  /** Runs one statement against the timeout; every failure becomes a SessionStoreError. */
  #query<R extends Rows | ResultSetHeader>(operation: string, sql: string, values: unknown[]): Promise<R> {
    return storeOperation(
      `mysql owner generations: ${operation}`,
      this.#timeout,
      async () => (await this.#pool.query(sql, values))[0] as R,
      withoutData,
    );
  }
}
