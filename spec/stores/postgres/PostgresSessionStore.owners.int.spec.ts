import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { SessionLimitError, SessionStoreError, type SessionRecord } from 'kit-session';
import { PostgresSessionStore } from 'kit-session/postgres';
import { FakeClock } from '../../support/FakeClock.js';
import { DATABASE_URL, describeWith, hashedId, uniqueName } from '../../support/services.js';
import type { ContractValues } from '../../support/storeContract.js';

// What the shared contract cannot see on PostgreSQL: a table made by the previous
// schema brought up to date, the bound per owner under real concurrent transactions
// from several app instances (pools), and how many round trips each save costs.

const HOUR = 60 * 60 * 1000;

function newId(): string {
  return randomBytes(32).toString('base64url');
}

/** The table as an earlier version of kit-session made it: no meta, no write_time, no successor. */
function previousSchema(table: string): string {
  return `CREATE TABLE "${table}" (
  token       text        PRIMARY KEY,
  data        jsonb       NOT NULL,
  expire_time timestamptz NOT NULL,
  deadline    timestamptz NOT NULL,
  owner       text
);
CREATE INDEX "${table}_expiry_idx" ON "${table}" (least(expire_time, deadline));
CREATE INDEX "${table}_owner_idx" ON "${table}" (owner) WHERE owner IS NOT NULL;`;
}

/** The table as the version before renewal made it: meta and write_time, no successor. */
function schemaBeforeRenewal(table: string): string {
  return `CREATE TABLE "${table}" (
  token       text        PRIMARY KEY,
  data        jsonb       NOT NULL,
  expire_time timestamptz NOT NULL,
  deadline    timestamptz NOT NULL,
  owner       text,
  meta        text,
  write_time  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX "${table}_expiry_idx" ON "${table}" (least(expire_time, deadline));
CREATE INDEX "${table}_owner_idx" ON "${table}" (owner) WHERE owner IS NOT NULL;`;
}

/** Every column of the table as this version makes it. */
const COLUMNS = ['token', 'data', 'expire_time', 'deadline', 'owner', 'meta', 'write_time', 'successor'];

/** The columns of a table, in order. */
async function columnsOf(pool: pg.Pool, table: string): Promise<string[]> {
  const { rows } = await pool.query<{ column_name: string }>(
    'SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position',
    [table],
  );
  return rows.map((row) => row.column_name);
}

/** How many statements a store sends: through the pool, and on connections it borrows. */
interface Counts {
  poolQueries: number;
  connects: number;
  clientQueries: number;
}

/** A pool that counts what goes through it; everything else is the real pool's. */
function countingPool(pool: pg.Pool): { pool: pg.Pool; counts: Counts } {
  const counts: Counts = { poolQueries: 0, connects: 0, clientQueries: 0 };
  const bind = (target: object, key: string | symbol) => {
    const value = Reflect.get(target, key, target) as unknown;
    return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
  };
  const wrapped = new Proxy(pool, {
    get(target, key) {
      if (key === 'query') {
        return (...args: unknown[]) => {
          counts.poolQueries++;
          return (target.query as (...args: unknown[]) => unknown)(...args);
        };
      }
      if (key === 'connect') {
        return async () => {
          counts.connects++;
          const client = await target.connect();
          return new Proxy(client, {
            get(inner, name) {
              if (name === 'query') {
                return (...args: unknown[]) => {
                  counts.clientQueries++;
                  return (inner.query as (...args: unknown[]) => unknown)(...args);
                };
              }
              return bind(inner, name);
            },
          });
        };
      }
      return bind(target, key);
    },
  });
  return { pool: wrapped, counts };
}

