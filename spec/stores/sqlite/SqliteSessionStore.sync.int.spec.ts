import BetterSqlite3 from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SessionStoreError, type SessionRecord } from 'kit-session';
import { SqliteSessionStore } from 'kit-session/sqlite';
import { FakeClock } from '../../support/FakeClock.js';

// the SQLite store's synchronous answers. Every contract method gives a value or
// a rejected promise, never a synchronous throw; a failure inside or at the end of a
// transaction (another connection to the same file holding its lock) leaves the
// connection out of any transaction, so that the next call works.

type V = Record<string, unknown>;
const HOUR = 60 * 60 * 1000;

function newId(): string {
  return randomBytes(32).toString('base64url');
}

describe('SqliteSessionStore, two connections to one file', () => {
  let dir: string;
  let file: string;
  let clock: FakeClock;
  let appDb: BetterSqlite3.Database;
  let storeDb: BetterSqlite3.Database;
  let other: SqliteSessionStore<V>;
  let store: SqliteSessionStore<V>;

  const record = (values: V = {}): SessionRecord<V> => ({ values, expireTime: clock.now() + HOUR, deadline: clock.now() + 2 * HOUR });
  const later = () => ({ expireTime: clock.now() + HOUR, deadline: clock.now() + 2 * HOUR });

  /** Calls `work` and says how it answered: a value, a rejection, or a synchronous throw. */
  async function how(work: () => unknown): Promise<{ kind: 'value' | 'rejected' | 'threw'; value?: unknown; error?: unknown }> {
    let answer: unknown;
    try {
      answer = work();
    } catch (error) {
      return { kind: 'threw', error };
    }
    if (answer instanceof Promise) {
      try {
        return { kind: 'value', value: await answer };
      } catch (error) {
        return { kind: 'rejected', error };
      }
    }
    return { kind: 'value', value: answer };
  }

  beforeEach(async () => {
    clock = new FakeClock();
    dir = mkdtempSync(path.join(tmpdir(), 'kit-sqlite-sync-'));
    file = path.join(dir, 'sessions.db');
    appDb = new BetterSqlite3(file, { timeout: 0 });
    storeDb = new BetterSqlite3(file, { timeout: 0 });
    other = new SqliteSessionStore<V>(appDb, {}, clock);
    store = new SqliteSessionStore<V>(storeDb, {}, clock);
    await store.createTable();
  });

  afterEach(() => {
    appDb.close();
    storeDb.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const calls = (id: string) =>
    ({
      setSession: () => store.setSession(newId(), record({ n: 1 }), 'ada'),
      patchSession: () => store.patchSession(id, { set: { n: 2 }, unset: [], ...later() }),
      renewSession: () => store.renewSession(id, newId(), { record: record({ n: 3 }), owner: 'ada', grace: 30_000 }),
      deleteSession: () => store.deleteSession(id),
      deleteOwnerSessions: () => store.deleteOwnerSessions('ada'),
      deleteSessionByHandle: () => store.deleteSessionByHandle('ada', 'A'.repeat(43)),
    }) as const;

  for (const lock of ['write lock (BEGIN IMMEDIATE)', 'read lock held through COMMIT (BEGIN; SELECT)'] as const) {
    for (const bounded of [false, true]) {
      it(`while another connection holds a ${lock}${bounded ? ', bounded' : ''}: every write rejects with SessionStoreError (never throws) and the connection is left out of any transaction`, async () => {
        if (bounded) {
          store.limitOwnerSessions({ max: 5, policy: 'evict' });
        }
        const id = newId();
        await store.setSession(id, record({ n: 0 }), 'ada');
        for (const [name, call] of Object.entries(calls(id))) {
          if (lock.startsWith('write')) {
            appDb.exec('BEGIN IMMEDIATE');
          } else {
            appDb.exec('BEGIN');
            appDb.prepare('SELECT count(*) FROM sessions').get();
          }
          const answered = await how(call);
          appDb.exec('COMMIT');
          expect({ name, kind: answered.kind }).toEqual({ name, kind: answered.kind === 'value' ? 'value' : 'rejected' });
          if (answered.kind === 'rejected') {
            expect(answered.error).toBeInstanceOf(SessionStoreError);
          }
          expect({ name, inTransaction: storeDb.inTransaction }).toEqual({ name, inTransaction: false });
        }
        // The next calls work.
        const next = newId();
        expect(await store.setSession(next, record({ n: 5 }), 'ada')).toBe(next);
        expect(await store.patchSession(next, { set: { n: 6 }, unset: [], ...later() })).toBe(next);
        expect((await other.getSession(next))?.values).toEqual({ n: 6 });
      });
    }
  }

  it('a patch whose values JSON cannot hold fails inside its transaction: rejected, rolled back, the next call works', async () => {
    const id = newId();
    await store.setSession(id, record({ n: 0 }));
    const answered = await how(() => store.patchSession(id, { set: { n: 1n } as V, unset: [], ...later() }));
    expect(answered.kind).toBe('rejected');
    expect(storeDb.inTransaction).toBe(false);
    expect(await store.patchSession(id, { set: { n: 1 }, unset: [], ...later() })).toBe(id);
    expect((await other.getSession(id))?.values).toEqual({ n: 1 });
  });

  it('a patch or renewal with an expiry SQLite cannot hold (NaN) rejects and leaves no transaction', async () => {
    const id = newId();
    await store.setSession(id, record({ n: 0 }), 'ada');
    for (const call of [
      () => store.patchSession(id, { set: { n: 1 }, unset: [], expireTime: Number.NaN, deadline: Number.NaN }),
      () => store.renewSession(id, newId(), { record: { values: {}, expireTime: Number.NaN, deadline: Number.NaN }, owner: 'ada', grace: 1000 }),
    ]) {
      const answered = await how(call);
      expect(answered.kind).not.toBe('threw');
      expect(storeDb.inTransaction).toBe(false);
    }
    expect((await other.getSession(id))?.values).toEqual({ n: 0 });
    expect(await store.patchSession(id, { set: { n: 1 }, unset: [], ...later() })).toBe(id);
  });

  it('hostile tokens, handles and owners never throw synchronously', async () => {
    const odd = ['', '\u0000', "'; DROP TABLE sessions; --", '\ud800', 'x'.repeat(100_000), '🙂'];
    for (const text of odd) {
      for (const call of [
        () => store.getSession(text),
        () => store.deleteSession(text),
        () => store.deleteOwnerSessions(text),
        () => store.listOwnerSessions(text),
        () => store.deleteSessionByHandle(text, text),
        () => store.patchSession(text, { set: {}, unset: [], ...later() }),
        () => store.renewSession(text, newId(), { record: record(), grace: 0 }),
        () => store.setSession(newId(), record({ [text]: text }), text),
      ]) {
        expect((await how(call)).kind).not.toBe('threw');
      }
    }
    expect(storeDb.inTransaction).toBe(false);
  });
});
