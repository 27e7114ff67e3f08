import { Redis } from 'ioredis';
import { SessionStoreError } from 'kit-session';
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

  it('rejects a client that is not ioredis with TypeError when built', () => {
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

  it('keeps one key per owner, <prefix>gen:<owner>, with no expiry', async () => {
    const generations = new RedisOwnerGenerations(client, { prefix });
    try {
      await generations.bump('ada');
      await expect(client.get(`${prefix}gen:ada`)).resolves.toBe('1');
      await expect(client.pttl(`${prefix}gen:ada`)).resolves.toBe(-1);
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
