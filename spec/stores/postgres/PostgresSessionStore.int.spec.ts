import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import {
  EncryptingStoreDecorator,
  importRawKey,
  SessionStoreError,
} from 'kit-session';
import {
  isOwnerIndexedStore,
  isOwnerListingStore,
  isPatchableStore,
  isRenewableStore,
} from 'kit-session/store';
import { DEFAULT_SESSION_TABLE, PostgresSessionStore, sessionTableSql } from 'kit-session/postgres';
import { FakeClock } from '../../support/FakeClock.js';
import { DATABASE_URL, describeManagerScenarios, describeWith, hashedId, uniqueName } from '../../support/services.js';
import { describeStoreContract, type ContractValues } from '../../support/storeContract.js';

const HOUR = 60 * 60 * 1000;
const root = path.resolve(__dirname, '../../..');

function newId(): string {
  return randomBytes(32).toString('base64url');
}

describe(PostgresSessionStore, () => {
  // Building a store needs a pool object, not a connection.
  const idle = new pg.Pool({ connectionString: DATABASE_URL });

  afterAll(async () => {
    await idle.end();
  });

  it.each([
    ['a table name with a space', { table: 'my sessions' }],
    ['a table name with a quote', { table: 'a"b' }],
    ['a table name starting with a digit', { table: '1sessions' }],
    ['a table name of 49 characters', { table: 's'.repeat(49) }],
    ['an empty table name', { table: '' }],
    ['a schema with a dot', { schema: 'a.b' }],
    ['a timeout of 0', { timeout: 0 }],
    ['a cleanupInterval of 0', { cleanupInterval: 0 }],
    ['an onCleanupError that is not a function', { onCleanupError: 'log' as unknown as () => void }],
    ['an option it does not know (a misspelt table)', { tabel: 'sessions' } as never],
    ['an option of another store (prefix)', { prefix: 'sess:' } as never],
  ])('rejects %s with TypeError when built', (_label, options) => {
    expect(() => new PostgresSessionStore(idle, options)).toThrow(TypeError);
  });

  it('rejects a pool without query with TypeError when built', () => {
    expect(() => new PostgresSessionStore({} as pg.Pool)).toThrow(TypeError);
  });

  it('offers every optional ability: patches, renewal, the owner index, listing by owner', () => {
    const store = new PostgresSessionStore(idle);
    expect(isPatchableStore(store)).toBe(true);
    expect(isRenewableStore(store)).toBe(true);
    expect(isOwnerIndexedStore(store)).toBe(true);
    expect(isOwnerListingStore(store)).toBe(true);
  });

  it('documents its schema: quoted names, an expiry index and an owner index', () => {
    const sql = sessionTableSql({ table: 'app_sessions', schema: 'auth' });
    expect(sql).toContain('CREATE TABLE IF NOT EXISTS "auth"."app_sessions"');
    expect(sql).toContain('"app_sessions_expiry_idx" ON "auth"."app_sessions" (least(expire_time, deadline))');
    expect(sql).toContain('"app_sessions_owner_idx" ON "auth"."app_sessions" (owner)');
    expect(sql).toContain('meta        text,');
    expect(sql).toContain('write_time  timestamptz NOT NULL DEFAULT now(),');
    expect(sql).toContain('successor   text\n);');
    // A table made by an earlier version gets the new columns.
    expect(sql).toContain(
      'ALTER TABLE "auth"."app_sessions" ADD COLUMN IF NOT EXISTS meta text,\n' +
        '      ADD COLUMN IF NOT EXISTS write_time timestamptz NOT NULL DEFAULT now(),\n' +
        '      ADD COLUMN IF NOT EXISTS successor text;',
    );
    expect(sessionTableSql()).toContain(`"${DEFAULT_SESSION_TABLE}"`);
    expect(() => sessionTableSql({ table: 'x; DROP TABLE y' })).toThrow(TypeError);
    expect(() => sessionTableSql({ tabel: 'sessions' } as never)).toThrow(TypeError);
    expect(() => sessionTableSql({ timeout: 1000 } as never)).toThrow(TypeError);
  });

  it('gives the length of its token before saving (the id itself), before any query', () => {
    const id = newId();
    expect(new PostgresSessionStore(idle).tokenLength(id)).toBe(id.length);
    expect(idle.totalCount).toBe(0);
  });

  it('rejects a save under an id that is not base64url with TypeError, before any query', async () => {
    const store = new PostgresSessionStore(idle);
    const record = { values: {}, expireTime: Date.now() + HOUR, deadline: Date.now() + HOUR };
    await expect(store.setSession('not an id', record)).rejects.toThrow(TypeError);
    await expect(store.patchSession('', { ...record, set: {}, unset: [] })).rejects.toThrow(TypeError);
    expect(idle.totalCount).toBe(0);
  });

  describe('.renewSession', () => {
    const record = { values: {}, expireTime: Date.now() + HOUR, deadline: Date.now() + HOUR };

    it('when the new id is not base64url, or is the old id, rejects with TypeError before any query', async () => {
      const store = new PostgresSessionStore(idle);
      const id = newId();
      await expect(store.renewSession(id, 'not an id', { record, grace: 0 })).rejects.toBeInstanceOf(TypeError);
      await expect(store.renewSession(id, id, { record, grace: 0 })).rejects.toBeInstanceOf(TypeError);
      expect(idle.totalCount).toBe(0);
    });

    it('when the old id cannot be one (not base64url), resolves to undefined before any query', async () => {
      const store = new PostgresSessionStore(idle);
      await expect(store.renewSession('not an id', newId(), { record, grace: 1000 })).resolves.toBeUndefined();
      expect(idle.totalCount).toBe(0);
    });
  });

  describe('.deleteSessionByHandle', () => {
    it.each([
      ['containing U+0000', `${'A'.repeat(42)}\u0000`],
      ['a lone surrogate', `${'A'.repeat(42)}\ud800`],
      ['very long', 'A'.repeat(100_000)],
      ['empty', ''],
      ['base64url of the wrong length', 'A'.repeat(44)],
    ])('when the handle is %s, answers false before any query', async (_label, handle) => {
      const store = new PostgresSessionStore(idle);
      await expect(store.deleteSessionByHandle('ada', handle)).resolves.toBe(false);
      expect(idle.totalCount).toBe(0);
    });

    it('when the owner contains U+0000 (no row can hold it), answers false, and the other owner reads answer none, before any query', async () => {
      const store = new PostgresSessionStore(idle);
      await expect(store.deleteSessionByHandle('ada\u0000', hashedId(newId()))).resolves.toBe(false);
      await expect(store.listOwnerSessions('ada\u0000')).resolves.toEqual([]);
      await expect(store.deleteOwnerSessions('ada\u0000')).resolves.toBe(0);
      expect(idle.totalCount).toBe(0);
    });
  });

  it('its cleanup timer does not keep the process alive', () => {
    // A separate node process builds a store with a cleanup interval and has nothing
    // else to do: it must exit on its own. (The compiled package is built by the
    // suite's global setup.)
    const script = `
      import pg from 'pg';
      import { PostgresSessionStore } from 'kit-session/postgres';
      new PostgresSessionStore(new pg.Pool({ connectionString: process.env.DATABASE_URL }), { cleanupInterval: 50 });
      setTimeout(() => process.stdout.write('built'), 100);
    `;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: root,
      env: { ...process.env, DATABASE_URL },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('built');
    expect(result.status).toBe(0);
  });
});

