export type { RedisOwnerGenerationsOptions } from './RedisOwnerGenerations.js';
export { RedisOwnerGenerations } from './RedisOwnerGenerations.js';
export type { IoredisClientLike, NodeRedisClient, RedisClientLike } from './redisClient.js';
export type { RedisSessionStoreOptions } from './RedisSessionStore.js';
export { DEFAULT_REDIS_PREFIX, RedisSessionStore } from './RedisSessionStore.js';
