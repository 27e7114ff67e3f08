import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { systemClock, type Clock } from '../../session/Clock.js';
import { positive } from '../../session/options.js';
import { checkId, DEFAULT_TIMEOUT, isId, storeOperation } from '../storeOperation.js';
import type {
  LoadedSessionRecord,
  OwnerIndexedSessionStore,
  PatchableSessionStore,
  SessionPatch,
  SessionRecord,
} from '../SessionStore.js';

/**
 * Options of {@link RedisSessionStore}.
 */
export interface RedisSessionStoreOptions {
  /**
   * Put before every key the store writes: `<prefix><id>` for a session,
   * `<prefix>owner:<owner>` for an owner's index. Give each app its own prefix when
   * several share one Redis. In a Cluster, keep braces out of it: a `{hash tag}` in
   * the prefix puts every session in one slot, on one node.
   * @default 'sess:'
   */
  readonly prefix?: string;
  /**
   * The longest an operation may take, in milliseconds, before it rejects with
   * `SessionStoreError` (cause: an error named `TimeoutError`). It covers the whole
   * operation, reconnection waits in ioredis's offline queue included. ioredis's own
   * `commandTimeout`, set on the client, works too; whichever fires first wins.
   * @default 5000
   */
  readonly timeout?: number;
}

/** The default key prefix. */
export const DEFAULT_REDIS_PREFIX = 'sess:';

/**
 * How far another app server's clock may run behind this one's. Owner-index entries
 * are pruned only this long after their session's deadline.
 */
const CLOCK_SKEW_MARGIN = 60_000;

/** Hash field names: `e` expiry, `d` deadline, `o` owner, `v<name>` one value as JSON. */
const VALUE_FIELD = 'v';

// Every script touches only KEYS[1], so it runs on whichever Cluster node holds that
// key, and ioredis's `keyPrefix` applies to it. Numbers arrive as decimal strings.
// Unpacking is chunked: Lua's stack holds only a few thousand arguments.

/**
 * A Lua helper both save scripts start with: writes `fields` followed by the
 * field/value pairs in ARGV[first..last] with HSET, in chunks of about 200 arguments
 * that never split a pair.
 */
const HSET_PAIRS_LUA = `
local function hset_pairs(key, fields, first, last)
  for i = first, last do
    fields[#fields + 1] = ARGV[i]
    if #fields >= 200 and i < last and (i - first + 1) % 2 == 0 then
      redis.call('HSET', key, unpack(fields))
      fields = {}
    end
  end
  if #fields > 0 then
    redis.call('HSET', key, unpack(fields))
  end
end
`;

/**
 * setSession. ARGV: px, expireTime, deadline, owner ('' = none, else '#' .. owner),
 * then field/value pairs. The store writes the owner index before it runs this, so
 * the script never checks it. Returns 1.
 */
const SET_LUA = `${HSET_PAIRS_LUA}
local key = KEYS[1]
local owner = ARGV[4]
local fields = {'e', ARGV[2], 'd', ARGV[3]}
if owner ~= '' then
  fields[5] = 'o'
  fields[6] = string.sub(owner, 2)
end
redis.call('DEL', key)
hset_pairs(key, fields, 5, #ARGV)
redis.call('PEXPIRE', key, ARGV[1])
return 1
`;

/**
 * patchSession. ARGV: now, px ('0' = the new expiry has passed: delete), expireTime,
 * deadline, owner (as in SET_LUA), indexed ('1' when the owner index already holds
 * this id until the deadline), the number of field/value arguments, the field/value
 * pairs, then the fields to delete. Returns 1, 0 when the session is gone
 * or expired (nothing written: a patch never brings a session back), or -1 (nothing
 * written) when the owner index must be written first.
 */