describeWith('postgres', 'PostgresSessionStore: migration, the bound per owner, round trips', () => {
  const table = uniqueName('kit_owners');
  let pool: pg.Pool;
  let clock: FakeClock;

  const record = (values: ContractValues = {}, meta?: string, ttl = HOUR): SessionRecord<ContractValues> => ({
    values,
    expireTime: clock.now() + ttl,
    deadline: clock.now() + 2 * ttl,
    ...(meta === undefined ? {} : { meta }),
  });
  const later = () => ({ expireTime: clock.now() + HOUR, deadline: clock.now() + 2 * HOUR });

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: DATABASE_URL });
    await new PostgresSessionStore(pool, { table }).createTable();
  });

  beforeEach(() => {
    clock = new FakeClock();
  });

  afterEach(async () => {
    await pool.query(`TRUNCATE "${table}"`);
  });

  afterAll(async () => {
    await pool.query(`DROP TABLE IF EXISTS "${table}"`);
    await pool.end();
  });

  describe('a table made by the previous schema', () => {
    let old: string;

    beforeEach(async () => {
      old = uniqueName('kit_old');
      await pool.query(previousSchema(old));
    });

    afterEach(async () => {
      await pool.query(`DROP TABLE IF EXISTS "${old}"`);
    });

    it('createTable adds meta, write_time and successor; old rows load, list and count; old writers keep working', async () => {
      const oldId = newId();
      const insertAsBefore = `INSERT INTO "${old}" (token, data, expire_time, deadline, owner) VALUES ($1, $2, $3, $3, $4)`;
      await pool.query(insertAsBefore, [hashedId(oldId), { a: 1 }, new Date(clock.now() + HOUR), 'ada']);
      expect(await columnsOf(pool, old)).toEqual(['token', 'data', 'expire_time', 'deadline', 'owner']);

      const store = new PostgresSessionStore<ContractValues>(pool, { table: old }, clock);
      // Before the migration, a store that needs the new columns fails cleanly.
      await expect(store.getSession(oldId)).rejects.toBeInstanceOf(SessionStoreError);
      await store.createTable();
      expect(await columnsOf(pool, old)).toEqual(COLUMNS);

      const loaded = await store.getSession(oldId);
      expect(loaded).toMatchObject({ id: oldId, values: { a: 1 } });
      expect(loaded?.meta).toBeUndefined();
      await expect(store.listOwnerSessions('ada')).resolves.toEqual([
        { handle: hashedId(oldId), meta: undefined, expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR },
      ]);

      // An app instance still on the previous version writes as before, during a rolling deploy.
      const stillOld = newId();
      await pool.query(insertAsBefore, [hashedId(stillOld), { b: 2 }, new Date(clock.now() + HOUR), 'ada']);
      await expect(store.getSession(stillOld)).resolves.toMatchObject({ values: { b: 2 } });

      const fresh = newId();
      await store.setSession(fresh, record({ c: 3 }, 'meta'), 'ada');
      await expect(store.getSession(fresh)).resolves.toMatchObject({ values: { c: 3 }, meta: 'meta' });

      // The bound counts the old rows too; their write_time is when the column was added.
      store.limitOwnerSessions({ max: 3, policy: 'refuse' });
      await expect(store.setSession(newId(), record(), 'ada')).rejects.toBeInstanceOf(SessionLimitError);
      await expect(store.deleteOwnerSessions('ada', hashedId(fresh))).resolves.toBe(2);
      expect((await store.listOwnerSessions('ada')).map((entry) => entry.handle)).toEqual([hashedId(fresh)]);
    });

    it('several app instances migrating it at once all succeed, and the columns are added once', async () => {
      await Promise.all(
        Array.from({ length: 5 }, () => new PostgresSessionStore(pool, { table: old }).createTable()),
      );
      expect(await columnsOf(pool, old)).toEqual(COLUMNS);
      const { rows } = await pool.query<{ indexname: string }>(
        'SELECT indexname FROM pg_indexes WHERE tablename = $1 ORDER BY indexname',
        [old],
      );
      expect(rows.map((row) => row.indexname)).toEqual([`${old}_expiry_idx`, `${old}_owner_idx`, `${old}_pkey`]);
    });
  });

  describe('a table made by the version before renewal', () => {
    let old: string;

    beforeEach(async () => {
      old = uniqueName('kit_prerenew');
      await pool.query(schemaBeforeRenewal(old));
    });

    afterEach(async () => {
      await pool.query(`DROP TABLE IF EXISTS "${old}"`);
    });

    it('createTable adds successor alone; its rows load, patch, list and renew; writers of that version keep working', async () => {
      const insertAsBefore =
        `INSERT INTO "${old}" (token, data, expire_time, deadline, owner, meta, write_time) ` +
        `VALUES ($1, $2, $3, $3, $4, $5, $6)`;
      const before = newId();
      const expiry = new Date(clock.now() + HOUR);
      await pool.query(insertAsBefore, [hashedId(before), { a: 1 }, expiry, 'ada', 'm', new Date(clock.now())]);

      const store = new PostgresSessionStore<ContractValues>(pool, { table: old }, clock);
      // Before the migration, a store that needs the new column fails cleanly.
      await expect(store.getSession(before)).rejects.toBeInstanceOf(SessionStoreError);
      await store.createTable();
      expect(await columnsOf(pool, old)).toEqual(COLUMNS);

      await expect(store.getSession(before)).resolves.toMatchObject({ id: before, values: { a: 1 }, meta: 'm' });
      await expect(store.patchSession(before, { set: { b: 2 }, unset: [], ...later() })).resolves.toBe(before);
      const after = newId();
      await expect(store.renewSession(before, after, { record: record({ a: 1, b: 2 }), owner: 'ada', grace: 1000 })).resolves.toBe(after);
      await expect(store.getSession(before)).resolves.toMatchObject({ values: { a: 1, b: 2 }, superseded: true });
      expect((await store.listOwnerSessions('ada')).map((entry) => entry.handle)).toEqual([hashedId(after)]);

      // An app instance still on that version writes as before, during a rolling deploy.
      const stillOld = newId();
      await pool.query(insertAsBefore, [hashedId(stillOld), { c: 3 }, expiry, 'ada', null, new Date(clock.now())]);
      await expect(store.getSession(stillOld)).resolves.toMatchObject({ values: { c: 3 } });
      expect((await store.getSession(stillOld))?.superseded).toBeUndefined();
      await expect(store.deleteOwnerSessions('ada')).resolves.toBe(2);
    });
  });

  it('createTable on an up-to-date table takes no ACCESS EXCLUSIVE lock: it does not wait behind a reader (a pg_dump)', async () => {
    const reader = await pool.connect();
    try {
      await reader.query('BEGIN');
      await reader.query(`LOCK TABLE "${table}" IN ACCESS SHARE MODE`);
      await expect(new PostgresSessionStore(pool, { table, timeout: 2_000 }).createTable()).resolves.toBeUndefined();
    } finally {
      await reader.query('ROLLBACK');
      reader.release();
    }
  });

  describe('round trips', () => {
    it('without a bound, every save is one statement through the pool', async () => {
      const { pool: counted, counts } = countingPool(pool);
      const store = new PostgresSessionStore<ContractValues>(counted, { table }, clock);
      const id = newId();
      await store.setSession(id, record({ a: 1 }));
      await store.setSession(newId(), record({ a: 1 }, 'meta'), 'ada');
      await store.patchSession(id, { set: { b: 2 }, unset: [], owner: 'ada', ...later() });
      expect(counts).toEqual({ poolQueries: 3, connects: 0, clientQueries: 0 });
    });

    it('with a bound, saves without an owner and patches that leave the owner alone stay one statement; a save with an owner is BEGIN + lock, the statement, COMMIT', async () => {
      const { pool: counted, counts } = countingPool(pool);
      const store = new PostgresSessionStore<ContractValues>(counted, { table }, clock);
      store.limitOwnerSessions({ max: 5, policy: 'evict' });
      const anonymous = newId();
      await store.setSession(anonymous, record());
      await store.patchSession(anonymous, { set: { n: 1 }, unset: [], ...later() });
      await store.patchSession(anonymous, { set: {}, unset: ['n'], owner: null, ...later() });
      expect(counts).toEqual({ poolQueries: 3, connects: 0, clientQueries: 0 });

      await store.setSession(newId(), record(), 'ada');
      expect(counts).toEqual({ poolQueries: 3, connects: 1, clientQueries: 3 });
      await store.patchSession(anonymous, { set: { u: 'ada' }, unset: [], owner: 'ada', ...later() });
      expect(counts).toEqual({ poolQueries: 3, connects: 2, clientQueries: 6 });
    });

    it('a renewal is one statement; with a bound and an owner, BEGIN + lock, the statement, COMMIT', async () => {
      const { pool: counted, counts } = countingPool(pool);
      const store = new PostgresSessionStore<ContractValues>(counted, { table }, clock);
      const first = newId();
      const second = newId();
      await pool.query(`INSERT INTO "${table}" (token, data, expire_time, deadline, owner) VALUES ($1, '{}', $2, $2, 'ada')`, [
        hashedId(first),
        new Date(clock.now() + HOUR),
      ]);
      await expect(store.renewSession(first, second, { record: record(), owner: 'ada', grace: 1000 })).resolves.toBe(second);
      expect(counts).toEqual({ poolQueries: 1, connects: 0, clientQueries: 0 });

      store.limitOwnerSessions({ max: 5, policy: 'refuse' });
      const third = newId();
      await expect(store.renewSession(second, third, { record: record(), grace: 1000 })).resolves.toBe(third);
      expect(counts).toEqual({ poolQueries: 2, connects: 0, clientQueries: 0 });
      await expect(store.renewSession(third, newId(), { record: record(), owner: 'ada', grace: 1000 })).resolves.toEqual(expect.any(String));
      expect(counts).toEqual({ poolQueries: 2, connects: 1, clientQueries: 3 });
    });

    it('a load is one statement; a load of a renewed id, two (the second follows its successors)', async () => {
      const { pool: counted, counts } = countingPool(pool);
      const store = new PostgresSessionStore<ContractValues>(counted, { table }, clock);
      const before = newId();
      const after = newId();
      await store.setSession(before, record({ a: 1 }));
      await store.renewSession(before, after, { record: record({ a: 1 }), grace: 1000 });
      const start = counts.poolQueries;
      await expect(store.getSession(after)).resolves.toMatchObject({ values: { a: 1 } });
      await expect(store.getSession(newId())).resolves.toBeUndefined();
      expect(counts.poolQueries - start).toBe(2);
      await expect(store.getSession(before)).resolves.toMatchObject({ superseded: true });
      expect(counts.poolQueries - start).toBe(4);
    });

    it('ending a session by its handle is one statement, and one more for each renewal its handle is followed through', async () => {
      const { pool: counted, counts } = countingPool(pool);
      const store = new PostgresSessionStore<ContractValues>(counted, { table }, clock);
      const live = newId();
      await store.setSession(live, record(), 'ada');
      const renewed = [newId(), newId(), newId()];
      await store.setSession(renewed[0]!, record(), 'ada');
      await store.renewSession(renewed[0]!, renewed[1]!, { record: record(), owner: 'ada', grace: 1000 });
      await store.renewSession(renewed[1]!, renewed[2]!, { record: record(), owner: 'ada', grace: 1000 });
      const start = counts.poolQueries;
      await expect(store.deleteSessionByHandle('ada', hashedId(live))).resolves.toBe(true);
      expect(counts.poolQueries - start).toBe(1);
      await expect(store.deleteSessionByHandle('ada', hashedId(renewed[0]!))).resolves.toBe(true);
      expect(counts.poolQueries - start).toBe(4);
      await expect(store.getSession(renewed[2]!)).resolves.toBeUndefined();
    });
  });

  describe('the bound under concurrent log-ins from several app instances', () => {
    const instances = 3;
    let pools: pg.Pool[];

    beforeEach(() => {
      pools = Array.from({ length: instances }, () => new pg.Pool({ connectionString: DATABASE_URL, max: 5 }));
    });

    afterEach(async () => {
      await Promise.all(pools.map((each) => each.end()));
    });

    it("'refuse': of 30 concurrent log-ins of one owner with max 3, exactly 3 succeed", async () => {
      const stores = pools.map((each) => new PostgresSessionStore<ContractValues>(each, { table }, clock));
      for (const store of stores) {
        store.limitOwnerSessions({ max: 3, policy: 'refuse' });
      }
      const results = await Promise.allSettled(
        Array.from({ length: 30 }, (_, i) => stores[i % instances]!.setSession(newId(), record({ i }), 'ada')),
      );
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(3);
      for (const result of results) {
        if (result.status === 'rejected') {
          expect(result.reason).toBeInstanceOf(SessionLimitError);
        }
      }
      await expect(stores[0]!.listOwnerSessions('ada')).resolves.toHaveLength(3);
      const { rows } = await pool.query(`SELECT 1 FROM "${table}" WHERE owner = 'ada'`);
      expect(rows).toHaveLength(3);
      // Every connection went back to its pool, none broken.
      for (const each of pools) {
        expect(each.idleCount).toBe(each.totalCount);
      }
    });

    it("'evict': 30 concurrent log-ins all succeed, exactly 3 remain, and every other one was reported evicted once", async () => {
      const evicted: string[] = [];
      const stores = pools.map((each) => {
        const store = new PostgresSessionStore<ContractValues>(each, { table }, clock);
        store.limitOwnerSessions({ max: 3, policy: 'evict', evicted: (_owner, handles) => evicted.push(...handles) });
        return store;
      });
      const ids = Array.from({ length: 30 }, () => newId());
      await Promise.all(ids.map((id, i) => stores[i % instances]!.setSession(id, record({ i }), 'ada')));
      const left = (await stores[0]!.listOwnerSessions('ada')).map((entry) => entry.handle);
      expect(left).toHaveLength(3);
      expect(new Set(evicted).size).toBe(27);
      expect([...evicted, ...left].sort()).toEqual(ids.map(hashedId).sort());
    });

    it('concurrent saves of other owners and without an owner are neither blocked nor counted', async () => {
      const stores = pools.map((each) => new PostgresSessionStore<ContractValues>(each, { table }, clock));
      for (const store of stores) {
        store.limitOwnerSessions({ max: 2, policy: 'refuse' });
      }
      const owners = ['ada', 'bob', 'carol', undefined];
      const results = await Promise.allSettled(
        Array.from({ length: 24 }, (_, i) => stores[i % instances]!.setSession(newId(), record(), owners[i % owners.length])),
      );
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(2 * 3 + 6);
      for (const owner of ['ada', 'bob', 'carol']) {
        await expect(stores[0]!.listOwnerSessions(owner)).resolves.toHaveLength(2);
      }
    });
  });

  describe('a patch that files a session under a new owner', () => {
    it("'refuse': rejects with SessionLimitError and writes nothing, not even the other keys", async () => {
      const store = new PostgresSessionStore<ContractValues>(pool, { table }, clock);
      store.limitOwnerSessions({ max: 1, policy: 'refuse' });
      await store.setSession(newId(), record(), 'ada');
      const anonymous = newId();
      await store.setSession(anonymous, record({ cart: ['pen'] }, 'before'));
      await expect(
        store.patchSession(anonymous, { set: { userId: 'ada' }, unset: ['cart'], owner: 'ada', meta: 'after', ...later() }),
      ).rejects.toBeInstanceOf(SessionLimitError);
      await expect(store.getSession(anonymous)).resolves.toMatchObject({ values: { cart: ['pen'] }, meta: 'before' });
      await expect(store.listOwnerSessions('ada')).resolves.toHaveLength(1);
      // A patch of a session that is gone writes nothing and refuses nothing.
      await expect(store.patchSession(newId(), { set: {}, unset: [], owner: 'ada', ...later() })).resolves.toBeUndefined();
    });

    it("'evict': ends the owner's least recently written session and reports it", async () => {
      const evicted: [string, readonly string[]][] = [];
      const store = new PostgresSessionStore<ContractValues>(pool, { table }, clock);
      store.limitOwnerSessions({ max: 2, policy: 'evict', evicted: (owner, handles) => evicted.push([owner, handles]) });
      const oldest = newId();
      await store.setSession(oldest, record(), 'ada');
      clock.advance(1000);
      const newer = newId();
      await store.setSession(newer, record(), 'ada');
      clock.advance(1000);
      // A patch that leaves the owner alone is a write too: now `oldest` is the newer.
      await store.patchSession(oldest, { set: { seen: true }, unset: [], ...later() });
      clock.advance(1000);
      const anonymous = newId();
      await store.setSession(anonymous, record());
      await expect(
        store.patchSession(anonymous, { set: { userId: 'ada' }, unset: [], owner: 'ada', ...later() }),
      ).resolves.toBe(anonymous);
      expect(evicted).toEqual([['ada', [hashedId(newer)]]]);
      const handles = (await store.listOwnerSessions('ada')).map((entry) => entry.handle).sort();
      expect(handles).toEqual([hashedId(oldest), hashedId(anonymous)].sort());
    });
  });

  it('a session the owner already holds never counts, even when the owner is over a bound set later', async () => {
    const unbounded = new PostgresSessionStore<ContractValues>(pool, { table }, clock);
    const ids = [newId(), newId(), newId()];
    for (const id of ids) {
      await unbounded.setSession(id, record(), 'ada');
    }
    const evicted: string[] = [];
    const bounded = new PostgresSessionStore<ContractValues>(pool, { table }, clock);
    bounded.limitOwnerSessions({ max: 2, policy: 'evict', evicted: (_owner, handles) => evicted.push(...handles) });
    await bounded.setSession(ids[0]!, record({ again: true }), 'ada');
    await bounded.patchSession(ids[1]!, { set: { again: true }, unset: [], owner: 'ada', ...later() });
    expect(evicted).toEqual([]);
    await expect(bounded.listOwnerSessions('ada')).resolves.toHaveLength(3);
    // A new one makes room down to the bound: two go.
    await bounded.setSession(newId(), record(), 'ada');
    expect(evicted).toHaveLength(2);
    await expect(bounded.listOwnerSessions('ada')).resolves.toHaveLength(2);
  });

  it('a bounded save that fails rejects with SessionStoreError, rolls back and gives its connection back', async () => {
    const own = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
    try {
      const missing = new PostgresSessionStore<ContractValues>(own, { table: uniqueName('kit_missing') }, clock);
      missing.limitOwnerSessions({ max: 2, policy: 'evict' });
      const failure = await missing.setSession(newId(), record(), 'ada').catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(SessionStoreError);
      expect(((failure as SessionStoreError).cause as { code?: string }).code).toBe('42P01');
      const store = new PostgresSessionStore<ContractValues>(own, { table }, clock);
      store.limitOwnerSessions({ max: 2, policy: 'evict' });
      // Both connections of the pool are usable again: no transaction was left open.
      await Promise.all([store.setSession(newId(), record(), 'ada'), store.setSession(newId(), record(), 'bob')]);
      expect(own.idleCount).toBe(own.totalCount);
    } finally {
      await own.end();
    }
  });

  it('a bounded save that waits longer than timeout rejects with SessionStoreError (cause TimeoutError)', async () => {
    const store = new PostgresSessionStore<ContractValues>(pool, { table, timeout: 300 }, clock);
    store.limitOwnerSessions({ max: 2, policy: 'refuse' });
    const locker = await pool.connect();
    try {
      await locker.query('BEGIN');
      await locker.query(`LOCK TABLE "${table}" IN EXCLUSIVE MODE`);
      const failure = await store.setSession(newId(), record(), 'ada').catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(SessionStoreError);
      expect(((failure as SessionStoreError).cause as Error).name).toBe('TimeoutError');
    } finally {
      await locker.query('ROLLBACK');
      locker.release();
    }
    await expect(store.setSession(newId(), record(), 'ada')).resolves.toBeDefined();
  });

  it('limitOwnerSessions: the same bound again is fine, another is a TypeError, and it needs a pool that lends connections', () => {
    const store = new PostgresSessionStore(pool, { table });
    store.limitOwnerSessions({ max: 2, policy: 'evict' });
    expect(() => store.limitOwnerSessions({ max: 2, policy: 'evict' })).not.toThrow();
    expect(() => store.limitOwnerSessions({ max: 3, policy: 'evict' })).toThrow(TypeError);
    expect(() => store.limitOwnerSessions({ max: 2, policy: 'refuse' })).toThrow(TypeError);
    expect(() => new PostgresSessionStore(pool, { table }).limitOwnerSessions({ max: 0, policy: 'evict' })).toThrow(TypeError);
    const queryOnly = { query: pool.query.bind(pool) } as unknown as pg.Pool;
    expect(() => new PostgresSessionStore(queryOnly, { table }).limitOwnerSessions({ max: 2, policy: 'evict' })).toThrow(
      TypeError,
    );
  });
});