describeWith('postgres', 'PostgresSessionStore on a PostgreSQL table', () => {
  const table = uniqueName('kit_sessions');
  let pool: pg.Pool;

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: DATABASE_URL });
    await new PostgresSessionStore(pool, { table }).createTable();
  });

  afterAll(async () => {
    await pool.query(`DROP TABLE IF EXISTS "${table}"`);
    await pool.end();
  });

  const dump = async () => JSON.stringify((await pool.query(`SELECT * FROM "${table}"`)).rows);
  const empty = async () => {
    await pool.query(`DELETE FROM "${table}"`);
  };

  describeStoreContract('PostgresSessionStore', () => {
    const clock = new FakeClock();
    return {
      store: new PostgresSessionStore<ContractValues>(pool, { table }, clock),
      clock,
      serverSide: true,
      dump,
      close: empty,
    };
  });

  describeStoreContract('EncryptingStoreDecorator(PostgresSessionStore, encryptValues)', async () => {
    const clock = new FakeClock();
    const keys = [await importRawKey(randomBytes(32).toString('base64'))];
    const inner = new PostgresSessionStore<ContractValues>(pool, { table }, clock);
    return {
      store: new EncryptingStoreDecorator(inner, { keys, encryptValues: true }, clock),
      clock,
      serverSide: true,
      encryptsValues: true,
      dump,
      close: empty,
    };
  });

  describeManagerScenarios('PostgresSessionStore', () => ({ store: new PostgresSessionStore(pool, { table }), close: empty }));

  describe('what lies in the table', () => {
    let clock: FakeClock;
    let store: PostgresSessionStore<ContractValues>;

    beforeEach(() => {
      clock = new FakeClock();
      store = new PostgresSessionStore(pool, { table }, clock);
    });

    afterEach(empty);

    it('createTable can run again: the schema uses IF NOT EXISTS', async () => {
      await expect(store.createTable()).resolves.toBeUndefined();
      const { rows } = await pool.query<{ indexname: string }>(
        'SELECT indexname FROM pg_indexes WHERE tablename = $1 ORDER BY indexname',
        [table],
      );
      expect(rows.map((row) => row.indexname)).toEqual([`${table}_expiry_idx`, `${table}_owner_idx`, `${table}_pkey`]);
    });

    it('createTable is safe when several app instances start at once on a fresh database', async () => {
      const fresh = uniqueName('kit_fresh');
      try {
        await Promise.all(Array.from({ length: 5 }, () => new PostgresSessionStore(pool, { table: fresh }).createTable()));
        const { rowCount } = await pool.query('SELECT 1 FROM pg_tables WHERE tablename = $1', [fresh]);
        expect(rowCount).toBe(1);
      } finally {
        await pool.query(`DROP TABLE IF EXISTS "${fresh}"`);
      }
    });

    it('one row per session: hashed token, jsonb values, timestamptz expiry and deadline, owner, metadata, write time', async () => {
      const id = newId();
      const expireTime = clock.now() + HOUR + 123;
      await store.setSession(id, { values: { a: [1, 'two'] }, expireTime, deadline: expireTime + HOUR, meta: '{"c":1}' }, 'ada');
      const { rows } = await pool.query(`SELECT * FROM "${table}"`);
      expect(rows).toEqual([
        {
          token: hashedId(id),
          data: { a: [1, 'two'] },
          expire_time: new Date(expireTime),
          deadline: new Date(expireTime + HOUR),
          owner: 'ada',
          meta: '{"c":1}',
          write_time: new Date(clock.now()),
          successor: null,
        },
      ]);
    });

    it('keeps no session id: every token in the table is a hash that loads nothing as a token', async () => {
      const ids = [newId(), newId(), newId()];
      const expiry = { expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR };
      await store.setSession(ids[0]!, { values: { a: 0 }, ...expiry }, 'ada');
      await store.setSession(ids[1]!, { values: { a: 1 }, ...expiry });
      await store.patchSession(ids[1]!, { set: { b: 1 }, unset: [], owner: 'bob', ...expiry });
      await store.setSession(ids[2]!, { values: { a: 2 }, ...expiry });

      const { rows } = await pool.query<{ token: string }>(`SELECT token FROM "${table}"`);
      const tokens = rows.map((row) => row.token);
      expect(tokens.sort()).toEqual(ids.map(hashedId).sort());
      const everything = await dump();
      for (const id of ids) {
        expect(tokens).not.toContain(id);
        expect(everything.includes(id)).toBe(false);
      }
      for (const token of tokens) {
        await expect(store.getSession(token)).resolves.toBeUndefined();
      }
      for (const id of ids) {
        await expect(store.getSession(id)).resolves.toMatchObject({ id });
      }
    });

    it('a row written under a raw id (before ids were hashed) is never found again; deleteExpired removes it', async () => {
      const id = newId();
      await pool.query(
        `INSERT INTO "${table}" (token, data, expire_time, deadline, owner) VALUES ($1, '{}', $2, $2, NULL)`,
        [id, new Date(clock.now() + 1000)],
      );
      await expect(store.getSession(id)).resolves.toBeUndefined();
      clock.advance(1000);
      await expect(store.deleteExpired()).resolves.toBe(1);
    });

    it('a patch without owner keeps the owner column as another save left it; owner null clears it', async () => {
      const id = newId();
      const expiry = { expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR };
      const ownerOf = async () =>
        (await pool.query<{ owner: string | null }>(`SELECT owner FROM "${table}" WHERE token = $1`, [hashedId(id)]))
          .rows[0]?.owner;
      await store.setSession(id, { values: {}, ...expiry });
      await store.patchSession(id, { set: { userId: 'ada' }, unset: [], owner: 'ada', ...expiry });
      await store.patchSession(id, { set: { theme: 'dark' }, unset: [], ...expiry });
      await expect(ownerOf()).resolves.toBe('ada');
      await store.patchSession(id, { set: {}, unset: ['userId'], owner: null, ...expiry });
      await expect(ownerOf()).resolves.toBeNull();
      await store.patchSession(id, { set: { n: 1 }, unset: [], ...expiry });
      await expect(ownerOf()).resolves.toBeNull();
    });

    it('deleteOwnerSessions deletes the owner\'s expired rows too, and counts only the live ones', async () => {
      await store.setSession(newId(), { values: {}, expireTime: clock.now() + 1000, deadline: clock.now() + HOUR }, 'ada');
      await store.setSession(newId(), { values: {}, expireTime: clock.now() + HOUR, deadline: clock.now() + 1000 }, 'ada');
      await store.setSession(newId(), { values: {}, expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR }, 'ada');
      await store.setSession(newId(), { values: {}, expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR }, 'bob');
      clock.advance(1000);
      await expect(store.deleteOwnerSessions('ada')).resolves.toBe(1);
      const { rows } = await pool.query<{ owner: string }>(`SELECT owner FROM "${table}"`);
      expect(rows.map((row) => row.owner)).toEqual(['bob']);
      await expect(store.deleteOwnerSessions('nobody')).resolves.toBe(0);
    });

    it('never returns an expired row as live, however long it stays; deleteExpired removes just those', async () => {
      const short = newId();
      const long = newId();
      await store.setSession(short, { values: {}, expireTime: clock.now() + 1000, deadline: clock.now() + HOUR });
      await store.setSession(long, { values: {}, expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR });
      clock.advance(1000);
      // Given back expired (the manager reports it as the `expired` event), never live.
      const expired = await store.getSession(short);
      expect(expired === undefined || expired.expireTime <= clock.now()).toBe(true);
      await expect(store.getSession(long)).resolves.toBeDefined();

      await expect(store.deleteExpired()).resolves.toBe(1);
      const { rows } = await pool.query<{ token: string }>(`SELECT token FROM "${table}"`);
      expect(rows.map((row) => row.token)).toEqual([hashedId(long)]);
      await expect(store.deleteExpired()).resolves.toBe(0);
    });

    it('cleanupInterval deletes expired rows on its own until stopped', async () => {
      const expired = newId();
      await store.setSession(expired, { values: {}, expireTime: clock.now() + 1000, deadline: clock.now() + 1000 });
      clock.advance(1000);
      const cleaning = new PostgresSessionStore(pool, { table, cleanupInterval: 20 }, clock);
      try {
        for (let i = 0; i < 1000; i++) {
          const { rowCount } = await pool.query(`SELECT 1 FROM "${table}" WHERE token = $1`, [hashedId(expired)]);
          if (rowCount === 0) {
            break;
          }
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        const { rowCount } = await pool.query(`SELECT 1 FROM "${table}" WHERE token = $1`, [hashedId(expired)]);
        expect(rowCount).toBe(0);
      } finally {
        cleaning.stopCleanup();
        cleaning.stopCleanup();
      }
    });

    it('a failing scheduled cleanup is reported to onCleanupError, never as an unhandled rejection', async () => {
      let report!: (error: SessionStoreError) => void;
      const reported = new Promise<SessionStoreError>((resolve) => {
        report = resolve;
      });
      const broken = new PostgresSessionStore(pool, {
        table: uniqueName('missing_table'),
        cleanupInterval: 20,
        onCleanupError: report,
      });
      try {
        const error = await reported;
        expect(error).toBeInstanceOf(SessionStoreError);
        expect(error.code).toBe('ERR_SESSION_STORE');
        expect((error.cause as { code?: string }).code).toBe('42P01');
      } finally {
        broken.stopCleanup();
      }
    });

    it('a patch is one atomic UPDATE: 50 concurrent patches through a pool of 10 connections keep every key', async () => {
      const id = newId();
      const expiry = { expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR };
      await store.setSession(id, { values: { base: 0 }, ...expiry });
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          store.patchSession(id, { set: { [`k${i}`]: i }, unset: i > 0 ? [`k${i - 1}-never`] : ['base'], ...expiry }),
        ),
      );
      expect(results.every((result) => result === id)).toBe(true);
      const loaded = await store.getSession(id);
      expect(Object.keys(loaded!.values).sort()).toEqual(Array.from({ length: 50 }, (_, i) => `k${i}`).sort());
    });

    it('keeps numbers, unicode and __proto__ as given', async () => {
      const id = newId();
      const values = JSON.parse('{"__proto__": {"polluted": true}, "unicode": "é😀", "big": 9007199254740991, "f": 0.30000000000000004}') as ContractValues;
      await store.setSession(id, { values, expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR });
      const loaded = await store.getSession(id);
      expect(loaded?.values).toEqual(values);
      expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
    });

    it('a value PostgreSQL cannot keep in jsonb (U+0000) rejects with SessionStoreError, without the value in the cause', async () => {
      const id = newId();
      const secret = `secret-${newId()}\u0000`;
      const failure = await store
        .setSession(id, { values: { secret }, expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR })
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(SessionStoreError);
      const cause = (failure as SessionStoreError).cause as Record<string, unknown>;
      expect(JSON.stringify({ ...cause, message: (cause as unknown as Error).message })).not.toContain(secret.slice(0, 20));
      await expect(store.getSession(id)).resolves.toBeUndefined();
    });

    it('a table in its own schema', async () => {
      const schema = uniqueName('kit_schema');
      await pool.query(`CREATE SCHEMA "${schema}"`);
      try {
        const inSchema = new PostgresSessionStore<ContractValues>(pool, { schema, table: 'sessions' }, clock);
        await inSchema.createTable();
        const id = newId();
        await inSchema.setSession(id, { values: { a: 1 }, expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR });
        await expect(inSchema.getSession(id)).resolves.toMatchObject({ values: { a: 1 } });
        await expect(store.getSession(id)).resolves.toBeUndefined();
      } finally {
        await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
      }
    });
  });
});
