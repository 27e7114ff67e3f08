import { randomBytes } from 'node:crypto';
import type { Miniflare } from 'miniflare';
import { FakeClock } from '../../support/FakeClock.js';
import { DurableObjectStoreProxy, GenerationsProxy, startWorkers, WorkerCaller } from '../../support/workersStores.js';

// The adversarial review of the Durable Object store: each test here failed before the
// fix named in its commit, or holds a claim the review attacked.

const HOUR = 60 * 60 * 1000;
let mf: Miniflare;

beforeAll(async () => {
  mf = await startWorkers();
}, 60_000);

afterAll(async () => {
  await mf?.dispose();
});

function newId(): string {
  return randomBytes(32).toString('base64url');
}

function objectName(): string {
  return `review-${randomBytes(9).toString('base64url')}`;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('SessionStoreObject: the alarm, again and again', () => {
  it('sweeps at every ring, not only the first (rows ended after the first ring go at a later one)', async () => {
    const clock = { now: () => Date.now() };
    const store = new DurableObjectStoreProxy(new WorkerCaller(mf, 'quick-sweep', objectName(), clock));
    const first = newId();
    await store.setSession(first, { values: { a: 1 }, expireTime: Date.now() + 100, deadline: Date.now() + HOUR });
    await sleep(1_500);
    // The first ring has removed the first row.
    expect(await store.deleteExpired()).toBe(0);
    // A row that ends after the first ring, saved by the same (warm) object.
    for (let i = 0; i < 3; i++) {
      await store.setSession(newId(), { values: { b: i }, expireTime: Date.now() + 100, deadline: Date.now() + HOUR });
    }
    await sleep(2_000);
    expect(await store.deleteExpired()).toBe(0);
  }, 20_000);

  it("never removes a session live by the manager's clock when it runs behind the object's (a fake clock), and removes it once ended by it", async () => {
    const clock = new FakeClock(Date.now() - 30 * 24 * HOUR);
    const store = new DurableObjectStoreProxy(new WorkerCaller(mf, 'quick-sweep', objectName(), clock));
    const id = newId();
    await store.setSession(id, { values: { a: 1 }, expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR });
    await sleep(1_500);
    // Rung (more than once) by now: by the object's clock the session ended a month ago.
    expect(((await store.getSession(id)) as { values: unknown } | undefined)?.values).toEqual({ a: 1 });
    clock.advance(2 * HOUR);
    expect(await store.getSession(id)).toMatchObject({ expireTime: expect.any(Number) });
    await sleep(1_500);
    expect(await store.getSession(id)).toBeUndefined();
  }, 20_000);

  it('stops ringing once no row is left, and a later save sets it again', async () => {
    const clock = { now: () => Date.now() };
    const caller = new WorkerCaller(mf, 'quick-sweep', objectName(), clock);
    const store = new DurableObjectStoreProxy(caller);
    await store.setSession(newId(), { values: { a: 1 }, expireTime: Date.now() + 100, deadline: Date.now() + HOUR });
    expect(await caller.call('alarmAt', [])).toEqual(expect.any(Number));
    await sleep(2_000);
    // Rung, swept the only row: nothing is left to sweep, and an idle object is not woken
    // every interval for ever.
    expect(await store.deleteExpired()).toBe(0);
    expect(await caller.call('alarmAt', [])).toBeUndefined();
    await store.setSession(newId(), { values: { b: 1 }, expireTime: Date.now() + HOUR, deadline: Date.now() + HOUR });
    expect(await caller.call('alarmAt', [])).toEqual(expect.any(Number));
  }, 20_000);
});

describe('DurableObjectSessionStore: owners and handles of odd shapes, as the SQLite store answers them', () => {
  it.each([
    ['a number', 42],
    ['null', null],
    ['an object', { owner: 'ada' }],
  ])('answers an owner that is %s with nothing listed, nothing ended, and no error', async (_label, owner) => {
    const clock = new FakeClock();
    const caller = new WorkerCaller(mf, 'durable-object', objectName(), clock);
    const store = new DurableObjectStoreProxy(caller);
    await store.setSession(newId(), { values: {}, expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR }, 'ada');
    expect(await store.listOwnerSessions(owner as never)).toEqual([]);
    expect(await store.deleteOwnerSessions(owner as never)).toBe(0);
    expect(await store.deleteSessionByHandle(owner as never, 'A'.repeat(43))).toBe(false);
    expect(await store.listOwnerSessions('ada')).toHaveLength(1);
  });

  it.each([
    ['a number', 7],
    ['null', null],
    ['a list', ['A'.repeat(43)]],
    ['text that is no handle', 'not a handle'],
  ])('answers a handle that is %s with false, and no error', async (_label, handle) => {
    const clock = new FakeClock();
    const store = new DurableObjectStoreProxy(new WorkerCaller(mf, 'durable-object', objectName(), clock));
    await store.setSession(newId(), { values: {}, expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR }, 'ada');
    expect(await store.deleteSessionByHandle('ada', handle as never)).toBe(false);
    expect(await store.listOwnerSessions('ada')).toHaveLength(1);
  });
});

describe('DurableObjectSessionStore: errors across the object protocol', () => {
  /** One store call through the test Worker, its raw answer (the error as the real store threw it). */
  async function raw(name: string, method: string, args: unknown[], limit?: { max: number; policy: string }): Promise<{ ok: boolean; error?: { name: string; code?: string; message: string } }> {
    const response = await mf.dispatchFetch('http://worker/', {
      method: 'POST',
      body: JSON.stringify({ store: 'durable-object', name, method, args, now: Date.UTC(2026, 0, 1), ...(limit === undefined ? {} : { limit }) }),
    });
    return (await response.json()) as never;
  }

  it('keeps the class and code of a refusal, with no id or owner in its message', async () => {
    const name = objectName();
    const record = { values: { userId: 'ada-secret' }, expireTime: Date.UTC(2026, 0, 2), deadline: Date.UTC(2026, 0, 2) };
    const first = newId();
    const second = newId();
    expect((await raw(name, 'setSession', [first, record, 'ada-secret'], { max: 1, policy: 'refuse' })).ok).toBe(true);
    const refused = await raw(name, 'setSession', [second, record, 'ada-secret'], { max: 1, policy: 'refuse' });
    expect(refused.error).toMatchObject({ name: 'SessionLimitError', code: 'ERR_SESSION_LIMIT' });
    expect(refused.error!.message).not.toContain(second);
    expect(refused.error!.message).not.toContain('ada-secret');
  });

  it('keeps TypeError for a renewal into its own id, with no id in its message', async () => {
    const name = objectName();
    const id = newId();
    const answer = await raw(name, 'renewSession', [id, id, { record: { values: {}, expireTime: 1, deadline: 1 }, grace: 0 }]);
    expect(answer.error?.name).toBe('TypeError');
    expect(answer.error!.message).not.toContain(id);
  });
});

describe('SessionStoreObject bound as a class without SQLite (new_classes instead of new_sqlite_classes)', () => {
  let plain: Miniflare;

  beforeAll(async () => {
    plain = await startWorkers({
      SESSIONS: { className: 'SessionStoreObject', useSQLite: false },
      QUICK: { className: 'QuickSweepObject', useSQLite: true },
    });
  }, 60_000);

  afterAll(async () => {
    await plain?.dispose();
  });

  it('fails every call with a SessionStoreError that says what to change', async () => {
    const clock = new FakeClock();
    const store = new DurableObjectStoreProxy(new WorkerCaller(plain, 'durable-object', objectName(), clock));
    const id = newId();
    for (const call of [
      () => store.getSession(id),
      () => store.setSession(id, { values: {}, expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR }),
    ]) {
      const error = (await call().catch((e: unknown) => e)) as Error;
      expect(error.name).toBe('SessionStoreError');
      expect(error.message).toMatch(/new_sqlite_classes/);
      expect(error.message).not.toContain(id);
    }
  });
});

describe('SessionStoreObject: a cold object, and callers with different bounds', () => {
  it('answers a burst of first calls of every kind at once on a new object', async () => {
    const clock = new FakeClock();
    const name = objectName();
    const stores = Array.from({ length: 4 }, () => new DurableObjectStoreProxy(new WorkerCaller(mf, 'durable-object', name, clock)));
    const generations = new GenerationsProxy(new WorkerCaller(mf, 'generations', name, clock));
    const ids = Array.from({ length: 8 }, () => newId());
    const record = { values: { userId: 'ada' }, expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR };
    const results = await Promise.allSettled([
      ...ids.map((id, i) => stores[i % 4]!.setSession(id, record, 'ada')),
      generations.bump('ada'),
      generations.current('bob'),
      stores[0]!.getSession(newId()),
      stores[1]!.listOwnerSessions('ada'),
      stores[2]!.deleteExpired(),
    ]);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(await stores[3]!.listOwnerSessions('ada')).toHaveLength(8);
    expect(await generations.current('ada')).toBeGreaterThanOrEqual(1);
  });

  it('bounds each save by its own caller\'s bound: a bound of 2 evicts, one of 3 refuses, on one object', async () => {
    const clock = new FakeClock();
    const name = objectName();
    const evicting = new DurableObjectStoreProxy(new WorkerCaller(mf, 'durable-object', name, clock));
    evicting.limitOwnerSessions({ max: 2, policy: 'evict' });
    const refusing = new DurableObjectStoreProxy(new WorkerCaller(mf, 'durable-object', name, clock));
    refusing.limitOwnerSessions({ max: 3, policy: 'refuse' });
    const record = () => ({ values: {}, expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR });
    for (let i = 0; i < 3; i++) {
      await refusing.setSession(newId(), record(), 'ada');
      clock.advance(1);
    }
    await expect(refusing.setSession(newId(), record(), 'ada')).rejects.toMatchObject({ name: 'SessionLimitError' });
    const evicted: string[] = [];
    await evicting.setSession(newId(), record(), 'ada', (_owner, handles) => evicted.push(...handles));
    expect(evicted).toHaveLength(2);
    expect(await evicting.listOwnerSessions('ada')).toHaveLength(2);
  });
});
