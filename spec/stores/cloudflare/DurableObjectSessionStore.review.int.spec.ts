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
