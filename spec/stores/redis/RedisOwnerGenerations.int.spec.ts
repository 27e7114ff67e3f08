import { Redis } from 'ioredis';
import { SessionGenerationsLostError, SessionStoreError } from 'kit-session';
import { RedisOwnerGenerations } from 'kit-session/redis';
import { describeOwnerGenerationsContract } from '../../support/ownerGenerationsContract.js';
import { deleteRedisKeys } from '../../support/redisCluster.js';
import { describeWith, REDIS_URL, uniqueName } from '../../support/services.js';

describe(RedisOwnerGenerations, () => {
  // Building one needs a client object, not a connection.
  const idle = new Redis({ lazyConnect: true });

  it.each([
    ['a timeout of 0', { timeout: 0 }],
    ['an infinite timeout', { timeout: Number.POSITIVE_INFINITY }],
    ['a prefix that is not a string', { prefix: 42 as unknown as string }],
    ['an option it does not know (a misspelt prefix)', { prefx: 'app:' } as never],
    ['an option of another class (table)', { table: 'generations' } as never],
  ])('rejects %s with TypeError when built', (_label, options) => {
    expect(() => new RedisOwnerGenerations(idle, options)).toThrow(TypeError);
  });

  it('rejects a client that is neither ioredis nor node-redis with TypeError when built', () => {
    expect(() => new RedisOwnerGenerations({} as Redis)).toThrow(TypeError);
  });
});

describeWith('redis', 'RedisOwnerGenerations on one Redis server', () => {
  let client: Redis;
  let prefix: string;

  beforeAll(() => {
    client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    client.on('error', () => {});
  });

  afterAll(async () => {
    await client.quit();
  });

  beforeEach(() => {
    prefix = `${uniqueName('kit-session-test')}:`;
  });

  describeOwnerGenerationsContract('RedisOwnerGenerations', () => ({
    generations: new RedisOwnerGenerations(client, { prefix }),
    close: () => deleteRedisKeys(client, prefix),
  }));

  it('keeps one key per owner, <prefix>gen:<owner>, and its marker, <prefix>generations, with no expiry', async () => {
    const generations = new RedisOwnerGenerations(client, { prefix });
    try {
      await generations.bump('ada');
      await expect(client.get(`${prefix}gen:ada`)).resolves.toBe('1');
      await expect(client.pttl(`${prefix}gen:ada`)).resolves.toBe(-1);
      await expect(client.pttl(`${prefix}generations`)).resolves.toBe(-1);
    } finally {
      await deleteRedisKeys(client, prefix);
    }
  });

  describe('when Redis loses its data (restarted without persistence)', () => {
    afterEach(async () => {
      await deleteRedisKeys(client, prefix);
    });

    it('the next read rejects with SessionGenerationsLostError, then every owner reads above any generation handed out before', async () => {
      const generations = new RedisOwnerGenerations(client, { prefix });
      await generations.bump('ada');
      await expect(generations.bump('ada')).resolves.toBe(2);
      await expect(generations.current('bob')).resolves.toBe(0);

      await deleteRedisKeys(client, prefix); // what a restart without persistence leaves
      const lost = await generations.current('ada').catch((error: unknown) => error);
      expect(lost).toBeInstanceOf(SessionGenerationsLostError);
      expect((lost as SessionGenerationsLostError).code).toBe('ERR_SESSION_GENERATIONS_LOST');
      expect((lost as Error).message).not.toContain(prefix);

      // A new epoch: never "nothing was revoked". Every cookie sealed before reads as revoked.
      const ada = await generations.current('ada');
      expect(ada).toBeGreaterThan(2);
      await expect(generations.current('bob')).resolves.toBe(ada);
      // Another process, started now, reads the same epoch without an error.
      await expect(new RedisOwnerGenerations(client, { prefix }).current('ada')).resolves.toBe(ada);
      // Bumps go on above it, one at a time.
      await expect(generations.bump('ada')).resolves.toBe(ada + 1);
      await expect(generations.current('ada')).resolves.toBe(ada + 1);
    });

    it('a bump that finds the loss still revokes: it begins the new epoch and goes above it', async () => {
      const generations = new RedisOwnerGenerations(client, { prefix });
      await expect(generations.bump('ada')).resolves.toBe(1);
      await deleteRedisKeys(client, prefix);
      const bumped = await generations.bump('ada');
      expect(bumped).toBeGreaterThan(1);
      await expect(generations.current('ada')).resolves.toBe(bumped);
      await expect(generations.current('bob')).resolves.toBe(bumped - 1);
    });

    it('a process started after the loss takes the new epoch that one which knew the store begins', async () => {
      const knew = new RedisOwnerGenerations(client, { prefix });
      await knew.bump('ada');
      await deleteRedisKeys(client, prefix);
      // Started after the loss: it cannot tell an empty Redis from a new one.
      const started = new RedisOwnerGenerations(client, { prefix });
      await expect(started.current('ada')).resolves.toBe(0);
      // The one that knew the store finds its marker replaced.
      await expect(knew.current('ada')).rejects.toBeInstanceOf(SessionGenerationsLostError);
      const epoch = await knew.current('ada');
      expect(epoch).toBeGreaterThan(1);
      await expect(started.current('ada')).resolves.toBe(epoch);
    });

    it('concurrent reads that find the loss agree on one new epoch', async () => {
      const generations = Array.from({ length: 5 }, () => new RedisOwnerGenerations(client, { prefix }));
      await Promise.all(generations.map((each) => each.current('ada')));
      await deleteRedisKeys(client, prefix);
      const first = await Promise.allSettled(generations.map((each) => each.current('ada')));
      // Each finds the loss, or (reading after another began the new epoch) takes that epoch.
      expect(first.some((result) => result.status === 'rejected')).toBe(true);
      for (const result of first) {
        expect(result.status === 'rejected' ? result.reason : undefined).toEqual(
          result.status === 'rejected' ? expect.any(SessionGenerationsLostError) : undefined,
        );
      }
      const epochs = await Promise.all(generations.map((each) => each.current('ada')));
      expect(new Set(epochs).size).toBe(1);
      expect(epochs[0]).toBeGreaterThan(0);
    });
  });

  it('reads generations written before it kept a marker as they are (no loss when upgrading)', async () => {
    try {
      await client.set(`${prefix}gen:ada`, '3');
      const generations = new RedisOwnerGenerations(client, { prefix });
      await expect(generations.current('ada')).resolves.toBe(3);
      await expect(generations.current('bob')).resolves.toBe(0);
      await expect(generations.bump('ada')).resolves.toBe(4);
    } finally {
      await deleteRedisKeys(client, prefix);
    }
  });

  it('when the key holds something else, rejects with SessionStoreError naming neither owner nor key', async () => {
    const generations = new RedisOwnerGenerations(client, { prefix });
    try {
      await client.set(`${prefix}gen:secret-owner`, 'not a number');
      for (const operation of [() => generations.current('secret-owner'), () => generations.bump('secret-owner')]) {
        const error = await operation().then(
          () => undefined,
          (reason: unknown) => reason,
        );
        expect(error).toBeInstanceOf(SessionStoreError);
        const text = `${(error as Error).message} ${JSON.stringify({ ...(error as Error) })} ${String((error as Error).cause)} ${JSON.stringify((error as Error).cause)}`;
        expect(text).not.toContain('secret-owner');
        expect(text).not.toContain(prefix);
      }
    } finally {
      await deleteRedisKeys(client, prefix);
    }
  });
});
