import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import {
  DEFAULT_COOKIE_NAME,
  EncryptingStoreDecorator,
  importRawKey,
  SessionManager,
  type SessionRecord,
} from 'kit-session';
import {
  isOwnerIndexedStore,
  isOwnerListingStore,
  isPatchableStore,
  isRenewableStore,
} from 'kit-session/store';
import { RedisSessionStore } from 'kit-session/redis';
import { FakeClock } from '../../support/FakeClock.js';
import { deleteRedisKeys, dumpRedis, redisKeys } from '../../support/redisCluster.js';
import {
  type AppValues,
  Browser,
  describeManagerScenarios,
  describeWith,
  hashedId,
  REDIS_URL,
  uniqueName,
} from '../../support/services.js';
import { describeStoreContract, type ContractValues } from '../../support/storeContract.js';
import { describeRedisOwnerIndex } from '../../support/redisOwners.js';
import { describeRedisRenewal } from '../../support/redisRenewal.js';

const HOUR = 60 * 60 * 1000;

function newId(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * A session of 3,000 values (`key0`…), a patch that sets 1,500 new ones and unsets the
 * first 1,200, and the values left after it: more than one chunk of the scripts' arguments.
 */
function thousandsOfValues() {
  const values = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`key${i}`, i]));
  const set = Object.fromEntries(Array.from({ length: 1500 }, (_, i) => [`new${i}`, [i]]));
  const unset = Array.from({ length: 1200 }, (_, i) => `key${i}`);
  const expected = { ...Object.fromEntries(Array.from({ length: 1800 }, (_, i) => [`key${i + 1200}`, i + 1200])), ...set };
  return { values, set, unset, expected };
}

function connect(): Redis {
  const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  client.on('error', () => {
    // Connection trouble shows up as rejected commands, which the tests check.
  });
  return client;
}

describe(RedisSessionStore, () => {
  // Building a store needs a client object, not a connection.
  const idle = new Redis({ lazyConnect: true });

  it.each([
    ['a timeout of 0', { timeout: 0 }],
    ['a negative timeout', { timeout: -1 }],
    ['an infinite timeout', { timeout: Number.POSITIVE_INFINITY }],
    ['a prefix that is not a string', { prefix: 42 as unknown as string }],
    ['an option it does not know (a misspelt prefix)', { prefx: 'app:' } as never],
    ['an option of another store (table)', { table: 'sessions' } as never],
  ])('rejects %s with TypeError when built', (_label, options) => {
    expect(() => new RedisSessionStore(idle, options)).toThrow(TypeError);
  });

  it('rejects a client that is neither ioredis nor node-redis with TypeError when built', () => {
    expect(() => new RedisSessionStore({} as Redis)).toThrow(TypeError);
  });

  it('offers the optional abilities: patches, renewal, the owner index, listing', () => {
    const store = new RedisSessionStore(idle);
    expect(isPatchableStore(store)).toBe(true);
    expect(isRenewableStore(store)).toBe(true);
    expect(isOwnerIndexedStore(store)).toBe(true);
    expect(isOwnerListingStore(store)).toBe(true);
  });

  it.each([
    ['a max of 0', { max: 0, policy: 'refuse' as const }],
    ['a fractional max', { max: 1.5, policy: 'refuse' as const }],
    ['an unknown policy', { max: 2, policy: 'drop' as never }],
  ])('limitOwnerSessions rejects %s with TypeError', (_label, limit) => {
    expect(() => new RedisSessionStore(idle).limitOwnerSessions(limit)).toThrow(TypeError);
  });

  it('limitOwnerSessions takes the same bound twice, and rejects another with TypeError', () => {
    const store = new RedisSessionStore(idle);
    store.limitOwnerSessions({ max: 2, policy: 'evict' });
    store.limitOwnerSessions({ max: 2, policy: 'evict' });
    expect(() => store.limitOwnerSessions({ max: 3, policy: 'evict' })).toThrow(TypeError);
    expect(() => store.limitOwnerSessions({ max: 2, policy: 'refuse' })).toThrow(TypeError);
  });

  it('gives the length of its token before saving (the id itself), and sends nothing', () => {
    const id = newId();
    expect(new RedisSessionStore(idle).tokenLength(id)).toBe(id.length);
    expect(idle.status).toBe('wait');
  });

  it('rejects a save under an id that is not base64url with TypeError, and sends nothing', async () => {
    const store = new RedisSessionStore(idle);
    const record = { values: {}, expireTime: Date.now() + HOUR, deadline: Date.now() + HOUR };
    await expect(store.setSession('not an id', record)).rejects.toThrow(TypeError);
    await expect(store.patchSession('', { ...record, set: {}, unset: [] })).rejects.toThrow(TypeError);
    expect(idle.status).toBe('wait');
  });
});

