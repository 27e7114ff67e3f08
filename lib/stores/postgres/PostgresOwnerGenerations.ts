// kit-session/postgres: each owner's generation in a small PostgreSQL table, for
// revocable sealed cookies.
import type { Pool, QueryResult, QueryResultRow } from 'pg';
import { checkOptionKeys } from '../../core/options.js';
import type { OwnerGenerations } from '../../core/SessionStore.js';
import { GenerationsEpoch, parseMarker } from '../generationsEpoch.js';
import { resolveTimeout, storeOperation } from '../policy.js';
import { guardedCreate, qualifiedTable, withoutData } from './tables.js';

/**
 * Where the generations table lives, for {@link ownerGenerationsTableSql} and
 * {@link PostgresOwnerGenerationsOptions}.
 */
export interface OwnerGenerationsTableOptions {
  /**
   * The table's name: a letter or `_`, then letters, digits or `_`, at most 48
   * characters. It is always quoted, so it is case-sensitive.
   * @default 'session_generations'
   */
  readonly table?: string;
  /**
   * The schema the table is in (same rules as `table`); unset, PostgreSQL's
   * `search_path` decides.
   * @default undefined
   */
  readonly schema?: string;
}

/**
 * Options of {@link PostgresOwnerGenerations}.
 */
export interface PostgresOwnerGenerationsOptions extends OwnerGenerationsTableOptions {
  /**
   * The longest a query may take, in milliseconds, waiting for a pooled connection
   * included, before it rejects with `SessionStoreError` (cause: an error named
   * `TimeoutError`). The query itself is not cancelled.
   * @default 5000
   */
  readonly timeout?: number;
}

/** Every key of {@link OwnerGenerationsTableOptions}. */
const TABLE_OPTIONS = ['table', 'schema'] as const satisfies readonly (keyof OwnerGenerationsTableOptions)[];
/** Every key of {@link PostgresOwnerGenerationsOptions}. */
const OPTIONS = [...TABLE_OPTIONS, 'timeout'] as const satisfies readonly (keyof PostgresOwnerGenerationsOptions)[];

/**
 * The default name of the generations table.
 *
 * @example
 * ```ts
 * await pool.query(`SELECT generation FROM "${DEFAULT_GENERATIONS_TABLE}" WHERE owner = $1`, ['user-42']);
 * ```
 */
export const DEFAULT_GENERATIONS_TABLE = 'session_generations';

/**
 * The SQL that creates the generations table; safe to run again (`IF NOT EXISTS`). Run
 * it in a migration, or call {@link PostgresOwnerGenerations.createTable}.
 *
 * ```sql
 * CREATE TABLE IF NOT EXISTS "session_generations" (
 *   owner      text   PRIMARY KEY,
 *   generation bigint NOT NULL
 * );
 * ```
 *
 * One row per owner ever bumped; an owner without a row is at generation 0. Rows are
 * never deleted by kit-session: deleting one would move its owner back to 0 and let
 * cookies sealed before the last bump open again. One more row, written at first use,
 * is the store's marker (its owner is U+0001 then `epoch`; an owner that begins with
 * U+0001 is kept with one more in front, so none is ever the marker's): a table that
 * lost it (truncated, restored empty) is found out and begins a new epoch.
 *
 * @param options - The table's name and schema.
 * @returns The SQL.
 * @throws TypeError when a name breaks the rules of {@link OwnerGenerationsTableOptions},
 *   or `options` names an option that does not exist.
 * @example
 * ```ts
 * await pool.query(ownerGenerationsTableSql({ schema: 'auth' }));
 * ```
 */
export function ownerGenerationsTableSql(options: OwnerGenerationsTableOptions = {}): string {
  checkOptionKeys('ownerGenerationsTableSql options', options, TABLE_OPTIONS);
  return tableSql(qualifiedTable(options, DEFAULT_GENERATIONS_TABLE).table);
}

/** The owner of the marker's row: no owner's row has it (see {@link rowOwner}). */
const MARKER_OWNER = '\u0001epoch';

/** The owner an owner's row is kept under: one more U+0001 in front of one that begins with it. */
function rowOwner(owner: string): string {
  return owner.startsWith('\u0001') ? `\u0001${owner}` : owner;
}

