// kit-session/cloudflare: each owner's generation in a small D1 table, for revocable
// sealed cookies.
import { checkOptionKeys } from '../../core/options.js';
import type { OwnerGenerations } from '../../core/SessionStore.js';
import { GenerationsEpoch, parseMarker } from '../generationsEpoch.js';
import { resolveTimeout, storeOperation } from '../policy.js';
import { quotedTable } from '../sqlite/database.js';
import { bind, generationsStatements, generationsTableSql, type GenerationsStatements, type SqlValue, type Statement } from '../sqlite/statements.js';
import type { D1Handle, D1Statement } from './D1SessionStore.js';

/**
 * Options of {@link D1OwnerGenerations}.
 */
export interface D1OwnerGenerationsOptions {
  /**
   * The table's name: a letter or `_`, then letters, digits or `_`, at most 48
   * characters. It is always quoted.
   * @default 'session_generations'
   */
  readonly table?: string;
  /**
   * Milliseconds a call waits for D1 before it rejects with `SessionStoreError`.
   * @default 5000
   */
  readonly timeout?: number;
}

/** Every key of {@link D1OwnerGenerationsOptions}. */
const OPTIONS = ['table', 'timeout'] as const satisfies readonly (keyof D1OwnerGenerationsOptions)[];

/** The owner of the marker's row: no owner's row has it (see {@link rowOwner}). */
const MARKER_OWNER = '\u0001epoch';

/** The owner an owner's row is kept under: one more U+0001 in front of one that begins with it. */
function rowOwner(owner: string): string {
  return owner.startsWith('\u0001') ? `\u0001${owner}` : owner;
}

/**
 * Keeps each owner's generation ({@link OwnerGenerations}) in a D1 table, the SQLite
 * store's (`ownerGenerationsTableSql` of `kit-session/sqlite`), for revocable sealed
 * cookies. `current` is one `SELECT` of two rows by primary key (the owner's and the
 * store's marker); `bump` one read of the marker and one upsert, `INSERT … ON CONFLICT
 * (owner) DO UPDATE SET generation = max(generation, floor) + 1 RETURNING generation`,
 * one statement, so concurrent bumps from several isolates are all counted.
 *
 * The table must keep its rows (never empty it; D1's Time Travel restores a database to
 * a point in time): a generation lost reopens the cookies it revoked. The marker row is
 * written at first use; an object that finds it gone or replaced rejects that read with
 * `SessionGenerationsLostError` and begins a new epoch above every generation handed out
 * before, so every cookie sealed before the loss reads as revoked.
 *
 * A statement that fails rejects with `SessionStoreError`, whose message and cause hold no
 * owner.
 *
 * @example
 * ```ts
 * import { D1OwnerGenerations } from 'kit-session/cloudflare';
 *
 * const generations = new D1OwnerGenerations(env.DB);
 * await generations.createTable();
 * await generations.bump('user-42'); // every cookie sealed before is revoked
 * ```
 */
export class D1OwnerGenerations implements OwnerGenerations {
  readonly #db: D1Handle;
  readonly #create: string;
  readonly #sql: GenerationsStatements;
  readonly #timeout: number;
  readonly #epoch = new GenerationsEpoch();

  /**
   * @param db - The D1 binding (`env.DB`).
   * @param options - See {@link D1OwnerGenerationsOptions}.
   * @throws TypeError when `db` has no `prepare` and `batch`, an option is invalid, or
   *   `options` names an option that does not exist.
   */
  constructor(db: D1Handle, options: D1OwnerGenerationsOptions = {}) {
    checkOptionKeys('D1OwnerGenerations options', options, OPTIONS);
    if (
      typeof db !== 'object' ||
      db === null ||
      typeof (db as Partial<D1Handle>).prepare !== 'function' ||
      typeof (db as Partial<D1Handle>).batch !== 'function'
    ) {
      throw new TypeError('db must be a D1 database binding (with prepare and batch)');
    }
    const { table } = quotedTable(options.table ?? 'session_generations');
    this.#db = db;
    this.#create = generationsTableSql(table);
    this.#sql = generationsStatements(table);
    this.#timeout = resolveTimeout(options.timeout);
  }

