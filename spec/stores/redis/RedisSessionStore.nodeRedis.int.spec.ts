import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { EncryptingStoreDecorator, importRawKey, SessionStoreError } from 'kit-session';
import { RedisOwnerGenerations, RedisSessionStore, type RedisClientLike } from 'kit-session/redis';
import { FakeClock } from '../../support/FakeClock.js';
import { describeOwnerGenerationsContract } from '../../support/ownerGenerationsContract.js';
import { deleteRedisKeys, dumpRedis, RedisServerProcess, useNodeRedis, useRedisClusterClients } from '../../support/redisCluster.js';
import { describeRedisOwnerIndex } from '../../support/redisOwners.js';
import { describeRedisRenewal } from '../../support/redisRenewal.js';
import { describeManagerScenarios, describeWith, hashedId, REDIS_URL, uniqueName } from '../../support/services.js';
import { describeStoreContract, type ContractValues } from '../../support/storeContract.js';

// RedisSessionStore and RedisOwnerGenerations on node-redis v5 (`createClient()`,
// `createCluster()`): the shared contracts and the Redis-specific owner-index and renewal
// tests, each store on a node-redis client while the tests read and clean up through
// ioredis (the same keys). Key prefixes start `kit-session-nr`.

const HOUR = 60 * 60 * 1000;

const prefixOf = () => `${uniqueName('kit-session-nr')}:`;

describe('RedisSessionStore on node-redis, built', () => {
  it.each([
    ['a plain object', {}],
    ['null', null],
    ['a node-redis v4-like client (no withTypeMapping)', { evalSha: () => {}, eval: () => {}, hGetAll: () => {}, hmGet: () => {} }],
  ])('rejects %s as client with TypeError', (_label, client) => {
    expect(() => new RedisSessionStore(client as unknown as RedisClientLike)).toThrow(TypeError);
    expect(() => new RedisOwnerGenerations(client as unknown as RedisClientLike)).toThrow(TypeError);
  });

  it('takes a client that is not connected yet, and sends nothing', () => {
    const client = createClient({ url: REDIS_URL });
    expect(() => new RedisSessionStore(client)).not.toThrow();
    expect(() => new RedisOwnerGenerations(client)).not.toThrow();
    expect(client.isOpen).toBe(false);
  });
});

/** The suites every client runs: `store` builds on node-redis, `inspect` reads through ioredis. */
function suites(name: string, store: () => RedisClientLike, inspect: () => Redis | import('ioredis').Cluster): void {
  describeStoreContract(name, () => {
    const clock = new FakeClock();
    const prefix = prefixOf();
    return {
      store: new RedisSessionStore<ContractValues>(store(), { prefix }, clock),
      clock,
      serverSide: true,
      dump: () => dumpRedis(inspect(), prefix),
      close: () => deleteRedisKeys(inspect(), prefix),
    };
  });

  describeStoreContract(`EncryptingStoreDecorator(${name}, encryptValues)`, async () => {
    const clock = new FakeClock();
    const prefix = prefixOf();
    const keys = [await importRawKey(randomBytes(32).toString('base64'))];
    const inner = new RedisSessionStore<ContractValues>(store(), { prefix }, clock);
    return {
      store: new EncryptingStoreDecorator(inner, { keys, encryptValues: true }, clock),
      clock,
      serverSide: true,
      encryptsValues: true,
      dump: () => dumpRedis(inspect(), prefix),
      close: () => deleteRedisKeys(inspect(), prefix),
    };
  });

  describeRedisOwnerIndex(name, inspect, store);
  describeRedisRenewal(name, inspect, store);

  describeOwnerGenerationsContract(name.replace('RedisSessionStore', 'RedisOwnerGenerations'), () => {
    const prefix = prefixOf();
    return { generations: new RedisOwnerGenerations(store(), { prefix }), close: () => deleteRedisKeys(inspect(), prefix) };
  });

  describeManagerScenarios(name, () => {
    const prefix = prefixOf();
    return { store: new RedisSessionStore(store(), { prefix }), close: () => deleteRedisKeys(inspect(), prefix) };
  });
}

