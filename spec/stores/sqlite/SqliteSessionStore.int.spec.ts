import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import {
  EncryptingStoreDecorator,
  importRawKey,
  isOwnerIndexedStore,
  isOwnerListingStore,
  isPatchableStore,
  isRenewableStore,
  SessionStoreError,
} from 'kit-session';
import { DEFAULT_SESSION_TABLE, SqliteSessionStore, sessionTableSql, type SqliteDatabase } from 'kit-session/sqlite';
import { FakeClock } from '../../support/FakeClock.js';
import { describeManagerScenarios, hashedId } from '../../support/services.js';
import { describeEachSqlite, scratchFolder, openWal, type OpenDatabase } from '../../support/sqlite.js';
import { describeStoreContract, type ContractValues } from '../../support/storeContract.js';

const HOUR = 60 * 60 * 1000;
const root = path.resolve(__dirname, '../../..');

function newId(): string {
  return randomBytes(32).toString('base64url');
}

const scratch = scratchFolder();
afterAll(() => scratch.remove());

describe(SqliteSessionStore, () => {
  const fake = { prepare: () => undefined, exec: () => undefined } as unknown as SqliteDatabase;

  it.each([
    ['null', null],
    ['a pg.Pool-like object', { query: () => undefined }],
    ['an object with prepare and exec of no known driver', fake],
  ])('rejects a database that is %s with TypeError when built', (_label, database) => {
    expect(() => new SqliteSessionStore(database as unknown as SqliteDatabase)).toThrow(TypeError);
  });

  it('documents its schema: quoted names, INTEGER milliseconds, an expiry index and an owner index', () => {
    const sql = sessionTableSql({ table: 'app_sessions' });
    expect(sql).toContain('CREATE TABLE IF NOT EXISTS "app_sessions"');
    expect(sql).toContain('expire_time INTEGER NOT NULL');
    expect(sql).toContain('"app_sessions_expiry_idx" ON "app_sessions" (min(expire_time, deadline))');
    expect(sql).toContain('"app_sessions_owner_idx" ON "app_sessions" (owner) WHERE owner IS NOT NULL');
    expect(sessionTableSql()).toContain(`"${DEFAULT_SESSION_TABLE}"`);
    expect(() => sessionTableSql({ table: 'x; DROP TABLE y' })).toThrow(TypeError);
    expect(() => sessionTableSql({ schema: 'main' } as never)).toThrow(TypeError);
  });
});

