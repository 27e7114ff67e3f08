import { randomBytes } from 'node:crypto';
import { EncryptingStoreDecorator, importRawKey } from 'kit-session';
import { RedisOwnerGenerations, RedisSessionStore } from 'kit-session/redis';
import { describeOwnerGenerationsContract } from '../../support/ownerGenerationsContract.js';
import { FakeClock } from '../../support/FakeClock.js';
import { deleteRedisKeys, dumpRedis, useRedisCluster } from '../../support/redisCluster.js';
import { describeManagerScenarios, describeWith, hashedId, uniqueName } from '../../support/services.js';
import { describeRedisOwnerIndex } from '../../support/redisOwners.js';
import { describeRedisRenewal } from '../../support/redisRenewal.js';
import { describeStoreContract, type ContractValues } from '../../support/storeContract.js';

const HOUR = 60 * 60 * 1000;

describeWith('redis-binaries', 'RedisSessionStore on a three-node Redis Cluster', () => {
  const clusterClient = useRedisCluster();

  const prefixOf = () => `${uniqueName('kit-session-test')}:`;

  describeStoreContract('RedisSessionStore (Cluster)', () => {
    const clock = new FakeClock();
    const prefix = prefixOf();
    return {
      store: new RedisSessionStore<ContractValues>(clusterClient(), { prefix }, clock),
      clock,
      serverSide: true,
      dump: () => dumpRedis(clusterClient(), prefix),
      close: () => deleteRedisKeys(clusterClient(), prefix),
    };
  });

  describeStoreContract('EncryptingStoreDecorator(RedisSessionStore (Cluster), encryptValues)', async () => {
    const clock = new FakeClock();
    const prefix = prefixOf();
    const keys = [await importRawKey(randomBytes(32).toString('base64'))];
    const inner = new RedisSessionStore<ContractValues>(clusterClient(), { prefix }, clock);
    return {
      store: new EncryptingStoreDecorator(inner, { keys, encryptValues: true }, clock),
      clock,
      serverSide: true,
      encryptsValues: true,
      dump: () => dumpRedis(clusterClient(), prefix),
      close: () => deleteRedisKeys(clusterClient(), prefix),
    };
  });

  describeRedisOwnerIndex('RedisSessionStore (Cluster)', clusterClient);
  describeRedisRenewal('RedisSessionStore (Cluster)', clusterClient);

  describeOwnerGenerationsContract('RedisOwnerGenerations (Cluster)', () => {
    const prefix = prefixOf();
    return { generations: new RedisOwnerGenerations(clusterClient(), { prefix }), close: () => deleteRedisKeys(clusterClient(), prefix) };
  });

  describeManagerScenarios('RedisSessionStore (Cluster)', () => {
    const prefix = prefixOf();
    return { store: new RedisSessionStore(clusterClient(), { prefix }), close: () => deleteRedisKeys(clusterClient(), prefix) };
  });

  it('renews a session into a successor on another node: atomic by its claim, served as superseded, ended by its handle through the successor', async () => {
    const clock = new FakeClock();
    const prefix = prefixOf();
    const store = new RedisSessionStore<ContractValues>(clusterClient(), { prefix }, clock);
    store.limitOwnerSessions({ max: 1, policy: 'refuse' });
    const slots = (await clusterClient().call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
    const nodeOf = async (key: string) => {
      const slot = Number(await clusterClient().call('CLUSTER', 'KEYSLOT', key));
      return slots.find(([from, to]) => slot >= from && slot <= to)![2][1];
    };
    // Three nodes: the old session, its successor and the owner's index each on its own.
    const ownerNode = await nodeOf(`${prefix}owner:ada`);
    const idOn = async (avoid: number[]) => {
      for (;;) {
        const id = randomBytes(32).toString('base64url');
        if (!avoid.includes(await nodeOf(`${prefix}${hashedId(id)}`))) {
          return id;
        }
      }
    };
    const before = await idOn([ownerNode]);
    const after = await idOn([ownerNode, await nodeOf(`${prefix}${hashedId(before)}`)]);
    const record = { values: { u: 'ada' }, expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR };
    try {
      await store.setSession(before, record, 'ada');
      // At the bound of one: the successor takes its predecessor's place.
      await expect(store.renewSession(before, after, { record, owner: 'ada', grace: 30_000 })).resolves.toBe(after);
      await expect(store.getSession(before)).resolves.toMatchObject({ id: before, superseded: true });
      await expect(store.getSession(after)).resolves.toMatchObject({ id: after, values: { u: 'ada' } });
      await expect(store.listOwnerSessions('ada')).resolves.toMatchObject([{ handle: hashedId(after) }]);
      await expect(store.renewSession(before, randomBytes(32).toString('base64url'), { record, owner: 'ada', grace: 0 })).resolves.toBeUndefined();
      await expect(store.deleteSessionByHandle('ada', hashedId(before))).resolves.toBe(true);
      await expect(store.getSession(after)).resolves.toBeUndefined();
      await expect(store.getSession(before)).resolves.toBeUndefined();
    } finally {
      await deleteRedisKeys(clusterClient(), prefix);
    }
  });

  it('lists, ends by handle and ends all but one of an owner\'s sessions when the sessions and the owner index sit on different nodes', async () => {
    const clock = new FakeClock();
    const prefix = prefixOf();
    const store = new RedisSessionStore<ContractValues>(clusterClient(), { prefix }, clock);

    // Pick one session id per node, so the owner index cannot share a node with all.
    const slots = (await clusterClient().call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
    const nodeOf = async (key: string) => {
      const slot = Number(await clusterClient().call('CLUSTER', 'KEYSLOT', key));
      return slots.find(([from, to]) => slot >= from && slot <= to)![2][1];
    };
    const idsByNode = new Map<number, string>();
    while (idsByNode.size < 3) {
      const id = randomBytes(32).toString('base64url');
      const port = await nodeOf(`${prefix}${hashedId(id)}`);
      if (!idsByNode.has(port)) {
        idsByNode.set(port, id);
      }
    }
    const record = { values: { u: 'ada' }, expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR };
    for (const id of idsByNode.values()) {
      await store.setSession(id, record, 'ada');
    }
    const other = randomBytes(32).toString('base64url');
    await store.setSession(other, { ...record, values: { u: 'bob' } }, 'bob');

    try {
      const handles = [...idsByNode.values()].map(hashedId);
      const listed = await store.listOwnerSessions('ada');
      expect(listed.map((entry) => entry.handle).sort()).toEqual([...handles].sort());
      await expect(store.deleteSessionByHandle('ada', handles[0]!)).resolves.toBe(true);
      await expect(store.deleteSessionByHandle('bob', handles[1]!)).resolves.toBe(false);
      await expect(store.deleteOwnerSessions('ada', handles[1]!)).resolves.toBe(1);
      await expect(store.listOwnerSessions('ada')).resolves.toMatchObject([{ handle: handles[1] }]);
      await expect(store.deleteOwnerSessions('ada')).resolves.toBe(1);
      for (const id of idsByNode.values()) {
        await expect(store.getSession(id)).resolves.toBeUndefined();
      }
      await expect(store.getSession(other)).resolves.toMatchObject({ values: { u: 'bob' } });
    } finally {
      await deleteRedisKeys(clusterClient(), prefix);
    }
  });
});
