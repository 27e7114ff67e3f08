// The Lua scripts of RedisSessionStore (`kit-session/redis`; internal, not exported),
// each beside the one builder that lays out its KEYS and ARGV, so the order the script
// reads and the order the store sends live in one place.
//
// Every script touches only KEYS[1], so it runs on whichever Cluster node holds that
// key, and ioredis's `keyPrefix` applies to it. Numbers arrive as decimal strings.
// Unpacking is chunked: Lua's stack holds only a few thousand arguments.
//
// Session hash fields: `e` expiry, `d` deadline, `o` owner, `m` metadata, `w` write
// time (the store's clock at the last save), `v<name>` one value as JSON, `i` an owner
// whose bounded save is in flight (see INTENT_LUA), `x` a tombstone (see
// DELETE_OWNED_LUA); and, for a renewed session (see RENEW_CLAIM_LUA), `s` the hash of
// its successor, with `q` (until when its renewal may still be in flight, by the
// store's clock) and `t` ('1': the successor has its owner) while it is not settled.
// A session with `s` is retired: no script patches, renews or counts it as live. Owner index: a sorted set of session hashes scored by deadline;
// each refiling of a member that does not raise its score raises it by a stamp of
// 1/256 ms instead, so a script that saw a score can tell whether the member was filed
// again since (ADMIT_LUA removes a stale member only if its score is the one seen).
// Beside a member an admission evicted, the set holds `!` .. member (same score): the
// member stays (the index remains a superset until the store has ended the session),
// but no later admission counts it or names it again.
import { luaScript, type LuaScript, type RedisClient, type ScriptAnswer } from './redisClient.js';

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
 * runs this, so the script never checks it. Returns 1; 0 (nothing written) when the key
 * holds a tombstone: the session was ended while this save was in flight.
 */
const SET_LUA = `${HSET_PAIRS_LUA}
local key = KEYS[1]
if redis.call('HEXISTS', key, 'x') == 1 then
  return 0
end
local owner = ARGV[4]
local fields = {'e', ARGV[2], 'd', ARGV[3], 'w', ARGV[6]}
if owner ~= '' then
  fields[#fields + 1] = 'o'
  fields[#fields + 1] = string.sub(owner, 2)
end
if ARGV[5] ~= '' then
  fields[#fields + 1] = 'm'
  fields[#fields + 1] = string.sub(ARGV[5], 2)
end
redis.call('DEL', key)
hset_pairs(key, fields, 7, #ARGV)
redis.call('PEXPIRE', key, ARGV[1])
return 1
`;

/**
 * The start both patch scripts share: the session's expiry, deadline, owner and intent
 * read; 0 when it is gone, over by the app's clock (ARGV[1]) or renewed (`s`: a patch
 * never writes into a retired session); deleted when the patch expires it (ARGV[2] '0').
 */
const PATCH_START_LUA = `
local key = KEYS[1]
local now = tonumber(ARGV[1])
local stored = redis.call('HMGET', key, 'e', 'd', 'o', 'i', 's')
local e = tonumber(stored[1])
local d = tonumber(stored[2])
if not e or not d or e <= now or d <= now or stored[5] then
  return 0
end
if ARGV[2] == '0' then
  redis.call('DEL', key)
  return 1
end
`;

/**
 * patchSession. ARGV: see {@link patchCall}.
 *
 * Returns 1; 0 when the session is gone or expired (nothing written: a patch never
 * brings a session back); or, with nothing written, `{owner, already}`: the owner whose
 * index must cover the session first (when the session is to take a new owner, or to
 * keep its owner with a later deadline than the index is known to cover), and '1' when
 * the session names that owner already. With ARGV[8] '1' (the store bounds owners) it
 * then also marks the session with `i` = owner: a bounded save of it is in flight.
 */
