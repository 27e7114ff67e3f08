import { MemorySessionStore } from 'kit-session';
import { FakeClock } from '../support/FakeClock.js';
import { describeStoreContract } from '../support/storeContract.js';

describeStoreContract('MemorySessionStore', () => {
  const clock = new FakeClock();
  return { store: new MemorySessionStore({}, clock), clock, serverSide: true };
});

describe(MemorySessionStore, () => {
  const HOUR = 60 * 60 * 1000;
  const record = (clock: FakeClock, n: number, ttl = HOUR) => ({
    values: { n },
    expireTime: clock.now() + ttl,
    deadline: clock.now() + ttl,
  });

  it('rejects a maxEntries that is not a positive integer with TypeError', () => {
    for (const maxEntries of [0, -1, 1.5, Number.NaN]) {
      expect(() => new MemorySessionStore({ maxEntries })).toThrow(TypeError);
    }
  });

  it('never holds more than maxEntries; the least recently used goes first', async () => {
    const clock = new FakeClock();
    const store = new MemorySessionStore({ maxEntries: 3 }, clock);
    await store.setSession('a', record(clock, 1));
    await store.setSession('b', record(clock, 2));
    await store.setSession('c', record(clock, 3));
    await store.getSession('a'); // a is now the most recently used
    await store.setSession('d', record(clock, 4));
    expect(store.size).toBe(3);
    await expect(store.getSession('b')).resolves.toBeUndefined();
    for (const id of ['a', 'c', 'd']) {
      await expect(store.getSession(id)).resolves.toBeDefined();
    }
  });

  it('evicts expired entries as it goes, without a timer', async () => {
    const clock = new FakeClock();
    const store = new MemorySessionStore({}, clock);
    for (let i = 0; i < 100; i++) {
      await store.setSession(`old-${i}`, record(clock, i, 1000));
    }
    clock.advance(1000);
    for (let i = 0; i < 30; i++) {
      await store.setSession(`new-${i}`, record(clock, i));
    }
    // Each write looks at a few of the oldest entries: 30 writes clear 100 expired ones.
    expect(store.size).toBe(30);
  });

  it('drops an expired entry when it is read', async () => {
    const clock = new FakeClock();
    const store = new MemorySessionStore({}, clock);
    await store.setSession('a', record(clock, 1, 1000));
    clock.advance(1000);
    await expect(store.getSession('a')).resolves.toBeUndefined();
    expect(store.size).toBe(0);
  });

  it('does not keep a record that is already expired', async () => {
    const clock = new FakeClock();
    const store = new MemorySessionStore({}, clock);
    await store.setSession('a', { values: {}, expireTime: clock.now(), deadline: clock.now() + HOUR });
    expect(store.size).toBe(0);
  });

  it('keeps the owner index in step with eviction', async () => {
    const clock = new FakeClock();
    const store = new MemorySessionStore({ maxEntries: 2 }, clock);
    await store.setSession('a', record(clock, 1), 'ada');
    await store.setSession('b', record(clock, 2), 'ada');
    await store.setSession('c', record(clock, 3), 'bob'); // evicts a
    await expect(store.deleteOwnerSessions('ada')).resolves.toBe(1);
    await expect(store.getSession('c')).resolves.toBeDefined();
  });
});
