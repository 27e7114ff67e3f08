import { Redis } from 'ioredis';
import { Context, EncryptingStoreDecorator, importRawKey, SessionManager, SessionStoreError } from 'kit-session';
import { randomBytes } from 'node:crypto';
import { KeyValueSessionStore, type KeyValue } from '../../examples/key-value-store.js';
import { FakeClock } from '../support/FakeClock.js';
import { describeWith, REDIS_URL, uniqueName } from '../support/services.js';
import { describeSessionModel, type TargetTraits } from '../support/sessionModel.js';
import { describeStoreContract, type ContractValues } from '../support/storeContract.js';

// The example store of docs/stores.md ("Writing a store") passes the shared contract
// suite: over an in-process map that honours the TTL by the test's clock, and over the
// real Redis (GET, SET PX, DEL), bare and inside the encrypting decorator.

/** A key-value service in a map, expiring entries by the given clock. */
function mapKeyValue(clock: FakeClock): KeyValue & { readonly entries: Map<string, { value: string; until: number }> } {
  const entries = new Map<string, { value: string; until: number }>();
  return {
    entries,
    get: (key) => {
      const entry = entries.get(key);
      return entry !== undefined && entry.until > clock.now() ? entry.value : undefined;
    },
    set: (key, value, ttl) => entries.set(key, { value, until: clock.now() + ttl }),
    delete: (key) => entries.delete(key),
  };
}

describeStoreContract('KeyValueSessionStore (examples/key-value-store.ts) over a map', () => {
  const clock = new FakeClock();
  const kv = mapKeyValue(clock);
  return { store: new KeyValueSessionStore<ContractValues>(kv, {}, clock), clock, serverSide: true, requiredOnly: true, dump: async () => JSON.stringify([...kv.entries]) };
});

describeStoreContract('EncryptingStoreDecorator(KeyValueSessionStore, encryptValues) over a map', async () => {
  const clock = new FakeClock();
  const kv = mapKeyValue(clock);
  const keys = [await importRawKey(randomBytes(32).toString('base64'))];
  const store = new EncryptingStoreDecorator<ContractValues>(new KeyValueSessionStore(kv, {}, clock), { keys, encryptValues: true }, clock);
  return { store, clock, serverSide: true, requiredOnly: true, encryptsValues: true, dump: async () => JSON.stringify([...kv.entries]) };
});

// The session model over the store's three required methods: every save whole (the last
// of two concurrent saves wins, and a save brings back what another request ended or
// renewed), renewal as a write of the new id and a delete of the old one, no grace.
const whole: TargetTraits = { kind: 'server', wholeSaves: true, sealed: false, encryptValues: false, ownerIndex: false };

describe('KeyValueSessionStore (examples/key-value-store.ts) against the session model', () => {
  const open = async (clock: FakeClock) => ({ store: new KeyValueSessionStore(mapKeyValue(clock), {}, clock) });
  describeSessionModel({ name: 'KeyValueSessionStore over a map', traits: whole, open }, 150);
  describeSessionModel(
    {
      name: 'EncryptingStoreDecorator(KeyValueSessionStore, encryptValues) over a map, node:crypto and Web Crypto by turns',
      traits: { ...whole, sealed: true, encryptValues: true },
      crypto: ['auto', 'webcrypto'],
      open,
    },
    100,
  );
  // Revocable sessions need no owner index: the owner's generation ends them.
  describeSessionModel(
    { name: 'EncryptingStoreDecorator(KeyValueSessionStore, encryptValues) over a map, revocation', traits: { ...whole, sealed: true, encryptValues: true, revocation: true }, open },
    60,
  );
});

describe('KeyValueSessionStore (examples/key-value-store.ts)', () => {
  it('keeps the hash of the id as the key, never the id, and forgets a session at its end', async () => {
    const clock = new FakeClock();
    const kv = mapKeyValue(clock);
    const store = new KeyValueSessionStore(kv, { prefix: 'app:' }, clock);
    const id = randomBytes(32).toString('base64url');
    await store.setSession(id, { values: { n: 1 }, expireTime: clock.now() + 60_000, deadline: clock.now() + 30_000 });
    const [key] = [...kv.entries.keys()];
    expect(key).toMatch(/^app:[\w-]{43}$/);
    expect(JSON.stringify([...kv.entries])).not.toContain(id);
    clock.advance(30_000);
    expect(await store.getSession(id)).toBeUndefined();
  });

  it('fails with a SessionStoreError that quotes nothing from the service when it throws or does not answer', async () => {
    const clock = new FakeClock();
    const id = randomBytes(32).toString('base64url');
    const failing = new KeyValueSessionStore(
      { get: () => Promise.reject(Object.assign(new Error(`no such key ${id}`), { code: 'EFAIL' })), set: () => undefined, delete: () => undefined },
      {},
      clock,
    );
    const error = await failing.getSession(id).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SessionStoreError);
    expect(JSON.stringify({ message: (error as Error).message, cause: String((error as Error).cause) })).not.toContain(id);
    expect((error as Error).cause).toMatchObject({ code: 'EFAIL' });
    const silent = new KeyValueSessionStore({ get: () => new Promise(() => {}), set: () => undefined, delete: () => undefined }, { timeout: 50 }, clock);
    await expect(silent.getSession(id)).rejects.toMatchObject({ name: 'SessionStoreError', cause: { name: 'TimeoutError' } });
  });

  it('refuses a kv without get, set and delete, and a timeout that is not positive, naming them', () => {
    expect(() => new KeyValueSessionStore({ get: () => undefined } as unknown as KeyValue)).toThrow(/kv must have get, set and delete/);
    expect(() => new KeyValueSessionStore(mapKeyValue(new FakeClock()), { timeout: -1 })).toThrow(/timeout/);
  });

  it('serves a manager: a session saved, loaded by the next request, and ended by log-out', async () => {
    const clock = new FakeClock();
    const kv = mapKeyValue(clock);
    const keys = [await importRawKey(randomBytes(32).toString('base64'))];
    const manager = new SessionManager<{ user: string }>(new EncryptingStoreDecorator(new KeyValueSessionStore(kv, {}, clock), { keys }, clock), {}, clock);
    let context = await manager.extractSession(Context.background, new Request('http://localhost/'));
    manager.setValue(context, 'user', 'ada');
    let headers = new Headers();
    await manager.injectSession(context, headers);
    const cookie = headers.get('set-cookie')!.split(';')[0]!;
    context = await manager.extractSession(Context.background, new Request('http://localhost/', { headers: { cookie } }));
    expect(manager.getValue(context, 'user')).toBe('ada');
    manager.destroyValues(context);
    headers = new Headers();
    await manager.injectSession(context, headers);
    expect(kv.entries.size).toBe(0);
  });
});

describeWith('redis', 'KeyValueSessionStore (examples/key-value-store.ts) over Redis', () => {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  const prefix = `${uniqueName('kvexample')}:`;
  const kv: KeyValue = {
    get: (key) => redis.get(key),
    set: (key, value, ttl) => redis.set(key, value, 'PX', ttl),
    delete: (key) => redis.del(key),
  };

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) {
      await redis.del(...keys);
    }
    redis.disconnect();
  });

  describeStoreContract('KeyValueSessionStore over Redis', () => {
    const clock = new FakeClock();
    return { store: new KeyValueSessionStore<ContractValues>(kv, { prefix }, clock), clock, serverSide: true, requiredOnly: true };
  });
});
