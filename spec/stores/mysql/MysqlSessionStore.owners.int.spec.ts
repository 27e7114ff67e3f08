import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { SessionLimitError, SessionStoreError, type SessionRecord } from 'kit-session';
import { MysqlSessionStore } from 'kit-session/mysql';
import { FakeClock } from '../../support/FakeClock.js';
import { describeWith, hashedId, MYSQL_URL, uniqueName } from '../../support/services.js';
import type { ContractValues } from '../../support/storeContract.js';

// What the shared contract cannot see on MariaDB/MySQL: the bound per owner under real
// concurrent transactions from several app instances (pools), and how many round trips
// each operation costs.

const HOUR = 60 * 60 * 1000;

function newId(): string {
  return randomBytes(32).toString('base64url');
}

/** How many statements a store sends: through the pool, and on connections it borrows. */
interface Counts {
  poolQueries: number;
  connects: number;
  connectionQueries: number;
}

/** A pool that counts what goes through it; everything else is the real pool's. */
function countingPool(pool: mysql.Pool): { pool: mysql.Pool; counts: Counts } {
  const counts: Counts = { poolQueries: 0, connects: 0, connectionQueries: 0 };
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
      if (key === 'getConnection') {
        return async () => {
          counts.connects++;
          const connection = await target.getConnection();
          return new Proxy(connection, {
            get(inner, name) {
              if (name === 'query') {
                return (...args: unknown[]) => {
                  counts.connectionQueries++;
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

describeWith('mysql', 'MysqlSessionStore: the bound per owner, round trips', () => {
  const table = uniqueName('kit_owners');
  let pool: mysql.Pool;
  let clock: FakeClock;

  const record = (values: ContractValues = {}, meta?: string, ttl = HOUR): SessionRecord<ContractValues> => ({
    values,
    expireTime: clock.now() + ttl,
    deadline: clock.now() + 2 * ttl,
    ...(meta === undefined ? {} : { meta }),
  });
  const later = () => ({ expireTime: clock.now() + HOUR, deadline: clock.now() + 2 * HOUR });

  beforeAll(async () => {
    pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 10 });
    await new MysqlSessionStore(pool, { table }).createTable();
  });

  beforeEach(() => {
    clock = new FakeClock();
  });

  afterEach(async () => {
    await pool.query(`DELETE FROM \`${table}\``);
  });

  afterAll(async () => {
    await pool.query(`DROP TABLE IF EXISTS \`${table}\``);
    await pool.end();
  });

  describe('round trips', () => {
    it('without a bound, a whole save is one upsert through the pool; a patch, a transaction of four (START, locking read, UPDATE, COMMIT)', async () => {
      const { pool: counted, counts } = countingPool(pool);
      const store = new MysqlSessionStore<ContractValues>(counted, { table }, clock);
      const id = newId();
      await store.setSession(id, record({ a: 1 }));
      await store.setSession(newId(), record({ a: 1 }, 'meta'), 'ada');
      expect(counts).toEqual({ poolQueries: 2, connects: 0, connectionQueries: 0 });
      await store.patchSession(id, { set: { b: 2 }, unset: [], owner: 'ada', ...later() });
      expect(counts).toEqual({ poolQueries: 2, connects: 1, connectionQueries: 4 });
    });

    it("with a bound, a save with an owner adds the owner's GET_LOCK and its release and a read of the owner's sessions", async () => {
      const { pool: counted, counts } = countingPool(pool);
      const store = new MysqlSessionStore<ContractValues>(counted, { table }, clock);
      store.limitOwnerSessions({ max: 5, policy: 'evict' });
      const anonymous = newId();
      await store.setSession(anonymous, record());
      await store.patchSession(anonymous, { set: { n: 1 }, unset: [], ...later() });
      expect(counts).toEqual({ poolQueries: 1, connects: 1, connectionQueries: 4 });

      // GET_LOCK, START, the row, the owner's others, the upsert, COMMIT, RELEASE_LOCK.
      await store.setSession(newId(), record(), 'ada');
      expect(counts).toEqual({ poolQueries: 1, connects: 2, connectionQueries: 11 });
      // GET_LOCK, START, the row, the owner's others, UPDATE, COMMIT, RELEASE_LOCK.
      await store.patchSession(anonymous, { set: { u: 'ada' }, unset: [], owner: 'ada', ...later() });
      expect(counts).toEqual({ poolQueries: 1, connects: 3, connectionQueries: 18 });
      // The owner's own session again: nothing to count.
      await store.patchSession(anonymous, { set: { u: 'ada' }, unset: [], owner: 'ada', ...later() });
      expect(counts).toEqual({ poolQueries: 1, connects: 4, connectionQueries: 24 });
    });

    it('a renewal is a transaction of five; with a bound and an owner, the lock, its release and the count besides', async () => {
      const { pool: counted, counts } = countingPool(pool);
      const store = new MysqlSessionStore<ContractValues>(counted, { table }, clock);
      const first = newId();
      const second = newId();
      await pool.query(`INSERT INTO \`${table}\` (token, data, expire_time, deadline, owner, write_time) VALUES (?, '{}', ?, ?, 'ada', 0)`, [
        hashedId(first),
        clock.now() + HOUR,
        clock.now() + HOUR,
      ]);
      await expect(store.renewSession(first, second, { record: record(), owner: 'ada', grace: 1000 })).resolves.toBe(second);
      expect(counts).toEqual({ poolQueries: 0, connects: 1, connectionQueries: 5 });

      store.limitOwnerSessions({ max: 5, policy: 'refuse' });
      const third = newId();
      await expect(store.renewSession(second, third, { record: record(), grace: 1000 })).resolves.toBe(third);
      expect(counts).toEqual({ poolQueries: 0, connects: 2, connectionQueries: 10 });
      // Into another owner: GET_LOCK, START, the row, the count, the upsert, the retirement, COMMIT, RELEASE_LOCK.
      await expect(store.renewSession(third, newId(), { record: record(), owner: 'bob', grace: 1000 })).resolves.toEqual(
        expect.any(String),
      );
      expect(counts).toEqual({ poolQueries: 0, connects: 3, connectionQueries: 18 });
    });

    it('a load is one statement; a load of a renewed id, two (the second follows its successors)', async () => {
      const { pool: counted, counts } = countingPool(pool);
      const store = new MysqlSessionStore<ContractValues>(counted, { table }, clock);
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

    it('an end is one DELETE, and three more statements for each renewal followed; ending an owner is a transaction of four', async () => {
      const { pool: counted, counts } = countingPool(pool);
      const store = new MysqlSessionStore<ContractValues>(counted, { table }, clock);
      const live = newId();
      await store.setSession(live, record(), 'ada');
      const renewed = [newId(), newId(), newId()];
      await store.setSession(renewed[0]!, record(), 'ada');
      await store.renewSession(renewed[0]!, renewed[1]!, { record: record(), owner: 'ada', grace: 1000 });
      await store.renewSession(renewed[1]!, renewed[2]!, { record: record(), owner: 'ada', grace: 1000 });
      let start = counts.poolQueries;
      await expect(store.deleteSessionByHandle('ada', hashedId(live))).resolves.toBe(true);
      expect(counts.poolQueries - start).toBe(1);
      await expect(store.deleteSessionByHandle('ada', hashedId(renewed[0]!))).resolves.toBe(true);
      expect(counts.poolQueries - start).toBe(1 + 3 + 3 + 1);
      await expect(store.getSession(renewed[2]!)).resolves.toBeUndefined();

      const id = newId();
      await store.setSession(id, record(), 'ada');
      start = counts.poolQueries;
      await store.deleteSession(id);
      expect(counts.poolQueries - start).toBe(1);
      await store.setSession(newId(), record(), 'ada');
      const connections = counts.connectionQueries;
      await expect(store.deleteOwnerSessions('ada')).resolves.toBe(1);
      expect(counts.connectionQueries - connections).toBe(4);
    });
  });

  describe('the bound under concurrent log-ins from several app instances', () => {
    const instances = 3;
    let pools: mysql.Pool[];

    beforeEach(() => {
      pools = Array.from({ length: instances }, () => mysql.createPool({ uri: MYSQL_URL, connectionLimit: 5 }));
    });

    afterEach(async () => {
      await Promise.all(pools.map((each) => each.end()));
    });

    it("'refuse': of 30 concurrent log-ins of one owner with max 3, exactly 3 succeed", async () => {
      const stores = pools.map((each) => new MysqlSessionStore<ContractValues>(each, { table }, clock));
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
      const [rows] = await pool.query<mysql.RowDataPacket[]>(`SELECT 1 FROM \`${table}\` WHERE owner = 'ada'`);
      expect(rows).toHaveLength(3);
    });

    it("'evict': 30 concurrent log-ins all succeed, exactly 3 remain, and every other one was reported evicted once", async () => {
      const evicted: string[] = [];
      const stores = pools.map((each) => {
        const store = new MysqlSessionStore<ContractValues>(each, { table }, clock);
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

    it("log-ins racing at the bound: 20 anonymous sessions patched and renewed into one owner at once, max 2 'refuse', leave exactly 2", async () => {
      const stores = pools.map((each) => new MysqlSessionStore<ContractValues>(each, { table }, clock));
      for (const store of stores) {
        store.limitOwnerSessions({ max: 2, policy: 'refuse' });
      }
      const ids = Array.from({ length: 20 }, () => newId());
      for (const id of ids) {
        await stores[0]!.setSession(id, record({ cart: 1 }));
      }
      const results = await Promise.allSettled(
        ids.map((id, i) =>
          i % 2 === 0
            ? stores[i % instances]!.patchSession(id, { set: { userId: 'ada' }, unset: [], owner: 'ada', ...later() })
            : stores[i % instances]!.renewSession(id, newId(), { record: record({ userId: 'ada' }), owner: 'ada', grace: 1000 }),
        ),
      );
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(2);
      expect(results.filter((result) => result.status === 'rejected' && result.reason instanceof SessionLimitError)).toHaveLength(18);
      await expect(stores[1]!.listOwnerSessions('ada')).resolves.toHaveLength(2);
    });

    it('concurrent saves of other owners and without an owner are neither blocked nor counted', async () => {
      const stores = pools.map((each) => new MysqlSessionStore<ContractValues>(each, { table }, clock));
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
      const store = new MysqlSessionStore<ContractValues>(pool, { table }, clock);
      store.limitOwnerSessions({ max: 1, policy: 'refuse' });
      await store.setSession(newId(), record(), 'ada');
      const anonymous = newId();
      await store.setSession(anonymous, record({ cart: ['pen'] }, 'before'));
      await expect(
        store.patchSession(anonymous, { set: { userId: 'ada' }, unset: ['cart'], owner: 'ada', meta: 'after', ...later() }),
      ).rejects.toBeInstanceOf(SessionLimitError);
      await expect(store.getSession(anonymous)).resolves.toMatchObject({ values: { cart: ['pen'] }, meta: 'before' });
      await expect(store.listOwnerSessions('ada')).resolves.toHaveLength(1);
      await expect(store.patchSession(newId(), { set: {}, unset: [], owner: 'ada', ...later() })).resolves.toBeUndefined();
    });

    it("'evict': ends the owner's least recently written session and reports it", async () => {
      const evicted: [string, readonly string[]][] = [];
      const store = new MysqlSessionStore<ContractValues>(pool, { table }, clock);
      store.limitOwnerSessions({ max: 2, policy: 'evict', evicted: (owner, handles) => evicted.push([owner, handles]) });
      const oldest = newId();
      await store.setSession(oldest, record(), 'ada');
      clock.advance(1000);
      const newer = newId();
      await store.setSession(newer, record(), 'ada');
      clock.advance(1000);
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
    const unbounded = new MysqlSessionStore<ContractValues>(pool, { table }, clock);
    const ids = [newId(), newId(), newId()];
    for (const id of ids) {
      await unbounded.setSession(id, record(), 'ada');
    }
    const evicted: string[] = [];
    const bounded = new MysqlSessionStore<ContractValues>(pool, { table }, clock);
    bounded.limitOwnerSessions({ max: 2, policy: 'evict', evicted: (_owner, handles) => evicted.push(...handles) });
    await bounded.setSession(ids[0]!, record({ again: true }), 'ada');
    await bounded.patchSession(ids[1]!, { set: { again: true }, unset: [], owner: 'ada', ...later() });
    expect(evicted).toEqual([]);
    await expect(bounded.listOwnerSessions('ada')).resolves.toHaveLength(3);
    await bounded.setSession(newId(), record(), 'ada');
    expect(evicted).toHaveLength(2);
    await expect(bounded.listOwnerSessions('ada')).resolves.toHaveLength(2);
  });

  it('a bounded save that fails rejects with SessionStoreError, rolls back, releases the lock and gives its connection back', async () => {
    const own = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 1 });
    try {
      const missing = new MysqlSessionStore<ContractValues>(own, { table: uniqueName('kit_missing') }, clock);
      missing.limitOwnerSessions({ max: 2, policy: 'evict' });
      const failure = await missing.setSession(newId(), record(), 'ada').catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(SessionStoreError);
      expect(((failure as SessionStoreError).cause as { code?: string }).code).toBe('ER_NO_SUCH_TABLE');
      // The one connection is usable again, and another pool takes the owner's lock at once.
      const store = new MysqlSessionStore<ContractValues>(own, { table, timeout: 2_000 }, clock);
      store.limitOwnerSessions({ max: 2, policy: 'evict' });
      await store.setSession(newId(), record(), 'ada');
      const other = new MysqlSessionStore<ContractValues>(pool, { table, timeout: 2_000 }, clock);
      other.limitOwnerSessions({ max: 2, policy: 'evict' });
      await other.setSession(newId(), record(), 'ada');
    } finally {
      await own.end();
    }
  });

  it('a bounded save that waits longer than timeout (the table locked by another session) rejects with SessionStoreError (cause TimeoutError)', async () => {
    const store = new MysqlSessionStore<ContractValues>(pool, { table, timeout: 300 }, clock);
    store.limitOwnerSessions({ max: 2, policy: 'refuse' });
    const locker = await pool.getConnection();
    try {
      await locker.query('START TRANSACTION');
      await locker.query(`SELECT * FROM \`${table}\` FOR UPDATE`);
      await locker.query(`LOCK TABLES \`${table}\` WRITE`);
      const failure = await store.setSession(newId(), record(), 'ada').catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(SessionStoreError);
      expect(((failure as SessionStoreError).cause as Error).name).toBe('TimeoutError');
    } finally {
      await locker.query('UNLOCK TABLES');
      await locker.query('ROLLBACK');
      locker.release();
    }
    const patient = new MysqlSessionStore<ContractValues>(pool, { table, timeout: 5_000 }, clock);
    patient.limitOwnerSessions({ max: 2, policy: 'refuse' });
    await expect(patient.setSession(newId(), record(), 'ada')).resolves.toBeDefined();
  });

  it('limitOwnerSessions: the same bound again is fine, another is a TypeError', () => {
    const store = new MysqlSessionStore(pool, { table });
    store.limitOwnerSessions({ max: 2, policy: 'evict' });
    expect(() => store.limitOwnerSessions({ max: 2, policy: 'evict' })).not.toThrow();
    expect(() => store.limitOwnerSessions({ max: 3, policy: 'evict' })).toThrow(TypeError);
    expect(() => store.limitOwnerSessions({ max: 2, policy: 'refuse' })).toThrow(TypeError);
    expect(() => new MysqlSessionStore(pool, { table }).limitOwnerSessions({ max: 0, policy: 'evict' })).toThrow(TypeError);
  });
});
