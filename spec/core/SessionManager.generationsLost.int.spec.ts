import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import {
  CookieSessionStore,
  EncryptingStoreDecorator,
  importRawKey,
  SessionGenerationsLostError,
  SessionManager,
  type OwnerGenerations,
} from 'kit-session';
import { PostgresOwnerGenerations } from 'kit-session/postgres';
import { RedisOwnerGenerations } from 'kit-session/redis';
import { FakeClock } from '../support/FakeClock.js';
import { deleteRedisKeys } from '../support/redisCluster.js';
import { type AppValues, Browser, DATABASE_URL, describeWith, REDIS_URL, uniqueName } from '../support/services.js';

// Revocable sealed cookies when the generations store loses its data (Redis restarted
// without persistence, the table truncated): a cookie revoked before the loss never opens
// again, and a log-in after it is not logged out by a generation this process cached.
// The loss is handled as `whenUnavailable` says, never as "nothing was revoked".

const SECOND = 1000;

/** A generations store for one test, and how to make it lose everything. */
interface LossyGenerations {
  readonly generations: OwnerGenerations;
  /** What a restart without persistence, or a TRUNCATE, leaves: no generation, no marker. */
  readonly lose: () => Promise<void>;
  readonly close: () => Promise<void>;
}

function describeLoss(name: string, open: () => Promise<LossyGenerations>): void {
  describe(`${SessionManager.name} with ${name}, when it loses its data`, () => {
    let clock: FakeClock;
    let fixture: LossyGenerations;
    let ada: string;

    beforeEach(async () => {
      clock = new FakeClock();
      fixture = await open();
      ada = uniqueName('ada');
    });

    afterEach(async () => {
      await fixture.close();
    });

    const managerWith = async (whenUnavailable: 'fail' | 'trust') => {
      const keys = [await importRawKey(randomBytes(32).toString('base64'))];
      return new SessionManager<AppValues>(
        new EncryptingStoreDecorator(new CookieSessionStore({}, clock), { keys }, clock),
        { ownerKey: 'userId', revocation: { generations: fixture.generations, maxStaleness: 5 * SECOND, whenUnavailable } },
        clock,
      );
    };

    /** Logs `browser` in as ada. */
    const logIn = (manager: SessionManager<AppValues>, browser: Browser) =>
      browser.request((context) => {
        manager.renewToken(context);
        manager.setValue(context, 'userId', ada);
      });

    /** A device logged in, then revoked by destroyOwnerSessions; then the store loses everything. */
    async function revokedThenLost(manager: SessionManager<AppValues>): Promise<Browser> {
      const phone = new Browser(manager);
      await logIn(manager, phone);
      expect(manager.getValue(await phone.load(), 'userId')).toBe(ada);
      await manager.destroyOwnerSessions(ada);
      expect(manager.getStatus(await phone.load())).toBe('new');
      await fixture.lose();
      clock.advance(6 * SECOND); // the cached generation is stale: the next request reads
      return phone;
    }

    it("with 'fail', the request that finds the loss fails with SessionGenerationsLostError; the revoked cookie never opens again", async () => {
      const manager = await managerWith('fail');
      const phone = await revokedThenLost(manager);
      await expect(async () => phone.load()).rejects.toBeInstanceOf(SessionGenerationsLostError);
      // The store began a new epoch above every generation handed out: still revoked.
      for (let i = 0; i < 3; i++) {
        const context = await phone.load();
        expect(manager.getStatus(context)).toBe('new');
        expect(manager.getValue(context, 'userId')).toBeUndefined();
        clock.advance(6 * SECOND);
      }
    });

    it("with 'trust', the revoked cookie stays revoked, by the generation read before and then by the new epoch", async () => {
      const manager = await managerWith('trust');
      const phone = await revokedThenLost(manager);
      for (let i = 0; i < 3; i++) {
        const context = await phone.load();
        expect(manager.getStatus(context)).toBe('new');
        expect(manager.getValue(context, 'userId')).toBeUndefined();
        clock.advance(6 * SECOND);
      }
    });

    it('a log-in after the loss stays logged in: never logged out by the generation this process cached', async () => {
      const manager = await managerWith('fail');
      await revokedThenLost(manager);
      const laptop = new Browser(manager);
      // The first read after the loss finds it: that log-in fails, and the next one works.
      await expect(async () => logIn(manager, laptop)).rejects.toBeInstanceOf(SessionGenerationsLostError);
      await logIn(manager, laptop);
      for (let i = 0; i < 3; i++) {
        expect(manager.getValue(await laptop.load(), 'userId')).toBe(ada);
        clock.advance(6 * SECOND);
      }
    });
  });
}

describeWith('redis', 'revocation when Redis loses its data', () => {
  let client: Redis;

  beforeAll(() => {
    client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    client.on('error', () => {});
  });

  afterAll(async () => {
    await client.quit();
  });

  describeLoss('RedisOwnerGenerations', async () => {
    const prefix = `${uniqueName('kit-session-test')}:`;
    return {
      generations: new RedisOwnerGenerations(client, { prefix }),
      lose: () => deleteRedisKeys(client, prefix),
      close: () => deleteRedisKeys(client, prefix),
    };
  });
});

describeWith('postgres', 'revocation when the PostgreSQL table loses its rows', () => {
  let pool: pg.Pool;

  beforeAll(() => {
    pool = new pg.Pool({ connectionString: DATABASE_URL });
  });

  afterAll(async () => {
    await pool.end();
  });

  describeLoss('PostgresOwnerGenerations', async () => {
    const table = uniqueName('kit_gen_lost');
    const generations = new PostgresOwnerGenerations(pool, { table });
    await generations.createTable();
    return {
      generations,
      lose: async () => {
        await pool.query(`TRUNCATE "${table}"`);
      },
      close: async () => {
        await pool.query(`DROP TABLE IF EXISTS "${table}"`);
      },
    };
  });
});
