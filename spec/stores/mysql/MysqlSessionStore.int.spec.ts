import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import mysql from 'mysql2/promise';
import {
  EncryptingStoreDecorator,
  importRawKey,
  isOwnerIndexedStore,
  isOwnerListingStore,
  isPatchableStore,
  isRenewableStore,
  SessionStoreError,
} from 'kit-session';
import { DEFAULT_MYSQL_SESSION_TABLE, MysqlSessionStore, sessionTableSql } from 'kit-session/mysql';
import { FakeClock } from '../../support/FakeClock.js';
import { describeManagerScenarios, describeWith, hashedId, MYSQL_URL, uniqueName } from '../../support/services.js';
import { describeStoreContract, type ContractValues } from '../../support/storeContract.js';

const HOUR = 60 * 60 * 1000;
const root = path.resolve(__dirname, '../../..');

function newId(): string {
  return randomBytes(32).toString('base64url');
}

describe(MysqlSessionStore, () => {
  // Building a store needs a pool object, not a connection.
  const idle = mysql.createPool(MYSQL_URL);

  afterAll(async () => {
    await idle.end();
  });

  it.each([
    ['a table name with a space', { table: 'my sessions' }],
    ['a table name with a backtick', { table: 'a`b' }],
    ['a table name starting with a digit', { table: '1sessions' }],
    ['a table name of 49 characters', { table: 's'.repeat(49) }],
    ['an empty table name', { table: '' }],
    ['a database with a dot', { database: 'a.b' }],
    ['a timeout of 0', { timeout: 0 }],
    ['a cleanupInterval of 0', { cleanupInterval: 0 }],
    ['an onCleanupError that is not a function', { onCleanupError: 'log' as unknown as () => void }],
    ['an option it does not know (a misspelt table)', { tabel: 'sessions' } as never],
    ["an option of the PostgreSQL store (schema)", { schema: 'auth' } as never],
  ])('rejects %s with TypeError when built', (_label, options) => {
    expect(() => new MysqlSessionStore(idle, options)).toThrow(TypeError);
  });

  it('rejects a pool without query or getConnection with TypeError when built', () => {
    expect(() => new MysqlSessionStore({} as mysql.Pool)).toThrow(TypeError);
    expect(() => new MysqlSessionStore({ query: () => undefined } as unknown as mysql.Pool)).toThrow(TypeError);
  });

  it('offers every optional ability: patches, renewal, the owner index, listing by owner', () => {
    const store = new MysqlSessionStore(idle);
    expect(isPatchableStore(store)).toBe(true);
    expect(isRenewableStore(store)).toBe(true);
    expect(isOwnerIndexedStore(store)).toBe(true);
    expect(isOwnerListingStore(store)).toBe(true);
  });

  it('documents its schema: backticked names, JSON as text, BIGINT milliseconds, an end index and an owner index', () => {
    const sql = sessionTableSql({ table: 'app_sessions', database: 'auth' });
    expect(sql).toContain('CREATE TABLE IF NOT EXISTS `auth`.`app_sessions`');
    expect(sql).toContain('data        LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL');
    expect(sql).toContain('end_time    BIGINT AS (LEAST(expire_time, deadline)) STORED');
    expect(sql).toContain('KEY end_idx (end_time)');
    expect(sql).toContain('KEY owner_idx (owner)');
    expect(sessionTableSql()).toContain(`\`${DEFAULT_MYSQL_SESSION_TABLE}\``);
    expect(() => sessionTableSql({ table: 'x; DROP TABLE y' })).toThrow(TypeError);
    expect(() => sessionTableSql({ tabel: 'sessions' } as never)).toThrow(TypeError);
    expect(() => sessionTableSql({ timeout: 1000 } as never)).toThrow(TypeError);
  });

  it('gives the length of its token before saving (the id itself)', () => {
    const id = newId();
    expect(new MysqlSessionStore(idle).tokenLength(id)).toBe(id.length);
  });

  it('rejects a save under an id that is not base64url with TypeError', async () => {
    const store = new MysqlSessionStore(idle);
    const record = { values: {}, expireTime: Date.now() + HOUR, deadline: Date.now() + HOUR };
    await expect(store.setSession('not an id', record)).rejects.toThrow(TypeError);
    await expect(store.patchSession('', { ...record, set: {}, unset: [] })).rejects.toThrow(TypeError);
  });

  describe('.renewSession', () => {
    const record = { values: {}, expireTime: Date.now() + HOUR, deadline: Date.now() + HOUR };

    it('when the new id is not base64url, or is the old id, rejects with TypeError', async () => {
      const store = new MysqlSessionStore(idle);
      const id = newId();
      await expect(store.renewSession(id, 'not an id', { record, grace: 0 })).rejects.toBeInstanceOf(TypeError);
      await expect(store.renewSession(id, id, { record, grace: 0 })).rejects.toBeInstanceOf(TypeError);
    });

    it('when the old id cannot be one (not base64url), resolves to undefined', async () => {
      const store = new MysqlSessionStore(idle);
      await expect(store.renewSession('not an id', newId(), { record, grace: 1000 })).resolves.toBeUndefined();
    });
  });

  describe('.deleteSessionByHandle', () => {
    it.each([
      ['containing U+0000', `${'A'.repeat(42)}\u0000`],
      ['a lone surrogate', `${'A'.repeat(42)}\ud800`],
      ['very long', 'A'.repeat(100_000)],
      ['empty', ''],
      ['base64url of the wrong length', 'A'.repeat(44)],
    ])('when the handle is %s, answers false', async (_label, handle) => {
      const store = new MysqlSessionStore(idle);
      await expect(store.deleteSessionByHandle('ada', handle)).resolves.toBe(false);
    });

    it('when the owner cannot be held (a lone surrogate, over 1024 bytes), answers false, and the other owner reads answer none', async () => {
      const store = new MysqlSessionStore(idle);
      for (const owner of ['ada\ud800', 'é'.repeat(513)]) {
        await expect(store.deleteSessionByHandle(owner, hashedId(newId()))).resolves.toBe(false);
        await expect(store.listOwnerSessions(owner)).resolves.toEqual([]);
        await expect(store.deleteOwnerSessions(owner)).resolves.toBe(0);
      }
    });
  });

  it('its cleanup timer does not keep the process alive', () => {
    const script = `
      import mysql from 'mysql2/promise';
      import { MysqlSessionStore } from 'kit-session/mysql';
      new MysqlSessionStore(mysql.createPool(process.env.MYSQL_URL), { cleanupInterval: 60_000 });
      setTimeout(() => process.stdout.write('built'), 100);
    `;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: root,
      env: { ...process.env, MYSQL_URL },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('built');
    expect(result.status).toBe(0);
  });
});

