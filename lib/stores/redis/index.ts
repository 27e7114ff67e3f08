export type { RedisSessionStoreOptions } from './RedisSessionStore.js';
export { DEFAULT_REDIS_PREFIX, RedisSessionStore } from './RedisSessionStore.js';