const PATCH_LUA = `${HSET_PAIRS_LUA}${PATCH_START_LUA}-- The owner after the patch (false: none), and whether its index is known to cover
-- the session until the new deadline.
local owner = stored[3]
if ARGV[5] == '' then
  owner = false
elseif ARGV[5] ~= '=' then
  owner = string.sub(ARGV[5], 2)
end
if owner and ARGV[6] ~= '#' .. owner and (stored[3] ~= owner or d < tonumber(ARGV[4])) then
  if ARGV[8] == '1' then
    redis.call('HSET', key, 'i', owner)
  end
  return {owner, stored[3] == owner and '1' or '0'}
end
-- When the expiry is unchanged (no idle timeout), the key's PX already ends it.
local same_expiry = stored[1] == ARGV[3] and stored[2] == ARGV[4]
local fields = {'w', ARGV[1]}
if not same_expiry then
  fields[#fields + 1] = 'e'
  fields[#fields + 1] = ARGV[3]
  fields[#fields + 1] = 'd'
  fields[#fields + 1] = ARGV[4]
end
if owner and stored[3] ~= owner then
  fields[#fields + 1] = 'o'
  fields[#fields + 1] = owner
end
if ARGV[7] ~= '=' then
  fields[#fields + 1] = 'm'
  fields[#fields + 1] = string.sub(ARGV[7], 2)
end
local n = #ARGV
local last_set = 9 + tonumber(ARGV[9])
hset_pairs(key, fields, 10, last_set)
local gone = {}
if not owner and stored[3] then
  gone[1] = 'o'
end
if owner and stored[4] == owner then
  gone[#gone + 1] = 'i'
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
 * patchSession in the usual case, as PATCH_LUA would run it: a patch that leaves the
 * owner alone, in a store without a bound. ARGV: see {@link patchValuesCall}. The same
 * answers as PATCH_LUA. A smaller script with five fixed arguments: Redis runs it in
 * about half the time of PATCH_LUA (usec_per_call of EVALSHA, INFO commandstats), and it
 * hands ARGV's slices to HSET and HDEL with `unpack` instead of copying them into tables.
 */
const PATCH_VALUES_LUA = `${PATCH_START_LUA}-- The session keeps its owner: its index must cover the later deadline first.
local owner = stored[3]
if owner and d < tonumber(ARGV[4]) then
  return {owner, '1'}
end
local last_set = 5 + tonumber(ARGV[5])
-- When the expiry is unchanged (no idle timeout), the key's PX already ends it.
local same_expiry = stored[1] == ARGV[3] and stored[2] == ARGV[4]
if same_expiry then
  redis.call('HSET', key, 'w', ARGV[1], unpack(ARGV, 6, math.min(last_set, 205)))
else
  redis.call('HSET', key, 'w', ARGV[1], 'e', ARGV[3], 'd', ARGV[4], unpack(ARGV, 6, math.min(last_set, 205)))
end
for i = 206, last_set, 200 do
  redis.call('HSET', key, unpack(ARGV, i, math.min(i + 199, last_set)))
end
if owner and stored[4] == owner then
  redis.call('HDEL', key, 'i')
end
local n = #ARGV
for i = last_set + 1, n, 200 do
  redis.call('HDEL', key, unpack(ARGV, i, math.min(i + 199, n)))
end
if not same_expiry then
  redis.call('PEXPIRE', key, ARGV[2])
end
return 1
`;

/**
 * A Lua helper of the index scripts: files `member` in the sorted set `key` with the
 * deadline as its score, or, when its score is that high already, raises the score by a
 * stamp of 1/256 ms (so that whoever saw the old score can tell it was filed again),
 * and makes the set live at least `ttl` ms. Scores are written with 17 digits: Lua's
 * own number formatting keeps 14, which would lose the stamp.
 */
const FILE_LUA = `
local function file(key, member, deadline, ttl)
  local score = redis.call('ZSCORE', key, member)
  if not score or tonumber(score) < tonumber(deadline) then
    redis.call('ZADD', key, deadline, member)
  else
    redis.call('ZADD', key, string.format('%.17g', tonumber(score) + 0.00390625), member)
  end
  if redis.call('PTTL', key) < tonumber(ttl) then
    redis.call('PEXPIRE', key, ttl)
  end
end
`;

/**
 * Files a session under its owner. KEYS[1]: the owner's sorted set. ARGV: see
 * {@link indexCall}. With ARGV[5] (the hash of the session a renewal retires, filed
 * under the same owner), the new entry takes that one's place, bound or not: the old
 * entry goes, and nothing is counted, refused or evicted. Returns 1; 0 (nothing filed)
 * when an admission has evicted the retired session (see ADMIT_LUA): its successor, the
 * same device, goes with it.
 */
const INDEX_LUA = `${FILE_LUA}
local key = KEYS[1]
redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[3])
if ARGV[5] ~= '' then
  if redis.call('ZSCORE', key, '!' .. ARGV[5]) then
    return 0
  end
  redis.call('ZREM', key, ARGV[5])
