import { randomBytes } from 'node:crypto';
import { MemorySessionStore } from 'kit-session';
import { FakeClock } from '../support/FakeClock.js';
import { hashedId } from '../support/services.js';
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

  it('rejects an option it does not know (a misspelt maxEntries) with TypeError', () => {
    expect(() => new MemorySessionStore({ maxEntires: 10 } as never)).toThrow(TypeError);
  });

  it('gives the length of its token before saving: the id itself', async () => {
    const clock = new FakeClock();
    const store = new MemorySessionStore({}, clock);
    const id = randomBytes(32).toString('base64url');
    expect(store.tokenLength(id)).toBe(id.length);
    expect(await store.setSession(id, record(clock, 1))).toBe(id);
  });

  /**
   * Runs `work` and gives every string the store filed in a Map or a Set meanwhile (the
   * store's maps are private: this watches `Map.prototype.set` and `Set.prototype.add`),
   * and everything the maps it wrote to hold afterwards.
   */
  async function filedDuring(work: () => Promise<void>): Promise<string[]> {
    const mapSet = jest.spyOn(Map.prototype, 'set');
    const setAdd = jest.spyOn(Set.prototype, 'add');
    const filed: unknown[] = [];
    let maps: Map<unknown, unknown>[];
    try {
      await work();
      maps = [...new Set(mapSet.mock.contexts as Map<unknown, unknown>[])];
      filed.push(...mapSet.mock.calls.map(([key]) => key), ...setAdd.mock.calls.map(([member]) => member));
    } finally {
      mapSet.mockRestore();
      setAdd.mockRestore();
    }
    for (const map of maps) {
      for (const [key, value] of map) {
        filed.push(key, ...(value instanceof Set ? value : []));
      }
    }
    return filed.filter((item): item is string => typeof item === 'string');
  }

  /** Saves three sessions, two with owners, moves one to another owner; checks what was filed. */
  async function expectOnlyHashesFiled(Store: typeof MemorySessionStore): Promise<void> {
    const clock = new FakeClock();
    const store = new Store<Record<string, unknown>>({}, clock);
    const ids = [0, 1, 2].map(() => randomBytes(32).toString('base64url'));
    const filed = await filedDuring(async () => {
      await store.setSession(ids[0]!, record(clock, 0), 'ada');
      await store.setSession(ids[1]!, record(clock, 1));
      await store.setSession(ids[2]!, record(clock, 2), 'bob');
      await store.patchSession(ids[2]!, { set: { n: 3 }, unset: [], owner: 'ada', ...record(clock, 3) });
      await store.getSession(ids[0]!);
    });
    expect(filed).toEqual(expect.arrayContaining([...ids.map(hashedId), 'ada', 'bob']));
    for (const id of ids) {
      expect(filed).not.toContain(id);
    }
    for (const item of filed) {
      expect(await store.getSession(item)).toBeUndefined();
    }
    for (const id of ids) {
      expect(await store.getSession(id)).toMatchObject({ id });
    }
    expect(await store.deleteOwnerSessions('ada')).toBe(2);
    expect(await store.getSession(ids[1]!)).toBeDefined();
  }

  it('keys its entries and its owner index by the SHA-256 of the id, never the id', async () => {
    await expectOnlyHashesFiled(MemorySessionStore);
  });

  it('without node:crypto (an edge runtime), hashes with Web Crypto to the same keys', async () => {
    const { process } = globalThis;
    const getBuiltinModule = jest.spyOn(process, 'getBuiltinModule').mockImplementation(() => undefined);
    let EdgeStore!: typeof MemorySessionStore;
    try {
      jest.isolateModules(() => {
        // A fresh copy of the store and its helpers, loaded while node:crypto is missing.
        ({ MemorySessionStore: EdgeStore } = jest.requireActual<typeof import('kit-session')>('kit-session'));
      });
    } finally {
      getBuiltinModule.mockRestore();
    }
    expect(EdgeStore).not.toBe(MemorySessionStore);
    const digest = jest.spyOn(globalThis.crypto.subtle, 'digest');
    try {
      await expectOnlyHashesFiled(EdgeStore);
      expect(digest).toHaveBeenCalled();
    } finally {
      digest.mockRestore();
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
    expect(await store.getSession('b')).toBeUndefined();
    for (const id of ['a', 'c', 'd']) {
      expect(await store.getSession(id)).toBeDefined();
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

  it('drops an expired entry when it is read, giving it back expired that once', async () => {
    const clock = new FakeClock();
    const store = new MemorySessionStore({}, clock);
    await store.setSession('a', record(clock, 1, 1000));
    clock.advance(1000);
    expect(await store.getSession('a')).toMatchObject({ expireTime: clock.now() });
    expect(store.size).toBe(0);
    expect(await store.getSession('a')).toBeUndefined();
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
    expect(await store.deleteOwnerSessions('ada')).toBe(1);
    expect(await store.getSession('c')).toBeDefined();
  });
});
