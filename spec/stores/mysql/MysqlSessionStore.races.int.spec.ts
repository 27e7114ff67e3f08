import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { SessionLimitError, SessionStoreError, type SessionRecord } from 'kit-session';
import { MysqlSessionStore } from 'kit-session/mysql';
import { FakeClock } from '../../support/FakeClock.js';
import { describeWith, hashedId, MYSQL_URL, uniqueName } from '../../support/services.js';

// several MysqlSessionStore instances (each its own pool, as several app servers)
// racing on one table: ends against renewals, patches against renewals and owner-wide
// ends, log-ins of one owner at the bound; an old id after a renewal; late saves; hostile input.

type V = Record<string, unknown>;
const HOUR = 60 * 60 * 1000;
const ROUNDS = 12;

function newId(): string {
  return randomBytes(32).toString('base64url');
}

describeWith('mysql', 'MysqlSessionStore races between instances', () => {
  const table = uniqueName('kit_mysql_races');
  const pools: mysql.Pool[] = [];
  let clock: FakeClock;
  let a: MysqlSessionStore<V>;
  let b: MysqlSessionStore<V>;

  const record = (values: V = {}): SessionRecord<V> => ({ values, expireTime: clock.now() + HOUR, deadline: clock.now() + 2 * HOUR });
  const later = () => ({ expireTime: clock.now() + HOUR, deadline: clock.now() + 2 * HOUR });
  const rows = async (): Promise<number> => {
    const [result] = await pools[0]!.query(`SELECT count(*) AS n FROM \`${table}\``);
    return Number((result as { n: number }[])[0]!.n);
  };

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) {
      pools.push(mysql.createPool({ uri: MYSQL_URL, connectionLimit: 8 }));
    }
    await new MysqlSessionStore(pools[0]!, { table }).createTable();
  });

  beforeEach(() => {
    clock = new FakeClock();
    a = new MysqlSessionStore<V>(pools[1]!, { table }, clock);
    b = new MysqlSessionStore<V>(pools[2]!, { table }, clock);
  });

  afterEach(async () => {
    await pools[0]!.query(`DELETE FROM \`${table}\``);
  });

  afterAll(async () => {
    await pools[0]!.query(`DROP TABLE IF EXISTS \`${table}\``);
    await Promise.all(pools.map((pool) => pool.end()));
  });

  describe('a renewal racing an end', () => {
    const ends = {
      deleteSession: (old: string) => b.deleteSession(old),
      deleteSessionByHandle: (old: string) => b.deleteSessionByHandle('ada', hashedId(old)),
      deleteOwnerSessions: () => b.deleteOwnerSessions('ada'),
    } as const;
    for (const [name, end] of Object.entries(ends)) {
      it(`${name}: once both settle, neither the old id nor its successor loads`, async () => {
        for (let round = 0; round < ROUNDS; round++) {
          const old = newId();
          const next = newId();
          await a.setSession(old, record({ n: round }), 'ada');
          await Promise.all([a.renewSession(old, next, { record: record({ n: round }), owner: 'ada', grace: 30_000 }), end(old)]);
          expect(await a.getSession(old)).toBeUndefined();
          expect(await a.getSession(next)).toBeUndefined();
          // A late patch of either never brings it back.
          expect(await b.patchSession(next, { set: { late: 1 }, unset: [], ...later() })).toBeUndefined();
          expect(await b.patchSession(old, { set: { late: 1 }, unset: [], ...later() })).toBeUndefined();
          expect(await a.getSession(next)).toBeUndefined();
        }
      });
    }
  });

  it('a patch racing a renewal: a patch that answers undefined wrote nothing; the old id is never written after it retired', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const old = newId();
      const next = newId();
      await a.setSession(old, record({ n: 0 }), 'ada');
      const [patched, renewed] = await Promise.all([
        b.patchSession(old, { set: { patched: round }, unset: [], ...later() }),
        a.renewSession(old, next, { record: record({ n: 0 }), owner: 'ada', grace: 30_000 }),
      ]);
      expect(renewed).toBe(next);
      const loaded = await a.getSession(old);
      expect(loaded?.superseded).toBe(true);
      if (patched === undefined) {
        expect(loaded?.values).toEqual({ n: 0 });
      }
    }
  });

  for (const policy of ['refuse', 'evict'] as const) {
    it(`log-ins of one owner racing at the bound (${policy}): the bound is exact, each eviction reported once`, async () => {
      const max = 3;
      const reported: string[] = [];
      for (const store of [a, b]) {
        store.limitOwnerSessions({ max, policy, evicted: (_owner, handles) => reported.push(...handles) });
      }
      const ids = Array.from({ length: 16 }, newId);
      const results = await Promise.allSettled(ids.map((id, i) => (i % 2 === 0 ? a : b).setSession(id, record(), 'ada')));
      const refused = results.filter((r) => r.status === 'rejected');
      for (const r of refused) {
        expect((r as PromiseRejectedResult).reason).toBeInstanceOf(SessionLimitError);
      }
      const live = await a.listOwnerSessions('ada');
      expect(live).toHaveLength(max);
      if (policy === 'refuse') {
        expect(refused).toHaveLength(ids.length - max);
        expect(reported).toEqual([]);
      } else {
        expect(refused).toHaveLength(0);
        expect(new Set(reported).size).toBe(reported.length);
        expect(reported).toHaveLength(ids.length - max);
        const all = new Set([...reported, ...live.map((s) => s.handle)]);
        expect(all).toEqual(new Set(ids.map(hashedId)));
      }
    });
  }

  it('patches filing sessions under one owner racing at the bound (evict) with log-ins: exact', async () => {
    const max = 2;
    const reported: string[] = [];
    for (const store of [a, b]) {
      store.limitOwnerSessions({ max, policy: 'evict', evicted: (_owner, handles) => reported.push(...handles) });
    }
    const anonymous = Array.from({ length: 6 }, newId);
    await Promise.all(anonymous.map((id) => a.setSession(id, record())));
    const fresh = Array.from({ length: 6 }, newId);
    await Promise.all([
      ...anonymous.map((id, i) => (i % 2 === 0 ? a : b).patchSession(id, { set: { u: 'ada' }, unset: [], owner: 'ada', ...later() })),
      ...fresh.map((id, i) => (i % 2 === 0 ? b : a).setSession(id, record({ u: 'ada' }), 'ada')),
    ]);
    const live = await a.listOwnerSessions('ada');
    expect(live).toHaveLength(max);
    expect(new Set(reported).size).toBe(reported.length);
    expect(reported).toHaveLength(12 - max);
  });

  it('a patch moving a session to another owner racing an end of either owner: it lives exactly when the patch landed after the end', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const id = newId();
      await a.setSession(id, record({ u: 'ada' }), 'ada');
      const [patched, endedAda] = await Promise.all([
        b.patchSession(id, { set: { u: 'bob' }, unset: [], owner: 'bob', ...later() }),
        a.deleteOwnerSessions('ada'),
      ]);
      const loaded = await a.getSession(id);
      if (patched === undefined) {
        expect(endedAda).toBe(1);
        expect(loaded).toBeUndefined();
      } else {
        expect(endedAda).toBe(0);
        expect(loaded?.values).toEqual({ u: 'bob' });
        expect((await a.listOwnerSessions('bob')).map((s) => s.handle)).toEqual([hashedId(id)]);
      }
      // Now racing the end of the new owner.
      const [patchedBack, endedBob] = await Promise.all([
        a.patchSession(id, { set: { u: 'cy' }, unset: [], owner: 'cy', ...later() }),
        b.deleteOwnerSessions('bob'),
      ]);
      if (patched !== undefined) {
        expect(patchedBack === undefined ? endedBob : 1 - endedBob).toBe(1);
      }
      await pools[0]!.query(`DELETE FROM \`${table}\``);
    }
  });

  describe('the old id after a renewal', () => {
    it('loads read-only within the grace; a patch or renewal of it writes nothing; its end ends the successor; it never comes back', async () => {
      const old = newId();
      const next = newId();
      await a.setSession(old, record({ n: 1 }), 'ada');
      await a.renewSession(old, next, { record: record({ n: 2 }), owner: 'ada', grace: 30_000 });
      const loaded = await b.getSession(old);
      expect(loaded).toMatchObject({ values: { n: 1 }, superseded: true });
      expect(await b.patchSession(old, { set: { n: 9 }, unset: [], ...later() })).toBeUndefined();
      expect(await b.renewSession(old, newId(), { record: record({ n: 9 }), owner: 'ada', grace: 30_000 })).toBeUndefined();
      expect((await b.getSession(old))?.values).toEqual({ n: 1 });
      expect((await b.getSession(next))?.values).toEqual({ n: 2 });
      await b.deleteSession(old);
      expect(await a.getSession(next)).toBeUndefined();
      expect(await a.getSession(old)).toBeUndefined();
      expect(await a.patchSession(next, { set: { n: 3 }, unset: [], ...later() })).toBeUndefined();
      expect(await rows()).toBe(0);
    });

    it('past the grace, it loads nothing and a patch of it writes nothing', async () => {
      const old = newId();
      const next = newId();
      await a.setSession(old, record({ n: 1 }));
      await a.renewSession(old, next, { record: record({ n: 2 }), grace: 1_000 });
      clock.advance(2_000);
      expect(await b.getSession(old)).toBeUndefined();
      expect(await b.patchSession(old, { set: { n: 9 }, unset: [], ...later() })).toBeUndefined();
      expect((await b.getSession(next))?.values).toEqual({ n: 2 });
    });
  });

  describe('hostile input', () => {
    const odd = [
      '',
      '\u0000',
      'a\u0000b',
      "'; DROP TABLE x; --",
      '\\',
      '\ud800',
      '\udfff\ud800',
      '\u202e\u200b\ufeff',
      '🙂'.repeat(300),
      'x'.repeat(5000),
      'é'.normalize('NFD'),
    ];

    it('tokens and handles of any text load nothing, end nothing, never throw', async () => {
      const id = newId();
      await a.setSession(id, record({ n: 1 }), 'ada');
      for (const text of odd) {
        expect(await a.getSession(text)).toBeUndefined();
        await a.deleteSession(text);
        expect(await a.deleteSessionByHandle('ada', text)).toBe(false);
        expect(await a.patchSession(text, { set: { n: 2 }, unset: [], ...later() }).catch((e: unknown) => e)).toBeDefined();
      }
      expect((await a.getSession(id))?.values).toEqual({ n: 1 });
    });

    it('owners of any text: kept apart byte for byte, or refused with a SessionStoreError naming none of it', async () => {
      const kept = new Map<string, string>();
      for (const owner of odd) {
        const id = newId();
        try {
          await a.setSession(id, record({ u: owner }), owner);
          kept.set(owner, id);
        } catch (error) {
          expect(error).toBeInstanceOf(SessionStoreError);
          expect(JSON.stringify({ m: (error as Error).message, c: String((error as Error).cause), s: (error as Error).stack })).not.toContain(
            owner.length > 0 ? owner : '\u0001',
          );
        }
      }
      for (const [owner, id] of kept) {
        expect((await b.listOwnerSessions(owner)).map((s) => s.handle)).toEqual([hashedId(id)]);
      }
      for (const [owner] of kept) {
        expect(await b.deleteOwnerSessions(owner)).toBe(1);
      }
      for (const owner of odd) {
        expect(await b.listOwnerSessions(owner)).toEqual([]);
      }
    });

    it('values: __proto__, -0, 1e400, deep, large, NUL and SQL-ish keys round-trip as JSON does, through saves and patches', async () => {
      const id = newId();
      const values = JSON.parse('{"__proto__":{"polluted":1},"a\\u0000b":"\'; DROP TABLE x; --"}') as V;
      values.negZero = -0;
      values.huge = 1e400;
      let deep: unknown = 'leaf';
      for (let i = 0; i < 2000; i++) {
        deep = { d: deep };
      }
      values.deep = deep;
      values.big = 'x'.repeat(2_000_000);
      await a.setSession(id, record(values));
      const loaded = await b.getSession(id);
      expect(loaded?.values).toEqual(JSON.parse(JSON.stringify(values)));
      expect(Object.getPrototypeOf(loaded!.values)).toBe(Object.prototype);
      const set = Object.fromEntries([['__proto__', { x: 2 }], ['n', 1]]) as V;
      expect(await b.patchSession(id, { set, unset: ['big'], ...later() })).toBe(id);
      const patched = (await a.getSession(id))!.values;
      expect(Object.hasOwn(patched, '__proto__')).toBe(true);
      expect(patched.__proto__).toEqual({ x: 2 });
      expect(({} as { polluted?: unknown; x?: unknown }).x).toBeUndefined();
      expect(patched.big).toBeUndefined();
    });

    it('a value larger than the server takes (max_allowed_packet): each save rejects with SessionStoreError naming no value', async () => {
      const id = newId();
      await a.setSession(id, record({ n: 1 }), 'ada');
      a.limitOwnerSessions({ max: 5, policy: 'evict' });
      const huge = 'secret-'.repeat(3_000_000);
      for (const call of [
        () => a.setSession(newId(), record({ huge })),
        () => a.setSession(newId(), record({ huge }), 'ada'),
        () => a.patchSession(id, { set: { huge }, unset: [], ...later() }),
        () => a.patchSession(id, { set: { huge }, unset: [], owner: 'bob', ...later() }),
        () => a.renewSession(id, newId(), { record: record({ huge }), owner: 'ada', grace: 1000 }),
      ]) {
        const error = await call().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(SessionStoreError);
        const text = JSON.stringify({ m: (error as Error).message, c: String((error as Error).cause), s: (error as Error).stack });
        expect(text).not.toContain('secret-');
      }
    });

    // The server answers a statement larger than max_allowed_packet with an error and
    // closes the connection; mysql2 puts the connection back in the pool all the same.
    // The next request to borrow it (another user's, with a session of a few bytes)
    // fails with ECONNRESET, as a SessionStoreError: a 500 for an innocent request.
    for (const next of ['patchSession', 'getSession', 'setSession'] as const) {
      it(`after a save too large for the server, the next ${next} on the same pool works`, async () => {
        const pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 1 });
        try {
          const store = new MysqlSessionStore<V>(pool, { table }, clock);
          const id = newId();
          await store.setSession(id, record({ n: 1 }));
          await expect(store.setSession(newId(), record({ huge: 'x'.repeat(20_000_000) }))).rejects.toBeInstanceOf(SessionStoreError);
          const calls = {
            patchSession: async () => expect(await store.patchSession(id, { set: { n: 2 }, unset: [], ...later() })).toBe(id),
            getSession: async () => expect((await store.getSession(id))?.values).toEqual({ n: 1 }),
            setSession: async () => expect(await store.setSession(id, record({ n: 3 }))).toBe(id),
          };
          await calls[next]();
        } finally {
          await pool.end();
        }
      });
    }

    it('values JSON cannot hold (a BigInt, a cycle): the save fails and names no value', async () => {
      const cyclic: V = { secret: 'hunter2' };
      cyclic.self = cyclic;
      for (const values of [{ secret: 'hunter2', n: 1n }, cyclic]) {
        const error = await Promise.resolve(a.setSession(newId(), record(values as V))).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(Error);
        expect(String((error as Error).message)).not.toContain('hunter2');
      }
    });
  });
});
