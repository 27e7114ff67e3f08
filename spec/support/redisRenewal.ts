import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { SessionLimitError, type SessionRecord } from 'kit-session';
import { RedisSessionStore, type RedisClientLike } from 'kit-session/redis';
import { FakeClock } from './FakeClock.js';
import { deleteRedisKeys } from './redisCluster.js';
import { hashedId, uniqueName } from './services.js';
import type { ContractValues } from './storeContract.js';

const HOUR = 60 * 60 * 1000;
const GRACE = 30_000;
/** The store's operation grace with the default timeout: 5 s plus the minute of clock skew. */
const OPERATION_GRACE = 65_000;

function newId(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Registers the Redis-specific tests of renewal, where the layout matters: a session's
 * key and its successor's sit in slots of their own (on a Cluster, often on other
 * nodes), so a renewal is a claim on the old key, the successor's filing and write, and
 * a settling of the old key; every other operation must read a claim in between right.
 * The states between the steps are set up by hand (the fields the claim writes), as a
 * renewal cut off there would leave them.
 *
 * @param name - What the describe block is called.
 * @param client - The `Redis` or `Cluster` the tests use (ready when the tests run).
 * @param storeClient - The client the store is built on, when not `client` (a node-redis
 *   one: the tests then read what it wrote through ioredis).
 */