const PATCH_LUA = `${HSET_PAIRS_LUA}
local key = KEYS[1]
local now = tonumber(ARGV[1])
local stored = redis.call('HMGET', key, 'e', 'd', 'o')
local e = tonumber(stored[1])
local d = tonumber(stored[2])
if not e or not d or e <= now or d <= now then
  return 0
end
-- When the expiry is unchanged (no idle timeout), the key's PX already ends it.
local same_expiry = stored[1] == ARGV[3] and stored[2] == ARGV[4]
local fields = {}
if not same_expiry then
  fields = {'e', ARGV[3], 'd', ARGV[4]}
end
local owner = ARGV[5]
if owner ~= '' then
  owner = string.sub(owner, 2)
  if ARGV[6] ~= '1' and (stored[3] ~= owner or d < tonumber(ARGV[4])) then
    return -1
  end
  if stored[3] ~= owner then
    fields[#fields + 1] = 'o'
    fields[#fields + 1] = owner
  end
end
if ARGV[2] == '0' then
  redis.call('DEL', key)
  return 1
end
local n = #ARGV
local last_set = 7 + tonumber(ARGV[7])
hset_pairs(key, fields, 8, last_set)
local gone = {}
if ARGV[5] == '' and stored[3] then
  gone[1] = 'o'
end
for i = last_set + 1, n do
  gone[#gone + 1] = ARGV[i]
  if #gone >= 200 then
    redis.call('HDEL', key, unpack(gone))
    gone = {}
  end
end
if #gone > 0 then
  redis.call('HDEL', key, unpack(gone))
end
if not same_expiry then
  redis.call('PEXPIRE', key, ARGV[2])
end
return 1
`;

/**
 * Files an id under its owner. KEYS[1]: the owner's sorted set. ARGV: id, deadline
 * (the score; only ever raised), prune bound (entries scored at or below it are
 * dropped), ttl of the set (only ever raised).
 */
const INDEX_LUA = `
local key = KEYS[1]
redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[3])
local score = redis.call('ZSCORE', key, ARGV[1])
if not score or tonumber(score) < tonumber(ARGV[2]) then
  redis.call('ZADD', key, ARGV[2], ARGV[1])
end
local ttl = redis.call('PTTL', key)
if ttl < tonumber(ARGV[4]) then
  redis.call('PEXPIRE', key, ARGV[4])
end
return 1
`;

/** Deletes a session only if it still belongs to ARGV[1]. Returns 1 or 0. */
const DELETE_OWNED_LUA = `
if redis.call('HGET', KEYS[1], 'o') == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;

type ScriptName = 'set' | 'patch' | 'index' | 'deleteOwned';

const SCRIPTS: Record<ScriptName, string> = {
  set: SET_LUA,
  patch: PATCH_LUA,
  index: INDEX_LUA,
  deleteOwned: DELETE_OWNED_LUA,
};

/** Command names carry a hash of their script, so two versions never clash on one client. */
const COMMAND_NAMES = Object.fromEntries(
  Object.entries(SCRIPTS).map(([name, lua]) => [
    name,
    `kitSession_${name}_${createHash('sha1').update(lua).digest('hex').slice(0, 12)}`,
  ]),
) as Record<ScriptName, string>;

type Argument = string | number;

/** One of the scripts, bound to the client: the key, then ARGV. */
type Command = (key: string, ...args: Argument[]) => Promise<number>;

/** The part of ioredis's `Redis` and `Cluster` this store uses; both have it. */
interface RedisCommands {
  hgetall(key: string): Promise<Record<string, string>>;
  del(key: string): Promise<number>;
  zrangebyscore(key: string, min: string, max: string): Promise<string[]>;
  defineCommand(name: string, definition: { lua: string; numberOfKeys: number }): void;
}

/** The integer PX that ends the key with the session, by the store's clock; 0 when it has ended. */
function pxOf(expiry: { expireTime: number; deadline: number }, now: number): number {
  const left = Math.ceil(Math.min(expiry.expireTime, expiry.deadline) - now);
  return left > 0 ? left : 0;
}

/** The owner as one Lua argument: '' for none, so that the empty string can be an owner. */
function ownerArgument(owner: string | undefined): string {
  return owner === undefined ? '' : `#${owner}`;
}

