import { randomBytes } from 'node:crypto';
import type { Miniflare } from 'miniflare';
import { EncryptingStoreDecorator, importRawKey, SessionManager, SessionStoreError } from 'kit-session';
import { DurableObjectSessionStore, KvSessionStore } from 'kit-session/cloudflare';
import { FakeClock } from '../../support/FakeClock.js';
import { describeOwnerGenerationsContract } from '../../support/ownerGenerationsContract.js';
import { describeStoreContract, handleOf, type ContractValues } from '../../support/storeContract.js';
import { DurableObjectStoreProxy, GenerationsProxy, startWorkers, WorkerCaller } from '../../support/workersStores.js';

// The Durable Object store made and called from a Worker on workerd (Miniflare), its
// sessions in a SQLite-backed Durable Object: the store contract, bare and with
// encryptValues, owner generations, several Workers racing on one object, and the
// alarm's sweep. Each fixture uses an object of its own name: a fresh database.

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
  return `test-${randomBytes(9).toString('base64url')}`;
}

function proxy(clock: FakeClock, name = objectName()): DurableObjectStoreProxy {
  return new DurableObjectStoreProxy(new WorkerCaller(mf, 'durable-object', name, clock));
}

describe('DurableObjectSessionStore options', () => {
  const namespace = { idFromName: (): string => 'id', get: (): { fetch: () => Promise<Response> } => ({ fetch: async () => new Response('{}') }) };

  it.each([
    ['no namespace', {}],
    ['a KV namespace as namespace', { namespace: { get: async (): Promise<null> => null, put: async () => undefined, delete: async () => undefined, idFromName: 1 } }],
    ['an empty name', { namespace, name: '' }],
    ['an unknown option', { namespace, table: 'x' }],
    ['a negative timeout', { namespace, timeout: -1 }],
  ])('refuses %s with TypeError', (_label, options) => {
    expect(() => new DurableObjectSessionStore(options as never)).toThrow(TypeError);
  });

  it('answers a token that cannot be an id without calling the object', async () => {
    let calls = 0;
    const counting = { idFromName: () => 'id', get: () => ({ fetch: async () => (calls++, new Response('{"ok":true}')) }) };
    const store = new DurableObjectSessionStore({ namespace: counting as never });
    expect(await store.getSession('not an id')).toBeUndefined();
    await store.deleteSession('%%');
    expect(calls).toBe(0);
  });

  it('turns an object that cannot be reached into SessionStoreError, with no token in it', async () => {
    const failing = { idFromName: () => 'id', get: () => ({ fetch: async () => Promise.reject(new Error('network down')) }) };
    const store = new DurableObjectSessionStore({ namespace: failing as never });
    const id = newId();
    const error = await store.getSession(id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessionStoreError);
    expect(String((error as Error).message)).not.toContain(id);
    expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).not.toContain(id);
  });

  it('gives up on an object that does not answer within the timeout', async () => {
    const silent = { idFromName: () => 'id', get: () => ({ fetch: () => new Promise<Response>(() => undefined) }) };
    const store = new DurableObjectSessionStore({ namespace: silent as never, timeout: 50 });
    const error = await store.getSession(newId()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessionStoreError);
    expect(((error as Error).cause as Error).name).toBe('TimeoutError');
  });

  it('KvSessionStore is refused with ownerKey or maxSessionsPerOwner by the manager', () => {
    const kv = { get: async () => null, put: async () => undefined, delete: async () => undefined };
    const store = new KvSessionStore({ namespace: kv });
    expect(() => new SessionManager(store, { ownerKey: 'userId' })).toThrow(TypeError);
    expect(() => new SessionManager(store, { ownerKey: 'userId', maxSessionsPerOwner: 3 })).toThrow(TypeError);
  });
});

describeStoreContract('DurableObjectSessionStore (workerd, from a Worker)', () => {
  const clock = new FakeClock();
  return { store: proxy(clock) as never, clock, serverSide: true };
});

describeStoreContract('EncryptingStoreDecorator(DurableObjectSessionStore (workerd), encryptValues)', async () => {
  const clock = new FakeClock();
  const keys = [await importRawKey(randomBytes(32).toString('base64'))];
  return {
    store: new EncryptingStoreDecorator<ContractValues>(proxy(clock) as never, { keys, encryptValues: true }, clock),
    clock,
    serverSide: true,
    encryptsValues: true,
  };
});

describeOwnerGenerationsContract('DurableObjectOwnerGenerations (workerd)', async () => {
  const generations = new GenerationsProxy(new WorkerCaller(mf, 'generations', objectName(), new FakeClock()));
  return { generations };
});

