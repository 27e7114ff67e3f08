import { randomBytes } from 'node:crypto';
import { SessionLimitError, SessionStoreError, type SessionRecord } from 'kit-session';
import { SqliteSessionStore, type SqliteDatabase } from 'kit-session/sqlite';
import { FakeClock } from '../../support/FakeClock.js';
import { hashedId } from '../../support/services.js';
import { describeEachSqlite, openWal, scratchFolder, type OpenDatabase } from '../../support/sqlite.js';
import { raceProcesses, raceWorkers } from '../../support/sqliteWorkers.js';
import type { ContractValues } from '../../support/storeContract.js';

// What the shared contract cannot see on SQLite: how many statements each call runs, the
// bound and renewal across two connections to one file (two stores in one process, then
// worker threads racing for real, as several app servers would), SQLITE_BUSY after the
// busy timeout, and retired rows as they lie in the table.

const HOUR = 60 * 60 * 1000;
const GRACE = 30_000;

function newId(): string {
  return randomBytes(32).toString('base64url');
}

/** A handle that counts the statements run through it (each get, all or run of a prepared statement). */
function counting(database: SqliteDatabase): { database: SqliteDatabase; count: () => number; sql: string[] } {
  const sql: string[] = [];
  const wrapped = new Proxy(database, {
    get(target, key) {
      if (key === 'prepare') {
        return (text: string) => {
          const prepared = target.prepare(text);
          const counted = (name: 'get' | 'all' | 'run') => (...args: never[]) => {
            sql.push(text);
            return (prepared[name] as (...args: never[]) => unknown).apply(prepared, args);
          };
          return { get: counted('get'), all: counted('all'), run: counted('run') };
        };
      }
      const value = Reflect.get(target, key, target) as unknown;
      // The class itself unbound: the store tells node:sqlite's handle by its class's name.
      return typeof value === 'function' && key !== 'constructor' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { database: wrapped, count: () => sql.length, sql };
}

const scratch = scratchFolder();
afterAll(() => scratch.remove());

describeEachSqlite('SqliteSessionStore: statements, the bound and renewal across connections', (driver) => {
  const table = 'kit_owners';
  let file: string;
  let database: OpenDatabase;
  let clock: FakeClock;

  const record = (values: ContractValues = {}, ttl = HOUR): SessionRecord<ContractValues> => ({
    values,
    expireTime: clock.now() + ttl,
    deadline: clock.now() + 2 * ttl,
  });
  const later = () => ({ expireTime: clock.now() + HOUR, deadline: clock.now() + 2 * HOUR });

  beforeAll(async () => {
    file = scratch.file(`owners-${driver.name.replace(':', '-')}.db`);
    database = openWal(driver, file);
    await new SqliteSessionStore(database, { table }).createTable();
  });

  beforeEach(() => {
    clock = new FakeClock();
  });

  afterEach(() => {
    database.exec(`DELETE FROM "${table}"`);
  });

  afterAll(() => {
    database.close();
  });

  describe('statements per call', () => {
    it('a load is one statement, a renewed id too; a save one; a patch BEGIN IMMEDIATE, the row, the write, COMMIT', async () => {
      const { database: counted, count } = counting(database);
      const store = new SqliteSessionStore<ContractValues>(counted, { table }, clock);
      const id = newId();
      await store.setSession(id, record({ a: 1 }), 'ada');
      expect(count()).toBe(1);
      await store.getSession(id);
      await store.getSession(newId());
      expect(count()).toBe(3);
      await store.patchSession(id, { set: { b: 2 }, unset: [], ...later() });
      expect(count()).toBe(7);
      const next = newId();
      await store.renewSession(id, next, { record: record(), owner: 'ada', grace: GRACE });
      // BEGIN, the old row, the successor, the old row retired, COMMIT.
      expect(count()).toBe(12);
      expect(await store.getSession(id)).toMatchObject({ superseded: true });
      expect(count()).toBe(13);
      await store.deleteOwnerSessions('ada');
      await store.listOwnerSessions('ada');
      expect(count()).toBe(15);
    });

    it('with a bound: a save with an owner is BEGIN IMMEDIATE, the row, the others, the write, COMMIT (and one DELETE for those evicted); saves without an owner stay one statement', async () => {
      const { database: counted, count } = counting(database);
      const store = new SqliteSessionStore<ContractValues>(counted, { table }, clock);
      store.limitOwnerSessions({ max: 1, policy: 'evict' });
      await store.setSession(newId(), record());
      expect(count()).toBe(1);
      await store.setSession(newId(), record(), 'ada');
      expect(count()).toBe(6);
      await store.setSession(newId(), record(), 'ada');
      expect(count()).toBe(12);
      // A log-in renewal is bounded as a new session: the others read too.
      const anonymous = newId();
      await store.setSession(anonymous, record());
      await store.renewSession(anonymous, newId(), { record: record(), owner: 'ada', grace: GRACE });
      expect(count()).toBe(13 + 7);
    });

    it('ending a session by its handle is one statement, and one more for each renewal followed', async () => {
      const { database: counted, count } = counting(database);
      const store = new SqliteSessionStore<ContractValues>(counted, { table }, clock);
      const ids = [newId(), newId(), newId()];
      await store.setSession(ids[0]!, record(), 'ada');
      await store.renewSession(ids[0]!, ids[1]!, { record: record(), owner: 'ada', grace: GRACE });
      await store.renewSession(ids[1]!, ids[2]!, { record: record(), owner: 'ada', grace: GRACE });
      const start = count();
      expect(await store.deleteSessionByHandle('ada', hashedId(ids[0]!))).toBe(true);
      expect(count() - start).toBe(3);
      expect(await store.getSession(ids[2]!)).toBeUndefined();
    });
  });

  describe('two connections to one file, in one process', () => {
    let second: OpenDatabase;

    beforeEach(() => {
      second = openWal(driver, file);
    });

    afterEach(() => {
      second.close();
    });

    it('the bound counts what the other connection wrote, and a renewal on one retires what the other reads', async () => {
      const one = new SqliteSessionStore<ContractValues>(database, { table }, clock);
      const two = new SqliteSessionStore<ContractValues>(second, { table }, clock);
      one.limitOwnerSessions({ max: 2, policy: 'refuse' });
      two.limitOwnerSessions({ max: 2, policy: 'refuse' });
      const first = newId();
      await one.setSession(first, record(), 'ada');
      await two.setSession(newId(), record(), 'ada');
      await expect(one.setSession(newId(), record(), 'ada')).rejects.toBeInstanceOf(SessionLimitError);
      await expect(two.setSession(newId(), record(), 'ada')).rejects.toBeInstanceOf(SessionLimitError);
      const next = newId();
      expect(await two.renewSession(first, next, { record: record({ r: 1 }), owner: 'ada', grace: GRACE })).toBe(next);
      expect(await one.getSession(first)).toMatchObject({ superseded: true });
      expect(await one.patchSession(first, { set: { x: 1 }, unset: [], ...later() })).toBeUndefined();
      expect(await one.deleteSessionByHandle('ada', hashedId(first))).toBe(true);
      expect(await two.getSession(next)).toBeUndefined();
    });

    it('a write that waits longer than the busy timeout for the other connection rejects with SessionStoreError (SQLITE_BUSY), naming no token', async () => {
      const waiting = driver.open(file, 50);
      try {
        const store = new SqliteSessionStore<ContractValues>(waiting, { table }, clock);
        const id = newId();
        second.exec('BEGIN IMMEDIATE');
        try {
          for (const call of [
            () => store.setSession(id, record()),
            () => store.patchSession(id, { set: {}, unset: [], ...later() }),
            () => store.renewSession(id, newId(), { record: record(), grace: GRACE }),
          ]) {
            const failure = await Promise.resolve().then(call).catch((error: unknown) => error);
            expect(failure).toBeInstanceOf(SessionStoreError);
            expect(`${(failure as Error).message} ${((failure as Error).cause as Error).message}`).not.toContain(id);
          }
          // Reads do not wait in WAL mode.
          expect(await store.getSession(id)).toBeUndefined();
        } finally {
          second.exec('ROLLBACK');
        }
        // No transaction was left open: the next write goes through.
        expect(await store.setSession(id, record())).toBe(id);
      } finally {
        waiting.close();
      }
    });
  });

  for (const [kind, race] of [
    ['worker threads', raceWorkers],
    ['node processes', raceProcesses],
  ] as const) {
  describe(`${kind} racing on one file, each with its own connection`, () => {
    const saveMany = `
      const settled = [];
      for (const id of input.ids) {
        try {
          await store.setSession(id, { values: {}, expireTime: Date.now() + 3600000, deadline: Date.now() + 7200000 }, 'ada');
          settled.push('saved');
        } catch (error) {
          settled.push(error.code);
        }
      }
      return settled;`;

    it("'refuse': of 2 × 20 log-ins of one owner with max 3, exactly 3 succeed; the others are refused", async () => {
      const parts = [0, 1].map(() => ({ body: saveMany, input: { ids: Array.from({ length: 20 }, newId) } }));
      const results = await race(driver, file, table, parts, { max: 3, policy: 'refuse' });
      const settled = results.flatMap((each) => each.result as string[]);
      expect(settled.filter((each) => each === 'saved')).toHaveLength(3);
      expect(settled.filter((each) => each === 'ERR_SESSION_LIMIT')).toHaveLength(37);
      const store = new SqliteSessionStore(database, { table });
      expect(await store.listOwnerSessions('ada')).toHaveLength(3);
    });

    it("'evict': 2 × 20 log-ins all succeed, exactly 3 remain, and every other one was reported evicted once", async () => {
      const ids = [Array.from({ length: 20 }, newId), Array.from({ length: 20 }, newId)];
      const results = await race(driver, file, table, ids.map((each) => ({ body: saveMany, input: { ids: each } })), {
        max: 3,
        policy: 'evict',
      });
      expect(results.flatMap((each) => each.result as string[]).every((each) => each === 'saved')).toBe(true);
      const left = (await new SqliteSessionStore(database, { table }).listOwnerSessions('ada')).map((entry) => entry.handle);
      expect(left).toHaveLength(3);
      const evicted = results.flatMap((each) => each.evicted);
      expect(new Set(evicted).size).toBe(37);
      expect([...evicted, ...left].sort()).toEqual(ids.flat().map(hashedId).sort());
    });

    it.each(['deleteSessionByHandle', 'deleteSession'] as const)(
      'renewals racing %s of the same sessions never leave a successor behind',
      async (end) => {
        const store = new SqliteSessionStore<ContractValues>(database, { table });
        const pairs = Array.from({ length: kind === 'node processes' ? 200 : 40 }, () => [newId(), newId()] as const);
        for (const [before] of pairs) {
          await store.setSession(before, { values: {}, expireTime: Date.now() + HOUR, deadline: Date.now() + 2 * HOUR }, 'ada');
        }
        const renew = {
          body: `
            const renewed = [];
            for (const [before, after] of input.pairs) {
              const token = await store.renewSession(before, after, {
                record: { values: {}, expireTime: Date.now() + 3600000, deadline: Date.now() + 7200000 }, owner: 'ada', grace: 30000,
              });
              renewed.push(token !== undefined);
            }
            return renewed;`,
          input: { pairs },
        };
        const ending = {
          body:
            end === 'deleteSession'
              ? `for (const [before] of input.pairs) { await store.deleteSession(before); }`
              : `for (const handle of input.handles) { await store.deleteSessionByHandle('ada', handle); }`,
          // From the other end: the two meet in the middle, where each session is renewed
          // and ended at about the same time.
          input: { pairs: [...pairs].reverse(), handles: pairs.map(([before]) => hashedId(before)).reverse() },
        };
        const [renewed] = await race(driver, file, table, [renew, ending]);
        expect(await store.listOwnerSessions('ada')).toEqual([]);
        for (const [before, after] of pairs) {
          expect(await store.getSession(after)).toBeUndefined();
          expect(await store.getSession(before)).toBeUndefined();
        }
        // Which of the two went first differs from pair to pair (a renewal that came second
        // wrote nothing); either way nothing of the owner is left.
        expect((renewed!.result as boolean[]).length).toBe(pairs.length);
      },
    );
  });
  }

  describe('retired rows in the table', () => {
    let store: SqliteSessionStore<ContractValues>;

    beforeEach(() => {
      store = new SqliteSessionStore(database, { table }, clock);
    });

    interface Row {
      token: string;
      owner: string | null;
      expire_time: number;
      successor: string | null;
    }

    const rows = () =>
      (database.prepare(`SELECT token, owner, expire_time, successor FROM "${table}" ORDER BY token`).all() as Row[]).map(
        (row) => ({ ...row }),
      );

    it('retires the old row: its successor names the new token, its expiry is cut to now + grace, its owner stays', async () => {
      const before = newId();
      const after = newId();
      await store.setSession(before, record({ cart: 3 }), 'ada');
      clock.advance(1000);
      await store.renewSession(before, after, { record: record({ renewed: true }), owner: 'ada', grace: GRACE });
      expect(rows()).toEqual(
        [
          { token: hashedId(before), owner: 'ada', expire_time: clock.now() + GRACE, successor: hashedId(after) },
          { token: hashedId(after), owner: 'ada', expire_time: clock.now() + HOUR, successor: null },
        ].sort((a, b) => (a.token < b.token ? -1 : 1)),
      );
    });

    it.each([
      ['Infinity', 'kept until its own expiry', Number.POSITIVE_INFINITY],
      ['NaN', 'deleted', Number.NaN],
      ['-1', 'deleted', -1],
    ] as const)('with a grace of %s, the old row is %s', async (_label, fate, grace) => {
      const before = newId();
      await store.setSession(before, record());
      expect(await store.renewSession(before, newId(), { record: record(), grace })).toEqual(expect.any(String));
      const retired = rows().find((row) => row.token === hashedId(before));
      if (fate === 'deleted') {
        expect(retired).toBeUndefined();
      } else {
        expect(retired?.expire_time).toBe(clock.now() + HOUR);
      }
    });

    it('a retired id is served while a session of its own is found within 4 renewals; further on, it is not', async () => {
      const ids = Array.from({ length: 6 }, newId);
      await store.setSession(ids[0]!, record({ step: 0 }), 'ada');
      for (let step = 1; step < ids.length; step++) {
        await store.renewSession(ids[step - 1]!, ids[step]!, { record: record({ step }), owner: 'ada', grace: GRACE });
      }
      expect(await store.getSession(ids[0]!)).toBeUndefined();
      expect(await store.getSession(ids[1]!)).toMatchObject({ values: { step: 1 }, superseded: true });
      expect(await store.getSession(ids[5]!)).toMatchObject({ values: { step: 5 } });
    });

    it("a retired row never counts against its owner's bound, and eviction never picks it", async () => {
      const evicted: string[] = [];
      store.limitOwnerSessions({ max: 2, policy: 'evict', evicted: (_owner, handles) => evicted.push(...handles) });
      const before = newId();
      const after = newId();
      await store.setSession(before, record(), 'ada');
      await store.renewSession(before, after, { record: record(), owner: 'ada', grace: GRACE });
      clock.advance(1000);
      await store.setSession(newId(), record(), 'ada');
      expect(evicted).toEqual([]);
      clock.advance(1000);
      await store.setSession(newId(), record(), 'ada');
      expect(evicted).toEqual([hashedId(after)]);
    });

    it("'refuse': a patch that files a session under a full owner writes nothing, not even the other keys", async () => {
      store.limitOwnerSessions({ max: 1, policy: 'refuse' });
      await store.setSession(newId(), record(), 'ada');
      const anonymous = newId();
      await store.setSession(anonymous, { ...record({ cart: ['pen'] }), meta: 'before' });
      await expect(
        store.patchSession(anonymous, { set: { userId: 'ada' }, unset: ['cart'], owner: 'ada', meta: 'after', ...later() }),
      ).rejects.toBeInstanceOf(SessionLimitError);
      expect(await store.getSession(anonymous)).toMatchObject({ values: { cart: ['pen'] }, meta: 'before' });
    });
  });
});
