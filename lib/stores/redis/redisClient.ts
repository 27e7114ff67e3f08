// kit-session/redis: the one seam between the Redis classes and the client the app gave
// them (internal, but for the client types the constructors name): an ioredis `Redis` or
// `Cluster`, or a node-redis v5 client or cluster (`createClient()`, `createCluster()`),
// detected once, when the store is built. Both answer through the same few commands:
// HGETALL, HMGET, GET, DEL, ZRANGEBYSCORE (WITHSCORES) and the store's Lua scripts by
// their SHA-1, loaded on a NOSCRIPT. Neither client is imported at run time: the app's
// own object is used as it is, so `kit-session/redis` needs neither installed.
import { createHash } from 'node:crypto';

/** One argument to a script; Redis hands it to Lua as a string. */
type Argument = string | number;

/**
 * What a script answers: an integer, a string, nil (`null`), or an array of them.
 *
 * @internal
 */
export type ScriptAnswer = number | string | null | (number | string | null)[];

/**
 * A Lua script of a Redis class: its body, its SHA-1 (what `EVALSHA` names it by), and
 * the command name ioredis's `defineCommand` gives it on the client, which carries a hash
 * of the body, so two versions of a script never clash on one client.
 *
 * @internal
 */
export interface LuaScript {
  /** The command name on an ioredis client: `kitSession_<name>_<12 hex digits>`. */
  readonly command: string;
  /** The script. */
  readonly lua: string;
  /** The SHA-1 of the script, in hex. */
  readonly sha1: string;
}

/**
 * A script as the Redis classes run it.
 *
 * @internal
 * @param name - Its name, unique among the scripts of one client.
 * @param lua - Its body.
 * @returns The script, with its SHA-1 and its command name.
 */
export function luaScript(name: string, lua: string): LuaScript {
  const sha1 = createHash('sha1').update(lua).digest('hex');
  return { command: `kitSession_${name}_${sha1.slice(0, 12)}`, lua, sha1 };
}

/**
 * A node-redis v5 client or cluster, as the Redis classes of `kit-session/redis` use it:
 * what `createClient()` and `createCluster()` of the `redis` package (or
 * `@redis/client`) give, connected by the app. Written out here, rather than imported
 * from `redis`, so that an app that uses ioredis needs no node-redis types, whatever
 * modules, RESP version or type mapping its client was made with.
 *
 * @example
 * ```ts
 * import { createClient } from 'redis';
 * import { RedisSessionStore } from 'kit-session/redis';
 *
 * const client = await createClient({ url: process.env.REDIS_URL }).connect();
 * const store = new RedisSessionStore(client);
 * ```
 */
export interface NodeRedisClient {
  /** node-redis's `withTypeMapping`: the store reads through its own type mapping. */
  readonly withTypeMapping: (typeMapping: never) => unknown;
  /** node-redis's `evalSha`. */
  readonly evalSha: (sha1: string, options: never) => Promise<unknown>;
  /** node-redis's `eval`. */
  readonly eval: (script: string, options: never) => Promise<unknown>;
  /** node-redis's `hGetAll`. */
  readonly hGetAll: (key: string) => Promise<unknown>;
  /** node-redis's `hmGet`. */
  readonly hmGet: (key: string, fields: never) => Promise<unknown>;
  /** node-redis's `zRangeByScoreWithScores`. */
  readonly zRangeByScoreWithScores: (key: string, min: string, max: string) => Promise<unknown>;
}

/**
 * An ioredis `Redis` or `Cluster`, as the Redis classes of `kit-session/redis` use it.
 * Written out here, rather than imported from `ioredis`, so that an app on node-redis
 * compiles without ioredis's types (with or without `skipLibCheck`).
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { RedisSessionStore } from 'kit-session/redis';
 *
 * const store = new RedisSessionStore(new Redis(process.env.REDIS_URL!));
 * ```
 */
export interface IoredisClientLike {
  /** ioredis's `defineCommand`: the store defines its scripts on the client. */
  readonly defineCommand: (name: never, definition: never) => unknown;
  /** ioredis's `hgetall`. */
  readonly hgetall: (key: never) => Promise<unknown>;
  /** ioredis's `hmget`. */
  readonly hmget: (key: never, ...fields: never[]) => Promise<unknown>;
  /** ioredis's `get`. */
  readonly get: (key: never) => Promise<unknown>;
  /** ioredis's `del`. */
  readonly del: (key: never) => Promise<unknown>;
  /** ioredis's `zrangebyscore`. */
  readonly zrangebyscore: (key: never, min: never, max: never, withScores: never) => Promise<unknown>;
}

