// The examples' server-side store: sessions in Redis, for an example started with
// REDIS_URL. The cookie then carries only a sealed id, so every instance of the app that
// shares this Redis and SESSION_KEY serves the same sessions. While Redis is away, a
// request that needs it fails with SessionStoreError, which each example's error handler
// answers with 503: an outage never logs anyone out.
//
//   REDIS_URL=redis://127.0.0.1:6379 PORT=3000 node dist-examples/examples/adapters/express.js
//
// REDIS_PREFIX: what every key starts with (default `kit-session-example:`).
// SESSION_KEY: the keys, newest first (importKeysFromEnv); the examples set a fresh one
//   when it is unset.
import { Redis } from 'ioredis';
import { EncryptingStoreDecorator, importKeysFromEnv, SessionManager, type SessionManagerOptions } from 'kit-session';
import { RedisSessionStore } from 'kit-session/redis';

/** How long a Redis command may take before the request fails with SessionStoreError. */
const TIMEOUT = 2_000;

/**
 * The Redis store the examples use: a client that fails a command after one reconnection
 * attempt (`maxRetriesPerRequest: 1`) rather than queueing it for ever, wrapped so that
 * the id in the cookie and the values in Redis are sealed with SESSION_KEY.
 *
 * @param url - Redis's URL, e.g. `redis://127.0.0.1:6379`.
 * @returns The store, for a `SessionManager` or a container's `SESSION_INNER_STORE`.
 */
export function redisStore<T extends object>(url: string): RedisSessionStore<T> {
  const client = new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: TIMEOUT });
  // One line per outage, with the code only: without a listener, ioredis prints every
  // failed reconnection in full.
  let reported = false;
  client.on('error', (error: NodeJS.ErrnoException) => {
    if (!reported) {
      reported = true;
      console.error(`redis: connection error (${error.code ?? error.name})`);
    }
  });
  client.on('ready', () => {
    reported = false;
  });
  return new RedisSessionStore<T>(client, { prefix: process.env.REDIS_PREFIX || 'kit-session-example:', timeout: TIMEOUT });
}

/**
 * A session manager on Redis: what `createCookieSessions` is for the cookie.
 *
 * @param url - Redis's URL.
 * @param options - The manager's options.
 * @returns The manager.
 */
export async function redisSessions<T extends object>(url: string, options: SessionManagerOptions = {}): Promise<SessionManager<T>> {
  const keys = await importKeysFromEnv('SESSION_KEY');
  return new SessionManager<T>(new EncryptingStoreDecorator<T>(redisStore<T>(url), { keys, encryptValues: true }), options);
}
