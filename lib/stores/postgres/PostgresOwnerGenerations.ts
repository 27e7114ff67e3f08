// kit-session/postgres: each owner's generation in a small PostgreSQL table, for
// revocable sealed cookies.
import type { Pool, QueryResult, QueryResultRow } from 'pg';
import { checkOptionKeys, positive } from '../../core/options.js';
import type { OwnerGenerations } from '../../core/SessionStore.js';
import { DEFAULT_TIMEOUT, storeOperation } from '../storeOperation.js';
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
 * cookies sealed before the last bump open again.
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
 * `current` is one `SELECT` by primary key; `bump` one upsert,
 * `INSERT … ON CONFLICT (owner) DO UPDATE SET generation = generation + 1 RETURNING
 * generation`, which PostgreSQL runs atomically per row, so concurrent bumps are all
 * counted. The schema is {@link ownerGenerationsTableSql}.
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
  readonly #sql: { readonly create: string; readonly current: string; readonly bump: string };

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
    this.#timeout = positive('timeout', options.timeout ?? undefined, DEFAULT_TIMEOUT, 'milliseconds');
    this.#pool = pool;
    this.#sql = {
      create: guardedCreate(table, tableSql(table)),
      current: `SELECT generation FROM ${table} WHERE owner = $1`,
      bump:
        `INSERT INTO ${table} AS g (owner, generation) VALUES ($1, 1) ` +
        `ON CONFLICT (owner) DO UPDATE SET generation = g.generation + 1 RETURNING generation`,
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
   * Reads an owner's generation: one `SELECT` by primary key.
   *
   * @param owner - The owner.
   * @returns The generation; 0 for an owner never bumped.
   * @throws SessionStoreError when PostgreSQL fails or does not answer within `timeout`.
   * @example
   * ```ts
   * const generation = await generations.current('user-42');
   * ```
   */
  async current(owner: string): Promise<number> {
    const { rows } = await this.#query<{ generation: string | number }>('read', this.#sql.current, [owner]);
    return rows[0] === undefined ? 0 : Number(rows[0].generation);
  }

  /**
   * Moves an owner's generation forward by one: one atomic upsert.
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
    const { rows } = await this.#query<{ generation: string | number }>('bump', this.#sql.bump, [owner]);
    return Number(rows[0]!.generation);
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
