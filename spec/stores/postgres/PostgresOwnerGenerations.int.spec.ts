import pg from 'pg';
import { SessionStoreError } from 'kit-session';
import { DEFAULT_GENERATIONS_TABLE, ownerGenerationsTableSql, PostgresOwnerGenerations } from 'kit-session/postgres';
import { DATABASE_URL, describeWith, uniqueName } from '../../support/services.js';
import { describeOwnerGenerationsContract } from '../../support/ownerGenerationsContract.js';

describe(PostgresOwnerGenerations, () => {
  const idle = new pg.Pool({ connectionString: DATABASE_URL });

  afterAll(async () => {
    await idle.end();
  });

  it.each([
    ['a table name with a quote', { table: 'a"b' }],
    ['a table name of 49 characters', { table: 'g'.repeat(49) }],
    ['a schema with a dot', { schema: 'a.b' }],
    ['a timeout of 0', { timeout: 0 }],
    ['an option it does not know', { tabel: 'generations' } as never],
    ['an option of the session store (cleanupInterval)', { cleanupInterval: 1000 } as never],
  ])('rejects %s with TypeError when built', (_label, options) => {
    expect(() => new PostgresOwnerGenerations(idle, options)).toThrow(TypeError);
  });

  it('rejects a pool without query with TypeError when built', () => {
    expect(() => new PostgresOwnerGenerations({} as pg.Pool)).toThrow(TypeError);
  });

  it('documents its schema: a quoted table keyed by owner', () => {
    expect(ownerGenerationsTableSql()).toContain(`CREATE TABLE IF NOT EXISTS "${DEFAULT_GENERATIONS_TABLE}"`);
    const sql = ownerGenerationsTableSql({ table: 'gens', schema: 'auth' });
    expect(sql).toContain('"auth"."gens"');
    expect(sql).toContain('owner      text   PRIMARY KEY');
    expect(() => ownerGenerationsTableSql({ table: 'x; DROP TABLE y' })).toThrow(TypeError);
    expect(() => ownerGenerationsTableSql({ timeout: 5 } as never)).toThrow(TypeError);
  });
});

describeWith('postgres', 'PostgresOwnerGenerations on a PostgreSQL table', () => {
  const table = uniqueName('kit_generations');
  let pool: pg.Pool;

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: DATABASE_URL });
    await new PostgresOwnerGenerations(pool, { table }).createTable();
  });

  afterAll(async () => {
    await pool.query(`DROP TABLE IF EXISTS "${table}"`);
    await pool.end();
  });

  describeOwnerGenerationsContract('PostgresOwnerGenerations', () => ({
    generations: new PostgresOwnerGenerations(pool, { table }),
  }));

  it('createTable is safe when several app instances start at once, and can run again', async () => {
    const fresh = uniqueName('kit_gen_fresh');
    try {
      await Promise.all(Array.from({ length: 5 }, () => new PostgresOwnerGenerations(pool, { table: fresh }).createTable()));
      await new PostgresOwnerGenerations(pool, { table: fresh }).createTable();
      const { rowCount } = await pool.query('SELECT 1 FROM pg_tables WHERE tablename = $1', [fresh]);
      expect(rowCount).toBe(1);
    } finally {
      await pool.query(`DROP TABLE IF EXISTS "${fresh}"`);
    }
  });

  it('a table in its own schema', async () => {
    const schema = uniqueName('kit_gen_schema');
    await pool.query(`CREATE SCHEMA "${schema}"`);
    try {
      const inSchema = new PostgresOwnerGenerations(pool, { schema });
      await inSchema.createTable();
      await expect(inSchema.bump('ada')).resolves.toBe(1);
      const { rows } = await pool.query(`SELECT owner, generation FROM "${schema}"."${DEFAULT_GENERATIONS_TABLE}"`);
      expect(rows).toEqual([{ owner: 'ada', generation: '1' }]);
    } finally {
      await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
    }
  });

  it('when the table is missing, rejects with SessionStoreError that names no owner', async () => {
    const missing = new PostgresOwnerGenerations(pool, { table: uniqueName('kit_gen_missing') });
    const owner = `owner-${uniqueName('secret')}`;
    for (const call of [() => missing.current(owner), () => missing.bump(owner)]) {
      const failure = await call().catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(SessionStoreError);
      expect((failure as SessionStoreError).code).toBe('ERR_SESSION_STORE');
      const cause = (failure as SessionStoreError).cause as Error;
      expect((cause as { code?: string }).code).toBe('42P01');
      expect(`${(failure as Error).message} ${cause.message} ${JSON.stringify({ ...cause })}`).not.toContain(owner);
    }
  });

  it('when PostgreSQL does not answer within timeout, rejects with SessionStoreError (cause TimeoutError)', async () => {
    const admin = await pool.connect();
    try {
      await admin.query('BEGIN');
      await admin.query(`LOCK TABLE "${table}" IN ACCESS EXCLUSIVE MODE`);
      const slow = new PostgresOwnerGenerations(pool, { table, timeout: 200 });
      const failure = await slow.current('ada').catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(SessionStoreError);
      expect(((failure as SessionStoreError).cause as Error).name).toBe('TimeoutError');
    } finally {
      await admin.query('ROLLBACK');
      admin.release();
    }
    await expect(new PostgresOwnerGenerations(pool, { table }).current(uniqueName('nobody'))).resolves.toBe(0);
  });
});
