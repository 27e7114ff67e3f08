// kit-session/sqlite: each owner's generation in a small SQLite table, for revocable
// sealed cookies.
import { checkOptionKeys } from '../../core/options.js';
import type { OwnerGenerations } from '../../core/SessionStore.js';
import { GenerationsEpoch, parseMarker } from '../generationsEpoch.js';
import { Connection, driverOf, numberOf, quotedTable, type SqliteDatabase } from './database.js';
import { generationsStatements, generationsTableSql, type GenerationsStatements } from './statements.js';

/**
 * Where the generations table lives, for {@link ownerGenerationsTableSql} and
 * {@link SqliteOwnerGenerations}.
 */
export interface OwnerGenerationsTableOptions {
  /**
   * The table's name: a letter or `_`, then letters, digits or `_`, at most 48
   * characters. It is always quoted.
   * @default 'session_generations'
   */
  readonly table?: string;
}

/** Every key of {@link OwnerGenerationsTableOptions}. */
const OPTIONS = ['table'] as const satisfies readonly (keyof OwnerGenerationsTableOptions)[];

/**
 * The default name of the generations table.
 *
 * @example
 * ```ts
 * database.prepare(`SELECT generation FROM "${DEFAULT_GENERATIONS_TABLE}" WHERE owner = ?`).get('user-42');
 * ```
 */
export const DEFAULT_GENERATIONS_TABLE = 'session_generations';

/**
 * The SQL that creates the generations table; safe to run again (`IF NOT EXISTS`). Run
 * it in a migration, or call {@link SqliteOwnerGenerations.createTable}.
 *
 * ```sql
 * CREATE TABLE IF NOT EXISTS "session_generations" (
 *   owner      TEXT    PRIMARY KEY NOT NULL,
 *   generation INTEGER NOT NULL
 * );
 * ```
 *
 * One row per owner ever bumped; an owner without a row is at generation 0. Rows are
 * never deleted by kit-session: deleting one would move its owner back to 0 and let
 * cookies sealed before the last bump open again. One more row, written at first use, is
 * the store's marker (its owner is U+0001 then `epoch`; an owner that begins with U+0001
 * is kept with one more in front, so none is ever the marker's): a table that lost it
 * (emptied, the file restored from an old copy without it) is found out and begins a new
 * epoch.
 *
 * @param options - The table's name.
 * @returns The SQL.
 * @throws TypeError when the name breaks the rules of {@link OwnerGenerationsTableOptions},
 *   or `options` names an option that does not exist.
 * @example
 * ```ts
 * database.exec(ownerGenerationsTableSql({ table: 'generations' }));
 * ```
 */
export function ownerGenerationsTableSql(options: OwnerGenerationsTableOptions = {}): string {
  checkOptionKeys('ownerGenerationsTableSql options', options, OPTIONS);
  return `${generationsTableSql(quotedTable(options.table ?? DEFAULT_GENERATIONS_TABLE).table)};`;
}

/** The owner of the marker's row: no owner's row has it (see {@link rowOwner}). */
const MARKER_OWNER = '\u0001epoch';

/** The owner an owner's row is kept under: one more U+0001 in front of one that begins with it. */
function rowOwner(owner: string): string {
  return owner.startsWith('\u0001') ? `\u0001${owner}` : owner;
}

/**
 * Keeps each owner's generation ({@link OwnerGenerations}) in a SQLite table, through the
 * app's own database handle (`node:sqlite`, `better-sqlite3` or `bun:sqlite`, as
 * {@link SqliteSessionStore} takes), for revocable sealed cookies. `current` is one
 * `SELECT` of two rows by primary key (the owner's and the store's marker); `bump` one
 * upsert, `INSERT … ON CONFLICT (owner) DO UPDATE SET generation = max(generation, floor)
 * + 1 RETURNING generation`, which SQLite runs under its write lock, so concurrent bumps
 * from several processes are all counted (after a read of the marker). The schema is
 * {@link ownerGenerationsTableSql}.
 *
 * The table must keep its rows (back the file up; never empty the table): a generation
 * lost reopens the cookies it revoked. The marker row is written at first use; an object
 * that finds it gone or replaced rejects that read with `SessionGenerationsLostError` and
 * begins a new epoch above every generation handed out before, so every cookie sealed
 * before the loss reads as revoked.
 *
 * A statement that fails (SQLITE_BUSY after the connection's `busy_timeout` included)
 * rejects with `SessionStoreError`, whose message and cause hold no owner.
 *
 * @example
 * ```ts
 * import Database from 'better-sqlite3';
 * import { SqliteOwnerGenerations } from 'kit-session/sqlite';
 *
 * const generations = new SqliteOwnerGenerations(new Database('sessions.db'));
 * await generations.createTable();
 * await generations.bump('user-42'); // every cookie sealed before is revoked
 * ```
 */