describeWith('redis', 'RedisSessionStore on node-redis, one Redis server', () => {
  const nodeRedis = useNodeRedis(REDIS_URL);
  let ioredis: Redis;

  beforeAll(() => {
    ioredis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    ioredis.on('error', () => {});
  });

  afterAll(async () => {
    await ioredis.quit();
  });

  suites('RedisSessionStore (node-redis)', nodeRedis, () => ioredis);

  describe('with a client of its own type mapping and RESP3', () => {
    const connectResp3 = () => createClient({ url: REDIS_URL, RESP: 3 });
    let resp3: ReturnType<typeof connectResp3>;

    beforeAll(async () => {
      resp3 = connectResp3();
      resp3.on('error', () => {});
      await resp3.connect();
    });

    afterAll(async () => {
      await resp3.close();
    });

    // Buffers for text, a Map for a hash: the store reads through its own mapping.
    const mapped = () => resp3.withTypeMapping({ 36: Buffer, 37: Map } as const);

    describeStoreContract('RedisSessionStore (node-redis, RESP3, Buffer and Map type mapping)', () => {
      const clock = new FakeClock();
      const prefix = prefixOf();
      return {
        store: new RedisSessionStore<ContractValues>(mapped(), { prefix }, clock),
        clock,
        serverSide: true,
        dump: () => dumpRedis(ioredis, prefix),
        close: () => deleteRedisKeys(ioredis, prefix),
      };
    });

    describeRedisOwnerIndex('RedisSessionStore (node-redis, RESP3, Buffer and Map type mapping)', () => ioredis, mapped);
  });

  it('runs its scripts again after SCRIPT FLUSH (EVALSHA answers NOSCRIPT, EVAL loads them)', async () => {
    const clock = new FakeClock();
    const prefix = prefixOf();
    const store = new RedisSessionStore<ContractValues>(nodeRedis(), { prefix }, clock);
    const id = randomBytes(32).toString('base64url');
    const record = { values: { n: 1 }, expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR };
    try {
      await nodeRedis().scriptFlush();
      await expect(store.setSession(id, record, 'ada')).resolves.toBe(id);
      await nodeRedis().scriptFlush();
      await expect(store.patchSession(id, { ...record, set: { n: 2 }, unset: [] })).resolves.toBe(id);
      await expect(store.getSession(id)).resolves.toMatchObject({ values: { n: 2 } });
      await expect(store.listOwnerSessions('ada')).resolves.toHaveLength(1);
    } finally {
      await deleteRedisKeys(ioredis, prefix);
    }
  });
});

describeWith('redis-binaries', 'RedisSessionStore on node-redis, a three-node Redis Cluster', () => {
  const clients = useRedisClusterClients();

  suites('RedisSessionStore (node-redis Cluster)', clients.nodeRedis, clients.ioredis);
});

describeWith('redis-binaries', 'RedisSessionStore on node-redis when its server fails (a redis-server of its own)', () => {
  let server: RedisServerProcess;
  let client: ReturnType<typeof connectTo>;

  function connectTo(port: number) {
    // As an app would configure it: fail fast while Redis is away, reconnect quickly.
    return createClient({ url: `redis://127.0.0.1:${port}`, disableOfflineQueue: true, socket: { reconnectStrategy: () => 100 } });
  }

  beforeAll(async () => {
    server = await RedisServerProcess.start();
    client = connectTo(server.port);
    client.on('error', () => {});
    await client.connect();
  }, 120_000);

  afterAll(async () => {
    client?.destroy();
    await server?.destroy();
  });

  /** Everything an error says about itself, its causes included, as text. */
  function textOf(error: unknown): string {
    const parts: string[] = [];
    for (let current: unknown = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
      parts.push(current.message, current.stack ?? '', JSON.stringify({ ...current }));
    }
    return parts.join('\n');
  }

  it('stopped: operations reject with SessionStoreError that names no token, key or value; restarted: the session is back', async () => {
    const store = new RedisSessionStore<{ secret: string }>(client, { prefix: 'app:', timeout: 2_000 });
    const id = randomBytes(32).toString('base64url');
    const record = { values: { secret: 'hunter2' }, expireTime: Date.now() + HOUR, deadline: Date.now() + HOUR };
    await store.setSession(id, record, 'ada');
    await server.stop({ save: true });
    const failures = await Promise.allSettled([
      store.getSession(id),
      store.setSession(id, record, 'ada'),
      store.patchSession(id, { set: { secret: 'hunter3' }, unset: [], expireTime: record.expireTime, deadline: record.deadline }),
      store.listOwnerSessions('ada'),
    ]);
    for (const failure of failures) {
      expect(failure.status).toBe('rejected');
      const error = (failure as PromiseRejectedResult).reason as unknown;
      expect(error).toBeInstanceOf(SessionStoreError);
      expect((error as SessionStoreError).code).toBe('ERR_SESSION_STORE');
      const text = textOf(error);
      for (const secret of [id, hashedId(id), 'hunter2', 'hunter3']) {
        expect(text).not.toContain(secret);
      }
    }
    await server.start();
    if (!client.isReady) {
      await once(client, 'ready');
    }
    await expect(store.getSession(id)).resolves.toMatchObject({ values: { secret: 'hunter2' } });
  }, 60_000);

  it('paused: an operation rejects with SessionStoreError after the timeout, its cause named TimeoutError', async () => {
    const store = new RedisSessionStore(client, { prefix: 'app:', timeout: 300 });
    server.pause();
    try {
      const error = await store.getSession(randomBytes(32).toString('base64url')).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(SessionStoreError);
      expect(((error as Error).cause as Error).name).toBe('TimeoutError');
    } finally {
      server.resume();
    }
  });
});