end
file(key, ARGV[1], ARGV[2], ARGV[4])
return 1
`;

/**
 * Deletes a session only if it still belongs to the owner, or a bounded save filing it
 * under the owner is in flight (`i` names the owner). ARGV: see {@link deleteOwnedCall}.
 * In the second case it leaves a tombstone (`x`, for the grace time), so that the save
 * in flight writes nothing (SET_LUA refuses a tombstone; PATCH_LUA finds no session).
 * With ARGV[4] '1' the key is the successor of a renewal of this owner's session not yet
 * settled (see RENEW_CLAIM_LUA): when it is not written yet, it gets the tombstone, so
 * the renewal writes nothing.
 *
 * Returns {1} when it deleted a session that was live by the clock it was given; {2}
 * when it left a tombstone in place of a save in flight (nothing live was deleted, but
 * that save will write nothing); {0, successor, follow} when it deleted a retired
 * session (the store ends its successor next, the same device, with ARGV[4] = follow);
 * else {0} (an expired session whose key has not yet run out is deleted too, but not
 * counted).
 */
const DELETE_OWNED_LUA = `
local key = KEYS[1]
local stored = redis.call('HMGET', key, 'o', 'e', 'd', 'i', 's', 'q', 't', 'x')
if ARGV[4] == '1' and not stored[2] and not stored[5] then
  if stored[8] then
    return {0}
  end
  redis.call('DEL', key)
  redis.call('HSET', key, 'x', '1')
  redis.call('PEXPIRE', key, ARGV[3])
  return {2}
end
local in_flight = stored[4] == ARGV[1]
if stored[1] ~= ARGV[1] and not in_flight then
  return {0}
end
redis.call('DEL', key)
if in_flight then
  redis.call('HSET', key, 'x', '1')
  redis.call('PEXPIRE', key, ARGV[3])
end
local now = tonumber(ARGV[2])
if stored[5] then
  local re = tonumber(stored[2])
  local rd = tonumber(stored[3])
  local serving = (re and rd and re > now and rd > now) and '1' or ''
  return {0, stored[5], (stored[6] and stored[7] == '1') and '1' or '', serving}
end
local e = tonumber(stored[2])
local d = tonumber(stored[3])
if stored[1] == ARGV[1] and e and d and e > now and d > now then
  return {1}
end
if in_flight then
  return {2}
end
return {0}
`;

/**
 * deleteSession: deletes a session, and names its successor when it is a retired one
 * still in its grace (or whose renewal is not settled yet), so that the store ends that
 * too: a log-out racing a renewal wins. ARGV: see {@link deleteFollowingCall}. With
 * ARGV[3] '1' the key is such a successor: when it is not written yet, it gets a
 * tombstone (`x`, for ARGV[2] ms), so that its renewal writes nothing. Returns the
 * successor's hash, or nil.
 */
const DELETE_FOLLOWING_LUA = `
local key = KEYS[1]
local stored = redis.call('HMGET', key, 's', 'e', 'd', 'q', 'x')
if ARGV[3] == '1' and not stored[1] and not stored[2] then
  if not stored[5] then
    redis.call('DEL', key)
    redis.call('HSET', key, 'x', '1')
    redis.call('PEXPIRE', key, ARGV[2])
  end
  return false
end
redis.call('DEL', key)
if stored[1] then
  local now = tonumber(ARGV[1])
  local e = tonumber(stored[2])
  local d = tonumber(stored[3])
  if (e and d and e > now and d > now) or stored[4] then
    return stored[1]
  end
end
return false
`;

/**
 * Marks a session as about to be filed under an owner by a bounded `setSession`,
 * before the owner's index admits it: sets `i` = owner (creating a hash of that field
 * alone when there is no session yet, which loads as nothing), and keeps the key at
 * least the grace time. While the mark stands, the admission of another session of the
 * owner counts this one and never drops it from the index as stale. ARGV: see
 * {@link intentCall}. Returns 0 (nothing written) on a tombstone: the session was ended;
 * 2 when the session is a live one of this owner already; else 1.
 */
const INTENT_LUA = `
local key = KEYS[1]
local stored = redis.call('HMGET', key, 'o', 'e', 'd', 'x', 's')
if stored[4] then
  return 0
end
redis.call('HSET', key, 'i', ARGV[1])
if redis.call('PTTL', key) < tonumber(ARGV[2]) then
  redis.call('PEXPIRE', key, ARGV[2])
end
local now = tonumber(ARGV[3])
local e = tonumber(stored[2])
local d = tonumber(stored[3])
if stored[1] == ARGV[1] and e and d and e > now and d > now and not stored[5] then
  return 2
