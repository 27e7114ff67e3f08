// The Lua scripts of RedisSessionStore (`kit-session/redis`; internal, not exported),
// each beside the one builder that lays out its KEYS and ARGV, so the order the script
// reads and the order the store sends live in one place.
//
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
 * setSession. ARGV: see {@link setCall}. The store writes the owner index before it
 * runs this, so the script never checks it. Returns 1.
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
 * patchSession. ARGV: see {@link patchCall}.
 *
 * Returns 1; 0 when the session is gone or expired (nothing written: a patch never
 * brings a session back); or, with nothing written, the owner (a string) whose index
 * must cover the session first: when the session is to take a new owner, or to keep
 * its owner with a later deadline than the index is known to cover (the stored one).
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
if ARGV[2] == '0' then
  redis.call('DEL', key)
  return 1
end
-- The owner after the patch (false: none), and whether its index is known to cover
-- the session until the new deadline.
local owner = stored[3]
if ARGV[5] == '' then
  owner = false
elseif ARGV[5] ~= '=' then
  owner = string.sub(ARGV[5], 2)
end
if owner and ARGV[6] ~= '#' .. owner and (stored[3] ~= owner or d < tonumber(ARGV[4])) then
  return owner
end
-- When the expiry is unchanged (no idle timeout), the key's PX already ends it.
local same_expiry = stored[1] == ARGV[3] and stored[2] == ARGV[4]
local fields = {}
if not same_expiry then
  fields = {'e', ARGV[3], 'd', ARGV[4]}
