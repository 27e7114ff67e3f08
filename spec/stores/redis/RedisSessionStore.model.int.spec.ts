import { Cluster, Redis } from 'ioredis';
import { RedisSessionStore } from 'kit-session/redis';
import { deleteRedisKeys, useRedisCluster } from '../../support/redisCluster.js';
import { describeWith, REDIS_URL, uniqueName } from '../../support/services.js';
import { describeSessionModel, type ModelTarget, type TargetTraits } from '../../support/sessionModel.js';

// The session model on Redis and on a three-node Redis Cluster, bare and with
// encryptValues: each sequence gets a key prefix of its own, deleted after it.

const bare: TargetTraits = { kind: 'server', sealed: false, encryptValues: false, ownerIndex: true };
const encrypted: TargetTraits = { kind: 'server', sealed: true, encryptValues: true, ownerIndex: true };

function targets(name: string, client: () => Redis | Cluster, runs: number): void {
  const base = uniqueName('kit-session-model');
  let sequence = 0;
  const open: ModelTarget['open'] = async (clock) => {
    const prefix = `${base}:${sequence++}:`;
    return {
      store: new RedisSessionStore(client(), { prefix }, clock),
      close: () => deleteRedisKeys(client(), prefix),
    };
  };
  describeSessionModel({ name, traits: bare, open }, runs);
  describeSessionModel(
    { name: `EncryptingStoreDecorator(${name}, encryptValues), node:crypto and Web Crypto by turns`, traits: encrypted, crypto: ['auto', 'webcrypto'], open },
    runs,
  );
}

describeWith('redis', 'RedisSessionStore against the session model', () => {
  let redis: Redis;

  beforeAll(() => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    redis.on('error', () => {});
  });

  afterAll(async () => {
    await redis.quit();
  });

  targets('RedisSessionStore', () => redis, 150);
  // The bound on an owner's sessions, each policy (the admission runs in Lua).
  const base = uniqueName('kit-session-model-limit');
  let sequence = 0;
  const open: ModelTarget['open'] = async (clock) => {
    const prefix = `${base}:${sequence++}:`;
    return { store: new RedisSessionStore(redis, { prefix }, clock), close: () => deleteRedisKeys(redis, prefix) };
  };
  describeSessionModel({ name: 'RedisSessionStore, maxSessionsPerOwner 2, evict', traits: { ...bare, limit: { max: 2, policy: 'evict' } }, open }, 25);
  describeSessionModel({ name: 'RedisSessionStore, maxSessionsPerOwner 1, refuse', traits: { ...bare, limit: { max: 1, policy: 'refuse' } }, open }, 15);
});

describeWith(['redis-binaries'], 'RedisSessionStore on a Redis Cluster against the session model', () => {
  const clusterClient = useRedisCluster();

  targets('RedisSessionStore (Cluster)', clusterClient, 80);
});