describeEachSqlite('SqliteSessionStore', (driver) => {
  let database: OpenDatabase;
  const table = 'kit_sessions';

  beforeAll(async () => {
    database = openWal(driver, scratch.file(`contract-${driver.name.replace(':', '-')}.db`));
    await new SqliteSessionStore(database, { table }).createTable();
  });

  afterAll(() => {
    database.close();
  });

  const dump = async () => JSON.stringify(database.prepare(`SELECT * FROM "${table}"`).all());
  const empty = async () => {
    database.exec(`DELETE FROM "${table}"`);
  };

  describeStoreContract(`SqliteSessionStore on ${driver.name}`, () => {
    const clock = new FakeClock();
    return { store: new SqliteSessionStore<ContractValues>(database, { table }, clock), clock, serverSide: true, dump, close: empty };
  });

  describeStoreContract(`EncryptingStoreDecorator(SqliteSessionStore on ${driver.name}, encryptValues)`, async () => {
    const clock = new FakeClock();
    const keys = [await importRawKey(randomBytes(32).toString('base64'))];
    const inner = new SqliteSessionStore<ContractValues>(database, { table }, clock);
    return {
      store: new EncryptingStoreDecorator(inner, { keys, encryptValues: true }, clock),
      clock,
      serverSide: true,
      encryptsValues: true,
      dump,
      close: empty,
    };
  });

  describeManagerScenarios(`SqliteSessionStore on ${driver.name}`, () => ({
    store: new SqliteSessionStore(database, { table }),
    close: empty,
  }));

  describe('what lies in the table', () => {
    let clock: FakeClock;
    let store: SqliteSessionStore<ContractValues>;

    beforeEach(() => {
      clock = new FakeClock();
      store = new SqliteSessionStore(database, { table }, clock);
    });

    afterEach(empty);

    it(`tells its driver: ${driver.name}`, () => {
      expect(store.driver).toBe(driver.name);
    });

    it('offers every optional ability: patches, renewal, the owner index, listing by owner', () => {
      expect(isPatchableStore(store)).toBe(true);
      expect(isRenewableStore(store)).toBe(true);
      expect(isOwnerIndexedStore(store)).toBe(true);
      expect(isOwnerListingStore(store)).toBe(true);
    });

    it('answers at once: every contract method gives its value itself, and a failure as a rejected promise', async () => {
      const id = newId();
      const expiry = { expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR };
      const answers = [
        store.setSession(id, { values: { a: 1 }, ...expiry }, 'ada'),
        store.getSession(id),
        store.patchSession(id, { set: { b: 2 }, unset: [], ...expiry }),
        store.listOwnerSessions('ada'),
        store.renewSession(id, newId(), { record: { values: {}, ...expiry }, owner: 'ada', grace: 1000 }),
        store.deleteSessionByHandle('ada', hashedId(id)),
        store.deleteOwnerSessions('ada'),
        store.deleteSession(id),
      ];
      expect(answers.filter((answer) => answer instanceof Promise)).toEqual([]);
      const missing = new SqliteSessionStore<ContractValues>(database, { table: 'missing_table' }, clock);
      const failed = missing.getSession(id);
      expect(failed).toBeInstanceOf(Promise);
      await expect(failed).rejects.toBeInstanceOf(SessionStoreError);
      await expect(store.setSession('not an id', { values: {}, ...expiry })).rejects.toBeInstanceOf(TypeError);
    });

    it('createTable can run again, and makes the expiry and owner indexes', async () => {
      expect(await store.createTable()).toBeUndefined();
      const indexes = database
        .prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name`)
        .all(table) as { name: string }[];
      expect(indexes.map((index) => index.name)).toEqual([`${table}_expiry_idx`, `${table}_owner_idx`]);
    });

    it('one row per session: hashed token, JSON text byte for byte, INTEGER milliseconds, owner, metadata, write time', async () => {
      const id = newId();
      const expireTime = clock.now() + HOUR + 123;
      const values = { a: [1, 'two'], big: 9007199254740991, f: 0.30000000000000004, e: 1e21, s: 'é😀\u2028' };
      await store.setSession(id, { values, expireTime, deadline: expireTime + HOUR, meta: '{"c":1}' }, 'ada');
      const rows = database.prepare(`SELECT *, typeof(expire_time) AS kind FROM "${table}"`).all();
      expect(rows.map((row) => ({ ...(row as object) }))).toEqual([
        {
          token: hashedId(id),
          data: JSON.stringify(values),
          expire_time: expireTime,
          deadline: expireTime + HOUR,
          owner: 'ada',
          meta: '{"c":1}',
          write_time: clock.now(),
          successor: null,
          kind: 'integer',
        },
      ]);
      expect(await store.getSession(id)).toMatchObject({ values, expireTime, deadline: expireTime + HOUR });
    });

    it('a patch rewrites the JSON text with the changed keys alone: the others byte for byte, in their place', async () => {
      const id = newId();
      const expiry = { expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR };
      await store.setSession(id, { values: { a: 0.1, b: { deep: [1e-7] }, c: 'x' }, ...expiry });
      await store.patchSession(id, { set: { b: null, d: true }, unset: ['c', 'never'], ...expiry });
      const { data } = database.prepare(`SELECT data FROM "${table}"`).get() as { data: string };
      expect(data).toBe('{"a":0.1,"b":null,"d":true}');
    });

    it('keeps no session id: every token in the table is a hash that loads nothing as a token', async () => {
      const ids = [newId(), newId()];
      const expiry = { expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR };
      await store.setSession(ids[0]!, { values: { a: 0 }, ...expiry }, 'ada');
      await store.setSession(ids[1]!, { values: { a: 1 }, ...expiry });
      await store.renewSession(ids[1]!, newId(), { record: { values: {}, ...expiry }, owner: 'bob', grace: 1000 });
      const everything = await dump();
      for (const id of ids) {
        expect(everything.includes(id)).toBe(false);
      }
      for (const row of database.prepare(`SELECT token FROM "${table}"`).all() as { token: string }[]) {
        expect(await store.getSession(row.token)).toBeUndefined();
      }
    });

    it('gives an ended session back as ended, never as live, until deleteExpired removes just those', async () => {
      const short = newId();
      const long = newId();
      await store.setSession(short, { values: {}, expireTime: clock.now() + 1000, deadline: clock.now() + HOUR });
      await store.setSession(long, { values: {}, expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR });
      clock.advance(1000);
      expect(await store.getSession(short)).toMatchObject({ id: short, expireTime: clock.now() });
      expect(await store.getSession(long)).toBeDefined();
      expect(await store.deleteExpired()).toBe(1);
      expect(await store.getSession(short)).toBeUndefined();
      expect(database.prepare(`SELECT token FROM "${table}"`).all().map((row) => (row as { token: string }).token)).toEqual([
        hashedId(long),
      ]);
      expect(await store.deleteExpired()).toBe(0);
    });

    it('cleanupInterval deletes expired rows on its own until stopped', async () => {
      const expired = newId();
      await store.setSession(expired, { values: {}, expireTime: clock.now() + 1000, deadline: clock.now() + 1000 });
      clock.advance(1000);
      const cleaning = new SqliteSessionStore(database, { table, cleanupInterval: 20 }, clock);
      const count = () => (database.prepare(`SELECT count(*) AS n FROM "${table}"`).get() as { n: number }).n;
      try {
        for (let i = 0; i < 500 && count() > 0; i++) {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        expect(count()).toBe(0);
      } finally {
        cleaning.stopCleanup();
        cleaning.stopCleanup();
      }
    });

    it('a failing scheduled cleanup is reported to onCleanupError, never thrown', async () => {
      const reported = await new Promise<SessionStoreError>((resolve) => {
        const broken = new SqliteSessionStore(database, { table: 'missing_table', cleanupInterval: 10, onCleanupError: resolve });
        setTimeout(() => broken.stopCleanup(), 1000).unref();
      });
      expect(reported).toBeInstanceOf(SessionStoreError);
      expect(reported.code).toBe('ERR_SESSION_STORE');
    });

    it('keeps numbers, unicode and __proto__ as given, through a patch too', async () => {
      const id = newId();
      const values = JSON.parse('{"__proto__": {"polluted": true}, "unicode": "é😀", "big": 9007199254740991}') as ContractValues;
      const expiry = { expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR };
      await store.setSession(id, { values, ...expiry });
      await store.patchSession(id, { set: { n: 1 }, unset: [], ...expiry });
      const loaded = await store.getSession(id);
      expect(loaded?.values).toEqual({ ...values, n: 1 });
      expect(Object.getPrototypeOf(loaded?.values)).toBe(Object.prototype);
      expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
    });

    it('values U+0000 and lone surrogates would break elsewhere survive here (JSON text escapes them)', async () => {
      const id = newId();
      const values = { nul: 'a\u0000b', lone: '\ud800' };
      await store.setSession(id, { values, expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR });
      expect(await store.getSession(id)).toMatchObject({ values });
    });

    it('a missing table rejects with SessionStoreError, naming no token', async () => {
      const missing = new SqliteSessionStore<ContractValues>(database, { table: 'missing_table' }, clock);
      const id = newId();
      for (const call of [() => missing.getSession(id), () => missing.setSession(id, { values: {}, expireTime: 1, deadline: 1 })]) {
        const failure = await Promise.resolve().then(call as () => unknown).catch((error: unknown) => error);
        expect(failure).toBeInstanceOf(SessionStoreError);
        expect(`${(failure as Error).message} ${((failure as Error).cause as Error).message}`).not.toContain(id);
      }
    });

    it('works over a handle that reads integers as BigInt (better-sqlite3 defaultSafeIntegers, node:sqlite readBigInts)', async () => {
      const file = scratch.file(`bigint-${driver.name.replace(':', '-')}.db`);
      const bigints = driver.open(file) as OpenDatabase & { defaultSafeIntegers?: (on: boolean) => void };
      try {
        const reading = new Proxy(bigints, {
          get(target, key) {
            if (key === 'prepare') {
              return (sql: string) => {
                const prepared = target.prepare(sql);
                (prepared as { setReadBigInts?: (on: boolean) => void }).setReadBigInts?.(true);
                return prepared;
              };
            }
            const value = Reflect.get(target, key, target) as unknown;
            return typeof value === 'function' && key !== 'constructor' ? (value as () => unknown).bind(target) : value;
          },
        });
        bigints.defaultSafeIntegers?.(true);
        const big = new SqliteSessionStore<ContractValues>(reading, {}, clock);
        await big.createTable();
        expect(typeof (reading.prepare('SELECT 1 AS n').get() as { n: unknown }).n).toBe('bigint');
        const id = newId();
        const expireTime = clock.now() + HOUR;
        await big.setSession(id, { values: { a: 1 }, expireTime, deadline: expireTime + HOUR }, 'ada');
        expect(await big.getSession(id)).toMatchObject({ values: { a: 1 }, expireTime, deadline: expireTime + HOUR });
        expect(await big.listOwnerSessions('ada')).toEqual([
          { handle: hashedId(id), meta: undefined, expireTime, deadline: expireTime + HOUR },
        ]);
        expect(await big.renewSession(id, newId(), { record: { values: {}, expireTime, deadline: expireTime }, owner: 'ada', grace: 1000 })).toEqual(expect.any(String));
        expect(await big.getSession(id)).toMatchObject({ superseded: true });
        expect(await big.deleteSessionByHandle('ada', hashedId(id))).toBe(true);
        expect(await big.deleteOwnerSessions('ada')).toBe(0);
      } finally {
        bigints.close();
      }
    });

    it('its cleanup timer does not keep the process alive', () => {
      // A separate node process builds a store with a cleanup interval and has nothing
      // else to do: it must exit on its own. (The compiled package is built by the
      // global setup.)
      const open =
        driver.name === 'node:sqlite'
          ? `const { DatabaseSync } = await import('node:sqlite'); const database = new DatabaseSync(':memory:');`
          : `const { default: Database } = await import('better-sqlite3'); const database = new Database(':memory:');`;
      const script = `
        import { SqliteSessionStore } from 'kit-session/sqlite';
        ${open}
        new SqliteSessionStore(database, { cleanupInterval: 50 });
        setTimeout(() => process.stdout.write('built'), 100);
      `;
      const result = spawnSync(
        process.execPath,
        ['--disable-warning=ExperimentalWarning', '--input-type=module', '-e', script],
        { cwd: root, encoding: 'utf8', timeout: 20_000 },
      );
      expect(result.stderr).toBe('');
      expect(result.stdout).toBe('built');
      expect(result.status).toBe(0);
    });

    it('rejects a save under an id that is not base64url with TypeError, before any statement', async () => {
      const record = { values: {}, expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR };
      await expect(store.setSession('not an id', record)).rejects.toThrow(TypeError);
      await expect(store.patchSession('', { ...record, set: {}, unset: [] })).rejects.toThrow(TypeError);
      await expect(store.renewSession(newId(), 'not an id', { record, grace: 0 })).rejects.toThrow(TypeError);
      expect(await store.renewSession('not an id', newId(), { record, grace: 0 })).toBeUndefined();
    });
  });
});