export function describeRedisRenewal(name: string, client: () => Redis | Cluster, storeClient: () => RedisClientLike = client): void {
  describe(`${name}: renewal`, () => {
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

    const record = (values: ContractValues = {}): SessionRecord<ContractValues> => ({
      values,
      expireTime: clock.now() + HOUR,
      deadline: clock.now() + 2 * HOUR,
    });
    const keyOf = (id: string) => `${prefix}${hashedId(id)}`;
    const members = () => client().zrange(`${prefix}owner:ada`, '0', '-1');
    const renew = (from: string, to: string, owner: string | undefined, grace = GRACE) =>
      store.renewSession(from, to, { record: record({ renewed: true }), owner, grace });
    /** What a renewal's first step leaves on the old key, its successor not yet written. */
    const claim = (id: string, successor: string, until = clock.now() + OPERATION_GRACE) =>
      client().hset(keyOf(id), 's', hashedId(successor), 'q', String(until), 't', '1');

    describe('.renewSession', () => {
      it('when it renews, the old hash names its successor, its expiry becomes the end of the grace, and the owner index holds the successor in its place', async () => {
        const before = newId();
        const after = newId();
        await store.setSession(before, record({ a: 1 }), 'ada');
        expect(await renew(before, after, 'ada')).toBe(after);
        const old = await client().hgetall(keyOf(before));
        expect(old).toMatchObject({ s: hashedId(after), e: String(clock.now() + GRACE), o: 'ada', va: '1' });
        expect(old).not.toHaveProperty('q');
        expect(old).not.toHaveProperty('t');
        const ttl = await client().pttl(keyOf(before));
        expect(ttl).toBeGreaterThan(GRACE);
        expect(ttl).toBeLessThanOrEqual(OPERATION_GRACE);
        expect(await client().hmget(keyOf(after), 'o', 'vrenewed', 's')).toEqual(['ada', 'true', null]);
        expect(await members()).toEqual([hashedId(after)]);
      });

      it("when the grace is 0, only the owner and the successor's hash stay under the old key: they load as nothing, its handle names nothing, and an owner's end reading the index before the renewal still reaches the successor", async () => {
        const before = newId();
        const after = newId();
        await store.setSession(before, record({ a: 1 }), 'ada');
        await renew(before, after, 'ada', 0);
        expect(await client().hgetall(keyOf(before))).toEqual({ o: 'ada', s: hashedId(after) });
        expect(await client().pttl(keyOf(before))).toBeLessThanOrEqual(OPERATION_GRACE);
        expect(await store.getSession(before)).toBeUndefined();
        // As an unknown id: the memory and PostgreSQL stores forget it at once.
        expect(await store.deleteSessionByHandle('ada', hashedId(before))).toBe(false);
        expect(await store.getSession(after)).toBeDefined();
        // An owner's end whose index read predates the renewal meets the pointer, and follows it.
        await store.setSession(before, record({ a: 1 }), 'ada');
        await renew(before, after, 'ada', 0);
        await client().zadd(`${prefix}owner:ada`, 0, hashedId(before));
        expect(await store.deleteOwnerSessions('ada')).toBe(1);
        expect(await store.getSession(after)).toBeUndefined();
      });

      it('when an admission has evicted the old session meanwhile, files and writes no successor, and leaves the old one for that admission to end', async () => {
        store.limitOwnerSessions({ max: 2, policy: 'evict' });
        const before = newId();
        const after = newId();
        await store.setSession(before, record(), 'ada');
        // What an admission leaves beside a victim's entry until the victim is found ended.
        const score = (await client().zscore(`${prefix}owner:ada`, hashedId(before)))!;
        await client().zadd(`${prefix}owner:ada`, score, `!${hashedId(before)}`);
        expect(await renew(before, after, 'ada')).toBeUndefined();
        expect(await client().exists(keyOf(after))).toBe(0);
        expect(await members()).not.toContain(hashedId(after));
        expect(await client().hget(keyOf(before), 's')).toBe(hashedId(after));
        // The admission's end of its victim (the same script as an end by handle) finds
        // the claim, ends it, counts it (so it is reported), and buries the successor.
        expect(await store.deleteSessionByHandle('ada', hashedId(before))).toBe(true);
        expect(await store.getSession(before)).toBeUndefined();
        expect(await client().hget(keyOf(after), 'x')).toBe('1');
      });

      it("when the owner's bound refuses a log-in, takes the claim back: the old session is as it was, and nothing is left under the new key", async () => {
        store.limitOwnerSessions({ max: 1, policy: 'refuse' });
        const owned = newId();
        await store.setSession(owned, record(), 'ada');
        const anonymous = newId();
        await store.setSession(anonymous, record({ cart: ['pen'] }));
        const after = newId();
        await expect(async () => renew(anonymous, after, 'ada')).rejects.toBeInstanceOf(SessionLimitError);
        expect(await client().hmget(keyOf(anonymous), 's', 'q', 't')).toEqual([null, null, null]);
        expect(await client().exists(keyOf(after))).toBe(0);
        expect(await members()).toEqual([hashedId(owned)]);
        const still = await store.getSession(anonymous);
        expect(still).toMatchObject({ values: { cart: ['pen'] } });
        expect(still!.superseded).toBeUndefined();
      });

      it('when the new id is malformed or the old one, rejects with TypeError', async () => {
        const before = newId();
        await store.setSession(before, record());
        await expect(async () => renew(before, 'not an id', undefined)).rejects.toThrow(TypeError);
        await expect(async () => renew(before, before, undefined)).rejects.toThrow(TypeError);
        expect(await store.getSession(before)).toMatchObject({ id: before });
      });
    });

    describe('.getSession', () => {
      it('when a renewal is in flight (claimed, its successor not written yet), serves the old id as superseded, and a patch of it writes nothing', async () => {
        const before = newId();
        await store.setSession(before, record({ page: 1 }), 'ada');
        await claim(before, newId());
        expect(await store.getSession(before)).toMatchObject({ values: { page: 1 }, superseded: true });
        const later = record();
        expect(await 
          store.patchSession(before, { set: { page: 2 }, unset: [], expireTime: later.expireTime, deadline: later.deadline }),
        ).toBeUndefined();
        expect(await client().hget(keyOf(before), 'vpage')).toBe('1');
      });

      it('when a renewal was cut off after its claim, serves the old id read-only until the claim lapses, then as nothing', async () => {
        const before = newId();
        await store.setSession(before, record(), 'ada');
        await claim(before, newId(), clock.now() + 1000);
        expect(await store.getSession(before)).toMatchObject({ superseded: true });
        expect(await store.listOwnerSessions('ada')).toEqual([]);
        clock.advance(1000);
        expect(await store.getSession(before)).toBeUndefined();
      });
    });

    describe('.deleteSessionByHandle', () => {
      it('when the session is being renewed and its successor is not written yet, ends it: the successor gets a tombstone, so the renewal writes nothing', async () => {
        const before = newId();
        const after = newId();
        await store.setSession(before, record(), 'ada');
        await claim(before, after);
        expect(await store.deleteSessionByHandle('ada', hashedId(before))).toBe(true);
        expect(await client().hget(keyOf(after), 'x')).toBe('1');
        // The renewal's write arrives now: the tombstone refuses it.
        await store.setSession(after, record(), 'ada');
        expect(await store.getSession(after)).toBeUndefined();
        expect(await store.getSession(before)).toBeUndefined();
      });
    });

    describe('.deleteOwnerSessions', () => {
      it('when the index still lists a session renewed since, ends its successor through it and counts the device once', async () => {
        const before = newId();
        const after = newId();
        const kept = newId();
        await store.setSession(before, record(), 'ada');
        await store.setSession(kept, record(), 'ada');
        await renew(before, after, 'ada');
        // As a log-out that read the index before the renewal moved the entry finds it.
        const score = (await client().zscore(`${prefix}owner:ada`, hashedId(after)))!;
        await client().zadd(`${prefix}owner:ada`, score, hashedId(before));
        await client().zrem(`${prefix}owner:ada`, hashedId(after));
        expect(await store.deleteOwnerSessions('ada', hashedId(kept))).toBe(1);
        expect(await store.getSession(after)).toBeUndefined();
        expect(await store.getSession(before)).toBeUndefined();
        expect(await store.getSession(kept)).toBeDefined();
      });
    });

    describe('.limitOwnerSessions', () => {
      it("with 'evict', renewals racing log-ins of one owner leave exactly the bound, report each eviction once, and never bring an evicted device back", async () => {
        const reported: string[] = [];
        store.limitOwnerSessions({ max: 3, policy: 'evict', evicted: (_owner, handles) => reported.push(...handles) });
        for (let round = 0; round < 6; round++) {
          const start = reported.length;
          const renewed = [newId(), newId(), newId()];
          for (const id of renewed) {
            await store.setSession(id, record(), 'ada');
            clock.advance(10);
          }
          const successors = renewed.map(() => newId());
          const logIns = Array.from({ length: 6 }, newId);
          // The renewals start a few turns of the event loop after the log-ins, later each
          // round, so that admissions meet them at each of their steps.
          const loggingIn = logIns.map((id) => store.setSession(id, record(), 'ada'));
          for (let turn = 0; turn < round * 2; turn++) {
            await new Promise((resolve) => setImmediate(resolve));
          }
          const tokens = await Promise.all(renewed.map((id, i) => renew(id, successors[i]!, 'ada')));
          await Promise.all(loggingIn);
          const live = (await store.listOwnerSessions('ada')).map((entry) => entry.handle);
          expect(live).toHaveLength(3);
          const evicted = reported.slice(start);
          expect(new Set(evicted).size).toBe(evicted.length);
          // Each device lives under one handle or was reported evicted under one, never both.
          const devices = [
            ...renewed.map((id, i) => [hashedId(id), hashedId(successors[i]!)]),
            ...logIns.map((id) => [hashedId(id)]),
          ];
          for (const handles of devices) {
            const seen = handles.filter((handle) => live.includes(handle) || evicted.includes(handle));
            expect(seen).toHaveLength(1);
          }
          for (const [i, id] of successors.entries()) {
            const loaded = await store.getSession(id);
            expect(loaded !== undefined).toBe(live.includes(hashedId(id)));
            // A renewal that wrote its successor was not evicted before it: a device evicted
            // while being renewed is reported under its old handle, and renewed into nothing.
            if (tokens[i] !== undefined) {
              expect(evicted).not.toContain(hashedId(renewed[i]!));
            }
          }
          await store.deleteOwnerSessions('ada');
        }
      });
    });
  });
}
