// kit-session/redis: RedisOwnerGenerations, the owners' generations in Redis or a Redis Cluster.
import type { Cluster, Redis } from 'ioredis';
import { checkOptionKeys, positive } from '../../core/options.js';
import type { OwnerGenerations } from '../../core/SessionStore.js';
import { DEFAULT_TIMEOUT, storeOperation } from '../storeOperation.js';
import { withoutArguments } from './redisErrors.js';
import { DEFAULT_REDIS_PREFIX } from './RedisSessionStore.js';

/**
 * Options of {@link RedisOwnerGenerations}.
 */
export interface RedisOwnerGenerationsOptions {
  /**
   * Put before every key: an owner's generation lives at `<prefix>gen:<owner>`. The same
   * prefix as the app's `RedisSessionStore` keeps all of one app's keys together.
   * @default 'sess:'
   */
  readonly prefix?: string;
  /**
   * The longest an operation may take, in milliseconds, before it rejects with
   * `SessionStoreError` (cause: an error named `TimeoutError`), reconnection waits in
   * ioredis's offline queue included.
   * @default 5000
   */
  readonly timeout?: number;
}

/** Every key of {@link RedisOwnerGenerationsOptions}. */
const GENERATIONS_OPTIONS = ['prefix', 'timeout'] as const satisfies readonly (keyof RedisOwnerGenerationsOptions)[];

/** The part of ioredis's `Redis` and `Cluster` this class uses; both have it. */
interface GenerationCommands {
  get(key: string): Promise<string | null>;
  incr(key: string): Promise<number>;
}

/**
 * Keeps each owner's generation in Redis or a Redis Cluster, for revocable sealed
 * cookies (see `OwnerGenerations`): one string key per owner, `<prefix>gen:<owner>`,
 * holding an integer. `current` is one `GET` (0 when the key does not exist), `bump` one
 * `INCR`, which Redis applies atomically, so concurrent bumps are all counted. Each owner
 * has a key of its own, so on a Cluster the owners spread over the nodes. The keys carry
 * no expiry: a generation must outlive every cookie sealed under it.
 *
 * It never closes the client, which belongs to the app.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { RedisOwnerGenerations } from 'kit-session/redis';
 *
 * const redis = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: 1 });
 * const generations = new RedisOwnerGenerations(redis);
 * await generations.bump('user-42'); // every cookie sealed for user-42 before is revoked
 * ```
 */
export class RedisOwnerGenerations implements OwnerGenerations {
  readonly #client: GenerationCommands;
  readonly #prefix: string;
  readonly #timeout: number;

  /**
   * @param client - An ioredis `Redis` or `Cluster`, owned by the app.
   * @param options - See {@link RedisOwnerGenerationsOptions}.
   * @throws TypeError when the client is not an ioredis client, an option is invalid, or
   *   `options` names an option that does not exist.
   */
  constructor(client: Redis | Cluster, options: RedisOwnerGenerationsOptions = {}) {
    checkOptionKeys('RedisOwnerGenerations options', options, GENERATIONS_OPTIONS);
    const commands = client as unknown as Partial<GenerationCommands> | null;
    if (commands === null || typeof commands !== 'object' || typeof commands.incr !== 'function' || typeof commands.get !== 'function') {
      throw new TypeError('client must be an ioredis Redis or Cluster');
    }
    const prefix = options.prefix ?? DEFAULT_REDIS_PREFIX;
    if (typeof prefix !== 'string') {
      throw new TypeError('prefix must be a string');
    }
    this.#timeout = positive('timeout', options.timeout ?? undefined, DEFAULT_TIMEOUT, 'milliseconds');
    this.#client = client as unknown as GenerationCommands;
    this.#prefix = prefix;
  }

  /**
   * Reads an owner's current generation: one `GET`.
   *
   * @param owner - The owner.
   * @returns The generation: 0 for an owner never bumped.
   * @throws SessionStoreError when Redis fails, answers something that is not a
   *   generation, or does not answer within `timeout`.
   * @example
   * ```ts
   * const generation = await generations.current('user-42'); // 0 until the first bump
   * ```
   */
  async current(owner: string): Promise<number> {
    const key = this.#key(owner);
    return this.#run('current', async () => {
      const text = await this.#client.get(key);
      if (text === null) {
        return 0;
      }
      const generation = Number(text);
      if (!Number.isSafeInteger(generation) || generation < 0) {
        throw new Error('the stored generation is not a non-negative integer');
      }
      return generation;
    });
  }

  /**
   * Moves an owner's generation forward by one: one `INCR`, atomic in Redis.
   *
   * @param owner - The owner.
   * @returns The new generation.
   * @throws SessionStoreError when Redis fails or does not answer within `timeout`.
   * @example
   * ```ts
   * await generations.bump('user-42'); // log out everywhere, sealed cookies included
   * ```
   */
  async bump(owner: string): Promise<number> {
    const key = this.#key(owner);
    return this.#run('bump', () => this.#client.incr(key));
  }

  #key(owner: string): string {
    return `${this.#prefix}gen:${owner}`;
  }

  /** Runs one operation against the timeout; every failure becomes a SessionStoreError. */
  #run<R>(operation: string, work: () => Promise<R>): Promise<R> {
    return storeOperation(`redis owner generations: ${operation}`, this.#timeout, work, withoutArguments);
  }
}