  /**
   * Creates the generations table if it does not exist.
   *
   * @throws SessionStoreError when D1 fails.
   * @example
   * ```ts
   * await new D1OwnerGenerations(env.DB).createTable();
   * ```
   */
  async createTable(): Promise<void> {
    await this.#operation('create table', () => this.#db.prepare(this.#create).run());
  }

  /**
   * Reads an owner's generation: one `SELECT` of its row and the marker's.
   *
   * @param owner - The owner.
   * @returns The generation; 0 for an owner never bumped (the epoch's floor after a loss).
   * @throws SessionGenerationsLostError when the marker is gone or replaced: the table
   *   lost its rows. The next read answers from the new epoch.
   * @throws SessionStoreError when D1 fails.
   * @example
   * ```ts
   * const generation = await generations.current('user-42');
   * ```
   */
  async current(owner: string): Promise<number> {
    const row = await this.#operation('read', () =>
      this.#statement(this.#sql.current, { owner: rowOwner(owner), marker: MARKER_OWNER }).first<{
        generation: number | null;
        marker: number | null;
      }>(),
    );
    const found = parseMarker(row?.marker ?? undefined);
    const floor = await this.#epoch.floorFor(found, (next) => this.#mark(found, next), true);
    return this.#epoch.answer(Number(row?.generation ?? 0), floor);
  }

  /**
   * Moves an owner's generation forward by one: one atomic upsert (after a read of the
   * marker, whose epoch it stays above).
   *
   * @param owner - The owner.
   * @returns The new generation.
   * @throws SessionStoreError when D1 fails.
   * @example
   * ```ts
   * await generations.bump('user-42'); // log out everywhere, sealed cookies included
   * ```
   */
  async bump(owner: string): Promise<number> {
    const marker = await this.#operation('read marker', () =>
      this.#statement(this.#sql.marker, { marker: MARKER_OWNER }).first<{ generation: number }>(),
    );
    const found = parseMarker(marker?.generation);
    // A bump after a loss still revokes: it begins the new epoch and goes on above it.
    const floor = await this.#epoch.floorFor(found, (next) => this.#mark(found, next), false);
    const row = await this.#operation('bump', () =>
      this.#statement(this.#sql.bump, { owner: rowOwner(owner), floor }).first<{ generation: number }>(),
    );
    return this.#epoch.answer(Number(row!.generation), floor);
  }

  /**
   * Writes `next` as the marker if there is none or it is still `found`, and reads the
   * marker in place after: one batch.
   */
  async #mark(found: number | undefined, next: number): Promise<number | undefined> {
    const answers = await this.#operation('mark', () =>
      this.#db.batch<{ generation: number }>([
        this.#statement(this.#sql.mark, { marker: MARKER_OWNER, next, found: found ?? null }),
        this.#statement(this.#sql.marker, { marker: MARKER_OWNER }),
      ]),
    );
    return parseMarker(answers[1]?.results[0]?.generation);
  }

  /** One statement, prepared and bound. */
  #statement(compiled: Statement, input: Readonly<Record<string, SqlValue>>): D1Statement {
    return this.#db.prepare(compiled.sql).bind(...bind(compiled, input));
  }

  /** Runs one operation against the timeout; every failure becomes a SessionStoreError naming no owner. */
  #operation<R>(operation: string, work: () => Promise<R>): Promise<R> {
    return storeOperation(`d1 owner generations: ${operation}`, this.#timeout, work, (error) => {
      const copy = new Error(error instanceof Error ? error.message : 'D1 failed');
      copy.name = error instanceof Error ? error.name : 'Error';
      return copy;
    });
  }
}