/**
 * A Redis client a class of `kit-session/redis` accepts: an ioredis `Redis` or `Cluster`,
 * or a node-redis v5 client or cluster. The same keys and the same data either way, so
 * an app can move from one to the other without ending a session.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import type { RedisClientLike } from 'kit-session/redis';
 *
 * const client: RedisClientLike = new Redis(process.env.REDIS_URL!);
 * ```
 */
export type RedisClientLike = IoredisClientLike | NodeRedisClient;

/**
 * A sorted set's member with its score as Redis wrote it (text, compared as text).
 *
 * @internal
 */
export interface ScoredMember {
  /** The member. */
  readonly member: string;
  /** Its score, as Redis formats it. */
  readonly score: string;
}

/**
 * The commands the Redis classes send, the same on every client. Each key is routed to
 * the node that holds it on a Cluster; each script touches only its one key.
 *
 * @internal
 */
export interface RedisClient {
  /** HGETALL: every field of a hash (none when the key does not exist). */
  hgetall(key: string): Promise<Record<string, string>>;
  /** HMGET: the given fields of a hash, `null` for each one missing. */
  hmget(key: string, fields: readonly string[]): Promise<(string | null)[]>;
  /** GET: a string key's value, `null` when it does not exist. */
  get(key: string): Promise<string | null>;
  /** DEL of one key. */
  del(key: string): Promise<unknown>;
  /** ZRANGEBYSCORE … WITHSCORES: the members scored from `min` to `max`, lowest first. */
  zrangebyscore(key: string, min: string, max: string): Promise<ScoredMember[]>;
  /** Runs a script on its one key (EVALSHA, then EVAL when the server lacks it). */
  run(script: LuaScript, key: string, args: readonly Argument[]): Promise<ScriptAnswer>;
}

/** One script as ioredis defines it on the client (called with the client as `this`): the key, then ARGV. */
type IoredisCommand = (this: IoredisCommands, key: string, ...args: Argument[]) => Promise<ScriptAnswer>;

/** The part of ioredis's `Redis` and `Cluster` the Redis classes use; both have it. */
interface IoredisCommands {
  hgetall(key: string): Promise<Record<string, string>>;
  hmget(key: string, ...fields: string[]): Promise<(string | null)[]>;
  get(key: string): Promise<string | null>;
  del(key: string): Promise<number>;
  zrangebyscore(key: string, min: string, max: string, withScores: 'WITHSCORES'): Promise<string[]>;
  defineCommand(name: string, definition: { lua: string; numberOfKeys: number }): void;
}

/** The node-redis calls, with the types the store's own type mapping gives. */
interface NodeRedisCommands {
  evalSha(sha1: string, options: { keys: string[]; arguments: string[] }): Promise<ScriptAnswer>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<ScriptAnswer>;
  hGetAll(key: string): Promise<Record<string, string>>;
  hmGet(key: string, fields: string[]): Promise<(string | null)[]>;
  get(key: string): Promise<string | null>;
  del(key: string): Promise<number>;
  zRangeByScoreWithScores(key: string, min: string, max: string): Promise<{ value: string; score: string }[]>;
}

/**
 * node-redis's type mapping the store reads through: its defaults (text as strings, a map
 * as an object), whatever the app's client maps, and doubles (a sorted set's scores) as
 * the text Redis sent (44 is RESP's `,`, node-redis's `RESP_TYPES.DOUBLE`), the form the
 * scripts compare scores in.
 */
const NODE_REDIS_TYPES = { 44: String } as const;

/**
 * ioredis: each script defined on the client with `defineCommand`, which runs it by
 * `EVALSHA` and sends the body on a NOSCRIPT, and kept as ioredis defined it, called
 * with the client as `this`: no wrapper that copies the arguments again on each call.
 */
class IoredisClient implements RedisClient {
  readonly #client: IoredisCommands;
  readonly #commands = new Map<LuaScript, IoredisCommand>();