end
return 1
`;

/**
 * Takes back the mark of {@link INTENT_LUA} (or of a patch) after the owner's bound
 * refused the save: drops `i` when it names the owner, and the whole key when the mark
 * was all it held. ARGV: 1 owner. Returns 1.
 */
const CLEAR_INTENT_LUA = `
local key = KEYS[1]
if redis.call('HGET', key, 'i') == ARGV[1] then
  redis.call('HDEL', key, 'i')
  if redis.call('HEXISTS', key, 'e') == 0 then
    redis.call('DEL', key)
  end
end
return 1
`;

/**
 * Admits a session into its owner's index under the bound (`limitOwnerSessions`), as
 * one step, so concurrent admissions of one owner are counted exactly. KEYS[1]: the
 * owner's sorted set. ARGV: see {@link admitCall}.
 *
 * It prunes entries long past their deadline; drops the entries the store found stale
 * (session gone, ended, moved to another owner or expired long ago), each only if its
 * score is still the one the store saw (else it was filed again since, by a save in
 * flight); then, unless the session is the owner's already (its entry unchanged since
 * seen), counts the other entries, leaving out those the store found expired. Every
 * entry the store did not see is counted: a save in flight. Below `max`, it files the
 * session. At `max` or above, 'refuse' files nothing; 'evict' files the session and
 * names as victims the counted entries written least recently (entries the store did
 * not see count as the most recent), enough to leave `max - 1` others. Victims stay in
 * the index until a later admission finds them ended, each marked evicted (`!` ..
 * victim): from then on no admission counts it or names it again, so each victim is
 * named by exactly one admission, and the count stays exact however many admissions of
 * one owner run at once. A member filed afresh loses its mark. (A renewal's successor
 * that takes its predecessor's place is filed by INDEX_LUA instead: nothing to count.)
 * Returns {1} (filed), {0} (refused) or {2, victim...} (filed; the store ends the
 * victims).
 */
const ADMIT_LUA = `${FILE_LUA}
local key = KEYS[1]
local member = ARGV[1]
redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[3])
local i = 10
for _ = 1, tonumber(ARGV[8]) do
  if redis.call('ZSCORE', key, ARGV[i]) == ARGV[i + 1] then
    redis.call('ZREM', key, ARGV[i], '!' .. ARGV[i])
  end
  i = i + 2
end
local uncounted = {}
for _ = 1, tonumber(ARGV[9]) do
  if redis.call('ZSCORE', key, ARGV[i]) == ARGV[i + 1] then
    uncounted[ARGV[i]] = true
  end
  i = i + 2
end
local written = {}
while i < #ARGV do
  written[ARGV[i]] = tonumber(ARGV[i + 1])
  i = i + 2
end
if ARGV[7] ~= '' and redis.call('ZSCORE', key, member) == ARGV[7] then
  file(key, member, ARGV[2], ARGV[4])
  return {1}
end
-- Filed afresh: no longer one an earlier admission evicted.
redis.call('ZREM', key, '!' .. member)
local entries = redis.call('ZRANGE', key, '0', '-1')
local evicted = {}
for _, entry in ipairs(entries) do
  if string.byte(entry, 1) == 33 then
    evicted[string.sub(entry, 2)] = true
  end
