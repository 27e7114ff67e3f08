import mysql from 'mysql2/promise';
import { SessionGenerationsLostError, SessionStoreError } from 'kit-session';
import { DEFAULT_MYSQL_GENERATIONS_TABLE, MysqlOwnerGenerations, ownerGenerationsTableSql } from 'kit-session/mysql';
import { describeWith, MYSQL_URL, uniqueName } from '../../support/services.js';
import { describeOwnerGenerationsContract } from '../../support/ownerGenerationsContract.js';

describe(MysqlOwnerGenerations, () => {
  const idle = mysql.createPool(MYSQL_URL);

  afterAll(async () => {
    await idle.end();
  });

  it.each([
    ['a table name with a backtick', { table: 'a`b' }],
    ['a table name of 49 characters', { table: 'g'.repeat(49) }],
    ['a database with a dot', { database: 'a.b' }],
    ['a timeout of 0', { timeout: 0 }],
    ['an option it does not know', { tabel: 'generations' } as never],
    ['an option of the session store (cleanupInterval)', { cleanupInterval: 1000 } as never],
  ])('rejects %s with TypeError when built', (_label, options) => {
    expect(() => new MysqlOwnerGenerations(idle, options)).toThrow(TypeError);
  });

  it('rejects a pool without query with TypeError when built', () => {
    expect(() => new MysqlOwnerGenerations({} as mysql.Pool)).toThrow(TypeError);
  });

  it('documents its schema: a backticked table keyed by owner', () => {
    expect(ownerGenerationsTableSql()).toContain(`CREATE TABLE IF NOT EXISTS \`${DEFAULT_MYSQL_GENERATIONS_TABLE}\``);
    const sql = ownerGenerationsTableSql({ table: 'gens', database: 'auth' });
    expect(sql).toContain('`auth`.`gens`');
    expect(sql).toContain('owner      VARBINARY(1024) NOT NULL');
    expect(() => ownerGenerationsTableSql({ table: 'x; DROP TABLE y' })).toThrow(TypeError);
    expect(() => ownerGenerationsTableSql({ timeout: 5 } as never)).toThrow(TypeError);
  });
});

