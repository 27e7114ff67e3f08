import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { SessionLimitError, type SessionRecord } from 'kit-session';
import { RedisSessionStore, type RedisClientLike } from 'kit-session/redis';
import { FakeClock } from './FakeClock.js';
import { deleteRedisKeys } from './redisCluster.js';
import { hashedId, uniqueName } from './services.js';
import type { ContractValues } from './storeContract.js';

const HOUR = 60 * 60 * 1000;

function newId(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Registers the Redis-specific tests of the owner index and the per-owner bound, where
 * the layout matters: the index is a superset kept apart from the sessions (on a
 * Cluster, on other nodes), so stale entries must neither count nor come back, and an
 * owner change racing the bound must stay exact.
 *
 * @param name - What the describe block is called.
 * @param client - The `Redis` or `Cluster` the tests use (ready when the tests run).
 * @param storeClient - The client the store is built on, when not `client` (a node-redis
 *   one: the tests then read what it wrote through ioredis).
 */
export function describeRedisOwnerIndex(name: string, client: () => Redis | Cluster, storeClient: () => RedisClientLike = client): void {
  describe(`${name}: the owner index and the bound`, () => {
    let clock: FakeClock;
    let prefix: string;
    let store: RedisSessionStore<ContractValues>;

    beforeEach(() => {
      clock = new FakeClock();
      prefix = `${uniqueName('kit-session-test')}:`;
      store = new RedisSessionStore(storeClient(), { prefix }, clock);
    });

    afterEach(async () => {
      await deleteRedisKeys(client(), prefix);
    });

    const record = (values: ContractValues = {}, meta?: string): SessionRecord<ContractValues> => ({
      values,
      expireTime: clock.now() + HOUR,
      deadline: clock.now() + 2 * HOUR,
      ...(meta === undefined ? {} : { meta }),
    });
    const members = () => client().zrange(`${prefix}owner:ada`, '0', '-1');

    it('keeps the metadata as the hash field m and the write time as w, and lists never an id', async () => {
      const id = newId();
      await store.setSession(id, record({ a: 1 }, '{"ua":"x"}'), 'ada');
      const key = `${prefix}${hashedId(id)}`;
      expect(await client().hmget(key, 'm', 'w', 'o')).toEqual(['{"ua":"x"}', String(clock.now()), 'ada']);
      clock.advance(1000);
      await store.patchSession(id, { set: {}, unset: [], ...record() });
      expect(await client().hmget(key, 'm', 'w')).toEqual(['{"ua":"x"}', String(clock.now())]);
      expect(await store.listOwnerSessions('ada')).toEqual([
        { handle: hashedId(id), meta: '{"ua":"x"}', expireTime: clock.now() + HOUR, deadline: clock.now() + 2 * HOUR },
      ]);
    });

    it('a stale entry (a session logged out with deleteSession, or moved to another owner) neither counts nor is listed, and the next admission drops it', async () => {
      store.limitOwnerSessions({ max: 2, policy: 'refuse' });
      const loggedOut = newId();
      const moved = newId();
      await store.setSession(loggedOut, record(), 'ada');
      await store.setSession(moved, record(), 'ada');
      await store.deleteSession(loggedOut); // knows no owner: the index keeps the entry
      await store.setSession(moved, record(), 'bob');
      expect((await members()).sort()).toEqual([hashedId(loggedOut), hashedId(moved)].sort());
      expect(await store.listOwnerSessions('ada')).toEqual([]);

      const fresh = [newId(), newId()];
      for (const id of fresh) {
        await store.setSession(id, record(), 'ada');
      }
      expect((await members()).sort()).toEqual(fresh.map(hashedId).sort());
      await expect(async () => store.setSession(newId(), record(), 'ada')).rejects.toBeInstanceOf(SessionLimitError);
      expect(await store.deleteSessionByHandle('bob', hashedId(moved))).toBe(true);
    });

    it('a refused save writes nothing: no session key, no index entry, no mark left on an existing session', async () => {
      store.limitOwnerSessions({ max: 1, policy: 'refuse' });
      await store.setSession(newId(), record(), 'ada');
      const refused = newId();
      await expect(async () => store.setSession(refused, record(), 'ada')).rejects.toBeInstanceOf(SessionLimitError);
      expect(await client().exists(`${prefix}${hashedId(refused)}`)).toBe(0);

      const anonymous = newId();
      await store.setSession(anonymous, record({ cart: ['pen'] }));
      const patch = { set: { userId: 'ada' }, unset: [], owner: 'ada', ...record() };
      await expect(async () => store.patchSession(anonymous, patch)).rejects.toBeInstanceOf(SessionLimitError);
      const key = `${prefix}${hashedId(anonymous)}`;
      expect(await client().hmget(key, 'o', 'i', 'vuserId')).toEqual([null, null, null]);
      expect(await store.getSession(anonymous)).toMatchObject({ values: { cart: ['pen'] } });
      expect(await members()).toHaveLength(1);
    });

    it('owner changes racing the bound: of 8 anonymous sessions logging in at once with max 3, exactly 3 take the owner', async () => {
      store.limitOwnerSessions({ max: 3, policy: 'refuse' });
      const ids = Array.from({ length: 8 }, newId);
      for (const id of ids) {
        await store.setSession(id, record());
      }
      const results = await Promise.allSettled(
        ids.map((id) => store.patchSession(id, { set: { userId: 'ada' }, unset: [], owner: 'ada', ...record() })),
      );
      const admitted = results.filter((result) => result.status === 'fulfilled');
      expect(admitted).toHaveLength(3);
      for (const result of results) {
        if (result.status === 'rejected') {
          expect(result.reason).toBeInstanceOf(SessionLimitError);
        }
      }
      const owners = await Promise.all(ids.map((id) => client().hget(`${prefix}${hashedId(id)}`, 'o')));
      expect(owners.filter((owner) => owner === 'ada')).toHaveLength(3);
      expect(await store.listOwnerSessions('ada')).toHaveLength(3);
      expect(await store.deleteOwnerSessions('ada')).toBe(3);
    });

    it("log-ins, owner changes and ends racing each other under 'evict' leave at most the bound, and every live session of the owner in its index", async () => {
      const evicted: string[] = [];
      store.limitOwnerSessions({ max: 2, policy: 'evict', evicted: (_owner, handles) => evicted.push(...handles) });
      const anonymous = Array.from({ length: 4 }, newId);
      for (const id of anonymous) {
        await store.setSession(id, record());
      }
      const fresh = Array.from({ length: 6 }, newId);
      await Promise.all([
        ...fresh.map((id) => store.setSession(id, record(), 'ada')),
        ...anonymous.map((id) => store.patchSession(id, { set: {}, unset: [], owner: 'ada', ...record() })),
        store.deleteOwnerSessions('ada'),
      ]);
      const all = [...fresh, ...anonymous];
      const owned = [];
      for (const id of all) {
        const [owner, e] = await client().hmget(`${prefix}${hashedId(id)}`, 'o', 'e');
        if (owner === 'ada' && e !== null) {
          owned.push(hashedId(id));
        }
      }
      expect(owned.length).toBeLessThanOrEqual(2);
      expect(await members()).toEqual(expect.arrayContaining(owned));
      expect((await store.listOwnerSessions('ada')).map((entry) => entry.handle).sort()).toEqual(owned.sort());
      expect(evicted.length).toBeGreaterThan(0);
    });

    it("when 20 log-ins of one owner race under 'evict' with max 3 (new sessions and patches giving the owner), reports each eviction once and leaves exactly 3", async () => {
      const reported: string[] = [];
      store.limitOwnerSessions({
        max: 3,
        policy: 'evict',
        evicted: (owner, handles) => {
          expect(owner).toBe('ada');
          reported.push(...handles);
        },
      });
      // Rounds on top of each other: the second and later also start at the bound, with
      // written sessions to evict besides the saves in flight. Half of each round's
      // log-ins are new sessions, half anonymous sessions given the owner by a patch.
      const all: string[] = [];
      for (let round = 0; round < 3; round++) {
        const ids = Array.from({ length: 20 }, newId);
        all.push(...ids);
        const anonymous = ids.slice(10);
        for (const id of anonymous) {
          await store.setSession(id, record());
        }
        await Promise.all([
          ...ids.slice(0, 10).map((id) => store.setSession(id, record(), 'ada')),
          ...anonymous.map((id) => store.patchSession(id, { set: { userId: 'ada' }, unset: [], owner: 'ada', ...record() })),
        ]);
        clock.advance(1000);
        const live = (await store.listOwnerSessions('ada')).map((entry) => entry.handle);
        expect(live).toHaveLength(3);
        // Every log-in either lives or was reported evicted, exactly once.
        expect(new Set(reported).size).toBe(reported.length);
        expect([...reported, ...live].sort()).toEqual(all.map(hashedId).sort());
        for (const id of all) {
          const loaded = await store.getSession(id);
          expect(loaded !== undefined).toBe(live.includes(hashedId(id)));
        }
      }
    });

    it('an eviction of a save still in flight leaves a tombstone, so that save writes nothing', async () => {
      store.limitOwnerSessions({ max: 1, policy: 'evict' });
      const inFlight = newId();
      const key = `${prefix}${hashedId(inFlight)}`;
      // The first half of a bounded save: marked and filed, not yet written.
      await client().hset(key, 'i', 'ada');
      await client().pexpire(key, 60_000);
      await client().zadd(`${prefix}owner:ada`, String(clock.now() + 2 * HOUR), hashedId(inFlight));
      await store.setSession(newId(), record(), 'ada'); // evicts the one in flight
      expect(await client().hget(key, 'x')).toBe('1');
      // Its write arrives now: refused by the tombstone, so the bound holds.
      expect(await store.setSession(inFlight, record(), 'ada')).toBe(inFlight);
      expect(await store.getSession(inFlight)).toBeUndefined();
      expect(await store.listOwnerSessions('ada')).toHaveLength(1);
    });
  });
}