describeWith('redis', 'RedisSessionStore on one Redis server', () => {
  let client: Redis;

  beforeAll(() => {
    client = connect();
  });

  afterAll(async () => {
    await client.quit();
  });

  function fixture(encrypt: false): () => Promise<{ store: RedisSessionStore<ContractValues>; clock: FakeClock; prefix: string }>;
  function fixture(encrypt: true): () => Promise<{ store: EncryptingStoreDecorator<ContractValues>; clock: FakeClock; prefix: string }>;
  function fixture(encrypt: boolean) {
    return async () => {
      const clock = new FakeClock();
      const prefix = `${uniqueName('kit-session-test')}:`;
      const inner = new RedisSessionStore<ContractValues>(client, { prefix }, clock);
      if (!encrypt) {
        return { store: inner, clock, prefix };
      }
      const keys = [await importRawKey(randomBytes(32).toString('base64'))];
      return { store: new EncryptingStoreDecorator(inner, { keys, encryptValues: true }, clock), clock, prefix };
    };
  }

  describeStoreContract('RedisSessionStore', async () => {
    const { store, clock, prefix } = await fixture(false)();
    return {
      store,
      clock,
      serverSide: true,
      dump: () => dumpRedis(client, prefix),
      close: () => deleteRedisKeys(client, prefix),
    };
  });

  describeStoreContract('EncryptingStoreDecorator(RedisSessionStore, encryptValues)', async () => {
    const { store, clock, prefix } = await fixture(true)();
    return {
      store,
      clock,
      serverSide: true,
      encryptsValues: true,
      dump: () => dumpRedis(client, prefix),
      close: () => deleteRedisKeys(client, prefix),
    };
  });

  describeRedisOwnerIndex('RedisSessionStore', () => client);
  describeRedisRenewal('RedisSessionStore', () => client);

  describeManagerScenarios('RedisSessionStore', () => {
    const prefix = `${uniqueName('kit-session-test')}:`;
    return { store: new RedisSessionStore(client, { prefix }), close: () => deleteRedisKeys(client, prefix) };
  });

  describe('what lies in Redis', () => {
    let clock: FakeClock;
    let prefix: string;
    let store: RedisSessionStore<ContractValues>;

    beforeEach(() => {
      clock = new FakeClock();
      prefix = `${uniqueName('kit-session-test')}:`;
      store = new RedisSessionStore(client, { prefix }, clock);
    });

    afterEach(async () => {
      await deleteRedisKeys(client, prefix);
    });

    const record = (values: ContractValues, ttl = HOUR): SessionRecord<ContractValues> => ({
      values,
      expireTime: clock.now() + ttl,
      deadline: clock.now() + 2 * ttl,
    });

    it('keeps a session under its prefix with a PX expiry counted by the store clock, not Redis time', async () => {
      // The fake clock stands at 2026-01-01, whatever the real date: the key still lives
      // exactly as long as the session has left by that clock.
      const id = newId();
      await store.setSession(id, record({ a: 1 }, 10_000));
      const ttl = await client.pttl(`${prefix}${hashedId(id)}`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(10_000);
      expect(await redisKeys(client, prefix)).toEqual([`${prefix}${hashedId(id)}`]);
    });

    it('keeps no session id: every key and owner-index member is a hash that loads nothing as a token', async () => {
      const ids = [newId(), newId(), newId()];
      await store.setSession(ids[0]!, record({ a: 0 }), 'ada');
      await store.setSession(ids[1]!, record({ a: 1 }));
      await store.setSession(ids[2]!, record({ a: 2 }), 'bob');
      await store.patchSession(ids[1]!, { set: { b: 1 }, unset: [], owner: 'ada', ...record({}) });

      const keys = await redisKeys(client, prefix);
      const members: string[] = [];
      for (const key of keys) {
        if ((await client.type(key)) === 'zset') {
          members.push(...(await client.zrange(key, '0', '-1')));
        }
      }
      expect(keys.sort()).toEqual(
        [...ids.map((id) => `${prefix}${hashedId(id)}`), `${prefix}owner:ada`, `${prefix}owner:bob`].sort(),
      );
      expect(members.sort()).toEqual([hashedId(ids[0]!), hashedId(ids[1]!), hashedId(ids[2]!)].sort());

      const stored = [...keys, ...keys.map((key) => key.slice(prefix.length)), ...members];
      const dump = await dumpRedis(client, prefix);
      for (const id of ids) {
        expect(stored).not.toContain(id);
        expect(dump.includes(id)).toBe(false);
      }
      for (const text of stored) {
        await expect(store.getSession(text)).resolves.toBeUndefined();
      }
      for (const id of ids) {
        await expect(store.getSession(id)).resolves.toMatchObject({ id });
      }
    });

    it('writes nothing for a record that has already ended, and drops what was there', async () => {
      const id = newId();
      await store.setSession(id, record({ a: 1 }));
      await store.setSession(id, { values: { a: 2 }, expireTime: clock.now(), deadline: clock.now() + HOUR });
      await expect(client.exists(`${prefix}${hashedId(id)}`)).resolves.toBe(0);
    });

    it('keeps values that JSON re-encoding in Lua would change: empty arrays, long numbers, __proto__', async () => {
      const id = newId();
      await store.setSession(id, record({ empty: [], precise: 0.1 + 0.2, big: 2 ** 53 - 1, nested: { list: [] } }));
      const values = JSON.parse('{"__proto__": {"polluted": true}, "unicode": "é😀"}') as ContractValues;
      await store.patchSession(id, { set: values, unset: [], expireTime: clock.now() + HOUR, deadline: clock.now() + 2 * HOUR });
      const loaded = await store.getSession(id);
      expect(loaded?.values).toEqual({
        empty: [],
        precise: 0.1 + 0.2,
        big: 2 ** 53 - 1,
        nested: { list: [] },
        ...values,
      });
      expect(Object.getPrototypeOf(loaded?.values)).toBe(Object.prototype);
      expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
    });

    it('a patch moves the expiry: PX and the stored expiry follow the new one', async () => {
      const id = newId();
      await store.setSession(id, record({ a: 1 }, 10_000));
      await store.patchSession(id, { set: {}, unset: [], expireTime: clock.now() + HOUR, deadline: clock.now() + 2 * HOUR });
      expect(await client.pttl(`${prefix}${hashedId(id)}`)).toBeGreaterThan(10_000);
      await expect(store.getSession(id)).resolves.toMatchObject({ expireTime: clock.now() + HOUR });
    });

    it('files owners in a sorted set scored by deadline, with a TTL, and prunes entries whose deadline has long passed', async () => {
      const first = newId();
      await store.setSession(first, record({ u: 'ada' }, 1000), 'ada');
      const ownerKey = `${prefix}owner:ada`;
      await expect(client.zscore(ownerKey, hashedId(first))).resolves.toBe(String(clock.now() + 2000));
      expect(await client.pttl(ownerKey)).toBeGreaterThan(0);

      clock.advance(HOUR);
      const second = newId();
      await store.setSession(second, record({ u: 'ada' }), 'ada');
      await expect(client.zrange(ownerKey, '0', '-1')).resolves.toEqual([hashedId(second)]);
    });

    it('an owner may be any string, the empty one included', async () => {
      for (const owner of ['', 'user:{42}', 'ünï cødé', 'x'.repeat(500)]) {
        const id = newId();
        await store.setSession(id, record({}), owner);
        await expect(store.deleteOwnerSessions(owner)).resolves.toBe(1);
        await expect(store.getSession(id)).resolves.toBeUndefined();
      }
    });

    it('the empty owner survives a patch and a patch without owner; owner null drops it', async () => {
      const id = newId();
      const key = `${prefix}${hashedId(id)}`;
      const later = { expireTime: clock.now() + HOUR, deadline: clock.now() + 2 * HOUR };
      await store.setSession(id, record({}), '');
      await store.patchSession(id, { set: { a: 1 }, unset: [], owner: '', ...later });
      await expect(client.hget(key, 'o')).resolves.toBe('');
      await store.patchSession(id, { set: { a: 2 }, unset: [], ...later });
      await expect(client.hget(key, 'o')).resolves.toBe('');
      await store.patchSession(id, { set: { a: 3 }, unset: [], owner: null, ...later });
      await expect(client.hget(key, 'o')).resolves.toBeNull();
      await store.patchSession(id, { set: { a: 4 }, unset: [], ...later });
      await expect(client.hget(key, 'o')).resolves.toBeNull();
      await expect(store.deleteOwnerSessions('')).resolves.toBe(0);
      await expect(store.getSession(id)).resolves.toMatchObject({ values: { a: 4 } });
    });

    it('a patch without owner leaves an owner set meanwhile by another save in place', async () => {
      const id = newId();
      const later = { expireTime: clock.now() + HOUR, deadline: clock.now() + 2 * HOUR };
      await store.setSession(id, record({}));
      // Another request logs the session in; this one, loaded before, saves afterwards.
      await store.patchSession(id, { set: { userId: 'ada' }, unset: [], owner: 'ada', ...later });
      await store.patchSession(id, { set: { theme: 'dark' }, unset: [], ...later });
      await expect(client.hget(`${prefix}${hashedId(id)}`, 'o')).resolves.toBe('ada');
      await expect(store.deleteOwnerSessions('ada')).resolves.toBe(1);
    });

    it('deleteOwnerSessions deletes a session expired by the store clock whose key still lives, without counting it', async () => {
      const expired = newId();
      const live = newId();
      await store.setSession(expired, record({}, 1000), 'ada');
      await store.setSession(live, record({}), 'ada');
      clock.advance(1000);
      // By real time, Redis still holds the expired session's key (its PX has not run out).
      await expect(client.exists(`${prefix}${hashedId(expired)}`)).resolves.toBe(1);
      await expect(store.deleteOwnerSessions('ada')).resolves.toBe(1);
      await expect(client.exists(`${prefix}${hashedId(expired)}`, `${prefix}${hashedId(live)}`)).resolves.toBe(0);
    });

    it('saves and patches a session of thousands of values (written in chunks by the scripts)', async () => {
      const id = newId();
      const { values, set, unset, expected } = thousandsOfValues();
      await store.setSession(id, record(values), 'ada');
      await store.patchSession(id, { set, unset, owner: 'ada', expireTime: clock.now() + HOUR, deadline: clock.now() + 2 * HOUR });
      const loaded = await store.getSession(id);
      expect(loaded?.values).toEqual(expected);
      await expect(store.deleteOwnerSessions('ada')).resolves.toBe(1);
    });

    it('patches thousands of values with the owner left alone (the smaller script, in chunks)', async () => {
      const id = newId();
      const { values, set, unset, expected } = thousandsOfValues();
      await store.setSession(id, record(values));
      await store.patchSession(id, { set, unset, meta: 'm1', expireTime: clock.now() + HOUR, deadline: clock.now() + 2 * HOUR });
      const loaded = await store.getSession(id);
      expect(loaded?.values).toEqual(expected);
      expect(loaded?.meta).toBe('m1');
    });

    it('a session that another save moved to a new owner is not deleted with its old owner, even by a patch', async () => {
      const id = newId();
      await store.setSession(id, record({}), 'ada');
      await store.patchSession(id, { set: {}, unset: [], owner: 'bob', expireTime: clock.now() + HOUR, deadline: clock.now() + 2 * HOUR });
      await expect(store.deleteOwnerSessions('ada')).resolves.toBe(0);
      await expect(store.getSession(id)).resolves.toBeDefined();
      await expect(store.deleteOwnerSessions('bob')).resolves.toBe(1);
      await expect(store.getSession(id)).resolves.toBeUndefined();
    });

    it('a patch with a later deadline than the owner index covers extends the index first', async () => {
      const id = newId();
      await store.setSession(id, record({}, 1000), 'ada');
      const later = clock.now() + 10 * HOUR;
      await store.patchSession(id, { set: { n: 1 }, unset: [], owner: 'ada', expireTime: later, deadline: later });
      await expect(client.zscore(`${prefix}owner:ada`, hashedId(id))).resolves.toBe(String(later));
    });

    it('a patch without owner but with a later deadline extends the index of the owner it keeps', async () => {
      const id = newId();
      await store.setSession(id, record({}, 1000), 'ada');
      const later = clock.now() + 10 * HOUR;
      await store.patchSession(id, { set: { n: 1 }, unset: [], expireTime: later, deadline: later });
      await expect(client.zscore(`${prefix}owner:ada`, hashedId(id))).resolves.toBe(String(later));
      await expect(client.hget(`${prefix}${hashedId(id)}`, 'o')).resolves.toBe('ada');
      // Long after the first deadline, the index still finds the session.
      clock.advance(5 * HOUR);
      await expect(store.deleteOwnerSessions('ada')).resolves.toBe(1);
    });
  });

  describe('round trips', () => {
    // Every command ioredis writes to the connection goes through the client's
    // sendCommand: recording each name there counts the requests an operation makes.
    // (Commands a script runs inside Redis are not requests and are not seen.)
    let sent: string[] = [];
    let prefix: string;
    let store: RedisSessionStore<ContractValues>;
    let clock: FakeClock;
    let own: Redis;

    beforeAll(() => {
      own = connect();
      const send = own.sendCommand.bind(own);
      own.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
        sent.push(command.name);
        return (send as (...args: unknown[]) => unknown)(command, ...rest);
      }) as typeof own.sendCommand;
    });

    afterAll(async () => {
      await own.quit();
    });

    beforeEach(() => {
      clock = new FakeClock();
      prefix = `${uniqueName('kit-session-test')}:`;
      store = new RedisSessionStore(own, { prefix }, clock);
    });

    afterEach(async () => {
      await deleteRedisKeys(client, prefix);
    });

    /** The commands `work` sent, in order. */
    async function commandsOf(work: () => Promise<unknown>): Promise<string[]> {
      sent = [];
      await work();
      return sent.map((name) => name.toLowerCase());
    }

    it('a load is one HGETALL; a save, a patch and a delete are one command each', async () => {
      const id = newId();
      const expiry = { expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR };
      // Run each script once first: a connection's first use of a script sends its body.
      await store.setSession(newId(), { values: {}, ...expiry });
      await store.patchSession(newId(), { set: {}, unset: [], ...expiry });
      await store.deleteSession(newId());

      await expect(commandsOf(() => store.setSession(id, { values: { a: 1 }, ...expiry }))).resolves.toEqual(['evalsha']);
      await expect(commandsOf(() => store.getSession(id))).resolves.toEqual(['hgetall']);
      await expect(
        commandsOf(() => store.patchSession(id, { set: { b: 2 }, unset: ['a'], ...expiry })),
      ).resolves.toEqual(['evalsha']);
      // A script: a retired id in its grace names its successor, which is deleted too.
      await expect(commandsOf(() => store.deleteSession(id))).resolves.toEqual(['evalsha']);
    });

    it('with an owner: a new session is two commands, a patch of a logged-in session one', async () => {
      const id = newId();
      const expiry = { expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR };
      await store.setSession(newId(), { values: {}, ...expiry }, 'warm-up');

      await expect(commandsOf(() => store.setSession(id, { values: {}, ...expiry }, 'ada'))).resolves.toEqual([
        'evalsha',
        'evalsha',
      ]);
      await expect(
        commandsOf(() => store.patchSession(id, { set: { n: 1 }, unset: [], owner: 'ada', ...expiry })),
      ).resolves.toEqual(['evalsha']);
      await expect(commandsOf(() => store.patchSession(id, { set: { n: 2 }, unset: [], ...expiry }))).resolves.toEqual([
        'evalsha',
      ]);
    });

    it('with a bound: a new session of an owner below it is three round trips (mark + read index, admit, write); listing is two', async () => {
      store.limitOwnerSessions({ max: 3, policy: 'refuse' });
      const expiry = { expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR };
      await store.setSession(newId(), { values: {}, ...expiry }, 'warm-up');
      const id = newId();
      await expect(commandsOf(() => store.setSession(id, { values: {}, ...expiry }, 'ada'))).resolves.toEqual([
        'evalsha',
        'zrangebyscore',
        'evalsha',
        'evalsha',
      ]);
      await expect(commandsOf(() => store.listOwnerSessions('ada'))).resolves.toEqual(['zrangebyscore', 'hmget']);
      await expect(commandsOf(() => store.deleteSessionByHandle('ada', hashedId(id)))).resolves.toEqual(['evalsha']);
    });

    it('a renewal of an owned session is four round trips (claim and mark, file, write, settle); a load of the retired id one HMGET more than a live one', async () => {
      const expiry = { expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR };
      const warm = newId();
      await store.setSession(warm, { values: {}, ...expiry }, 'ada');
      await store.renewSession(warm, newId(), { record: { values: {}, ...expiry }, owner: 'ada', grace: 1000 });
      const id = newId();
      const next = newId();
      await store.setSession(id, { values: {}, ...expiry }, 'ada');
      // Five scripts: the claim and the successor's mark go out together.
      await expect(
        commandsOf(() => store.renewSession(id, next, { record: { values: {}, ...expiry }, owner: 'ada', grace: 1000 })),
      ).resolves.toEqual(['evalsha', 'evalsha', 'evalsha', 'evalsha', 'evalsha']);
      await expect(commandsOf(() => store.getSession(next))).resolves.toEqual(['hgetall']);
      await expect(commandsOf(() => store.getSession(id))).resolves.toEqual(['hgetall', 'hmget']);
    });

    it('the first patch that gives a session its owner is three: refused, index, patch', async () => {
      const id = newId();
      const expiry = { expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR };
      await store.setSession(newId(), { values: {}, ...expiry }, 'warm-up');
      await store.patchSession(newId(), { set: {}, unset: [], ...expiry });
      await store.setSession(id, { values: {}, ...expiry });
      await expect(
        commandsOf(() => store.patchSession(id, { set: { userId: 'ada' }, unset: [], owner: 'ada', ...expiry })),
      ).resolves.toEqual(['evalsha', 'evalsha', 'evalsha']);
    });
  });

  describe('two app servers, one Redis', () => {
    for (const encrypted of [false, true]) {
      it(`log in through the first, read and log out through the second, gone through the first${encrypted ? ' (encrypted)' : ''}`, async () => {
        const prefix = `${uniqueName('kit-session-test')}:`;
        const clients = [connect(), connect()];
        const keys = [await importRawKey(randomBytes(32).toString('base64'))];
        const [first, second] = clients.map((appClient) => {
          const inner = new RedisSessionStore<AppValues>(appClient, { prefix });
          const store = encrypted
            ? new EncryptingStoreDecorator(inner, { keys, encryptValues: true, cookieName: DEFAULT_COOKIE_NAME })
            : inner;
          return new SessionManager<AppValues>(store, { ownerKey: 'userId' });
        }) as [SessionManager<AppValues>, SessionManager<AppValues>];
        try {
          const throughFirst = new Browser(first);
          await throughFirst.request((context) => {
            first.renewToken(context);
            first.setValue(context, 'userId', 'ada');
          });
          const cookie = throughFirst.cookie;
          expect(cookie).toBeDefined();

          const throughSecond = new Browser(second, cookie);
          const read = await throughSecond.load();
          expect(second.getValue(read, 'userId')).toBe('ada');

          await throughSecond.request((context) => second.destroyValues(context));
          expect(throughSecond.cookie).toBeUndefined();

          const again = await new Browser(first, cookie).load();
          expect(first.getStatus(again)).toBe('new');
          expect(first.getValue(again, 'userId')).toBeUndefined();
        } finally {
          await deleteRedisKeys(client, prefix);
          await Promise.all(clients.map((appClient) => appClient.quit()));
        }
      });
    }
  });
});