/** {@link ownerGenerationsTableSql} for a table already checked by `qualifiedTable`. */
function tableSql(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${table} (
  owner      text   PRIMARY KEY,
  generation bigint NOT NULL
);`;
}

/**
 * Keeps each owner's generation ({@link OwnerGenerations}) in a PostgreSQL table through
 * a `pg.Pool`, for revocable sealed cookies when the app already runs PostgreSQL.
 * `current` is one `SELECT` of two rows by primary key (the owner's and the store's
 * marker); `bump` one upsert, `INSERT … ON CONFLICT (owner) DO UPDATE SET generation =
 * generation + 1 RETURNING generation`, which PostgreSQL runs atomically per row, so
 * concurrent bumps are all counted (after a read of the marker). The schema is
 * {@link ownerGenerationsTableSql}.
 *
 * The table must keep its rows (back it up; never truncate it): a generation lost
 * reopens the cookies it revoked. The marker row is written at first use; an object
 * that finds it gone or replaced (the table truncated or restored empty) rejects that
 * read with `SessionGenerationsLostError` and begins a new epoch above every generation
 * handed out before, so every cookie sealed before the loss reads as revoked.
 *
 * A query that fails or takes longer than `timeout` rejects with `SessionStoreError`,
 * whose message and cause hold no owner.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import { PostgresOwnerGenerations } from 'kit-session/postgres';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * const generations = new PostgresOwnerGenerations(pool);
 * await generations.createTable();
 * await generations.bump('user-42'); // every cookie sealed before is revoked
 * ```
 */
export class PostgresOwnerGenerations implements OwnerGenerations {
  readonly #pool: Pool;
  readonly #timeout: number;
  readonly #sql: {
    readonly create: string;
    readonly current: string;
    readonly marker: string;
    readonly mark: string;
    readonly bump: string;
  };
  readonly #epoch = new GenerationsEpoch();

  /**
   * @param pool - A `pg.Pool`, owned by the app (never ended here).
   * @param options - See {@link PostgresOwnerGenerationsOptions}.
   * @throws TypeError when the pool has no `query` method, an option is invalid, or
   *   `options` names an option that does not exist.
   */
  constructor(pool: Pool, options: PostgresOwnerGenerationsOptions = {}) {
    checkOptionKeys('PostgresOwnerGenerations options', options, OPTIONS);
    if (pool === null || typeof pool !== 'object' || typeof pool.query !== 'function') {
      throw new TypeError('pool must be a pg.Pool');
    }
    const { table } = qualifiedTable(options, DEFAULT_GENERATIONS_TABLE);
    this.#timeout = resolveTimeout(options.timeout);
    this.#pool = pool;
    this.#sql = {
      create: guardedCreate(table, tableSql(table)),
      // $1 the owner's row, $2 the marker's
      current:
        `SELECT (SELECT generation FROM ${table} WHERE owner = $1) AS generation, ` +
        `(SELECT generation FROM ${table} WHERE owner = $2) AS marker`,
      marker: `SELECT generation FROM ${table} WHERE owner = $1`,
      // Compare and set of the marker: $1 its owner, $2 the marker found (null: none), $3
      // the new one; answers the marker in place after.
      mark:
        `WITH cas AS (INSERT INTO ${table} AS g (owner, generation) VALUES ($1, $3::bigint) ` +
        `ON CONFLICT (owner) DO UPDATE SET generation = excluded.generation WHERE g.generation = $2::bigint ` +
        `RETURNING generation) ` +
        `SELECT generation FROM cas UNION ALL ` +
        `SELECT generation FROM ${table} WHERE owner = $1 AND NOT EXISTS (SELECT 1 FROM cas)`,
      // $1 the owner's row, $2 the epoch's floor: one above the generation or the floor
      bump:
        `INSERT INTO ${table} AS g (owner, generation) VALUES ($1, $2::bigint + 1) ` +
        `ON CONFLICT (owner) DO UPDATE SET generation = greatest(g.generation, $2::bigint) + 1 RETURNING generation`,
    };
  }

  /**
   * Creates the generations table if it does not exist: runs
   * {@link ownerGenerationsTableSql}, in one transaction behind an advisory lock, so
   * that app instances starting at once do not trip over each other.
   *
   * @throws SessionStoreError when PostgreSQL fails or does not answer within `timeout`.
   * @example
   * ```ts
   * await new PostgresOwnerGenerations(pool).createTable();
   * ```
   */
  async createTable(): Promise<void> {
    await this.#query('create table', this.#sql.create);
  }

  /**
   * Reads an owner's generation: one `SELECT` of its row and the marker's.
   *
   * @param owner - The owner.
   * @returns The generation; 0 for an owner never bumped (the epoch's floor after a loss).
   * @throws SessionGenerationsLostError when the marker is gone or replaced: the table
   *   lost its rows. The next read answers from the new epoch.
   * @throws SessionStoreError when PostgreSQL fails or does not answer within `timeout`.
   * @example
   * ```ts
   * const generation = await generations.current('user-42');
   * ```
   */
  async current(owner: string): Promise<number> {
    const { rows } = await this.#query<{ generation: string | null; marker: string | null }>('read', this.#sql.current, [
      rowOwner(owner),
      MARKER_OWNER,
    ]);
    const found = parseMarker(rows[0]?.marker);
    const floor = await this.#epoch.floorFor(found, (next) => this.#mark(found, next), true);
    return this.#epoch.answer(Number(rows[0]?.generation ?? 0), floor);
  }

  /**
   * Moves an owner's generation forward by one: one atomic upsert (after a read of the
   * marker, whose epoch it stays above).
   *
   * @param owner - The owner.
   * @returns The new generation.
   * @throws SessionStoreError when PostgreSQL fails or does not answer within `timeout`.
   * @example
   * ```ts
   * await generations.bump('user-42'); // log out everywhere, sealed cookies included
   * ```
   */
  async bump(owner: string): Promise<number> {
    const marker = await this.#query<{ generation: string }>('read marker', this.#sql.marker, [MARKER_OWNER]);
    const found = parseMarker(marker.rows[0]?.generation);
    // A bump after a loss still revokes: it begins the new epoch and goes on above it.
    const floor = await this.#epoch.floorFor(found, (next) => this.#mark(found, next), false);
    const { rows } = await this.#query<{ generation: string | number }>('bump', this.#sql.bump, [rowOwner(owner), floor]);
    return this.#epoch.answer(Number(rows[0]!.generation), floor);
  }

  /** Writes `next` as the marker if it is still `found`; answers the marker in place after. */
  async #mark(found: number | undefined, next: number): Promise<number | undefined> {
    const { rows } = await this.#query<{ generation: string }>('mark', this.#sql.mark, [MARKER_OWNER, found ?? null, next]);
    return parseMarker(rows[0]?.generation);
  }

  /** Runs one statement against the timeout; every failure becomes a SessionStoreError. */
  #query<R extends QueryResultRow>(operation: string, text: string, values?: unknown[]): Promise<QueryResult<R>> {
    return storeOperation(
      `postgres owner generations: ${operation}`,
      this.#timeout,
      () => this.#pool.query<R>(text, values),
      withoutData,
    );
  }
}