end
if owner and stored[3] ~= owner then
  fields[#fields + 1] = 'o'
  fields[#fields + 1] = owner
end
local n = #ARGV
local last_set = 7 + tonumber(ARGV[7])
hset_pairs(key, fields, 8, last_set)
local gone = {}
if not owner and stored[3] then
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
 * Files a session under its owner. KEYS[1]: the owner's sorted set. ARGV: see
 * {@link indexCall}. Returns 1.
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

/**
 * Deletes a session only if it still belongs to the owner. ARGV: see
 * {@link deleteOwnedCall}. Returns 1 when it deleted a session that was live by the
 * clock it was given, else 0 (an expired session whose key has not yet run out is deleted too, but
 * not counted).
 */
const DELETE_OWNED_LUA = `
local stored = redis.call('HMGET', KEYS[1], 'o', 'e', 'd')
if stored[1] ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1])
local now = tonumber(ARGV[2])
local e = tonumber(stored[2])
local d = tonumber(stored[3])
if e and d and e > now and d > now then
  return 1
end
return 0
`;

/** @internal The name of one of the store's scripts. */
export type ScriptName = 'set' | 'patch' | 'index' | 'deleteOwned';

/** @internal The Lua text of each script, by name. */
export const SCRIPTS: Readonly<Record<ScriptName, string>> = {
  set: SET_LUA,
  patch: PATCH_LUA,
  index: INDEX_LUA,
  deleteOwned: DELETE_OWNED_LUA,
};

/** @internal One argument to a script; Redis hands it to Lua as a string. */
export type ScriptArgument = string | number;

/**
 * @internal One run of a script: which script, its KEYS and its ARGV, in the order it
 * reads them. Every script has exactly one key.
 */
export interface ScriptCall<N extends ScriptName = ScriptName> {
  /** The script to run. */
  readonly script: N;
  /** KEYS: the one key the script touches. */
  readonly keys: readonly [key: string];
  /** ARGV, in order. */
  readonly args: readonly ScriptArgument[];
}

/**
 * The owner as one Lua argument: '' for none (`null`), '=' for unchanged (`undefined`),
 * else '#' and the owner, so that the empty string can be an owner.
 */
function ownerArgument(owner: string | null | undefined): string {
  return owner === undefined ? '=' : owner === null ? '' : `#${owner}`;
}

/** @internal What {@link setCall} needs. */
export interface SetCallInput {
  /** The session's key. */
  readonly key: string;
  /** The key's time to live in milliseconds (`PEXPIRE`), more than 0. */
  readonly px: number;
  /** The session's expiry (ms since the epoch), stored as `e`. */
  readonly expireTime: number;
  /** The session's absolute end (ms since the epoch), stored as `d`. */
  readonly deadline: number;
  /** The session's owner, stored as `o`; `null` for none. */
  readonly owner: string | null;
  /** The hash fields of the values, as field/value pairs, flattened. */
  readonly fields: readonly string[];
}

/**
 * @internal Lays out a run of the set script, which replaces the session's hash.
 *
 * ARGV: 1 px, 2 expireTime, 3 deadline, 4 owner ('' = none, else '#' .. owner), then
 * the field/value pairs.
 *
 * @param input - The session's key, expiry, owner and value fields.
 * @returns The script's name, KEYS and ARGV.
 */
export function setCall(input: SetCallInput): ScriptCall<'set'> {
  return {
    script: 'set',
    keys: [input.key],
    args: [
      input.px,
      String(input.expireTime),
      String(input.deadline),
      ownerArgument(input.owner),
      ...input.fields,
    ],
  };
}

/** @internal What {@link patchCall} needs. */
export interface PatchCallInput {
  /** The session's key. */
  readonly key: string;
  /** The store's clock (ms since the epoch): a session that has ended by it is not patched. */
  readonly now: number;
  /** The key's new time to live in milliseconds; 0 when the new expiry has passed: delete the session. */
  readonly px: number;
  /** The session's new expiry (ms since the epoch). */
  readonly expireTime: number;
  /** The session's new absolute end (ms since the epoch). */
  readonly deadline: number;
  /** The owner after the patch: `undefined` keeps the stored one, `null` removes it. */
  readonly owner: string | null | undefined;
  /**
   * The owner whose index the store has just made cover this session until the
   * deadline, or `undefined` when it has not.
   */
  readonly indexed: string | undefined;
  /** The hash fields to write, as field/value pairs, flattened. */
  readonly set: readonly string[];
  /** The hash fields to delete. */
  readonly unset: readonly string[];
}

/**
 * @internal Lays out a run of the patch script, which applies one request's changes on
 * top of the stored session.
 *
 * ARGV: 1 now, 2 px ('0' = delete), 3 expireTime, 4 deadline, 5 owner ('=' = unchanged;
 * '' = none; else '#' .. owner), 6 indexed ('#' .. owner, else ''), 7 the number of
 * field/value arguments, then the field/value pairs, then the fields to delete.
 *
 * @param input - The session's key, the clock, the new expiry and owner, and the fields
 *   to write and delete.
 * @returns The script's name, KEYS and ARGV.
 */
export function patchCall(input: PatchCallInput): ScriptCall<'patch'> {
  return {
    script: 'patch',
    keys: [input.key],
    args: [
      String(input.now),
      input.px,
      String(input.expireTime),
      String(input.deadline),
      ownerArgument(input.owner),
      input.indexed === undefined ? '' : `#${input.indexed}`,
      input.set.length,
      ...input.set,
      ...input.unset,
    ],
  };
}

/** @internal What {@link indexCall} needs. */
export interface IndexCallInput {
  /** The owner's sorted set. */
  readonly key: string;
  /** The hash of the session's id: the member. */
  readonly hash: string;
  /** The session's deadline: the member's score, only ever raised. */
  readonly deadline: number;
  /** Entries scored at or below this are dropped. */
  readonly pruneUpTo: number;
  /** The set's time to live in milliseconds, only ever raised. */
  readonly ttl: number;
}

/**
 * @internal Lays out a run of the index script, which files a session under its owner.
 *
 * ARGV: 1 hash, 2 deadline, 3 prune bound, 4 ttl.
 *
 * @param input - The owner's set, the session's hash and deadline, the prune bound and
 *   the set's ttl.
 * @returns The script's name, KEYS and ARGV.
 */
export function indexCall(input: IndexCallInput): ScriptCall<'index'> {
  return {
    script: 'index',
    keys: [input.key],
    args: [input.hash, String(input.deadline), String(input.pruneUpTo), input.ttl],
  };
}

/** @internal What {@link deleteOwnedCall} needs. */
export interface DeleteOwnedCallInput {
  /** The session's key. */
  readonly key: string;
  /** The owner the session must still belong to. */
  readonly owner: string;
  /** The store's clock (ms since the epoch), to count only live sessions. */
  readonly now: number;
}

/**
 * @internal Lays out a run of the script that deletes a session only if it still
 * belongs to an owner.
 *
 * ARGV: 1 owner, 2 now.
 *
 * @param input - The session's key, the owner and the clock.
 * @returns The script's name, KEYS and ARGV.
 */
export function deleteOwnedCall(input: DeleteOwnedCallInput): ScriptCall<'deleteOwned'> {
  return {
    script: 'deleteOwned',
    keys: [input.key],
    args: [input.owner, String(input.now)],
  };
}