export class SqliteOwnerGenerations implements OwnerGenerations {
  readonly #connection: Connection;
  readonly #create: string;
  readonly #sql: GenerationsStatements;
  readonly #epoch = new GenerationsEpoch();

  /**
   * @param database - The app's handle: a `node:sqlite` `DatabaseSync`, a
   *   `better-sqlite3` `Database` or a `bun:sqlite` `Database` (never closed here).
   * @param options - See {@link OwnerGenerationsTableOptions}.
   * @throws TypeError when `database` is none of the three, the table's name breaks the
   *   rules, or `options` names an option that does not exist.
   */
  constructor(database: SqliteDatabase, options: OwnerGenerationsTableOptions = {}) {
    checkOptionKeys('SqliteOwnerGenerations options', options, OPTIONS);
    driverOf(database, 'database');
    const { table } = quotedTable(options.table ?? DEFAULT_GENERATIONS_TABLE);
    this.#connection = new Connection(database, 'sqlite owner generations');
    this.#create = generationsTableSql(table);
    this.#sql = generationsStatements(table);
  }

  /**
   * Creates the generations table if it does not exist: runs
   * {@link ownerGenerationsTableSql}.
   *
   * @throws SessionStoreError when SQLite fails.
   * @example
   * ```ts
   * await new SqliteOwnerGenerations(database).createTable();
   * ```
   */
  async createTable(): Promise<void> {
    this.#connection.run('create table', this.#create);
  }

  /**
   * Reads an owner's generation: one `SELECT` of its row and the marker's.
   *
   * @param owner - The owner.
   * @returns The generation; 0 for an owner never bumped (the epoch's floor after a loss).
   * @throws SessionGenerationsLostError when the marker is gone or replaced: the table
   *   lost its rows. The next read answers from the new epoch.
   * @throws SessionStoreError when SQLite fails.
   * @example
   * ```ts
   * const generation = await generations.current('user-42');
   * ```
   */
  async current(owner: string): Promise<number> {
    const row = this.#connection.get<{ generation: number | bigint | null; marker: number | bigint | null }>(
      'read',
      this.#sql.current,
      { owner: rowOwner(owner), marker: MARKER_OWNER },
    );
    const found = parseMarker(markerOf(row?.marker));
    const floor = await this.#epoch.floorFor(found, async (next) => this.#mark(found, next), true);
    return this.#epoch.answer(numberOf(row?.generation ?? 0), floor);
  }

  /**
   * Moves an owner's generation forward by one: one atomic upsert (after a read of the
   * marker, whose epoch it stays above).
   *
   * @param owner - The owner.
   * @returns The new generation.
   * @throws SessionStoreError when SQLite fails.
   * @example
   * ```ts
   * await generations.bump('user-42'); // log out everywhere, sealed cookies included
   * ```
   */
  async bump(owner: string): Promise<number> {
    const marker = this.#connection.get<{ generation: number | bigint }>('read marker', this.#sql.marker, { marker: MARKER_OWNER });
    const found = parseMarker(markerOf(marker?.generation));
    // A bump after a loss still revokes: it begins the new epoch and goes on above it.
    const floor = await this.#epoch.floorFor(found, async (next) => this.#mark(found, next), false);
    const row = this.#connection.get<{ generation: number | bigint }>('bump', this.#sql.bump, { owner: rowOwner(owner), floor });
    return this.#epoch.answer(numberOf(row!.generation), floor);
  }

  /** Writes `next` as the marker if there is none or it is still `found`; answers the marker in place after. */
  #mark(found: number | undefined, next: number): number | undefined {
    this.#connection.run('mark', this.#sql.mark, { marker: MARKER_OWNER, next, found: found ?? null });
    const row = this.#connection.get<{ generation: number | bigint }>('mark', this.#sql.marker, { marker: MARKER_OWNER });
    return parseMarker(markerOf(row?.generation));
  }
}

/** A marker as SQLite gave it: a number (or a BigInt), or nothing. */
function markerOf(value: number | bigint | null | undefined): number | undefined {
  return value === null || value === undefined ? undefined : numberOf(value);
}