end
local others = {}
for _, other in ipairs(entries) do
  if other ~= member and string.byte(other, 1) ~= 33 and not evicted[other] and not uncounted[other] then
    others[#others + 1] = other
  end
end
local max = tonumber(ARGV[5])
if #others < max then
  file(key, member, ARGV[2], ARGV[4])
  return {1}
end
if ARGV[6] ~= 'evict' then
  return {0}
end
table.sort(others, function(a, b)
  local wa = written[a] or math.huge
  local wb = written[b] or math.huge
  if wa ~= wb then
    return wa < wb
  end
  return a < b
end)
local answer = {2}
for k = 1, #others - max + 1 do
  local victim = others[k]
  answer[#answer + 1] = victim
  redis.call('ZADD', key, redis.call('ZSCORE', key, victim), '!' .. victim)
end
file(key, member, ARGV[2], ARGV[4])
return answer
`;

/**
 * The first step of a renewal (`renewSession`), on the key of the session renewed: its
 * atomic decision. A session's key and its successor's sit in slots of their own (each
 * key is the hash of a random id), so no one script can write both in a Cluster; the
 * renewal is this claim, then the successor's filing and write, then RENEW_SETTLE_LUA,
 * and every other script reads the claim. ARGV: see {@link renewClaimCall}.
 *
 * When the session is live by the app's clock (ARGV[1]) and not renewed already, it
 * marks it retired: `s` = the successor's hash (ARGV[2]), `q` = until when the renewal
 * may be in flight (ARGV[3]), `t` = '1' when the successor's owner (ARGV[4]: '' none,
 * else '#' .. owner) is the session's own. From then on a patch or another renewal of
 * it writes nothing, a load gives it as superseded, and ending it ends its successor.
 * Returns {1, t}; 0 (nothing written) when the session is gone, expired, a tombstone or
 * renewed already.
 */
const RENEW_CLAIM_LUA = `
local key = KEYS[1]
local now = tonumber(ARGV[1])
local stored = redis.call('HMGET', key, 'e', 'd', 'o', 's')
local e = tonumber(stored[1])
local d = tonumber(stored[2])
if not e or not d or e <= now or d <= now or stored[4] then
  return 0
end
local same = '0'
if ARGV[4] ~= '' and stored[3] == string.sub(ARGV[4], 2) then
  same = '1'
end
redis.call('HSET', key, 's', ARGV[2], 'q', ARGV[3], 't', same)
return {1, same}
`;

/**
 * The last step of a renewal, on the key of the session renewed, once its successor is
 * written or is known never to be. ARGV: see {@link renewSettleCall}. Does nothing
 * unless the key still names that successor (`s` = ARGV[1]): else it was deleted or
 * saved afresh meanwhile.
 *
 * - 'commit' (the successor is written): the claim's `q` and `t` go; the session stays,
 *   retired, served as superseded until ARGV[4] (now plus the renewal's grace; its own
 *   expiry when earlier), which becomes its `e`. With no grace (ARGV[4] not after now,
 *   ARGV[3]) its values, metadata and expiry go at once and only `o` and `s` stay, which
 *   load as nothing (nothing at all stays of a session without an owner). Either way the
 *   key lives at least ARGV[5] ms (the store's operation grace): an end that read the
 *   owner's index before the renewal moved the entry still finds the successor through
 *   it.
 * - 'rollback' (the owner's bound refused the successor): the claim goes; the session
 *   is as it was.
 * - 'drop' (the successor was ended before it was written): the session goes.
 *
 * Returns 1 when it settled the claim, else 0.
 */
const RENEW_SETTLE_LUA = `
local key = KEYS[1]
if redis.call('HGET', key, 's') ~= ARGV[1] then
  return 0
end
if ARGV[2] == 'rollback' then
  redis.call('HDEL', key, 's', 'q', 't')
  return 1
end
if ARGV[2] == 'drop' then
  redis.call('DEL', key)
  return 1
end
local now = tonumber(ARGV[3])
local until_ = tonumber(ARGV[4])
local stored = redis.call('HMGET', key, 'e', 'd', 'o')
local e = tonumber(stored[1])
local d = tonumber(stored[2])
local left = 0
if until_ > now then
  if until_ < e then
    e = until_
    redis.call('HSET', key, 'e', ARGV[4])
  end
  redis.call('HDEL', key, 'q', 't')
  left = math.ceil(math.min(e, d) - now)
else
  redis.call('DEL', key)
  if not stored[3] then
    return 1
  end
  redis.call('HSET', key, 'o', stored[3], 's', ARGV[1])
end
redis.call('PEXPIRE', key, math.max(left, tonumber(ARGV[5])))
return 1
`;

/** @internal The name of one of the store's scripts. */
export type ScriptName =
  | 'set'
  | 'patch'
  | 'patchValues'
  | 'index'
  | 'deleteOwned'
  | 'deleteFollowing'
  | 'intent'
  | 'clearIntent'
  | 'admit'
  | 'renewClaim'
  | 'renewSettle';

/** @internal The Lua text of each script, by name. */
export const SCRIPTS: Readonly<Record<ScriptName, string>> = {
  set: SET_LUA,
  patch: PATCH_LUA,
  patchValues: PATCH_VALUES_LUA,
  index: INDEX_LUA,
  deleteOwned: DELETE_OWNED_LUA,
  deleteFollowing: DELETE_FOLLOWING_LUA,
  intent: INTENT_LUA,
  clearIntent: CLEAR_INTENT_LUA,
  admit: ADMIT_LUA,
  renewClaim: RENEW_CLAIM_LUA,
  renewSettle: RENEW_SETTLE_LUA,
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
  /** The session's metadata, stored as `m`; `undefined` for none. */
  readonly meta: string | undefined;
  /** The store's clock (ms since the epoch), stored as the write time `w`. */
  readonly now: number;
  /** The hash fields of the values, as field/value pairs, flattened. */
  readonly fields: readonly string[];
}

/** Optional text as one Lua argument: '' for none, else '#' and the text. */
function textArgument(text: string | undefined): string {
  return text === undefined ? '' : `#${text}`;
}

/**
 * @internal Lays out a run of the set script, which replaces the session's hash.
 *
 * ARGV: 1 px, 2 expireTime, 3 deadline, 4 owner ('' = none, else '#' .. owner), 5 meta
 * ('' = none, else '#' .. meta), 6 now (the write time), then the field/value pairs.
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
      textArgument(input.meta),
      String(input.now),
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
  /** The new metadata, or `undefined` to keep the stored one. */
  readonly meta: string | undefined;
  /**
   * Whether the store bounds owners: a patch refused for want of an index then marks the
   * session as in flight for that owner (`i`).
   */
  readonly limited: boolean;
  /** The hash fields to write, as field/value pairs, flattened. */
  readonly set: readonly string[];
  /** The hash fields to delete. */
  readonly unset: readonly string[];
}

