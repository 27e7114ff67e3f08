import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { SessionLimitError, type SessionRecord } from 'kit-session';
import { MysqlSessionStore } from 'kit-session/mysql';
import { FakeClock } from '../../support/FakeClock.js';
import { describeWith, hashedId, MYSQL_URL, uniqueName } from '../../support/services.js';
import type { ContractValues } from '../../support/storeContract.js';

// What the shared contract cannot see of renewal on MariaDB/MySQL: the retired row as it
// lies in the table, and the order of a renewal and a concurrent save or end made
// certain by a row lock the test holds (each waits for it; the first to wait goes first).

const HOUR = 60 * 60 * 1000;
const GRACE = 30_000;

function newId(): string {
  return randomBytes(32).toString('base64url');
}

describeWith('mysql', 'MysqlSessionStore: renewal on a MariaDB or MySQL table', () => {
  const table = uniqueName('kit_renewal');
  let admin: mysql.Pool;
  let pool: mysql.Pool;
  let clock: FakeClock;
  let store: MysqlSessionStore<ContractValues>;

  const record = (values: ContractValues = {}, ttl = HOUR): SessionRecord<ContractValues> => ({
    values,
    expireTime: clock.now() + ttl,
    deadline: clock.now() + 2 * ttl,
  });

  beforeAll(async () => {
    admin = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 2 });
    pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 5 });
    await new MysqlSessionStore(pool, { table }).createTable();
  });

  beforeEach(() => {
    clock = new FakeClock();
    store = new MysqlSessionStore(pool, { table }, clock);
  });

  afterEach(async () => {
    await admin.query(`DELETE FROM \`${table}\``);
  });

  afterAll(async () => {
    await admin?.query(`DROP TABLE IF EXISTS \`${table}\``);
    await admin?.end();
    await pool?.end();
  });

  interface Row {
    token: string;
    data: unknown;
    owner: string | null;
    expire_time: number;
    successor: string | null;
  }

  const rows = async (): Promise<Row[]> =>
    (
      await admin.query<mysql.RowDataPacket[]>(
        `SELECT token, data, owner, expire_time, successor FROM \`${table}\` ORDER BY token`,
      )
    )[0].map((row) => ({
      token: String(row.token),
      data: JSON.parse(String(row.data)) as unknown,
      owner: row.owner === null ? null : String(row.owner),
      expire_time: Number(row.expire_time),
      successor: row.successor as string | null,
    }));

  describe('.renewSession', () => {
    it('retires the old row: its successor column names the new token, its expiry is cut to now + grace, its values and owner stay', async () => {
      const before = newId();
      const after = newId();
      await store.setSession(before, record({ cart: 3 }), 'ada');
      clock.advance(1000);
      await store.renewSession(before, after, { record: record({ cart: 3, renewed: true }), owner: 'ada', grace: GRACE });
      expect(await rows()).toEqual(
        [
          { token: hashedId(before), data: { cart: 3 }, owner: 'ada', expire_time: clock.now() + GRACE, successor: hashedId(after) },
          {
            token: hashedId(after),
            data: { cart: 3, renewed: true },
            owner: 'ada',
            expire_time: clock.now() + HOUR,
            successor: null,
          },
        ].sort((a, b) => (a.token < b.token ? -1 : 1)),
      );
      const everything = JSON.stringify(await rows());
      expect(everything).not.toContain(before);
      expect(everything).not.toContain(after);
    });

    it('when the old session ends before its grace would, keeps its own expiry', async () => {
      const before = newId();
      await store.setSession(before, record({}, 1000));
      await store.renewSession(before, newId(), { record: record(), grace: GRACE });
      const retired = (await rows()).find((row) => row.token === hashedId(before));
      expect(retired?.expire_time).toEqual(clock.now() + 1000);
    });

    it.each([
      ['Infinity', 'kept until its own expiry', Number.POSITIVE_INFINITY],
      ['NaN', 'deleted', Number.NaN],
      ['-1', 'deleted', -1],
    ] as const)('with a grace of %s, the old row is %s', async (_label, fate, grace) => {
      const before = newId();
      await store.setSession(before, record());
      await expect(store.renewSession(before, newId(), { record: record(), grace })).resolves.toEqual(expect.any(String));
      const retired = (await rows()).find((row) => row.token === hashedId(before));
      if (fate !== 'deleted') {
        expect(retired?.expire_time).toEqual(clock.now() + HOUR);
      } else {
        expect(retired).toBeUndefined();
      }
    });

    it('deleteExpired removes a retired row once its grace is over, and keeps its successor', async () => {
      const before = newId();
      const after = newId();
      await store.setSession(before, record());
      await store.renewSession(before, after, { record: record(), grace: GRACE });
      clock.advance(GRACE);
      await expect(store.deleteExpired()).resolves.toBe(1);
      expect((await rows()).map((row) => row.token)).toEqual([hashedId(after)]);
    });

    it('a retired id is served while a session of its own is found within 4 renewals; further on, it is not', async () => {
      const ids = Array.from({ length: 6 }, newId);
      await store.setSession(ids[0]!, record({ step: 0 }), 'ada');
      for (let step = 1; step < ids.length; step++) {
        await store.renewSession(ids[step - 1]!, ids[step]!, { record: record({ step }), owner: 'ada', grace: GRACE });
      }
      await expect(store.getSession(ids[0]!)).resolves.toBeUndefined();
      await expect(store.getSession(ids[1]!)).resolves.toMatchObject({ values: { step: 1 }, superseded: true });
      await expect(store.getSession(ids[5]!)).resolves.toMatchObject({ values: { step: 5 } });
    });

    it("a retired row never counts against its owner's bound, and eviction never picks it", async () => {
      const evicted: string[] = [];
      store.limitOwnerSessions({ max: 2, policy: 'evict', evicted: (_owner, handles) => evicted.push(...handles) });
      const before = newId();
      const after = newId();
      await store.setSession(before, record(), 'ada');
      await store.renewSession(before, after, { record: record(), owner: 'ada', grace: GRACE });
      const other = newId();
      clock.advance(1000);
      await store.setSession(other, record(), 'ada');
      expect(evicted).toEqual([]);
      clock.advance(1000);
      await store.setSession(newId(), record(), 'ada');
      expect(evicted).toEqual([hashedId(after)]);
    });

    it("with 'refuse', a log-in of a full owner is refused and the anonymous session stays live, not retired", async () => {
      store.limitOwnerSessions({ max: 1, policy: 'refuse' });
      await store.setSession(newId(), record(), 'ada');
      const anonymous = newId();
      await store.setSession(anonymous, record());
      await expect(store.renewSession(anonymous, newId(), { record: record(), owner: 'ada', grace: GRACE })).rejects.toBeInstanceOf(
        SessionLimitError,
      );
      expect((await rows()).find((row) => row.token === hashedId(anonymous))?.successor).toBeNull();
      expect(await rows()).toHaveLength(2);
    });
  });

  describe('a renewal and a concurrent save or end of the old id', () => {
    /** Holds a row lock on one session from the test's own connection until released. */
    async function lockSession(id: string): Promise<() => Promise<void>> {
      const locker = await admin.getConnection();
      await locker.query('START TRANSACTION');
      const [locked] = await locker.query<mysql.RowDataPacket[]>(`SELECT 1 FROM \`${table}\` WHERE token = ? FOR UPDATE`, [
        hashedId(id),
      ]);
      if (locked.length !== 1) {
        throw new Error('no row to lock for that session');
      }
      return async () => {
        await locker.query('COMMIT');
        locker.release();
      };
    }

    /**
     * Waits until `count` statements on this table are running, each held by the row lock
     * (a statement that is not finishes in milliseconds): MariaDB shows a lock read by
     * primary key, done while the statement is planned, in the process list, not always in
     * INNODB_TRX. Then a moment more, so the last has joined the lock's queue.
     */
    async function waiting(count: number): Promise<void> {
      for (let i = 0; i < 3000; i++) {
        const [found] = await admin.query<mysql.RowDataPacket[]>(
          "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE COMMAND = 'Query' AND INFO LIKE ? AND ID <> CONNECTION_ID()",
          [`%${table}%`],
        );
        if (Number(found[0]!.n) >= count) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      throw new Error(`${count} app queries never waited for the lock`);
    }

    /** Runs `first`, then `second` once `first` waits for the old row's lock, then lets them go in that order. */
    async function inOrder<A, B>(id: string, first: () => Promise<A>, second: () => Promise<B>): Promise<[A, B]> {
      const release = await lockSession(id);
      try {
        const one = first();
        await waiting(1);
        const two = second();
        await waiting(2);
        await release();
        return [await one, await two];
      } catch (error) {
        await release().catch(() => undefined);
        throw error;
      }
    }

    let before: string;
    let after: string;
    const renew = () => store.renewSession(before, after, { record: record({ renewed: true }), owner: 'ada', grace: GRACE });

    beforeEach(async () => {
      before = newId();
      after = newId();
      await store.setSession(before, record({ page: 1 }), 'ada');
    });

    it('deleteOwnerSessions that started before the renewal committed ends the successor too (it runs again), or goes first', async () => {
      const kept = newId();
      await store.setSession(kept, record(), 'ada');
      const [token, ended] = await inOrder(before, renew, () => store.deleteOwnerSessions('ada', hashedId(kept)));
      // The end's locking read of the owner's rows and the renewal's insert into the owner
      // index can deadlock: InnoDB then rolls one back and the store runs it again, after
      // the other. Either way the session ends, and it is counted once.
      expect([after, undefined]).toContain(token);
      expect(ended).toBe(1);
      await expect(store.getSession(after)).resolves.toBeUndefined();
      await expect(store.getSession(before)).resolves.toBeUndefined();
      expect((await store.listOwnerSessions('ada')).map((entry) => entry.handle)).toEqual([hashedId(kept)]);
    });

    it('deleteSessionByHandle of the old id that started before the renewal committed ends the successor, or goes first', async () => {
      const [token, ended] = await inOrder(before, renew, () => store.deleteSessionByHandle('ada', hashedId(before)));
      // As above, InnoDB may pick the renewal as a deadlock's victim: then the end goes
      // first and the renewal, run again, finds nothing to renew.
      expect([after, undefined]).toContain(token);
      expect(ended).toBe(true);
      await expect(store.getSession(after)).resolves.toBeUndefined();
      expect(await rows()).toEqual([]);
    });

    it('a patch of the old id that waited for the renewal writes nothing, into it or its successor', async () => {
      const patch = () => store.patchSession(before, { set: { page: 2 }, unset: [], expireTime: clock.now() + HOUR, deadline: clock.now() + 2 * HOUR });
      const [token, patched] = await inOrder(before, renew, patch);
      expect(token).toBe(after);
      expect(patched).toBeUndefined();
      await expect(store.getSession(before)).resolves.toMatchObject({ values: { page: 1 }, superseded: true });
      await expect(store.getSession(after)).resolves.toMatchObject({ values: { renewed: true } });
    });

    it('a second renewal of the old id that waited for the first writes nothing', async () => {
      const other = newId();
      const [first, second] = await inOrder(before, renew, () =>
        store.renewSession(before, other, { record: record(), owner: 'ada', grace: GRACE }),
      );
      expect([first, second]).toEqual([after, undefined]);
      expect((await rows()).map((row) => row.token)).not.toContain(hashedId(other));
    });

    it('a renewal that waited for a delete of the old id writes nothing', async () => {
      const [, token] = await inOrder(before, () => store.deleteSession(before), renew);
      expect(token).toBeUndefined();
      expect(await rows()).toEqual([]);
    });

    it('a renewal that waited for an end of the owner sessions writes nothing', async () => {
      const [ended, token] = await inOrder(before, () => store.deleteOwnerSessions('ada'), renew);
      expect([ended, token]).toEqual([1, undefined]);
      expect(await rows()).toEqual([]);
    });
  });
});