/** Field/value pairs of the values, each value as its own JSON. */
function valueFields(values: object): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(values)) {
    const json = JSON.stringify(value);
    if (json !== undefined) {
      out.push(VALUE_FIELD + name, json);
    }
  }
  return out;
}

/**
 * ioredis puts the command's arguments on the errors it rejects with
 * (`error.command.args`), and those hold the session key, which holds the token. Keep
 * the command's name only, so that a logged `cause` carries no token.
 */
function withoutArguments(error: unknown): unknown {
  if (typeof error === 'object' && error !== null && 'command' in error) {
    const { command } = error as { command?: { name?: unknown } };
    try {
      (error as { command?: unknown }).command = { name: command?.name };
    } catch {
      // A frozen error keeps its property; the message never had the token anyway.
    }
  }
  return error;
}

/**
 * Keeps sessions in Redis or a Redis Cluster through ioredis, for apps that run on many
 * machines. Sessions expire on their own (`PX` from the session's expiry); the store
 * also checks the expiry against its clock on every load, so a session is never served
 * past its end even when clocks disagree.
 *
 * **Layout.** Each session is one hash, `<prefix><id>`: fields `e` (expiry), `d`
 * (deadline), `o` (owner) and one field `v<name>` per value, holding that value's JSON.
 * A load is one `HGETALL`. A save is one Lua script (`EVALSHA`, through ioredis's
 * `defineCommand`, which sends the script's body the first time a connection runs it),
 * so a session is never half-written.
 *
 * **No lost updates.** `patchSession` runs a script that checks that the session
 * still exists and has not expired (else it writes nothing and the manager drops the
 * session: a patch never brings one back), then `HSET`s the values the request set,
 * `HDEL`s the ones it unset and moves the expiry (when it moved), all atomically.
 * Values another request changed meanwhile are left alone; when two requests change
 * the same value, the later save wins. Keeping one hash field per value means the script never decodes
 * or re-encodes JSON (Redis's Lua cjson would turn `[]` into `{}` and round numbers to
 * 14 digits).
 *
 * **Log out everywhere, and why it works in a Cluster.** A session's key is known from
 * its token alone, long before it has an owner, and its owner can change, so a session
 * and its owner's index cannot be made to share a Cluster slot (a common `{hash tag}`
 * would put every session on one node). They live apart instead, and are never written
 * by one script: the owner index, a sorted set `<prefix>owner:<owner>` of ids scored by
 * their deadline, is a superset that is always written *before* a session takes that
 * owner, and the truth is the session's own `o` field. `deleteOwnerSessions` reads the
 * index and deletes each listed session with a script that checks `o` still names the
 * owner, so a stale entry (a session deleted, expired or moved to another owner) does
 * no harm. An entry is pruned only a minute after its deadline (room for clock skew
 * between app servers), when its session has certainly ended. `setSession` writes the
 * index before the session whenever there is an owner. The patch script refuses
 * (writes nothing) when the session is about to take an owner, or a later deadline,
 * that the index is not known to cover; the store then writes the index and runs the
 * patch again. Round trips: one per load; one
 * per save, except `setSession` with an owner (two: index, then session) and the first
 * patch that gives a session its owner (three).
 *
 * The store runs no timer and never closes the client, which belongs to the app.
 *
 * @typeParam T - The shape of the session's values.
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { SessionManager } from 'kit-session';
 * import { RedisSessionStore } from 'kit-session/redis';
 *
 * const redis = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: 1 });
 * const manager = new SessionManager<{ userId: string }>(new RedisSessionStore(redis), { ownerKey: 'userId' });
 * ```
 */
