import { randomBytes } from 'node:crypto';
import type { Miniflare } from 'miniflare';
import { EncryptingStoreDecorator, importRawKey, isOwnerIndexedStore, isPatchableStore, isRenewableStore } from 'kit-session';
import { KvSessionStore, type KvNamespaceLike } from 'kit-session/cloudflare';
import { FakeClock } from '../../support/FakeClock.js';
import { describeStoreContract, handleOf, type ContractValues } from '../../support/storeContract.js';
import { KvStoreProxy, startWorkers, WorkerCaller } from '../../support/workersStores.js';

// The Workers KV store made and called from a Worker on workerd (Miniflare), against a
// real KV namespace: the contract (the three required methods: KV cannot keep more),
// bare and with encryptValues, and what it writes. Miniflare's KV is one location, so
// KV's propagation delay between locations cannot be shown here (docs/stores.md says
// what it means). Each fixture writes under a prefix of its own.

const HOUR = 60 * 60 * 1000;
let mf: Miniflare;

beforeAll(async () => {
  mf = await startWorkers();
}, 60_000);

afterAll(async () => {
  await mf?.dispose();
});

/** The namespace as Node reads it through Miniflare. */
interface KvAdmin {
  list(options: { prefix: string }): Promise<{ keys: { name: string; expiration?: number }[] }>;
  get(key: string, type: 'text'): Promise<string | null>;
  put(key: string, value: string): Promise<void>;
}

async function kvAdmin(): Promise<KvAdmin> {
  return (await mf.getKVNamespace('SESSIONS_KV')) as unknown as KvAdmin;
}

function newId(): string {
  return randomBytes(32).toString('base64url');
}

function prefixName(): string {
  return `kv-${randomBytes(9).toString('base64url')}`;
}

function proxy(clock: FakeClock, name = prefixName(), options?: Record<string, unknown>): KvStoreProxy {
  return new KvStoreProxy(new WorkerCaller(mf, 'kv', name, clock, options));
}

describe('KvSessionStore options', () => {
  const kv: KvNamespaceLike = { get: async () => null, put: async () => undefined, delete: async () => undefined };

  it.each([
    ['no namespace', {}],
    ['a Durable Object namespace', { namespace: { idFromName: () => 'x', get: () => undefined } }],
    ['a cacheTtl under 60 seconds', { namespace: kv, cacheTtl: 30 }],
    ['a cacheTtl that is not whole', { namespace: kv, cacheTtl: 60.5 }],
    ['an unknown option', { namespace: kv, ttl: 60 }],
    ['a prefix that makes keys longer than KV\'s 512 bytes (200 three-byte characters)', { namespace: kv, prefix: '\u20ac'.repeat(200) }],
  ])('refuses %s with TypeError', (_label, options) => {
    expect(() => new KvSessionStore(options as never)).toThrow(TypeError);
  });

  it('takes a prefix of 469 bytes (with the 43-character handle, KV\'s longest key)', () => {
    expect(() => new KvSessionStore({ namespace: kv, prefix: 'p'.repeat(469) })).not.toThrow();
    expect(() => new KvSessionStore({ namespace: kv, prefix: 'p'.repeat(470) })).toThrow(TypeError);
  });

  it('offers only the required methods: no patches, renewal or owner index to promise', () => {
    const store = new KvSessionStore({ namespace: kv });
    expect([isPatchableStore(store), isRenewableStore(store), isOwnerIndexedStore(store)]).toEqual([false, false, false]);
  });
});

describeStoreContract('KvSessionStore (workerd, from a Worker)', () => {
  const clock = new FakeClock();
  return { store: proxy(clock) as never, clock, serverSide: true, requiredOnly: true };
});

describeStoreContract('EncryptingStoreDecorator(KvSessionStore (workerd), encryptValues)', async () => {
  const clock = new FakeClock();
  const keys = [await importRawKey(randomBytes(32).toString('base64'))];
  return {
    store: new EncryptingStoreDecorator<ContractValues>(proxy(clock) as never, { keys, encryptValues: true }, clock),
    clock,
    serverSide: true,
    requiredOnly: true,
    encryptsValues: true,
  };
});

describe('KvSessionStore: what it writes', () => {
  it('keys the entry by the handle under the prefix, never the id, with the TTL of the time left', async () => {
    const clock = new FakeClock(Date.now());
    const name = prefixName();
    const store = proxy(clock, name);
    const id = newId();
    await store.setSession(id, { values: { userId: 'ada' }, expireTime: clock.now() + HOUR, deadline: clock.now() + 2 * HOUR });
    const kv = await kvAdmin();
    const listed = await kv.list({ prefix: `${name}:` });
    expect(listed.keys.map((key) => key.name)).toEqual([`${name}:${handleOf(id)}`]);
    const text = await kv.get(`${name}:${handleOf(id)}`, 'text');
    expect(text).not.toContain(id);
    const expiration = listed.keys[0]!.expiration! * 1000;
    expect(Math.abs(expiration - (Date.now() + HOUR))).toBeLessThan(5_000);
  });

  it('gives a session with seconds left KV\'s minimum TTL of a minute, and the manager never serves it past its expiry', async () => {
    const clock = new FakeClock(Date.now());
    const name = prefixName();
    const store = proxy(clock, name);
    const id = newId();
    await store.setSession(id, { values: { a: 1 }, expireTime: clock.now() + 5_000, deadline: clock.now() + HOUR });
    const kv = await kvAdmin();
    const [key] = (await kv.list({ prefix: `${name}:` })).keys;
    expect(key!.expiration! * 1000).toBeGreaterThanOrEqual(Date.now() + 55_000);
    clock.advance(6_000);
    const loaded = (await store.getSession(id)) as { expireTime: number } | undefined;
    // Still in KV: given back as it is, ended (the manager reports it as expired).
    expect(loaded === undefined || loaded.expireTime <= clock.now()).toBe(true);
  });

  it.each([
    ['not JSON', '{'],
    ['JSON of another shape', '{"values":{}}'],
    ['values that are a list', '{"v":[1],"e":1,"d":1}'],
    ['null', 'null'],
  ])('answers an entry that is %s with undefined', async (_label, text) => {
    const clock = new FakeClock();
    const name = prefixName();
    const id = newId();
    const kv = await kvAdmin();
    await kv.put(`${name}:${handleOf(id)}`, text);
    expect(await proxy(clock, name).getSession(id)).toBeUndefined();
  });

  it('saves and loads under the longest prefix it takes (a key of 512 bytes, KV\'s longest)', async () => {
    const clock = new FakeClock();
    const store = proxy(clock, prefixName(), { prefix: `${randomBytes(9).toString('hex')}${'p'.repeat(469 - 18)}` });
    const id = newId();
    await store.setSession(id, { values: { a: 1 }, expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR });
    expect(((await store.getSession(id)) as { values: unknown } | undefined)?.values).toEqual({ a: 1 });
  });

  it('keeps stores of other prefixes apart', async () => {
    const clock = new FakeClock();
    const id = newId();
    const a = proxy(clock);
    await a.setSession(id, { values: { a: 1 }, expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR });
    expect(await proxy(clock).getSession(id)).toBeUndefined();
  });
});
