import { Redis } from 'ioredis';
import { RedisSessionStore, type RedisClientLike } from 'kit-session/redis';
import { deleteRedisKeys, useNodeRedis, useRedisClusterClients } from '../../support/redisCluster.js';
import { describeWith, REDIS_URL, uniqueName } from '../../support/services.js';
import { describeSessionModel, type ModelTarget, type TargetTraits } from '../../support/sessionModel.js';

// The session model on node-redis v5: one Redis server (`createClient()`) and a
// three-node Redis Cluster (`createCluster()`, fewer runs), bare and with encryptValues,
// and the bound on an owner's sessions on one server. Each sequence gets a key prefix of
// its own (`kit-session-nr-model…`), deleted through ioredis after it.

const bare: TargetTraits = { kind: 'server', sealed: false, encryptValues: false, ownerIndex: true };
const encrypted: TargetTraits = { kind: 'server', sealed: true, encryptValues: true, ownerIndex: true };

/** Opens each sequence's store on `client`, under a prefix of its own, deleted through `cleanup`. */
function opener(base: string, client: () => RedisClientLike, cleanup: () => Redis | import('ioredis').Cluster): ModelTarget['open'] {
  let sequence = 0;
  return async (clock) => {
    const prefix = `${base}:${sequence++}:`;
    return { store: new RedisSessionStore(client(), { prefix }, clock), close: () => deleteRedisKeys(cleanup(), prefix) };
  };
}

function targets(name: string, open: ModelTarget['open'], runs: number): void {
  describeSessionModel({ name, traits: bare, open }, runs);
  describeSessionModel(
    { name: `EncryptingStoreDecorator(${name}, encryptValues), node:crypto and Web Crypto by turns`, traits: encrypted, crypto: ['auto', 'webcrypto'], open },
    runs,
  );
}

describeWith('redis', 'RedisSessionStore on node-redis against the session model', () => {
  const nodeRedis = useNodeRedis(REDIS_URL);
  let ioredis: Redis;

  beforeAll(() => {
    ioredis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    ioredis.on('error', () => {});
  });

  afterAll(async () => {
    await ioredis.quit();
  });

  targets('RedisSessionStore (node-redis)', opener(uniqueName('kit-session-nr-model'), nodeRedis, () => ioredis), 150);
  const limited = opener(uniqueName('kit-session-nr-model-limit'), nodeRedis, () => ioredis);
  describeSessionModel({ name: 'RedisSessionStore (node-redis), maxSessionsPerOwner 2, evict', traits: { ...bare, limit: { max: 2, policy: 'evict' } }, open: limited }, 25);
  describeSessionModel({ name: 'RedisSessionStore (node-redis), maxSessionsPerOwner 1, refuse', traits: { ...bare, limit: { max: 1, policy: 'refuse' } }, open: limited }, 15);
});

describeWith(['redis-binaries'], 'RedisSessionStore on node-redis and a Redis Cluster against the session model', () => {
  const clients = useRedisClusterClients();

  targets('RedisSessionStore (node-redis Cluster)', opener(uniqueName('kit-session-nr-model'), clients.nodeRedis, clients.ioredis), 80);
});