describeWith('mysql', 'MysqlOwnerGenerations on a MariaDB or MySQL table', () => {
  const table = uniqueName('kit_generations');
  let pool: mysql.Pool;

  beforeAll(async () => {
    pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 5 });
    await new MysqlOwnerGenerations(pool, { table }).createTable();
  });

  afterAll(async () => {
    await pool.query(`DROP TABLE IF EXISTS \`${table}\``);
    await pool.end();
  });

  describeOwnerGenerationsContract('MysqlOwnerGenerations', () => ({
    generations: new MysqlOwnerGenerations(pool, { table }),
  }));

  it('createTable is safe when several app instances start at once, and can run again', async () => {
    const fresh = uniqueName('kit_gen_fresh');
    try {
      await Promise.all(Array.from({ length: 5 }, () => new MysqlOwnerGenerations(pool, { table: fresh }).createTable()));
      await new MysqlOwnerGenerations(pool, { table: fresh }).createTable();
      const [rows] = await pool.query<mysql.RowDataPacket[]>(
        'SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?',
        [fresh],
      );
      expect(rows).toHaveLength(1);
    } finally {
      await pool.query(`DROP TABLE IF EXISTS \`${fresh}\``);
    }
  });

  it('a table in another database: the owner row and the marker row, written at first use', async () => {
    const database = uniqueName('kit_gen_db');
    await pool.query(`CREATE DATABASE \`${database}\``);
    try {
      const elsewhere = new MysqlOwnerGenerations(pool, { database });
      await elsewhere.createTable();
      await expect(elsewhere.bump('ada')).resolves.toBe(1);
      const [rows] = await pool.query<mysql.RowDataPacket[]>(
        `SELECT owner, generation FROM \`${database}\`.\`${DEFAULT_MYSQL_GENERATIONS_TABLE}\` ORDER BY owner`,
      );
      expect(rows.map((row) => ({ owner: String(row.owner), generation: Number(row.generation) }))).toEqual([
        { owner: '\u0001epoch', generation: expect.any(Number) },
        { owner: 'ada', generation: 1 },
      ]);
      expect(Number(rows[0]!.generation)).toBeLessThan(0);
    } finally {
      await pool.query(`DROP DATABASE \`${database}\``);
    }
  });

  it('50 concurrent bumps of one owner from two pools are all counted', async () => {
    const other = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 5 });
    try {
      const keepers = [new MysqlOwnerGenerations(pool, { table }), new MysqlOwnerGenerations(other, { table })];
      const owner = uniqueName('busy');
      const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => keepers[i % 2]!.bump(owner)));
      expect([...answers].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      await expect(keepers[0]!.current(owner)).resolves.toBe(50);
    } finally {
      await other.end();
    }
  });

  describe('when the table loses its rows (truncated, restored empty)', () => {
    let lossy: string;

    beforeEach(async () => {
      lossy = uniqueName('kit_gen_lossy');
      await new MysqlOwnerGenerations(pool, { table: lossy }).createTable();
    });

    afterEach(async () => {
      await pool.query(`DROP TABLE IF EXISTS \`${lossy}\``);
    });

    it('the next read rejects with SessionGenerationsLostError, then every owner reads above any generation handed out before', async () => {
      const generations = new MysqlOwnerGenerations(pool, { table: lossy });
      await generations.bump('ada');
      await expect(generations.bump('ada')).resolves.toBe(2);
      await expect(generations.current('bob')).resolves.toBe(0);

      await pool.query(`TRUNCATE \`${lossy}\``);
      const lost = await generations.current('ada').catch((error: unknown) => error);
      expect(lost).toBeInstanceOf(SessionGenerationsLostError);
      expect((lost as SessionGenerationsLostError).code).toBe('ERR_SESSION_GENERATIONS_LOST');

      // A new epoch: never "nothing was revoked". Every cookie sealed before reads as revoked.
      const ada = await generations.current('ada');
      expect(ada).toBeGreaterThan(2);
      await expect(generations.current('bob')).resolves.toBe(ada);
      await expect(new MysqlOwnerGenerations(pool, { table: lossy }).current('ada')).resolves.toBe(ada);
      await expect(generations.bump('ada')).resolves.toBe(ada + 1);
      await expect(generations.current('ada')).resolves.toBe(ada + 1);
    });

    it('a bump that finds the loss still revokes: it begins the new epoch and goes above it', async () => {
      const generations = new MysqlOwnerGenerations(pool, { table: lossy });
      await expect(generations.bump('ada')).resolves.toBe(1);
      await pool.query(`TRUNCATE \`${lossy}\``);
      const bumped = await generations.bump('ada');
      expect(bumped).toBeGreaterThan(1);
      await expect(generations.current('ada')).resolves.toBe(bumped);
      await expect(generations.current('bob')).resolves.toBe(bumped - 1);
    });

    it('a process started after the loss takes the new epoch that one which knew the table begins', async () => {
      const knew = new MysqlOwnerGenerations(pool, { table: lossy });
      await knew.bump('ada');
      await pool.query(`TRUNCATE \`${lossy}\``);
      const started = new MysqlOwnerGenerations(pool, { table: lossy });
      await expect(started.current('ada')).resolves.toBe(0);
      await expect(knew.current('ada')).rejects.toBeInstanceOf(SessionGenerationsLostError);
      const epoch = await knew.current('ada');
      expect(epoch).toBeGreaterThan(1);
      await expect(started.current('ada')).resolves.toBe(epoch);
    });

    it('rows written before it kept a marker read as they are (no loss when upgrading)', async () => {
      await pool.query(`INSERT INTO \`${lossy}\` (owner, generation) VALUES ('ada', 3)`);
      const generations = new MysqlOwnerGenerations(pool, { table: lossy });
      await expect(generations.current('ada')).resolves.toBe(3);
      await expect(generations.bump('ada')).resolves.toBe(4);
    });

    it("an owner named like the marker's row is kept apart from it", async () => {
      const generations = new MysqlOwnerGenerations(pool, { table: lossy });
      for (const owner of ['\u0001epoch', '\u0001\u0001epoch', '\u0001']) {
        await expect(generations.bump(owner)).resolves.toBe(1);
        await expect(generations.current(owner)).resolves.toBe(1);
      }
      // The marker was never moved: no loss found, nothing revoked.
      await expect(new MysqlOwnerGenerations(pool, { table: lossy }).current('ada')).resolves.toBe(0);
      await expect(generations.current('ada')).resolves.toBe(0);
    });
  });

  it('when the table is missing, rejects with SessionStoreError that names no owner', async () => {
    const missing = new MysqlOwnerGenerations(pool, { table: uniqueName('kit_gen_missing') });
    const owner = `owner-${uniqueName('secret')}`;
    for (const call of [() => missing.current(owner), () => missing.bump(owner)]) {
      const failure = await call().catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(SessionStoreError);
      expect((failure as SessionStoreError).code).toBe('ERR_SESSION_STORE');
      const cause = (failure as SessionStoreError).cause as Error;
      expect((cause as { code?: string }).code).toBe('ER_NO_SUCH_TABLE');
      expect(`${(failure as Error).message} ${cause.message} ${cause.stack} ${JSON.stringify({ ...cause })}`).not.toContain(owner);
    }
  });

  it('when the server does not answer within timeout, rejects with SessionStoreError (cause TimeoutError)', async () => {
    const admin = await pool.getConnection();
    try {
      await admin.query(`LOCK TABLES \`${table}\` WRITE`);
      const slow = new MysqlOwnerGenerations(pool, { table, timeout: 200 });
      const failure = await slow.current('ada').catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(SessionStoreError);
      expect(((failure as SessionStoreError).cause as Error).name).toBe('TimeoutError');
    } finally {
      await admin.query('UNLOCK TABLES');
      admin.release();
    }
    await expect(new MysqlOwnerGenerations(pool, { table }).current(uniqueName('nobody'))).resolves.toBe(0);
  });
});