describeWith('mysql', 'MysqlSessionStore on a MariaDB or MySQL table', () => {
  const table = uniqueName('kit_sessions');
  let pool: mysql.Pool;

  beforeAll(async () => {
    pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 10 });
    await new MysqlSessionStore(pool, { table }).createTable();
  });

  afterAll(async () => {
    await pool.query(`DROP TABLE IF EXISTS \`${table}\``);
    await pool.end();
  });

  const rowsOf = async () => (await pool.query<mysql.RowDataPacket[]>(`SELECT * FROM \`${table}\``))[0];
  const dump = async () => JSON.stringify(await rowsOf());
  const empty = async () => {
    await pool.query(`DELETE FROM \`${table}\``);
  };

  describeStoreContract('MysqlSessionStore', () => {
    const clock = new FakeClock();
    return {
      store: new MysqlSessionStore<ContractValues>(pool, { table }, clock),
      clock,
      serverSide: true,
      dump,
      close: empty,
    };
  });

  describeStoreContract('EncryptingStoreDecorator(MysqlSessionStore, encryptValues)', async () => {
    const clock = new FakeClock();
    const keys = [await importRawKey(randomBytes(32).toString('base64'))];
    const inner = new MysqlSessionStore<ContractValues>(pool, { table }, clock);
    return {
      store: new EncryptingStoreDecorator(inner, { keys, encryptValues: true }, clock),
      clock,
      serverSide: true,
      encryptsValues: true,
      dump,
      close: empty,
    };
  });

  describeManagerScenarios('MysqlSessionStore', () => ({ store: new MysqlSessionStore(pool, { table }), close: empty }));

  describe('what lies in the table', () => {
    let clock: FakeClock;
    let store: MysqlSessionStore<ContractValues>;

    beforeEach(() => {
      clock = new FakeClock();
      store = new MysqlSessionStore(pool, { table }, clock);
    });

    afterEach(empty);

    it('createTable can run again, and is safe when several app instances start at once on a fresh database', async () => {
      await expect(store.createTable()).resolves.toBeUndefined();
      const fresh = uniqueName('kit_fresh');
      try {
        await Promise.all(Array.from({ length: 5 }, () => new MysqlSessionStore(pool, { table: fresh }).createTable()));
        const [rows] = await pool.query<mysql.RowDataPacket[]>(
          'SELECT index_name AS name FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = ? ORDER BY 1',
          [fresh],
        );
        expect(rows.map((row) => row.name)).toEqual(['end_idx', 'owner_idx', 'PRIMARY']);
      } finally {
        await pool.query(`DROP TABLE IF EXISTS \`${fresh}\``);
      }
    });

    it('one row per session: hashed token, the JSON text as given, BIGINT milliseconds, owner, metadata, write time', async () => {
      const id = newId();
      const expireTime = clock.now() + HOUR + 123;
      await store.setSession(id, { values: { a: [1, 'two'], z: 1, b: 0.1 }, expireTime, deadline: expireTime + HOUR, meta: '{"c":1}' }, 'ada');
      const rows = await rowsOf();
      expect(rows.map((row) => ({ ...row }))).toEqual([
        {
          token: hashedId(id),
          data: '{"a":[1,"two"],"z":1,"b":0.1}',
          expire_time: expireTime,
          deadline: expireTime + HOUR,
          end_time: expireTime,
          owner: Buffer.from('ada'),
          meta: '{"c":1}',
          write_time: clock.now(),
          successor: null,
        },
      ]);
    });

    it('a patch keeps the text byte for byte: the keys it does not touch stay where and as they were', async () => {
      const id = newId();
      const expiry = { expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR };
      await store.setSession(id, { values: { z: 1, a: { y: null, x: [] }, m: 1e21 }, ...expiry });
      await store.patchSession(id, { set: { a: { q: 1 }, n: 'new' }, unset: ['m'], ...expiry });
      const [row] = await rowsOf();
      expect(row!.data).toBe('{"z":1,"a":{"q":1},"n":"new"}');
    });

    it('keeps no session id: every token in the table is a hash that loads nothing as a token', async () => {
      const ids = [newId(), newId(), newId()];
      const expiry = { expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR };
      await store.setSession(ids[0]!, { values: { a: 0 }, ...expiry }, 'ada');
      await store.setSession(ids[1]!, { values: { a: 1 }, ...expiry });
      await store.patchSession(ids[1]!, { set: { b: 1 }, unset: [], owner: 'bob', ...expiry });
      await store.setSession(ids[2]!, { values: { a: 2 }, ...expiry });
      const tokens = (await rowsOf()).map((row) => String(row.token));
      expect(tokens.sort()).toEqual(ids.map(hashedId).sort());
      const everything = await dump();
      for (const id of ids) {
        expect(everything.includes(id)).toBe(false);
      }
      for (const token of tokens) {
        await expect(store.getSession(token)).resolves.toBeUndefined();
      }
      for (const id of ids) {
        await expect(store.getSession(id)).resolves.toMatchObject({ id });
      }
    });

    it('a patch without owner keeps the owner column as another save left it; owner null clears it', async () => {
      const id = newId();
      const expiry = { expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR };
      const ownerOf = async () =>
        ((await pool.query<mysql.RowDataPacket[]>(`SELECT owner FROM \`${table}\` WHERE token = ?`, [hashedId(id)]))[0][0]
          ?.owner as Buffer | null)?.toString();
      await store.setSession(id, { values: {}, ...expiry });
      await store.patchSession(id, { set: { userId: 'ada' }, unset: [], owner: 'ada', ...expiry });
      await store.patchSession(id, { set: { theme: 'dark' }, unset: [], ...expiry });
      await expect(ownerOf()).resolves.toBe('ada');
      await store.patchSession(id, { set: {}, unset: ['userId'], owner: null, ...expiry });
      await expect(ownerOf()).resolves.toBeUndefined();
    });

    it('owners compare byte for byte: no collation folds case, accents or trailing spaces', async () => {
      const expiry = { expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR };
      for (const owner of ['ada', 'Ada', 'ada ', 'adà']) {
        await store.setSession(newId(), { values: {}, ...expiry }, owner);
      }
      for (const owner of ['ada', 'Ada', 'ada ', 'adà']) {
        await expect(store.listOwnerSessions(owner)).resolves.toHaveLength(1);
      }
      await expect(store.deleteOwnerSessions('ada')).resolves.toBe(1);
      await expect(store.listOwnerSessions('Ada')).resolves.toHaveLength(1);
    });

    it('an owner the column cannot hold fails the save with SessionStoreError and writes nothing', async () => {
      const id = newId();
      const expiry = { expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR };
      await expect(store.setSession(id, { values: {}, ...expiry }, 'x'.repeat(1025))).rejects.toBeInstanceOf(SessionStoreError);
      await expect(store.setSession(id, { values: {}, ...expiry }, 'ada\udc00')).rejects.toBeInstanceOf(SessionStoreError);
      await expect(store.getSession(id)).resolves.toBeUndefined();
    });

    it('never answers a row that is not live by its clock; deleteExpired removes just those', async () => {
      const short = newId();
      const long = newId();
      await store.setSession(short, { values: {}, expireTime: clock.now() + 1000, deadline: clock.now() + HOUR });
      await store.setSession(long, { values: {}, expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR });
      clock.advance(1000);
      await expect(store.getSession(short)).resolves.toBeUndefined();
      await expect(store.getSession(long)).resolves.toBeDefined();
      await expect(store.deleteExpired()).resolves.toBe(1);
      expect((await rowsOf()).map((row) => row.token)).toEqual([hashedId(long)]);
      await expect(store.deleteExpired()).resolves.toBe(0);
    });

    it('deleteOwnerSessions deletes the owner\'s expired rows too, and counts only the live ones', async () => {
      await store.setSession(newId(), { values: {}, expireTime: clock.now() + 1000, deadline: clock.now() + HOUR }, 'ada');
      await store.setSession(newId(), { values: {}, expireTime: clock.now() + HOUR, deadline: clock.now() + 1000 }, 'ada');
      await store.setSession(newId(), { values: {}, expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR }, 'ada');
      await store.setSession(newId(), { values: {}, expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR }, 'bob');
      clock.advance(1000);
      await expect(store.deleteOwnerSessions('ada')).resolves.toBe(1);
      expect((await rowsOf()).map((row) => String(row.owner))).toEqual(['bob']);
    });

    it('cleanupInterval deletes expired rows on its own until stopped', async () => {
      const expired = newId();
      await store.setSession(expired, { values: {}, expireTime: clock.now() + 1000, deadline: clock.now() + 1000 });
      clock.advance(1000);
      const cleaning = new MysqlSessionStore(pool, { table, cleanupInterval: 20 }, clock);
      try {
        for (let i = 0; i < 1000 && (await rowsOf()).length > 0; i++) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        expect(await rowsOf()).toEqual([]);
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
      const broken = new MysqlSessionStore(pool, { table: uniqueName('missing_table'), cleanupInterval: 20, onCleanupError: report });
      try {
        const error = await reported;
        expect(error).toBeInstanceOf(SessionStoreError);
        expect(error.code).toBe('ERR_SESSION_STORE');
        expect((error.cause as { code?: string }).code).toBe('ER_NO_SUCH_TABLE');
      } finally {
        broken.stopCleanup();
      }
    });

    it('a patch is one locked read and write: 50 concurrent patches through a pool of 10 connections keep every key', async () => {
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

    it('keeps numbers, unicode, U+0000, lone surrogates and __proto__ as given, through a patch too', async () => {
      const id = newId();
      const values = JSON.parse(
        '{"__proto__": {"polluted": true}, "unicode": "é😀", "nul": "a\\u0000b", "lone": "\\ud800", "big": 9007199254740991, "f": 0.30000000000000004}',
      ) as ContractValues;
      const expiry = { expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR };
      await store.setSession(id, { values, ...expiry });
      await expect(store.getSession(id)).resolves.toMatchObject({ values });
      await store.patchSession(id, { set: JSON.parse('{"__proto__": {"again": 1}}') as ContractValues, unset: [], ...expiry });
      const loaded = await store.getSession(id);
      expect(Object.getOwnPropertyDescriptor(loaded!.values, '__proto__')?.value).toEqual({ again: 1 });
      expect(loaded!.values.lone).toBe('\ud800');
      expect(({} as { polluted?: boolean; again?: number }).polluted).toBeUndefined();
      expect(({} as { again?: number }).again).toBeUndefined();
    });

    it('a failing query rejects with SessionStoreError whose cause holds neither the statement nor a value', async () => {
      const id = newId();
      const secret = `secret-${newId()}`;
      // An expiry that is no number reaches the server as NaN, which it refuses.
      const failure = await store
        .setSession(id, { values: { secret }, expireTime: Number.NaN, deadline: clock.now() + HOUR }, 'ada')
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(SessionStoreError);
      const cause = (failure as SessionStoreError).cause as Error & Record<string, unknown>;
      expect(cause.sql).toBeUndefined();
      const text = JSON.stringify({ ...cause, message: cause.message, stack: cause.stack });
      expect(text).not.toContain(secret);
      expect(text).not.toContain(hashedId(id));
      await expect(store.getSession(id)).resolves.toBeUndefined();
    });

    it('a row that holds no JSON object (written by hand) loads as nothing and patches as nothing, with no error', async () => {
      const ids = [newId(), newId()];
      for (const [i, data] of ['not json: secret', '[1,2]'].entries()) {
        await pool.query(
          `INSERT INTO \`${table}\` (token, data, expire_time, deadline, write_time) VALUES (?, ?, ?, ?, 0)`,
          [hashedId(ids[i]!), data, clock.now() + HOUR, clock.now() + HOUR],
        );
      }
      for (const id of ids) {
        await expect(store.getSession(id)).resolves.toBeUndefined();
        await expect(
          store.patchSession(id, { set: { a: 1 }, unset: [], expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR }),
        ).resolves.toBeUndefined();
      }
    });

    it('a table in another database', async () => {
      const database = uniqueName('kit_db');
      await pool.query(`CREATE DATABASE \`${database}\``);
      try {
        const elsewhere = new MysqlSessionStore<ContractValues>(pool, { database, table: 'sessions' }, clock);
        await elsewhere.createTable();
        const id = newId();
        await elsewhere.setSession(id, { values: { a: 1 }, expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR });
        await expect(elsewhere.getSession(id)).resolves.toMatchObject({ values: { a: 1 } });
        await expect(store.getSession(id)).resolves.toBeUndefined();
      } finally {
        await pool.query(`DROP DATABASE \`${database}\``);
      }
    });
  });
});