/**
 * @internal Lays out a run of the patch script, which applies one request's changes on
 * top of the stored session.
 *
 * ARGV: 1 now (also the write time), 2 px ('0' = delete), 3 expireTime, 4 deadline,
 * 5 owner ('=' = unchanged; '' = none; else '#' .. owner), 6 indexed ('#' .. owner, else
 * ''), 7 meta ('=' = unchanged, else '#' .. meta), 8 limited ('1' or '0'), 9 the number
 * of field/value arguments, then the field/value pairs, then the fields to delete.
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
      input.meta === undefined ? '=' : `#${input.meta}`,
      input.limited ? '1' : '0',
      input.set.length,
      ...input.set,
      ...input.unset,
    ],
  };
}

/** @internal What {@link patchValuesCall} needs. */
export interface PatchValuesCallInput {
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
  /** The new metadata, or `undefined` to keep the stored one. */
  readonly meta: string | undefined;
  /** The hash fields to write, as field/value pairs, flattened. */
  readonly set: readonly string[];
  /** The hash fields to delete. */
  readonly unset: readonly string[];
}

/**
 * @internal Lays out a run of the script for a patch that leaves the owner alone, in a
 * store without a bound (what {@link patchCall} would send with `owner` and `indexed`
 * undefined and `limited` false).
 *
 * ARGV: 1 now (also the write time), 2 px ('0' = delete), 3 expireTime, 4 deadline,
 * 5 the number of field/value arguments, then the field/value pairs (the metadata, when
 * given, as the pair `m`), then the fields to delete.
 *
 * @param input - The session's key, the clock, the new expiry, and the fields to write
 *   and delete.
 * @returns The script's name, KEYS and ARGV.
 */
export function patchValuesCall(input: PatchValuesCallInput): ScriptCall<'patchValues'> {
  const { set, unset, meta } = input;
  const args: ScriptArgument[] = [
    String(input.now),
    input.px,
    String(input.expireTime),
    String(input.deadline),
    meta === undefined ? set.length : set.length + 2,
  ];
  if (meta !== undefined) {
    args.push('m', meta);
  }
  for (const field of set) {
    args.push(field);
  }
  for (const field of unset) {
    args.push(field);
  }
  return { script: 'patchValues', keys: [input.key], args };
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
  /**
   * For a renewal's successor whose predecessor was filed under the same owner: the
   * predecessor's hash, whose entry the new one replaces.
   * @default undefined (replaces nothing)
   */
  readonly replaces?: string | undefined;
}

/**
 * @internal Lays out a run of the index script, which files a session under its owner.
 *
 * ARGV: 1 hash, 2 deadline, 3 prune bound, 4 ttl, 5 the entry it replaces ('' = none).
 *
 * @param input - The owner's set, the session's hash and deadline, the prune bound and
 *   the set's ttl.
 * @returns The script's name, KEYS and ARGV.
 */
