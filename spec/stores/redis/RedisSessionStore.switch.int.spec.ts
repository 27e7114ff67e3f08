import { randomBytes } from 'node:crypto';
import { Redis, type Cluster } from 'ioredis';
import { RedisOwnerGenerations, RedisSessionStore, type RedisClientLike } from 'kit-session/redis';
import { FakeClock } from '../../support/FakeClock.js';
import { deleteRedisKeys, dumpRedis, useNodeRedis, useRedisClusterClients } from '../../support/redisCluster.js';
import { describeWith, hashedId, REDIS_URL, uniqueName } from '../../support/services.js';

// Switching clients keeps every session: what a store on one client (ioredis, or
// node-redis v5) wrote, a store on the other reads, patches, lists and ends, both ways
// round, on one Redis and on a Cluster. Sessions with owners, a renewed one in its
// grace, a bounded owner and an owner's generation. Key prefixes start `kit-session-switch`.

const HOUR = 60 * 60 * 1000;
const MINUTE = 60 * 1000;

type Values = { user?: string; n?: number; cart?: string[]; flash?: string };

function newId(): string {
  return randomBytes(32).toString('base64url');
}

function describeSwitching(name: string, ioredis: () => Redis | Cluster, nodeRedis: () => RedisClientLike): void {
  describe(name, () => {
    const directions = [
      ['from ioredis to node-redis', () => ioredis(), () => nodeRedis()],
      ['from node-redis to ioredis', () => nodeRedis(), () => ioredis()],
    ] as const;

    it.each(directions)('%s, every session and generation carries over', async (_label, before, after) => {
      const clock = new FakeClock();
      const prefix = `${uniqueName('kit-session-switch')}:`;
      const old = new RedisSessionStore<Values>(before(), { prefix }, clock);
      const oldGenerations = new RedisOwnerGenerations(before(), { prefix });
      const record = (values: Values, meta?: string) => ({
        values,
        expireTime: clock.now() + HOUR,
        deadline: clock.now() + 8 * HOUR,
        ...(meta === undefined ? {} : { meta }),
      });
      const [laptop, phone, renewed, anonymous] = [newId(), newId(), newId(), newId()];
      try {
        // Written through the first client.
        old.limitOwnerSessions({ max: 3, policy: 'evict' });
        await old.setSession(laptop, record({ user: 'ada', n: 1, cart: ['tea'], flash: 'hi' }, '{"ua":"laptop"}'), 'ada');
        await old.setSession(phone, record({ user: 'ada', n: 10 }, '{"ua":"phone"}'), 'ada');
        await old.setSession(anonymous, record({ n: 0 }));
        await expect(old.renewSession(phone, renewed, { record: record({ user: 'ada', n: 11 }, '{"ua":"phone"}'), owner: 'ada', grace: MINUTE })).resolves.toBe(renewed);
        await expect(oldGenerations.bump('ada')).resolves.toBe(1);
        const written = JSON.parse(await dumpRedis(ioredis(), prefix)) as unknown;

        // Read through the other client, as the app restarts on it.
        clock.advance(1_000);
        const next = new RedisSessionStore<Values>(after(), { prefix }, clock);
        const nextGenerations = new RedisOwnerGenerations(after(), { prefix });
        next.limitOwnerSessions({ max: 3, policy: 'evict' });
        await expect(next.getSession(laptop)).resolves.toEqual({ id: laptop, ...record({ user: 'ada', n: 1, cart: ['tea'], flash: 'hi' }, '{"ua":"laptop"}'), expireTime: expect.any(Number), deadline: expect.any(Number) });
        await expect(next.getSession(phone)).resolves.toMatchObject({ id: phone, values: { n: 10 }, superseded: true });
        await expect(next.getSession(renewed)).resolves.toMatchObject({ id: renewed, values: { user: 'ada', n: 11 }, meta: '{"ua":"phone"}' });
        await expect(next.getSession(anonymous)).resolves.toMatchObject({ values: { n: 0 } });
        await expect(nextGenerations.current('ada')).resolves.toBe(1);
        expect(JSON.parse(await dumpRedis(ioredis(), prefix))).toEqual(written); // reading wrote nothing
        const listed = await next.listOwnerSessions('ada');
        expect(listed.map(({ handle }) => handle).sort()).toEqual([hashedId(laptop), hashedId(renewed)].sort());
        expect(listed.find(({ handle }) => handle === hashedId(laptop))?.meta).toBe('{"ua":"laptop"}');

        // Patched through the other client, and read back through the first.
        const expireTime = clock.now() + 2 * HOUR;
        const deadline = clock.now() + 8 * HOUR - 1_000;
        await expect(next.patchSession(laptop, { set: { n: 2, cart: ['tea', 'milk'] }, unset: ['flash'], expireTime, deadline })).resolves.toBe(laptop);
        await expect(old.getSession(laptop)).resolves.toMatchObject({ values: { user: 'ada', n: 2, cart: ['tea', 'milk'] }, expireTime, meta: '{"ua":"laptop"}' });
        expect((await old.getSession(laptop))?.values).not.toHaveProperty('flash');
        // A retired id writes nothing, whichever client.
        await expect(next.patchSession(phone, { set: { n: 99 }, unset: [], expireTime, deadline })).resolves.toBeUndefined();

        // The bound counts what the first client filed: a fourth log-in evicts the renewed
        // phone (written least recently: the laptop was patched since), and its old id
        // goes with it, whichever client reads.
        const evicted: string[][] = [];
        const tablet = newId();
        clock.advance(1_000);
        await old.setSession(newId(), record({ user: 'ada' }), 'ada');
        clock.advance(1_000);
        await next.setSession(tablet, record({ user: 'ada' }), 'ada', (_owner, handles) => evicted.push([...handles]));
        expect(evicted).toEqual([[hashedId(renewed)]]);
        await expect(old.getSession(renewed)).resolves.toBeUndefined();
        await expect(old.getSession(phone)).resolves.toBeUndefined();
        await expect(old.listOwnerSessions('ada')).resolves.toHaveLength(3);

        // Generations: bumped through the other client, read through the first.
        await expect(nextGenerations.bump('ada')).resolves.toBe(2);
        await expect(oldGenerations.current('ada')).resolves.toBe(2);

        // Ended through the other client: by handle, then every other session of the
        // owner but the tablet, then a log-out.
        await expect(next.deleteSessionByHandle('ada', hashedId(laptop))).resolves.toBe(true);
        await expect(old.getSession(laptop)).resolves.toBeUndefined();
        await expect(next.deleteOwnerSessions('ada', hashedId(tablet))).resolves.toBe(1);
        await expect(old.listOwnerSessions('ada')).resolves.toEqual([expect.objectContaining({ handle: hashedId(tablet) })]);
        await next.deleteSession(anonymous);
        await expect(old.getSession(anonymous)).resolves.toBeUndefined();
        await expect(old.getSession(tablet)).resolves.toMatchObject({ values: { user: 'ada' } });
      } finally {
        await deleteRedisKeys(ioredis(), prefix);
      }
    });

    it('writes the same keys, fields and scores through either client', async () => {
      const dumps: Record<string, unknown>[] = [];
      const [laptop, phone, renewed] = [newId(), newId(), newId()];
      for (const client of [ioredis, nodeRedis]) {
        const clock = new FakeClock();
        const prefix = `${uniqueName('kit-session-switch')}:`;
        const store = new RedisSessionStore<Values>(client(), { prefix }, clock);
        store.limitOwnerSessions({ max: 2, policy: 'evict' });
        const record = (values: Values) => ({ values, expireTime: clock.now() + HOUR, deadline: clock.now() + 8 * HOUR, meta: '{"ua":"x"}' });
        try {
          await store.setSession(laptop, record({ user: 'ada', cart: ['tea'] }), 'ada');
          await store.setSession(laptop, record({ user: 'ada', cart: ['tea'] }), 'ada'); // filed again: a stamped score
          await store.setSession(phone, record({ user: 'ada', n: 1 }), 'ada');
          clock.advance(1_000);
          await store.patchSession(laptop, { set: { n: 2 }, unset: ['cart'], expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR });
          await store.renewSession(phone, renewed, { record: record({ user: 'ada', n: 3 }), owner: 'ada', grace: MINUTE });
          await new RedisOwnerGenerations(client(), { prefix }).bump('ada');
          const dump = JSON.parse((await dumpRedis(ioredis(), prefix)).replaceAll(prefix, '<prefix>')) as Record<string, unknown>;
          delete dump['<prefix>generations']; // each object's own epoch marker
          dumps.push(dump);
        } finally {
          await deleteRedisKeys(ioredis(), prefix);
        }
      }
      expect(Object.keys(dumps[0]!)).toHaveLength(5);
      expect(dumps[1]).toEqual(dumps[0]);
    });

    it.each(directions)('%s, a renewal started on one finishes its grace on the other', async (_label, before, after) => {
      const clock = new FakeClock();
      const prefix = `${uniqueName('kit-session-switch')}:`;
      const old = new RedisSessionStore<Values>(before(), { prefix }, clock);
      const next = new RedisSessionStore<Values>(after(), { prefix }, clock);
      const record = { values: { user: 'ada' }, expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR };
      const [first, second, third] = [newId(), newId(), newId()];
      try {
        await old.setSession(first, record, 'ada');
        await expect(old.renewSession(first, second, { record, owner: 'ada', grace: MINUTE })).resolves.toBe(second);
        // Renewed again on the other client: both older ids are served read-only in their grace.
        await expect(next.renewSession(second, third, { record, owner: 'ada', grace: MINUTE })).resolves.toBe(third);
        await expect(old.getSession(first)).resolves.toMatchObject({ superseded: true });
        await expect(old.getSession(second)).resolves.toMatchObject({ superseded: true });
        await expect(old.listOwnerSessions('ada')).resolves.toEqual([expect.objectContaining({ handle: hashedId(third) })]);
        clock.advance(MINUTE + 1);
        await expect(next.getSession(first)).resolves.toBeUndefined();
        await expect(next.getSession(second)).resolves.toBeUndefined();
        await expect(next.getSession(third)).resolves.toMatchObject({ values: { user: 'ada' } });
        // The oldest id's grace is over: a log-out of it names nothing any more.
        await old.deleteSession(first);
        await expect(next.getSession(third)).resolves.toBeDefined();
        await next.deleteSession(third);
        await expect(old.getSession(third)).resolves.toBeUndefined();
      } finally {
        await deleteRedisKeys(ioredis(), prefix);
      }
    });
  });
}

describeWith('redis', 'Switching RedisSessionStore between ioredis and node-redis on one Redis server', () => {
  const nodeRedis = useNodeRedis(REDIS_URL);
  let ioredis: Redis;

  beforeAll(() => {
    ioredis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    ioredis.on('error', () => {});
  });

  afterAll(async () => {
    await ioredis.quit();
  });

  describeSwitching('one server', () => ioredis, nodeRedis);
});

describeWith('redis-binaries', 'Switching RedisSessionStore between ioredis and node-redis on a three-node Redis Cluster', () => {
  const clients = useRedisClusterClients();

  describeSwitching('Cluster', clients.ioredis, clients.nodeRedis);
});
