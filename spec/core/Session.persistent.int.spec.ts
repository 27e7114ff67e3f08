import { Redis } from 'ioredis';
import pg from 'pg';
import { PostgresSessionStore } from 'kit-session/postgres';
import { RedisSessionStore } from 'kit-session/redis';
import { describePersistence, type Values } from '../support/persistenceScenarios.js';
import { deleteRedisKeys } from '../support/redisCluster.js';
import { DATABASE_URL, describeWith, REDIS_URL, uniqueName } from '../support/services.js';

// Remember-me per log-in (Session.setPersistent) on Redis and PostgreSQL: the choice goes
// with the metadata of whole writes, patches and renewals.

describeWith('redis', 'on Redis', () => {
  let redis: Redis;

  beforeAll(() => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  });

  afterAll(async () => {
    await redis.quit();
  });

  describePersistence(
    'Redis',
    (clock) => {
      const prefix = `wt-remember:${uniqueName('persistent')}:`;
      return {
        store: new RedisSessionStore<Values>(redis, { prefix }, clock),
        close: () => deleteRedisKeys(redis, prefix),
      };
    },
    { serverSide: true },
  );
});

describeWith('postgres', 'on PostgreSQL', () => {
  const table = uniqueName('wt_remember_persistent');
  let pool: pg.Pool;

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
    await new PostgresSessionStore<Values>(pool, { table }).createTable();
  });

  afterAll(async () => {
    await pool.query(`DROP TABLE IF EXISTS "${table}"`);
    await pool.end();
  });

  describePersistence(
    'PostgreSQL',
    (clock) => ({
      store: new PostgresSessionStore<Values>(pool, { table }, clock),
      close: async () => {
        await pool.query(`TRUNCATE "${table}"`);
      },
    }),
    { serverSide: true },
  );
});