describe('DurableObjectSessionStore: subrequests', () => {
  it('makes one request to the object per load, save, patch, renewal, delete and listing', async () => {
    const clock = new FakeClock();
    const caller = new WorkerCaller(mf, 'durable-object', objectName(), clock);
    const store = new DurableObjectStoreProxy(caller);
    store.limitOwnerSessions({ max: 3, policy: 'evict' });
    const id = newId();
    const next = newId();
    const record = { values: { userId: 'ada' }, expireTime: clock.now() + HOUR, deadline: clock.now() + 2 * HOUR };
    const counts: Record<string, number> = {};
    const count = async (what: string, work: () => Promise<unknown>): Promise<void> => {
      await work();
      counts[what] = caller.subrequests;
    };
    await count('setSession', () => store.setSession(id, record, 'ada'));
    await count('getSession', () => store.getSession(id));
    await count('patchSession', () => store.patchSession(id, { set: { cart: 1 }, unset: [], expireTime: record.expireTime, deadline: record.deadline }));
    await count('renewSession', () => store.renewSession(id, next, { record, owner: 'ada', grace: 10_000 }));
    await count('listOwnerSessions', () => store.listOwnerSessions('ada'));
    await count('deleteSession', () => store.deleteSession(next));
    await count('getSession of a token that cannot be an id', () => store.getSession('not an id'));
    expect(counts).toEqual({
      setSession: 1,
      getSession: 1,
      patchSession: 1,
      renewSession: 1,
      listOwnerSessions: 1,
      deleteSession: 1,
      'getSession of a token that cannot be an id': 0,
    });
  });
});

describe('DurableObjectSessionStore: several Workers on one object', () => {
  it('keeps every key of 20 concurrent patches of one session made by 4 Workers', async () => {
    const clock = new FakeClock();
    const name = objectName();
    const workers = Array.from({ length: 4 }, () => proxy(clock, name));
    const id = newId();
    const expireTime = clock.now() + HOUR;
    const deadline = clock.now() + 2 * HOUR;
    await workers[0]!.setSession(id, { values: { base: 1 }, expireTime, deadline });
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        workers[i % 4]!.patchSession(id, { set: { [`k${i}`]: i }, unset: [], expireTime, deadline }),
      ),
    );
    const loaded = (await workers[1]!.getSession(id)) as { values: Record<string, number> } | undefined;
    expect(loaded?.values).toEqual({ base: 1, ...Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i])) });
  });

  it('holds the bound exactly when 12 logins of one owner race through 3 Workers', async () => {
    const clock = new FakeClock();
    const name = objectName();
    const evicted: string[] = [];
    const workers = Array.from({ length: 3 }, () => {
      const worker = proxy(clock, name);
      worker.limitOwnerSessions({ max: 5, policy: 'evict', evicted: (_owner, handles) => evicted.push(...handles) });
      return worker;
    });
    const ids = Array.from({ length: 12 }, () => newId());
    await Promise.all(
      ids.map((id, i) =>
        workers[i % 3]!.setSession(id, { values: { userId: 'ada' }, expireTime: clock.now() + HOUR, deadline: clock.now() + 2 * HOUR }, 'ada'),
      ),
    );
    const listed = await workers[0]!.listOwnerSessions('ada');
    expect(listed).toHaveLength(5);
    expect(evicted).toHaveLength(7);
    expect(new Set([...evicted, ...(listed as { handle: string }[]).map((row) => row.handle)])).toEqual(new Set(ids.map(handleOf)));
  });

  it('refuses the sixth login with SessionLimitError under the refuse policy, whichever Worker makes it', async () => {
    const clock = new FakeClock();
    const name = objectName();
    const a = proxy(clock, name);
    const b = proxy(clock, name);
    a.limitOwnerSessions({ max: 5, policy: 'refuse' });
    b.limitOwnerSessions({ max: 5, policy: 'refuse' });
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        (i % 2 === 0 ? a : b).setSession(newId(), { values: {}, expireTime: clock.now() + HOUR, deadline: clock.now() + 2 * HOUR }, 'ada'),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(refused).toHaveLength(3);
    expect(refused.every((r) => (r.reason as Error).name === 'SessionLimitError')).toBe(true);
  });

  it('a log-out racing a renewal in another Worker: the session and its successor both end', async () => {
    const clock = new FakeClock();
    const name = objectName();
    for (let round = 0; round < 10; round++) {
      const a = proxy(clock, name);
      const b = proxy(clock, name);
      const id = newId();
      const next = newId();
      const record = { values: { userId: 'ada' }, expireTime: clock.now() + HOUR, deadline: clock.now() + 2 * HOUR };
      await a.setSession(id, record, 'ada');
      await Promise.all([a.renewSession(id, next, { record, owner: 'ada', grace: 10_000 }), b.deleteSession(id)]);
      expect(await b.getSession(id)).toBeUndefined();
      expect(await a.getSession(next)).toBeUndefined();
    }
  });
});

describe('SessionStoreObject: the alarm', () => {
  it('removes the rows of ended sessions on its own, and keeps the live ones', async () => {
    const clock = { now: () => Date.now() };
    const store = new DurableObjectStoreProxy(new WorkerCaller(mf, 'quick-sweep', objectName(), clock));
    const ended = newId();
    const live = newId();
    await store.setSession(ended, { values: { a: 1 }, expireTime: Date.now() + 100, deadline: Date.now() + HOUR });
    await store.setSession(live, { values: { b: 2 }, expireTime: Date.now() + HOUR, deadline: Date.now() + HOUR });
    // The object's alarm rings half a second after its first save: by then the first
    // session has ended, and the alarm removes its row (deleteExpired then finds none).
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(await store.deleteExpired()).toBe(0);
    expect(((await store.getSession(live)) as { values: unknown } | undefined)?.values).toEqual({ b: 2 });
  }, 20_000);
});
