import { SessionGenerationsLostError, SessionStoreError } from 'kit-session';
import { DEFAULT_GENERATIONS_TABLE, ownerGenerationsTableSql, SqliteOwnerGenerations, type SqliteDatabase } from 'kit-session/sqlite';
import { describeOwnerGenerationsContract } from '../../support/ownerGenerationsContract.js';
import { describeEachSqlite, openWal, scratchFolder, type OpenDatabase } from '../../support/sqlite.js';

const scratch = scratchFolder();
afterAll(() => scratch.remove());

describe(SqliteOwnerGenerations, () => {
  it.each([
    ['a table name with a quote', { table: 'a"b' }],
    ['a table name of 49 characters', { table: 'g'.repeat(49) }],
    ['an option it does not know', { tabel: 'generations' } as never],
    ['an option of the session store (cleanupInterval)', { cleanupInterval: 1000 } as never],
  ])('rejects %s with TypeError when built', (_label, options) => {
    const fake = { prepare: () => undefined, exec: () => undefined, pragma: () => undefined, transaction: () => undefined };
    expect(() => new SqliteOwnerGenerations(fake as unknown as SqliteDatabase, options)).toThrow(TypeError);
  });

  it('rejects a database of no known driver with TypeError when built', () => {
    expect(() => new SqliteOwnerGenerations({} as SqliteDatabase)).toThrow(TypeError);
  });

  it('documents its schema: a quoted table keyed by owner', () => {
    expect(ownerGenerationsTableSql()).toContain(`CREATE TABLE IF NOT EXISTS "${DEFAULT_GENERATIONS_TABLE}"`);
    expect(ownerGenerationsTableSql({ table: 'gens' })).toContain('owner      TEXT    PRIMARY KEY NOT NULL');
    expect(() => ownerGenerationsTableSql({ table: 'x; DROP TABLE y' })).toThrow(TypeError);
  });
});

describeEachSqlite('SqliteOwnerGenerations', (driver) => {
  let database: OpenDatabase;

  beforeAll(async () => {
    database = openWal(driver, scratch.file(`generations-${driver.name.replace(':', '-')}.db`));
    await new SqliteOwnerGenerations(database).createTable();
  });

  afterAll(() => {
    database.close();
  });

  describeOwnerGenerationsContract(`SqliteOwnerGenerations on ${driver.name}`, () => ({
    generations: new SqliteOwnerGenerations(database),
  }));

  it('createTable can run again; the marker is written at first use', async () => {
    const generations = new SqliteOwnerGenerations(database, { table: 'gens_first_use' });
    await generations.createTable();
    await generations.createTable();
    await expect(generations.bump('ada')).resolves.toBe(1);
    const rows = database.prepare('SELECT owner, generation FROM "gens_first_use" ORDER BY owner').all() as {
      owner: string;
      generation: number;
    }[];
    expect(rows.map((row) => row.owner)).toEqual(['\u0001epoch', 'ada']);
    expect(rows[0]!.generation).toBeLessThan(0);
  });

  it('when the table loses its rows, the next read rejects with SessionGenerationsLostError, then reads above every earlier generation', async () => {
    const generations = new SqliteOwnerGenerations(database, { table: 'gens_lossy' });
    await generations.createTable();
    await generations.bump('ada');
    await expect(generations.bump('ada')).resolves.toBe(2);
    database.exec('DELETE FROM "gens_lossy"');
    await expect(generations.current('ada')).rejects.toBeInstanceOf(SessionGenerationsLostError);
    const ada = await generations.current('ada');
    expect(ada).toBeGreaterThan(2);
    await expect(generations.current('bob')).resolves.toBe(ada);
    await expect(new SqliteOwnerGenerations(database, { table: 'gens_lossy' }).current('ada')).resolves.toBe(ada);
    await expect(generations.bump('ada')).resolves.toBe(ada + 1);
  });

  it("an owner named like the marker's row is kept apart from it", async () => {
    const generations = new SqliteOwnerGenerations(database, { table: 'gens_marker' });
    await generations.createTable();
    for (const owner of ['\u0001epoch', '\u0001\u0001epoch', '\u0001']) {
      await expect(generations.bump(owner)).resolves.toBe(1);
      await expect(generations.current(owner)).resolves.toBe(1);
    }
    await expect(new SqliteOwnerGenerations(database, { table: 'gens_marker' }).current('ada')).resolves.toBe(0);
  });

  it('when the table is missing, rejects with SessionStoreError that names no owner', async () => {
    const missing = new SqliteOwnerGenerations(database, { table: 'gens_missing' });
    const owner = 'owner-secret-4711';
    for (const call of [() => missing.current(owner), () => missing.bump(owner)]) {
      const failure = await call().catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(SessionStoreError);
      expect(`${(failure as Error).message} ${((failure as Error).cause as Error).message}`).not.toContain(owner);
    }
  });
});
