import pg from 'pg';
import { SessionGenerationsLostError, SessionStoreError } from 'kit-session';
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
      const { rows } = await pool.query(`SELECT owner, generation FROM "${schema}"."${DEFAULT_GENERATIONS_TABLE}" ORDER BY owner`);
      // The owner's row, and the store's marker, written at first use.
      expect(rows).toEqual([
        { owner: '\u0001epoch', generation: expect.stringMatching(/^-\d+$/) },
        { owner: 'ada', generation: '1' },
      ]);
    } finally {
      await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
    }
  });

  describe('when the table loses its rows (truncated, restored empty)', () => {
    let lossy: string;

    beforeEach(async () => {
      lossy = uniqueName('kit_gen_lossy');
      await new PostgresOwnerGenerations(pool, { table: lossy }).createTable();
    });

    afterEach(async () => {
      await pool.query(`DROP TABLE IF EXISTS "${lossy}"`);
    });

    it('the next read rejects with SessionGenerationsLostError, then every owner reads above any generation handed out before', async () => {
      const generations = new PostgresOwnerGenerations(pool, { table: lossy });
      await generations.bump('ada');
      await expect(generations.bump('ada')).resolves.toBe(2);
      await expect(generations.current('bob')).resolves.toBe(0);

      await pool.query(`TRUNCATE "${lossy}"`);
      const lost = await generations.current('ada').catch((error: unknown) => error);
      expect(lost).toBeInstanceOf(SessionGenerationsLostError);
      expect((lost as SessionGenerationsLostError).code).toBe('ERR_SESSION_GENERATIONS_LOST');

      // A new epoch: never "nothing was revoked". Every cookie sealed before reads as revoked.
      const ada = await generations.current('ada');
      expect(ada).toBeGreaterThan(2);
      await expect(generations.current('bob')).resolves.toBe(ada);
      await expect(new PostgresOwnerGenerations(pool, { table: lossy }).current('ada')).resolves.toBe(ada);
      await expect(generations.bump('ada')).resolves.toBe(ada + 1);
      await expect(generations.current('ada')).resolves.toBe(ada + 1);
    });

    it('a bump that finds the loss still revokes: it begins the new epoch and goes above it', async () => {
      const generations = new PostgresOwnerGenerations(pool, { table: lossy });
      await expect(generations.bump('ada')).resolves.toBe(1);
      await pool.query(`TRUNCATE "${lossy}"`);
      const bumped = await generations.bump('ada');
      expect(bumped).toBeGreaterThan(1);
      await expect(generations.current('ada')).resolves.toBe(bumped);
      await expect(generations.current('bob')).resolves.toBe(bumped - 1);
    });

    it('a process started after the loss takes the new epoch that one which knew the table begins', async () => {
      const knew = new PostgresOwnerGenerations(pool, { table: lossy });
      await knew.bump('ada');
      await pool.query(`TRUNCATE "${lossy}"`);
      const started = new PostgresOwnerGenerations(pool, { table: lossy });
      await expect(started.current('ada')).resolves.toBe(0);
      await expect(knew.current('ada')).rejects.toBeInstanceOf(SessionGenerationsLostError);
      const epoch = await knew.current('ada');
      expect(epoch).toBeGreaterThan(1);
      await expect(started.current('ada')).resolves.toBe(epoch);
    });

    it('rows written before it kept a marker read as they are (no loss when upgrading)', async () => {
      await pool.query(`INSERT INTO "${lossy}" (owner, generation) VALUES ('ada', 3)`);
      const generations = new PostgresOwnerGenerations(pool, { table: lossy });
      await expect(generations.current('ada')).resolves.toBe(3);
      await expect(generations.bump('ada')).resolves.toBe(4);
    });

    it("an owner named like the marker's row is kept apart from it", async () => {
      const generations = new PostgresOwnerGenerations(pool, { table: lossy });
      for (const owner of ['\u0001epoch', '\u0001\u0001epoch', '\u0001']) {
        await expect(generations.bump(owner)).resolves.toBe(1);
        await expect(generations.current(owner)).resolves.toBe(1);
      }
      // The marker was never moved: no loss found, nothing revoked.
      await expect(new PostgresOwnerGenerations(pool, { table: lossy }).current('ada')).resolves.toBe(0);
      await expect(generations.current('ada')).resolves.toBe(0);
    });
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