export function indexCall(input: IndexCallInput): ScriptCall<'index'> {
  return {
    script: 'index',
    keys: [input.key],
    args: [input.hash, String(input.deadline), String(input.pruneUpTo), input.ttl, input.replaces ?? ''],
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
  /** How long a tombstone lives, in milliseconds. */
  readonly grace: number;
  /**
   * Whether the key is the successor of a renewal of the owner's session not yet
   * settled (what the script answered for that session): when it is not written yet,
   * it gets a tombstone.
   * @default false
   */
  readonly follow?: boolean | undefined;
}

/**
 * @internal Lays out a run of the script that deletes a session only if it still
 * belongs to an owner.
 *
 * ARGV: 1 owner, 2 now, 3 grace (a tombstone's PX), 4 follow ('1' or '').
 *
 * @param input - The session's key, the owner, the clock, the tombstone's life and
 *   whether the key is an unsettled renewal's successor.
 * @returns The script's name, KEYS and ARGV.
 */
export function deleteOwnedCall(input: DeleteOwnedCallInput): ScriptCall<'deleteOwned'> {
  return {
    script: 'deleteOwned',
    keys: [input.key],
    args: [input.owner, String(input.now), input.grace, input.follow === true ? '1' : ''],
  };
}

/** @internal What {@link deleteFollowingCall} needs. */
export interface DeleteFollowingCallInput {
  /** The session's key. */
  readonly key: string;
  /** The store's clock (ms since the epoch): a retired session is followed only in its grace. */
  readonly now: number;
  /** How long a tombstone lives, in milliseconds. */
  readonly grace: number;
  /**
   * Whether the key is the successor the script named for the session deleted before:
   * when it is not written yet, it gets a tombstone.
   * @default false
   */
  readonly follow?: boolean;
}

/**
 * @internal Lays out a run of the script that deletes a session and names its successor
 * when it is a retired one in its grace.
 *
 * ARGV: 1 now, 2 grace (a tombstone's PX), 3 follow ('1' or '').
 *
 * @param input - The session's key, the clock, the tombstone's life and whether the key
 *   is a successor.
 * @returns The script's name, KEYS and ARGV.
 */
export function deleteFollowingCall(input: DeleteFollowingCallInput): ScriptCall<'deleteFollowing'> {
  return {
    script: 'deleteFollowing',
    keys: [input.key],
    args: [String(input.now), input.grace, input.follow === true ? '1' : ''],
  };
}

/** @internal What {@link intentCall} needs. */
export interface IntentCallInput {
  /** The session's key. */
  readonly key: string;
  /** The owner the session is about to be filed under. */
  readonly owner: string;
  /** The least time the key then lives, in milliseconds. */
  readonly grace: number;
  /** The store's clock (ms since the epoch). */
  readonly now: number;
}

/**
 * @internal Lays out a run of the script that marks a session as about to be filed
 * under an owner by a bounded save.
 *
 * ARGV: 1 owner, 2 grace, 3 now.
 *
 * @param input - The session's key, the owner, the key's least life and the clock.
 * @returns The script's name, KEYS and ARGV.
 */
export function intentCall(input: IntentCallInput): ScriptCall<'intent'> {
  return { script: 'intent', keys: [input.key], args: [input.owner, input.grace, String(input.now)] };
}

/**
 * @internal Lays out a run of the script that takes back the in-flight mark after the
 * bound refused a save.
 *
 * ARGV: 1 owner.
 *
 * @param input - The session's key and the owner.
 * @returns The script's name, KEYS and ARGV.
 */
export function clearIntentCall(input: { readonly key: string; readonly owner: string }): ScriptCall<'clearIntent'> {
  return { script: 'clearIntent', keys: [input.key], args: [input.owner] };
}

/** @internal One index entry as the store saw it: the member and its score, as Redis wrote it. */
export interface SeenEntry {
  /** The member: a session's hash. */
  readonly hash: string;
  /** Its score as Redis gave it (text: compared as text). */
  readonly score: string;
}

/** @internal What {@link admitCall} needs. */
export interface AdmitCallInput {
  /** The owner's sorted set. */
  readonly key: string;
  /** The hash of the session to admit. */
  readonly hash: string;
  /** The session's deadline: its score. */
  readonly deadline: number;
  /** Entries scored at or below this are dropped. */
  readonly pruneUpTo: number;
  /** The set's time to live in milliseconds, only ever raised. */
  readonly ttl: number;
  /** The most live sessions of one owner. */
  readonly max: number;
  /** What a save over the bound does. */
  readonly policy: 'evict' | 'refuse';
  /**
   * The score of the session's own entry as seen, when the session is the owner's
   * already (it then never counts against itself); `undefined` otherwise.
   */
  readonly alreadyScore: string | undefined;
  /** Entries found stale: dropped if their score is unchanged. */
  readonly dead: readonly SeenEntry[];
  /** Entries found expired but not yet droppable: not counted if their score is unchanged. */
  readonly uncounted: readonly SeenEntry[];
  /** Live entries with their write times, for choosing whom to evict. */
  readonly written: readonly { readonly hash: string; readonly writeTime: number }[];
}

/**
 * @internal Lays out a run of the script that admits a session into its owner's index
 * under the bound.
 *
 * ARGV: 1 hash, 2 deadline, 3 prune bound, 4 ttl, 5 max, 6 policy, 7 the own entry's
 * score when already the owner's (else ''), 8 the number of dead entries, 9 the number
 * of uncounted entries, then each dead entry's member and score, then each uncounted
 * entry's member and score, then each live entry's member and write time.
 *
 * @param input - The owner's set, the session, the bound and what the store saw.
 * @returns The script's name, KEYS and ARGV.
 */
export function admitCall(input: AdmitCallInput): ScriptCall<'admit'> {
  return {
    script: 'admit',
    keys: [input.key],
    args: [
      input.hash,
      String(input.deadline),
      String(input.pruneUpTo),
      input.ttl,
      input.max,
      input.policy,
      input.alreadyScore ?? '',
      input.dead.length,
      input.uncounted.length,
      ...input.dead.flatMap((entry) => [entry.hash, entry.score]),
      ...input.uncounted.flatMap((entry) => [entry.hash, entry.score]),
      ...input.written.flatMap((entry) => [entry.hash, String(entry.writeTime)]),
    ],
  };
}

/** @internal What {@link renewClaimCall} needs. */
export interface RenewClaimCallInput {
  /** The key of the session renewed. */
  readonly key: string;
  /** The store's clock (ms since the epoch): a session that has ended by it is not renewed. */
  readonly now: number;
  /** The hash of the successor's id. */
  readonly successor: string;
  /** Until when (ms since the epoch, the store's clock) the renewal may be in flight. */
  readonly until: number;
  /** The successor's owner, or `undefined` when it has none. */
  readonly owner: string | undefined;
}

/**
 * @internal Lays out a run of the script that claims a session for its renewal.
 *
 * ARGV: 1 now, 2 the successor's hash, 3 until, 4 the successor's owner ('' = none, else
 * '#' .. owner).
 *
 * @param input - The session's key, the clock, the successor, the claim's end and the
 *   successor's owner.
 * @returns The script's name, KEYS and ARGV.
 */
export function renewClaimCall(input: RenewClaimCallInput): ScriptCall<'renewClaim'> {
  return {
    script: 'renewClaim',
    keys: [input.key],
    args: [String(input.now), input.successor, String(input.until), ownerArgument(input.owner ?? null)],
  };
}

/** @internal How a renewal ends, for {@link renewSettleCall}. */
export type RenewOutcome = 'commit' | 'rollback' | 'drop';

/** @internal What {@link renewSettleCall} needs. */
export interface RenewSettleCallInput {
  /** The key of the session renewed. */
  readonly key: string;
  /** The hash of the successor's id, as the claim wrote it. */
  readonly successor: string;
  /** What became of the successor. */
  readonly outcome: RenewOutcome;
  /** The store's clock (ms since the epoch). */
  readonly now: number;
  /** Until when the retired session is served (now plus the renewal's grace). */
  readonly until: number;
  /** The least time the retired key lives, in milliseconds (the store's operation grace). */
  readonly keep: number;
}

/**
 * @internal Lays out a run of the script that settles a renewal on the retired session.
 *
 * ARGV: 1 the successor's hash, 2 outcome, 3 now, 4 until, 5 keep.
 *
 * @param input - The session's key, the successor, the outcome, the clock, the end of
 *   the grace and the key's least life.
 * @returns The script's name, KEYS and ARGV.
 */
export function renewSettleCall(input: RenewSettleCallInput): ScriptCall<'renewSettle'> {
  return {
    script: 'renewSettle',
    keys: [input.key],
    args: [input.successor, input.outcome, String(input.now), String(input.until), input.keep],
  };
}

/** @internal Every script as a client runs it: by its SHA-1, or its ioredis command. */
export const LUA_SCRIPTS: Readonly<Record<ScriptName, LuaScript>> = Object.fromEntries(
  (Object.entries(SCRIPTS) as [ScriptName, string][]).map(([name, lua]) => [name, luaScript(name, lua)]),
) as Record<ScriptName, LuaScript>;

/**
 * Runs one script, as its builder laid it out, on the node that holds its key.
 *
 * @internal
 * @param client - The store's client.
 * @param call - The script, its key and its ARGV.
 * @returns What the script answered.
 */
export function runScript(client: RedisClient, call: ScriptCall): Promise<ScriptAnswer> {
  return client.run(LUA_SCRIPTS[call.script], call.keys[0], call.args);
}