  constructor(client: IoredisCommands & Record<string, unknown>, scripts: readonly LuaScript[]) {
    for (const script of scripts) {
      if (typeof client[script.command] !== 'function') {
        client.defineCommand(script.command, { lua: script.lua, numberOfKeys: 1 });
      }
      this.#commands.set(script, client[script.command] as IoredisCommand);
    }
    this.#client = client;
  }

  hgetall(key: string): Promise<Record<string, string>> {
    return this.#client.hgetall(key);
  }

  hmget(key: string, fields: readonly string[]): Promise<(string | null)[]> {
    return this.#client.hmget(key, ...fields);
  }

  get(key: string): Promise<string | null> {
    return this.#client.get(key);
  }

  del(key: string): Promise<unknown> {
    return this.#client.del(key);
  }

  async zrangebyscore(key: string, min: string, max: string): Promise<ScoredMember[]> {
    const flat = await this.#client.zrangebyscore(key, min, max, 'WITHSCORES');
    const members: ScoredMember[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      members.push({ member: flat[i]!, score: flat[i + 1]! });
    }
    return members;
  }

  run(script: LuaScript, key: string, args: readonly Argument[]): Promise<ScriptAnswer> {
    return this.#commands.get(script)!.call(this.#client, key, ...args);
  }
}

/**
 * node-redis v5, a client or a cluster alike: its typed commands route each to the node
 * holding its first key (a script's too: `keys` names it), and read through the store's
 * own type mapping. A script runs by `EVALSHA`, then by `EVAL` (which also loads it) when
 * the node answers NOSCRIPT, as node-redis's own scripts do.
 */
class NodeRedisClientAdapter implements RedisClient {
  readonly #client: NodeRedisCommands;

  constructor(client: NodeRedisClient) {
    this.#client = client.withTypeMapping(NODE_REDIS_TYPES as never) as NodeRedisCommands;
  }

  hgetall(key: string): Promise<Record<string, string>> {
    return this.#client.hGetAll(key);
  }

  hmget(key: string, fields: readonly string[]): Promise<(string | null)[]> {
    return this.#client.hmGet(key, fields as string[]);
  }

  get(key: string): Promise<string | null> {
    return this.#client.get(key);
  }

  del(key: string): Promise<unknown> {
    return this.#client.del(key);
  }

  async zrangebyscore(key: string, min: string, max: string): Promise<ScoredMember[]> {
    const scored = await this.#client.zRangeByScoreWithScores(key, min, max);
    return scored.map(({ value, score }) => ({ member: value, score: String(score) }));
  }

  async run(script: LuaScript, key: string, args: readonly Argument[]): Promise<ScriptAnswer> {
    const options = { keys: [key], arguments: args.map(String) };
    try {
      return await this.#client.evalSha(script.sha1, options);
    } catch (error) {
      // Redis's error replies start with their code; node-redis's scripts test it so too.
      if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) {
        throw error;
      }
      return this.#client.eval(script.lua, options);
    }
  }
}

/** Whether a value has every one of these methods. */
function hasMethods(value: unknown, names: readonly string[]): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function')
  );
}

const IOREDIS_METHODS = ['defineCommand', 'hgetall', 'hmget', 'get', 'del', 'zrangebyscore'] as const;
const NODE_REDIS_METHODS = ['withTypeMapping', 'evalSha', 'eval', 'hGetAll', 'hmGet', 'get', 'del', 'zRangeByScoreWithScores'] as const;

/**
 * The commands of the client an app gave a Redis class, whichever client it is; on
 * ioredis, each script is defined on the client (`defineCommand`) now.
 *
 * @internal
 * @param client - What the app gave.
 * @param scripts - The scripts the class runs.
 * @returns The client's commands.
 * @throws TypeError naming `client` when it is neither an ioredis `Redis` or `Cluster`
 *   nor a node-redis v5 client or cluster.
 */
export function redisClient(client: unknown, scripts: readonly LuaScript[]): RedisClient {
  if (hasMethods(client, IOREDIS_METHODS)) {
    return new IoredisClient(client as unknown as IoredisCommands & Record<string, unknown>, scripts);
  }
  if (hasMethods(client, NODE_REDIS_METHODS)) {
    return new NodeRedisClientAdapter(client as unknown as NodeRedisClient);
  }
  throw new TypeError('client must be an ioredis Redis or Cluster, or a node-redis v5 client or cluster');
}
