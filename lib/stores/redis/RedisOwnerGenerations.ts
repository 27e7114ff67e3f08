// kit-session/redis: RedisOwnerGenerations, the owners' generations in Redis or a Redis Cluster.
import { checkOptionKeys } from '../../core/options.js';
import type { OwnerGenerations } from '../../core/SessionStore.js';
import { GenerationsEpoch, parseMarker } from '../generationsEpoch.js';
import { resolveTimeout, storeOperation } from '../policy.js';
import { luaScript, redisClient, type RedisClient, type RedisClientLike } from './redisClient.js';
import { withoutArguments } from './redisErrors.js';
import { DEFAULT_REDIS_PREFIX } from './RedisSessionStore.js';

/**
 * Options of {@link RedisOwnerGenerations}.
 */
export interface RedisOwnerGenerationsOptions {
  /**
   * Put before every key: an owner's generation lives at `<prefix>gen:<owner>`, the
   * store's marker at `<prefix>generations`. The same prefix as the app's
   * `RedisSessionStore` keeps all of one app's keys together.
   * @default 'sess:'
   */
  readonly prefix?: string;
  /**
   * The longest an operation may take, in milliseconds, before it rejects with
   * `SessionStoreError` (cause: an error named `TimeoutError`), reconnection waits in
   * the client's offline queue included.
   * @default 5000
   */
  readonly timeout?: number;
}

/** Every key of {@link RedisOwnerGenerationsOptions}. */
const GENERATIONS_OPTIONS = ['prefix', 'timeout'] as const satisfies readonly (keyof RedisOwnerGenerationsOptions)[];

/**
 * A bump: `INCR`, raised to the epoch's floor plus one when below it (ARGV[1]: the floor).
 * Written as `%.0f` so that a large number never becomes `1e+15` text.
 */
const BUMP = `local generation = redis.call('INCR', KEYS[1])
local floor = tonumber(ARGV[1])
if generation <= floor then
  generation = floor + 1
  redis.call('SET', KEYS[1], string.format('%.0f', generation))
end
return generation`;

/** {@link BUMP} as the client runs it. */
const BUMP_SCRIPT = luaScript('bump', BUMP);

/**
 * Compare and set of the marker: writes ARGV[2] when the key holds ARGV[1] ('' for no
 * key); answers what the key holds after.
 */
const MARK = `local current = redis.call('GET', KEYS[1])
if (current or '') == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2])
  return ARGV[2]
end
return current`;

/** {@link MARK} as the client runs it. */
const MARK_SCRIPT = luaScript('mark', MARK);

/**
 * Keeps each owner's generation in Redis or a Redis Cluster, for revocable sealed
 * cookies (see `OwnerGenerations`): one string key per owner, `<prefix>gen:<owner>`,
 * holding an integer. `current` is one `GET` of it (0 when the key does not exist), sent
 * together with a `GET` of the store's marker; `bump` one `INCR` in a script (by
 * `EVALSHA`, as `RedisSessionStore` runs its own), which Redis applies atomically, so
 * concurrent bumps are all counted. An ioredis client and a node-redis v5 one read and
 * write the same keys alike. Each owner has a key of its
 * own, so on a Cluster the owners spread over the nodes. The keys carry no expiry: a
 * generation must outlive every cookie sealed under it.
 *
 * Redis must keep its data (AOF or RDB persistence, a replica that takes over with it):
 * a generation lost reopens the cookies it revoked. The marker, `<prefix>generations`, is
 * written at first use; an object that finds it gone or replaced (Redis restarted empty)
 * rejects that read with `SessionGenerationsLostError` and begins a new epoch above every
 * generation handed out before, so every cookie sealed before the loss reads as revoked.
 * On a Cluster the marker lives on one node: a loss on another is seen only by the
 * manager's cache (a generation lower than one it read).
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
  readonly #client: RedisClient;
  readonly #prefix: string;
  readonly #timeout: number;
  readonly #epoch = new GenerationsEpoch();

  /**
   * @param client - An ioredis `Redis` or `Cluster`, or a node-redis v5 client or cluster
   *   (`createClient()`, `createCluster()`), connected and owned by the app. On ioredis
   *   its scripts are added with `defineCommand` (names starting `kitSession_`).
   * @param options - See {@link RedisOwnerGenerationsOptions}.
   * @throws TypeError when `client` is neither, an option is invalid, or `options` names
   *   an option that does not exist.
   */
  constructor(client: RedisClientLike, options: RedisOwnerGenerationsOptions = {}) {
    checkOptionKeys('RedisOwnerGenerations options', options, GENERATIONS_OPTIONS);
    const prefix = options.prefix ?? DEFAULT_REDIS_PREFIX;
    if (typeof prefix !== 'string') {
      throw new TypeError('prefix must be a string');
    }
    this.#timeout = resolveTimeout(options.timeout);
    this.#client = redisClient(client, [BUMP_SCRIPT, MARK_SCRIPT]);
    this.#prefix = prefix;
  }

  /**
   * Reads an owner's current generation: one `GET`, sent with a `GET` of the marker.
   *
   * @param owner - The owner.
   * @returns The generation: 0 for an owner never bumped (the epoch's floor after a loss).
   * @throws SessionGenerationsLostError when the marker is gone or replaced: Redis lost
   *   its data. The next read answers from the new epoch.
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
      const [text, marker] = await Promise.all([this.#client.get(key), this.#client.get(this.#markerKey())]);
      const found = parseMarker(marker);
      const floor = await this.#epoch.floorFor(found, (next) => this.#mark(found, next), true);
      return this.#epoch.answer(parseGeneration(text), floor);
    });
  }

  /**
   * Moves an owner's generation forward by one: one `INCR` in a script, atomic in Redis
   * (after a `GET` of the marker, whose epoch it stays above).
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
    return this.#run('bump', async () => {
      const found = parseMarker(await this.#client.get(this.#markerKey()));
      // A bump after a loss still revokes: it begins the new epoch and goes on above it.
      const floor = await this.#epoch.floorFor(found, (next) => this.#mark(found, next), false);
      const generation = Number(await this.#client.run(BUMP_SCRIPT, key, [String(floor)]));
      return this.#epoch.answer(generation, floor);
    });
  }

  #key(owner: string): string {
    return `${this.#prefix}gen:${owner}`;
  }

  /** Outside the owners' keys (`gen:` has a colon), and never a session's 43-character hash. */
  #markerKey(): string {
    return `${this.#prefix}generations`;
  }

  /** Writes `next` as the marker if it is still `found`; answers the marker in place after. */
  async #mark(found: number | undefined, next: number): Promise<number | undefined> {
    const after = await this.#client.run(MARK_SCRIPT, this.#markerKey(), [found === undefined ? '' : String(found), String(next)]);
    return parseMarker(after as string | null);
  }

  /** Runs one operation against the timeout; every failure becomes a SessionStoreError. */
  #run<R>(operation: string, work: () => Promise<R>): Promise<R> {
    return storeOperation(`redis owner generations: ${operation}`, this.#timeout, work, withoutArguments);
  }
}

/** An owner's generation as the key holds it: 0 for none. */
function parseGeneration(text: string | null): number {
  if (text === null) {
    return 0;
  }
  const generation = Number(text);
  if (!Number.isSafeInteger(generation) || generation < 0) {
    throw new Error('the stored generation is not a non-negative integer');
  }
  return generation;
}