export class RedisSessionStore<T = Record<string, unknown>>
  implements PatchableSessionStore<T>, OwnerIndexedSessionStore<T>
{
  readonly #client: RedisCommands;
  readonly #commands: Record<ScriptName, Command>;
  readonly #prefix: string;
  readonly #timeout: number;
  readonly #clock: Clock;

  /**
   * @param client - An ioredis `Redis` or `Cluster`, owned by the app. The store adds
   *   its Lua scripts to it with `defineCommand` (names starting `kitSession_`).
   * @param options - See {@link RedisSessionStoreOptions}.
   * @param clock - The source of time for expiry.
   * @throws TypeError when the client is not an ioredis client or an option is invalid.
   */
  constructor(client: Redis | Cluster, options: RedisSessionStoreOptions = {}, clock?: Clock) {
    const commands = client as unknown as RedisCommands & Record<string, unknown>;
    if (commands === null || typeof commands !== 'object' || typeof commands.defineCommand !== 'function') {
      throw new TypeError('client must be an ioredis Redis or Cluster');
    }
    const prefix = options.prefix ?? DEFAULT_REDIS_PREFIX;
    if (typeof prefix !== 'string') {
      throw new TypeError('prefix must be a string');
    }
    // `?? undefined`: a null timeout means the default, as an unset one does.
    const timeout = positive('timeout', options.timeout ?? undefined, DEFAULT_TIMEOUT);
    // SCRIPTS has exactly the keys of ScriptName, so every name gets its command.
    this.#commands = Object.fromEntries(
      (Object.entries(SCRIPTS) as [ScriptName, string][]).map(([name, lua]): [ScriptName, Command] => {
        const commandName = COMMAND_NAMES[name];
        if (typeof commands[commandName] !== 'function') {
          commands.defineCommand(commandName, { lua, numberOfKeys: 1 });
        }
        const command = commands[commandName] as Command;
        return [name, (key, ...args) => command.call(client, key, ...args)];
      }),
    ) as Record<ScriptName, Command>;
    this.#client = commands;
    this.#prefix = prefix;
    this.#timeout = timeout;
    this.#clock = clock ?? systemClock;
  }

  /**
   * Loads a session: one `HGETALL`.
   *
   * @param token - The session's id.
   * @returns The record, or `undefined` when the token is unknown, malformed or expired.
   * @throws SessionStoreError when Redis fails or does not answer within `timeout`.
   */
  async getSession(token: string): Promise<LoadedSessionRecord<T> | undefined> {
    if (!isId(token)) {
      return undefined;
    }
    const fields = await this.#run('load', () => this.#client.hgetall(this.#key(token)));
    const now = this.#clock.now();
    const expireTime = Number(fields.e);
    const deadline = Number(fields.d);
    if (!(expireTime > now && deadline > now)) {
      return undefined;
    }
    const values: Record<string, unknown> = {};
    for (const [field, json] of Object.entries(fields)) {
      if (field.startsWith(VALUE_FIELD)) {
        let value: unknown;
        try {
          value = JSON.parse(json);
        } catch {
          return undefined;
        }
        const name = field.slice(1);
        if (name === '__proto__') {
          Object.defineProperty(values, name, { value, enumerable: true, writable: true, configurable: true });
        } else {
          values[name] = value;
        }
      }
    }
    return { id: token, values: values as Partial<T>, expireTime, deadline };
  }

  /**
   * Saves a session, replacing what was kept under its id: one script, plus the owner
   * index first when there is an owner.
   *
   * @param id - The session's id.
   * @param record - The values and expiry.
   * @param owner - The session's owner, for {@link RedisSessionStore.deleteOwnerSessions}.
   * @returns The id, which is the token.
   * @throws TypeError when the id is not 1 to 256 characters of base64url.
   * @throws SessionStoreError when Redis fails or does not answer within `timeout`.
   */
  async setSession(id: string, record: SessionRecord<T>, owner?: string): Promise<string> {
    checkId(id);
    const now = this.#clock.now();
    const px = pxOf(record, now);
    const key = this.#key(id);
    await this.#run('save', async () => {
      if (px === 0) {
        await this.#client.del(key);
        return;
      }
      if (owner !== undefined) {
        await this.#index(owner, id, record.deadline, now);
      }
      await this.#commands.set(
        key,
        px,
        String(record.expireTime),
        String(record.deadline),
        ownerArgument(owner),
        ...valueFields(record.values),
      );
    });
    return id;
  }

  /**
   * Applies the values one request set and unset, atomically, on top of what Redis
   * holds now: one script in the usual case.
   *
   * @param id - The session's id.
   * @param patch - What changed.
   * @returns The id, or `undefined` when the session is gone or expired.
   * @throws TypeError when the id is not 1 to 256 characters of base64url.
   * @throws SessionStoreError when Redis fails or does not answer within `timeout`.
   */
  async patchSession(id: string, patch: SessionPatch<T>): Promise<string | undefined> {
    checkId(id);
    const now = this.#clock.now();
    const key = this.#key(id);
    const set = valueFields(patch.set);
    const args = (indexed: '0' | '1'): Argument[] => [
      String(now),
      pxOf(patch, now),
      String(patch.expireTime),
      String(patch.deadline),
      ownerArgument(patch.owner),
      indexed,
      set.length,
      ...set,
      ...patch.unset.map((name) => VALUE_FIELD + name),
    ];
    const result = await this.#run('save', async () => {
      const first = await this.#commands.patch(key, ...args('0'));
      if (first !== -1 || patch.owner === undefined) {
        return first;
      }
      await this.#index(patch.owner, id, patch.deadline, now);
      return this.#commands.patch(key, ...args('1'));
    });
    return result === 1 ? id : undefined;
  }

  /**
   * Forgets a session: one `DEL`. Unknown and malformed ids are fine.
   *
   * @param id - The session's id.
   * @throws SessionStoreError when Redis fails or does not answer within `timeout`.
   */
  async deleteSession(id: string): Promise<void> {
    if (!isId(id)) {
      return;
    }
    await this.#run('delete', () => this.#client.del(this.#key(id)));
  }

  /**
   * Deletes every session of one owner: reads the owner's index, then deletes each
   * listed session that still names this owner (in parallel, each on its own node).
   *
   * @param owner - The owner.
   * @returns How many sessions were deleted.
   * @throws SessionStoreError when Redis fails or does not answer within `timeout`.
   */
  async deleteOwnerSessions(owner: string): Promise<number> {
    const bound = this.#clock.now() - CLOCK_SKEW_MARGIN;
    return this.#run('delete owner sessions', async () => {
      const ids = await this.#client.zrangebyscore(this.#ownerKey(owner), `(${bound}`, '+inf');
      const deleted = await Promise.all(
        ids.filter(isId).map((id) => this.#commands.deleteOwned(this.#key(id), owner)),
      );
      return deleted.reduce((sum, n) => sum + Number(n), 0);
    });
  }

  #key(id: string): string {
    return this.#prefix + id;
  }

  #ownerKey(owner: string): string {
    return `${this.#prefix}owner:${owner}`;
  }

  #index(owner: string, id: string, deadline: number, now: number): Promise<number> {
    return this.#commands.index(
      this.#ownerKey(owner),
      id,
      String(deadline),
      String(now - CLOCK_SKEW_MARGIN),
      Math.max(1, Math.ceil(deadline - now + CLOCK_SKEW_MARGIN)),
    );
  }

  /** Runs one operation against the store's timeout; every failure becomes a SessionStoreError. */
  #run<R>(operation: string, work: () => Promise<R>): Promise<R> {
    return storeOperation(`redis session store: ${operation}`, this.#timeout, work, withoutArguments);
  }
}
