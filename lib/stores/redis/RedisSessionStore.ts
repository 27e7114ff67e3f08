// kit-session/redis: RedisSessionStore, sessions in Redis or a Redis Cluster through ioredis.
import { createHash, hash as oneShotHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { systemClock, type Clock } from '../../core/Clock.js';
import { checkOptionKeys, positive } from '../../core/options.js';
import { SessionLimitError } from '../../core/SessionError.js';
import { checkId, checkLimit, checkRenewal, DEFAULT_TIMEOUT, isId, storeOperation } from '../policy.js';
import type {
  LoadedSessionRecord,
  OwnerListingSessionStore,
  EvictionReport,
  OwnerSessionLimit,
  OwnerSessionRecord,
  PatchableSessionStore,
  RenewableSessionStore,
  SessionPatch,
  SessionRecord,
  SessionRenewal,
} from '../../core/SessionStore.js';
import { withoutArguments } from './redisErrors.js';
import {
  admitCall,
  clearIntentCall,
  deleteFollowingCall,
  deleteOwnedCall,
  indexCall,
  intentCall,
  patchCall,
  patchValuesCall,
  renewClaimCall,
  renewSettleCall,
  SCRIPTS,
  setCall,
  type RenewOutcome,
  type ScriptArgument,
  type ScriptCall,
  type ScriptName,
  type SeenEntry,
} from './scripts.js';

/**
 * Options of {@link RedisSessionStore}.
 */
export interface RedisSessionStoreOptions {
  /**
   * Put before every key the store writes: `<prefix><hash>` for a session (the hash
   * being the SHA-256 of its id), `<prefix>owner:<owner>` for an owner's index. Give each app its own prefix when
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

/** Every key of {@link RedisSessionStoreOptions}. */
const REDIS_OPTIONS = ['prefix', 'timeout'] as const satisfies readonly (keyof RedisSessionStoreOptions)[];

/** The default key prefix. */
export const DEFAULT_REDIS_PREFIX = 'sess:';

/**
 * How many times a patch goes back to write the owner index first before it gives up:
 * more than twice means concurrent saves kept giving the session other owners.
 */
const PATCH_ATTEMPTS = 4;

/**
 * How far another app server's clock may run behind this one's. Owner-index entries
 * are pruned only this long after their session's deadline.
 */
const CLOCK_SKEW_MARGIN = 60_000;

/** How many renewals a retired session's successor is followed through, at most. */
const MAX_RENEWAL_STEPS = 4;

/**
 * What an owner index puts before the member of a session an admission evicted, beside
 * the member itself (see ADMIT_LUA): no session hash starts with it.
 */
const EVICTED_MARK = '!';

/**
 * Hash field names: `e` expiry, `d` deadline, `o` owner, `m` metadata, `w` write time,
 * `v<name>` one value as JSON; `i` and `x` mark a bounded save in flight and a tombstone
 * (see scripts.ts).
 */
const VALUE_FIELD = 'v';
/** The character code of {@link VALUE_FIELD}. */
const VALUE_FIELD_CODE = 0x76;

/** Command names carry a hash of their script, so two versions never clash on one client. */
const COMMAND_NAMES = Object.fromEntries(
  Object.entries(SCRIPTS).map(([name, lua]) => [
    name,
    `kitSession_${name}_${createHash('sha1').update(lua).digest('hex').slice(0, 12)}`,
  ]),
) as Record<ScriptName, string>;

/** What a script answers: an integer, a string, or an array of them. */
type Answer = number | string | (number | string)[];

/** One of the scripts as ioredis defines it on the client (called with the client as `this`): the key, then ARGV. */
type Command = (this: RedisCommands, key: string, ...args: ScriptArgument[]) => Promise<Answer>;

/** The part of ioredis's `Redis` and `Cluster` this store uses; both have it. */
interface RedisCommands {
  hgetall(key: string): Promise<Record<string, string>>;
  hmget(key: string, ...fields: string[]): Promise<(string | null)[]>;
  del(key: string): Promise<number>;
  zrangebyscore(key: string, min: string, max: string, withScores?: 'WITHSCORES'): Promise<string[]>;
  defineCommand(name: string, definition: { lua: string; numberOfKeys: number }): void;
}

/** Whether an entry's session is live by `now`: both its expiry and its deadline are later. */
function liveAt(expireTime: number, deadline: number, now: number): boolean {
  return expireTime > now && deadline > now;
}

/** The integer PX that ends the key with the session, by the store's clock; 0 when it has ended. */
function pxOf(expiry: { expireTime: number; deadline: number }, now: number): number {
  const left = Math.ceil(Math.min(expiry.expireTime, expiry.deadline) - now);
  return left > 0 ? left : 0;
}

/**
 * The hash of a session id its key is made of: what `hashId` gives (SHA-256 of the
 * UTF-8, base64url), through node:crypto's one-shot `hash`, which costs about a third
 * of a `createHash` chain (0.4 µs against 1.2 µs a call; it runs on every load and save).
 */
function sessionHash(id: string): string {
  return oneShotHash('sha256', id, 'base64url');
}

/** Field/value pairs of the values, each value as its own JSON. */
function valueFields(values: object): string[] {
  const out: string[] = [];
  for (const name of Object.keys(values)) {
    const json = JSON.stringify((values as Record<string, unknown>)[name]);
    if (json !== undefined) {
      out.push(VALUE_FIELD + name, json);
    }
  }
  return out;
}

/**
 * Keeps sessions in Redis or a Redis Cluster through ioredis, for apps that run on many
 * machines. Sessions expire on their own (`PX` from the session's expiry); the store
 * also checks the expiry against its clock on every load, so a session is never served
 * past its end even when clocks disagree.
 *
 * **Layout.** Each session is one hash, `<prefix><hash>`, where `<hash>` is the SHA-256
 * of the session id (base64url, 43 characters), never the id itself: anyone who reads
 * Redis, a dump (RDB, AOF) or a replica cannot use what they read as a cookie. The same
 * hash is the session's public *handle* (`listOwnerSessions`, `deleteSessionByHandle`).
 * The hash has fields `e` (expiry), `d` (deadline), `o` (owner), `m` (the metadata
 * text, kept and given back as it came, never parsed), `w` (the store's clock at the
 * last save: "written") and one field `v<name>` per value, holding that value's JSON; a
 * renewed session also has `s` (its successor's hash) and, until its renewal settles,
 * `q` and `t` (see **Renewal**). A load is one `HGETALL`. A save is one Lua script (`EVALSHA`, through ioredis's
 * `defineCommand`, which sends the script's body the first time a connection runs it),
 * so a session is never half-written.
 *
 * **No lost updates.** `patchSession` runs a script that checks that the session
 * still exists and has not expired (else it writes nothing and the manager drops the
 * session: a patch never brings one back), then `HSET`s the values the request set
 * (and the metadata, when the patch has one), `HDEL`s the ones it unset and moves the
 * expiry (when it moved), all atomically. Values another request changed meanwhile are
 * left alone; when two requests change the same value, the later save wins. Keeping one
 * hash field per value means the script never decodes or re-encodes JSON (Redis's Lua
 * cjson would turn `[]` into `{}` and round numbers to 14 digits).
 *
 * **The owner index, and why it works in a Cluster.** A session's key is known from
 * its token alone, long before it has an owner, and its owner can change, so a session
 * and its owner's index cannot be made to share a Cluster slot (a common `{hash tag}`
 * would put every session on one node). They live apart instead, and are never written
 * by one script: the owner index, a sorted set `<prefix>owner:<owner>` of the sessions'
 * hashes scored by their deadline, is a superset that is always written *before* a
 * session takes that owner (or keeps it past the deadline filed), and the truth is the
 * session's own `o` field. Filing a member again without raising its deadline raises its
 * score by a stamp of 1/256 ms, so whoever saw a score can tell whether the member was
 * filed again since. `deleteOwnerSessions` reads the index and deletes each listed
 * session (but `keep`) with a script that checks `o` still names the owner, so a stale
 * entry (a session deleted, expired or moved to another owner) does no harm;
 * `listOwnerSessions` reads the index, then each listed session (`HMGET`), and gives
 * those that are live and name the owner; `deleteSessionByHandle` is that one script on
 * the handle's key. An entry is pruned a minute after its deadline (room for clock skew
 * between app servers), when its session has certainly ended. `setSession` writes the
 * index before the session whenever there is an owner. A patch that leaves the owner
 * alone keeps whichever owner the session holds now (a concurrent request may have set
 * it). The patch script refuses (writes nothing, and names the owner) when the session
 * is about to take an owner, or keep its owner with a later deadline, that the index is
 * not known to cover; the store then writes that index and runs the patch again.
 *
 * **The bound per owner** (`limitOwnerSessions`). The owner's index is where concurrent
 * log-ins of one owner meet, so the bound is decided there, by one script (`admit`)
 * that counts and files in one step: exact under concurrency. A bounded save that files
 * a session under an owner (a `setSession`, or a patch that gives a new owner) first
 * marks the session `i` = owner (a hash of that field alone when the session is new,
 * which loads as nothing, kept at least the timeout plus a minute) while it reads the
 * index with scores. When the index holds `max` or more other entries, it reads each of
 * their sessions (`HMGET`, in parallel over the nodes) and tells the script which are
 * stale (gone, a tombstone, another owner, ended over a minute ago: dropped, each only if
 * its score is still the one seen), which are expired but maybe not for every clock yet
 * (not counted) and when the live ones were written. Every entry the store did not see,
 * or whose session carries the owner's mark, is counted as a save in flight. The
 * session's own entry never counts against itself when its session names the owner
 * already. Below `max` it files the session; at `max`, `'refuse'` files nothing (the
 * store takes its mark back and rejects with `SessionLimitError`), `'evict'` files it
 * and names the entries written least recently (unseen ones count as the newest),
 * marking each as evicted in the index (`!<hash>`, beside the entry, which stays until
 * its session is found ended): no later admission counts it or names it again, so each
 * admission leaves exactly `max` entries counted and each victim is named once. The
 * store then writes the session while it ends the victims with the owner-checking
 * delete script, and calls `evicted` with those that script ended (a live session, or a
 * save in flight): each eviction is reported once, and one ended meanwhile by a log-out
 * is not reported. Ending a session that carries the owner's mark (its save in flight)
 * leaves a tombstone (`x`) in its place for the same grace time: the save script
 * writes nothing over a tombstone, and the patch script finds no session, so an ended
 * session never comes back. The mark is what keeps the index a superset: a save in
 * flight is never dropped as stale.
 *
 * **Renewal** (`renewSession`). A session's key and its successor's are hashes of two
 * random ids, so in a Cluster they sit in slots of their own (and the owner's index in
 * a third), and no one script can write both. The renewal is decided by one script on
 * the old key, the *claim*: when the session is live and not renewed already, it sets
 * `s` (the successor's hash), `q` (until when the renewal may be in flight: the
 * timeout plus a minute) and `t` ('1' when the successor keeps the owner). From that
 * step on the session is retired: no patch or renewal writes into it, it is never
 * listed, and ending it (by handle, by owner, by eviction) ends its successor too,
 * leaving a tombstone on a successor not written yet. Beside the claim, a successor
 * with an owner is marked in flight (`i`). Then the successor is filed under its owner
 * (of the same owner, in the old entry's place, counted by no bound; else admitted as
 * any new session), written, and the old key settled: `q` and `t` go, `e` becomes the
 * end of the grace (when earlier), and the key lives at least the timeout plus a minute
 * so that an end that read the index before the entry moved still reaches the
 * successor through it; with no grace only `o` and `s` stay (they load as nothing).
 * When the bound refuses the successor, the claim is taken back. A load that finds `s`
 * reads the successor (`HMGET`, through a few later renewals) and serves the old record
 * with `superseded` while it lives, or while the claim stands and it is not written yet;
 * a claim that lapsed unsettled (a renewal cut off by a failure) ends the old id.
 *
 * Round trips: one per load (two for a retired id); one per save, except `setSession`
 * with an owner (two: index, then session) and the first patch that gives a session its
 * owner (three). Bounded: a new session of an owner three (mark and read the index, in
 * parallel; admit; write), four when the owner is at the bound (its sessions read
 * first), plus a parallel one to end whom it evicted, or one to take the mark back when
 * refused; a patch that gives a new owner four or five. `renewSession`: three without
 * an owner (claim, write, settle), four with one (claim and mark, file, write, settle),
 * one more for a log-in at the bound. `listOwnerSessions`: two. `deleteSessionByHandle`:
 * one (one more per renewal it follows). `deleteOwnerSessions`: two.
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
  implements PatchableSessionStore<T>, RenewableSessionStore<T>, OwnerListingSessionStore<T>
{
  readonly #client: RedisCommands;
  readonly #commands: Record<ScriptName, Command>;
  readonly #prefix: string;
  readonly #timeout: number;
  readonly #clock: Clock;
  #limit: OwnerSessionLimit | undefined;

  /**
   * @param client - An ioredis `Redis` or `Cluster`, owned by the app. The store adds
   *   its Lua scripts to it with `defineCommand` (names starting `kitSession_`).
   * @param options - See {@link RedisSessionStoreOptions}.
   * @param clock - The source of time for expiry.
   * @throws TypeError when the client is not an ioredis client, an option is invalid, or
   *   `options` names an option that does not exist.
   */
  constructor(client: Redis | Cluster, options: RedisSessionStoreOptions = {}, clock?: Clock) {
    checkOptionKeys('RedisSessionStore options', options, REDIS_OPTIONS);
    const commands = client as unknown as RedisCommands & Record<string, unknown>;
    if (commands === null || typeof commands !== 'object' || typeof commands.defineCommand !== 'function') {
      throw new TypeError('client must be an ioredis Redis or Cluster');
    }
    const prefix = options.prefix ?? DEFAULT_REDIS_PREFIX;
    if (typeof prefix !== 'string') {
      throw new TypeError('prefix must be a string');
    }
    // `?? undefined`: a null timeout means the default, as an unset one does.
    const timeout = positive('timeout', options.timeout ?? undefined, DEFAULT_TIMEOUT, 'milliseconds');
    // SCRIPTS has exactly the keys of ScriptName, so every name gets its command; every
    // script takes one key (`ScriptCall.keys`). Kept as ioredis defined them, called
    // with the client as `this`: no wrapper that copies the arguments again on each call.
    this.#commands = Object.fromEntries(
      (Object.entries(SCRIPTS) as [ScriptName, string][]).map(([name, lua]): [ScriptName, Command] => {
        const commandName = COMMAND_NAMES[name];
        if (typeof commands[commandName] !== 'function') {
          commands.defineCommand(commandName, { lua, numberOfKeys: 1 });
        }
        return [name, commands[commandName] as Command];
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
   * @returns The record (its metadata included), or `undefined` when the token is
   *   unknown, malformed or expired.
   * @throws SessionStoreError when Redis fails or does not answer within `timeout`.
   * @example
   * ```ts
   * const store = new RedisSessionStore(redis);
   * const record = await store.getSession(token); // undefined when unknown or expired
   * ```
   */
  async getSession(token: string): Promise<LoadedSessionRecord<T> | undefined> {
    if (!isId(token)) {
      return undefined;
    }
    const key = this.#key(sessionHash(token));
    const fields = await this.#run('load', () => this.#client.hgetall(key));
    const now = this.#clock.now();
    const expireTime = Number(fields.e);
    const deadline = Number(fields.d);
    if (!liveAt(expireTime, deadline, now)) {
      return undefined;
    }
    // A renewed session: served, read-only, while its successor lives. Only this case
    // reads more than the one hash.
    const successor = fields.s;
    if (successor !== undefined && !(await this.#run('load', () => this.#successorLive(successor, fields.q, now)))) {
      return undefined;
    }
    const values: Record<string, unknown> = {};
    for (const field of Object.keys(fields)) {
      if (field.charCodeAt(0) !== VALUE_FIELD_CODE) {
        continue;
      }
      let value: unknown;
      try {
        value = JSON.parse(fields[field]!);
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
    const meta = fields.m;
    const record: LoadedSessionRecord<T> =
      meta === undefined
        ? { id: token, values: values as Partial<T>, expireTime, deadline }
        : { id: token, values: values as Partial<T>, expireTime, deadline, meta };
    return successor === undefined ? record : { ...record, superseded: true };
  }

  /**
   * Saves a session, replacing what was kept under its id: one script, plus the owner
   * index first when there is an owner (and, when owners are bounded, the admission
   * under the bound: see the class's comment).
   *
   * @param id - The session's id.
   * @param record - The values, expiry and metadata.
   * @param owner - The session's owner, for {@link RedisSessionStore.deleteOwnerSessions}.
   * @param report - Told whom the save evicted; else the bound's own `evicted` is.
   * @returns The id, which is the token.
   * @throws TypeError when the id is not 1 to 256 characters of base64url.
   * @throws SessionLimitError when owners are bounded with the policy `'refuse'` and the
   *   owner has as many other live sessions as the bound allows: nothing was written.
   * @throws SessionStoreError when Redis fails or does not answer within `timeout`.
   * @example
   * ```ts
   * const token = await store.setSession(id, { values: { userId: 'u1' }, expireTime, deadline }, 'u1'); // token === id
   * ```
   */
  async setSession(id: string, record: SessionRecord<T>, owner?: string, report?: EvictionReport): Promise<string> {
    checkId(id);
    const now = this.#clock.now();
    const px = pxOf(record, now);
    const hash = sessionHash(id);
    const key = this.#key(hash);
    const limit = this.#limit;
    const write = () => this.#write(key, px, record, owner, now, valueFields(record.values));
    let evicted: string[] = [];
    const admitted = await this.#run('save', async () => {
      if (px === 0) {
        await this.#client.del(key);
        return true;
      }
      if (owner === undefined) {
        await write();
        return true;
      }
      if (limit === undefined) {
        await this.#index(owner, hash, record.deadline, now);
        await write();
        return true;
      }
      // Bounded: mark the session as in flight for the owner while reading the index,
      // then admit it, then write it (and end whom its admission evicted).
      const [intent, entries] = await Promise.all([
        this.#call(intentCall({ key, owner, grace: this.#grace, now })),
        this.#entries(owner, now),
      ]);
      if (intent === 0) {
        return true; // ended meanwhile (a tombstone): nothing to write
      }
      const victims = await this.#admit(limit, owner, hash, record.deadline, now, intent === 2, entries);
      if (victims === undefined) {
        await this.#call(clearIntentCall({ key, owner }));
        return false;
      }
      [, evicted] = await Promise.all([write(), this.#evict(owner, victims, now)]);
      return true;
    });
    if (!admitted) {
      throw new SessionLimitError('the owner has as many live sessions as maxSessionsPerOwner allows');
    }
    // After the operation, so that a callback that throws is not taken for a Redis failure.
    if (limit !== undefined && owner !== undefined) {
      this.#report(report ?? limit.evicted, owner, evicted);
    }
    return id;
  }

  /**
   * Renews a session: see `RenewableSessionStore.renewSession`. The session's key and
   * its successor's sit in slots of their own, so in a Cluster no one script can touch
   * both: the renewal is decided by one script on the old key, which claims it (`s`
   * names the successor; from then on no patch or renewal writes into it, and ending it
   * ends its successor), then files the successor under its owner (taking the old
   * entry's place when the owner is the same: nothing refused or evicted for it), writes
   * it, and settles the old key: retired, served as superseded until the grace ends; or,
   * when the bound refused the successor, as it was. A successor with an owner is marked
   * in flight first (in parallel with the claim), so that an end that reaches it before
   * it is written leaves a tombstone and the write does nothing.
   *
   * @param id - The session's current id.
   * @param newId - The successor's id.
   * @param renewal - The successor's record and owner, and the grace of the old id.
   * @returns The new id, which is the token; `undefined` when the old id is not live, or
   *   the session was ended before its successor was written: nothing is left of it.
   * @throws TypeError when `newId` is not 1 to 256 characters of base64url, or is `id`.
   * @throws SessionLimitError when the successor takes an owner whose bound (policy
   *   `'refuse'`) is reached: the old session is left as it was.
   * @throws SessionStoreError when Redis fails or does not answer within `timeout`; the
   *   old id may then be read-only until its claim lapses (the timeout plus a minute),
   *   and ended after that unless its successor was written.
   * @example
   * ```ts
   * const token = await store.renewSession(oldId, newId, { record, owner: 'u1', grace: 30_000 });
   * // undefined: the old session was ended, expired or renewed already; nothing was written
   * ```
   */
  async renewSession(id: string, newId: string, renewal: SessionRenewal<T>): Promise<string | undefined> {
    if (!checkRenewal(id, newId)) {
      return undefined;
    }
    const { record, owner, grace } = renewal;
    const now = this.#clock.now();
    const px = pxOf(record, now);
    const successor = sessionHash(newId);
    const key = this.#key(sessionHash(id));
    const newKey = this.#key(successor);
    const limit = this.#limit;
    const fields = valueFields(record.values);
    const settle = (outcome: RenewOutcome) =>
      this.#call(renewSettleCall({ key, successor, outcome, now, until: now + Math.max(0, grace), keep: this.#grace }));
    let evicted: string[] = [];
    const result = await this.#run('renew', async (): Promise<string | undefined | 'refused'> => {
      // The claim decides; the mark and the owner's index are read beside it.
      const owned = owner !== undefined && px > 0;
      const [claim, intent, entries] = await Promise.all([
        this.#call(renewClaimCall({ key, now, successor, until: now + this.#grace, owner })),
        owned ? this.#call(intentCall({ key: newKey, owner, grace: this.#grace, now })) : undefined,
        owned && limit !== undefined ? this.#entries(owner, now) : undefined,
      ]);
      if (!Array.isArray(claim)) {
        if (owned && intent !== 0) {
          await this.#call(clearIntentCall({ key: newKey, owner }));
        }
        return undefined;
      }
      // Ended already (a tombstone), or a successor already ended: write nothing more.
      if (intent === 0 || px === 0) {
        await settle('drop');
        return px === 0 ? newId : undefined;
      }
      let victims: string[] = [];
      if (owned) {
        let admitted: string[] | undefined | 'evicted';
        if (claim[1] === '1') {
          // Of the same owner: the successor takes the old entry's place, and no bound
          // counts it; unless an admission has evicted the old session meanwhile.
          const filed = await this.#index(owner, successor, record.deadline, now, sessionHash(id));
          admitted = filed === 1 ? [] : 'evicted';
        } else if (limit === undefined) {
          await this.#index(owner, successor, record.deadline, now);
          admitted = [];
        } else {
          // A log-in (a new owner): bounded as any new session of the owner.
          admitted = await this.#admit(limit, owner, successor, record.deadline, now, false, entries!);
        }
        if (admitted === 'evicted') {
          // The admission that evicted the old session ends it (and reports it): it finds
          // the claim, and its successor, never written, gets a tombstone.
          await this.#call(clearIntentCall({ key: newKey, owner }));
          return undefined;
        }
        if (admitted === undefined) {
          await Promise.all([this.#call(clearIntentCall({ key: newKey, owner })), settle('rollback')]);
          return 'refused';
        }
        victims = admitted;
      }
      const [written, ended] = await Promise.all([
        this.#write(newKey, px, record, owner, now, fields),
        victims.length === 0 ? [] : this.#evict(owner!, victims, now),
      ]);
      evicted = ended;
      await settle(written === 1 ? 'commit' : 'drop');
      return written === 1 ? newId : undefined;
    });
    if (limit !== undefined && owner !== undefined) {
      this.#report(renewal.evicted ?? limit.evicted, owner, evicted);
    }
    if (result === 'refused') {
      throw new SessionLimitError('the owner has as many live sessions as maxSessionsPerOwner allows');
    }
    return result;
  }

  /**
   * Applies the values one request set and unset, atomically, on top of what Redis
   * holds now: one script in the usual case. A patch without `owner` keeps the owner
   * Redis holds now; `owner: null` removes it. A patch without `meta` keeps the stored
   * metadata.
   *
   * @param id - The session's id.
   * @param patch - What changed.
   * @returns The id, or `undefined` when the session is gone or expired.
   * @throws TypeError when the id is not 1 to 256 characters of base64url.
   * @throws SessionLimitError when the patch gives the session a new owner whose bound
   *   (policy `'refuse'`) is reached: nothing was written.
   * @throws SessionStoreError when Redis fails or does not answer within `timeout`.
   * @example
   * ```ts
   * const token = await store.patchSession(id, { set: { visits: 2 }, unset: ['flash'], expireTime, deadline });
   * // undefined: the session was deleted or expired meanwhile, and nothing was written
   * ```
   */
  async patchSession(id: string, patch: SessionPatch<T>): Promise<string | undefined> {
    checkId(id);
    const now = this.#clock.now();
    const hash = sessionHash(id);
    const key = this.#key(hash);
    const set = valueFields(patch.set);
    const limit = this.#limit;
    const reports: [owner: string, victims: string[]][] = [];
    const result = await this.#run('save', async () => {
      const unset = patch.unset.length === 0 ? [] : patch.unset.map((name) => VALUE_FIELD + name);
      const inputs = {
        key,
        now,
        px: pxOf(patch, now),
        expireTime: patch.expireTime,
        deadline: patch.deadline,
        meta: patch.meta,
        set,
        unset,
      };
      let indexed: string | undefined;
      for (let attempt = 1; ; attempt++) {
        // The usual patch (the owner left alone, no bound, no index just written) runs
        // the smaller script, which answers as the full one would.
        const answer = await this.#call(
          patch.owner === undefined && indexed === undefined && limit === undefined
            ? patchValuesCall(inputs)
            : patchCall({ ...inputs, owner: patch.owner, indexed, limited: limit !== undefined }),
        );
        if (!Array.isArray(answer)) {
          return Number(answer);
        }
        if (attempt === PATCH_ATTEMPTS) {
          throw new Error('concurrent saves kept moving the session to other owners');
        }
        // The session is to name this owner: its index must cover the session first.
        const owner = String(answer[0]);
        if (limit === undefined) {
          await this.#index(owner, hash, patch.deadline, now);
        } else {
          const entries = await this.#entries(owner, now);
          const victims = await this.#admit(limit, owner, hash, patch.deadline, now, answer[1] === '1', entries);
          if (victims === undefined) {
            await this.#call(clearIntentCall({ key, owner }));
            return 'refused';
          }
          reports.push([owner, await this.#evict(owner, victims, now)]);
        }
        indexed = owner;
      }
    });
    // After the operation, so that a callback that throws is not taken for a Redis failure.
    for (const [owner, victims] of reports) {
      this.#report(patch.evicted ?? limit!.evicted, owner, victims);
    }
    if (result === 'refused') {
      throw new SessionLimitError('the owner has as many live sessions as maxSessionsPerOwner allows');
    }
    return result === 1 ? id : undefined;
  }

  /**
   * Forgets a session: one `DEL`. Unknown and malformed ids are fine.
   *
   * @param id - The session's id.
   * @throws SessionStoreError when Redis fails or does not answer within `timeout`.
   * @example
   * ```ts
   * await store.deleteSession(id); // an unknown id resolves too
   * ```
   */
  async deleteSession(id: string): Promise<void> {
    if (!isId(id)) {
      return;
    }
    // A retired id in its grace ends its successor too: a log-out racing a renewal wins.
    const now = this.#clock.now();
    await this.#run('delete', async () => {
      let next: string | undefined = sessionHash(id);
      for (let step = 0; step <= MAX_RENEWAL_STEPS && next !== undefined; step++) {
        const call = deleteFollowingCall({ key: this.#key(next), now, grace: this.#grace, follow: step > 0 });
        const successor = await this.#call(call);
        next = typeof successor === 'string' ? successor : undefined;
      }
    });
  }

  /**
   * Deletes every session of one owner: reads the owner's index, then deletes each
   * listed session that still names this owner (in parallel, each on its own node).
   *
   * @param owner - The owner.
   * @param keep - Optional: the handle of one session to leave alone ("log out my other
   *   devices").
   * @returns How many live sessions were ended (sessions already expired by the store's
   *   clock, whose keys Redis has not yet dropped, are deleted too but not counted).
   * @throws SessionStoreError when Redis fails or does not answer within `timeout`.
   * @example
   * ```ts
   * const ended = await store.deleteOwnerSessions('u1'); // "log out everywhere"
   * ```
   */
  async deleteOwnerSessions(owner: string, keep?: string): Promise<number> {
    const now = this.#clock.now();
    const bound = now - CLOCK_SKEW_MARGIN;
    return this.#run('delete owner sessions', async () => {
      const hashes = await this.#client.zrangebyscore(this.#ownerKey(owner), `(${bound}`, '+inf');
      // The one kept, and what it was renewed into meanwhile (read after the index: a
      // renewal after this read files a successor the index read did not see).
      const kept = new Set<string>();
      for (let hash = keep, step = 0; hash !== undefined && step <= MAX_RENEWAL_STEPS; step++) {
        kept.add(hash);
        const [successor] = await this.#client.hmget(this.#key(hash), 's');
        hash = successor ?? undefined;
      }
      const ended = await Promise.all(
        hashes.filter((hash) => isId(hash) && !kept.has(hash)).map((hash) => this.#endOwned(owner, hash, now, kept)),
      );
      return ended.reduce((sum, { live }) => sum + live, 0);
    });
  }

  /**
   * Lists the live sessions of one owner: reads the owner's index, then each listed
   * session (`HMGET`, in parallel, each on its own node), and keeps those that are live
   * by the store's clock and still name the owner. Two round trips.
   *
   * @param owner - The owner.
   * @returns Each live session's handle (the hash its key is made of), metadata and
   *   expiry, in no set order; never an id.
   * @throws SessionStoreError when Redis fails or does not answer within `timeout`.
   * @example
   * ```ts
   * for (const { handle, meta, expireTime } of await store.listOwnerSessions('u1')) {
   *   console.log(handle, meta, new Date(expireTime));
   * }
   * ```
   */
  async listOwnerSessions(owner: string): Promise<OwnerSessionRecord[]> {
    const now = this.#clock.now();
    const bound = now - CLOCK_SKEW_MARGIN;
    return this.#run('list owner sessions', async () => {
      const hashes = (await this.#client.zrangebyscore(this.#ownerKey(owner), `(${bound}`, '+inf')).filter(isId);
      const states = await Promise.all(hashes.map((hash) => this.#client.hmget(this.#key(hash), 'o', 'e', 'd', 'm', 's')));
      const listed: OwnerSessionRecord[] = [];
      states.forEach(([storedOwner, e, d, meta, successor], index) => {
        const expireTime = Number(e);
        const deadline = Number(d);
        // A renewed session is never listed: its successor is, under its own handle.
        if (storedOwner === owner && e !== null && d !== null && successor === null && liveAt(expireTime, deadline, now)) {
          listed.push({ handle: hashes[index]!, meta: meta ?? undefined, expireTime, deadline });
        }
      });
      return listed;
    });
  }

  /**
   * Ends one session of an owner, named by its handle: one script on the session's key,
   * which deletes it only if its own owner field names this owner. The owner's index
   * keeps the entry (a superset); a later admission or pruning drops it. A handle of a
   * renewed session ends its successor too, the same device (one more script a renewal).
   *
   * @param owner - The owner.
   * @param handle - The session's handle, from `listOwnerSessions`.
   * @returns `true` when a live session was ended.
   * @throws SessionStoreError when Redis fails or does not answer within `timeout`.
   * @example
   * ```ts
   * await store.deleteSessionByHandle('u1', handle); // "end this one"
   * ```
   */
  async deleteSessionByHandle(owner: string, handle: string): Promise<boolean> {
    if (!isId(handle)) {
      return false;
    }
    const now = this.#clock.now();
    const { live } = await this.#run('delete by handle', () => this.#endOwned(owner, handle, now, undefined, true));
    return live > 0;
  }

  /**
   * Bounds each owner's live sessions, from now on: a save that files a session under
   * an owner with `max` other live sessions evicts the owner's sessions written least
   * recently, or writes nothing and rejects with `SessionLimitError`, as the policy says.
   * The manager calls it once, when built with `maxSessionsPerOwner`.
   *
   * @param limit - The bound, its policy and the eviction callback.
   * @throws TypeError when `max` is not a positive integer, the policy is unknown, or the
   *   store is bounded differently already.
   * @example
   * ```ts
   * store.limitOwnerSessions({ max: 5, policy: 'evict', evicted: (owner, handles) => audit(owner, handles) });
   * ```
   */
  limitOwnerSessions(limit: OwnerSessionLimit): void {
    this.#limit = checkLimit(this.#limit, limit);
  }

  /**
   * The length of the token a save under `id` returns: the id's own.
   *
   * @param id - The session's id.
   * @returns `id.length`.
   * @example
   * ```ts
   * store.tokenLength(id); // id.length: the token is the id
   * ```
   */
  tokenLength(id: string): number {
    return id.length;
  }

  /** A session's key, from the hash of its id (`hashId`): never the id itself. */
  #key(hash: string): string {
    return this.#prefix + hash;
  }

  #ownerKey(owner: string): string {
    return `${this.#prefix}owner:${owner}`;
  }

  /**
   * How long an in-flight mark and a tombstone live: longer than any save may take
   * before it counts as failed, plus the clock-skew margin.
   */
  get #grace(): number {
    return this.#timeout + CLOCK_SKEW_MARGIN;
  }

  /**
   * Files a session (the hash of its id) under its owner, until its deadline; a
   * renewal's successor in place of its predecessor (`replaces`). Resolves to 1, or 0
   * when the predecessor it replaces was evicted (nothing filed).
   */
  #index(owner: string, hash: string, deadline: number, now: number, replaces?: string): Promise<Answer> {
    return this.#call(
      indexCall({
        key: this.#ownerKey(owner),
        hash,
        deadline,
        pruneUpTo: now - CLOCK_SKEW_MARGIN,
        ttl: Math.max(1, Math.ceil(deadline - now + CLOCK_SKEW_MARGIN)),
        replaces,
      }),
    );
  }

  /** The owner's index entries not yet prunable, each with its score as Redis wrote it. */
  async #entries(owner: string, now: number): Promise<SeenEntry[]> {
    const flat = await this.#client.zrangebyscore(this.#ownerKey(owner), `(${now - CLOCK_SKEW_MARGIN}`, '+inf', 'WITHSCORES');
    const entries: SeenEntry[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      entries.push({ hash: flat[i]!, score: flat[i + 1]! });
    }
    return entries;
  }

  /**
   * Admits a session into its owner's index under the bound. When the index holds as
   * many other entries as the bound, reads each of their sessions first (in parallel),
   * to tell the admission which are stale, which expired and when the live ones were
   * written. Resolves to the sessions to evict (none when it fits), or `undefined` when
   * the policy refused it.
   */
  async #admit(
    limit: OwnerSessionLimit,
    owner: string,
    hash: string,
    deadline: number,
    now: number,
    already: boolean,
    entries: readonly SeenEntry[],
  ): Promise<string[] | undefined> {
    const own = entries.find((entry) => entry.hash === hash);
    const alreadyScore = already ? own?.score : undefined;
    const others = entries.filter((entry) => entry.hash !== hash && isId(entry.hash));
    // Entries an earlier admission evicted stay listed, marked, until found ended: they
    // no longer count, but are read with the others so that they can be dropped.
    const evicted = new Set(entries.filter((entry) => entry.hash.startsWith(EVICTED_MARK)).map((entry) => entry.hash.slice(1)));
    const counted = others.filter((entry) => !evicted.has(entry.hash)).length;
    const dead: SeenEntry[] = [];
    const uncounted: SeenEntry[] = [];
    const written: { hash: string; writeTime: number }[] = [];
    if (alreadyScore === undefined && counted >= limit.max) {
      const states = await Promise.all(
        others.map((entry) => this.#client.hmget(this.#key(entry.hash), 'o', 'e', 'd', 'w', 'i', 's', 'q')),
      );
      states.forEach(([storedOwner, e, d, w, inFlight, successor, claimed], index) => {
        const entry = others[index]!;
        const expireTime = Number(e);
        const end = Math.min(expireTime, Number(d));
        if (inFlight === owner) {
          return; // a bounded save of it is in flight: counted, as the most recent
        }
        // A renewed session whose renewal is settled (or lapsed) no longer counts; one
        // being renewed counts as itself until its successor takes its entry's place.
        const retired = successor !== null && !(claimed !== null && Number(claimed) > now);
        if (retired || storedOwner !== owner || e === null || d === null || !(end > now - CLOCK_SKEW_MARGIN)) {
          // Gone, a tombstone, moved to another owner, or ended long enough ago that no
          // app server's clock still sees it live: a save can no longer file it here
          // without filing it again (which changes its score).
          dead.push(entry);
        } else if (!liveAt(expireTime, Number(d), now)) {
          uncounted.push(entry);
        } else {
          written.push({ hash: entry.hash, writeTime: Number(w) || 0 });
        }
      });
    }
    const answer = await this.#call(
      admitCall({
        key: this.#ownerKey(owner),
        hash,
        deadline,
        pruneUpTo: now - CLOCK_SKEW_MARGIN,
        ttl: Math.max(1, Math.ceil(deadline - now + CLOCK_SKEW_MARGIN)),
        max: limit.max,
        policy: limit.policy,
        alreadyScore,
        dead,
        uncounted,
        written,
      }),
    );
    const [verdict, ...victims] = Array.isArray(answer) ? answer : [answer];
    if (Number(verdict) === 0) {
      return undefined;
    }
    return victims.map(String);
  }

  /**
   * Ends the sessions an admission evicted, each only if it still belongs to the owner.
   * Resolves to those it ended: a live session, or a save in flight (left a tombstone).
   * One ended meanwhile by other means (a log-out, its expiry) was not evicted.
   */
  async #evict(owner: string, victims: readonly string[], now: number): Promise<string[]> {
    const answers = await Promise.all(victims.map((hash) => this.#endOwned(owner, hash, now)));
    return victims.filter((_, index) => answers[index]!.ended);
  }

  /**
   * Ends one session of an owner by its hash, only if it still belongs to the owner (or
   * a bounded save filing it there is in flight), and a renewed one's successor after
   * it, through later renewals (a few steps at most), never the `keep` one. Resolves to
   * how many live sessions it ended, and whether it ended anything: a live session, or a
   * save in flight (which then writes nothing).
   */
  async #endOwned(
    owner: string,
    hash: string,
    now: number,
    keep?: ReadonlySet<string>,
    byHandle = false,
  ): Promise<{ live: number; ended: boolean }> {
    let live = 0;
    let ended = false;
    let next: string | undefined = hash;
    let follow = false;
    for (let step = 0; step <= MAX_RENEWAL_STEPS && next !== undefined && keep?.has(next) !== true; step++) {
      const answer = await this.#call(deleteOwnedCall({ key: this.#key(next), owner, now, grace: this.#grace, follow }));
      const [code, successor, followNext, serving] = Array.isArray(answer) ? answer : [answer];
      if (byHandle && step === 0 && successor !== undefined && serving !== '1') {
        // A handle of a renewed session past its grace names nothing any more (as an
        // unknown id); an owner's end still follows it (its index read may predate the renewal).
        return { live: 0, ended: false };
      }
      // A successor not written yet, ended in its renewal's stead: the session, live
      // until then as its predecessor, counts once.
      live += Number(code) === 1 || (follow && Number(code) === 2) ? 1 : 0;
      ended ||= Number(code) !== 0 || successor !== undefined;
      next = successor === undefined ? undefined : String(successor);
      follow = followNext === '1';
    }
    return { live, ended };
  }

  /**
   * Whether a renewed session's successor, followed through later renewals (a few steps
   * at most), is live. `claim` is the renewed session's `q`: present while its renewal
   * is not settled, and then the successor not written yet counts as live until the
   * claim lapses. A claim that has lapsed unsettled (its renewal was cut off) ends the
   * session on its own.
   */
  async #successorLive(hash: string, claim: string | null | undefined, now: number): Promise<boolean> {
    let next = hash;
    let until = claim;
    for (let step = 0; step < MAX_RENEWAL_STEPS; step++) {
      const inFlight = until !== null && until !== undefined;
      if (inFlight && !(Number(until) > now)) {
        return false;
      }
      const [e, d, successor, nextClaim, tombstone] = await this.#client.hmget(this.#key(next), 'e', 'd', 's', 'q', 'x');
      if (tombstone !== null) {
        return false;
      }
      if (e === null || d === null) {
        return inFlight && successor === null;
      }
      if (!liveAt(Number(e), Number(d), now)) {
        return false;
      }
      if (typeof successor !== 'string') {
        return true;
      }
      until = nextClaim;
      next = successor;
    }
    return false;
  }

  /** Tells the save's report (else the bound's callback) whom a save evicted, if anyone. */
  #report(report: EvictionReport | undefined, owner: string, victims: readonly string[]): void {
    if (victims.length > 0 && report !== undefined) {
      try {
        report(owner, victims);
      } catch {
        // The save is written: a throwing report must not make it look failed (as OwnerBound.report).
      }
    }
  }

  /** Writes a whole session (the set script). */
  #write(
    key: string,
    px: number,
    record: SessionRecord<T>,
    owner: string | undefined,
    now: number,
    fields: ReturnType<typeof valueFields>,
  ): Promise<Answer> {
    const { expireTime, deadline, meta } = record;
    return this.#call(setCall({ key, px, expireTime, deadline, owner: owner ?? null, meta, now, fields }));
  }

  /** Runs one script, as its builder laid it out. */
  #call(call: ScriptCall): Promise<Answer> {
    return this.#commands[call.script].call(this.#client, call.keys[0], ...call.args);
  }

  /** Runs one operation against the store's timeout; every failure becomes a SessionStoreError. */
  #run<R>(operation: string, work: () => Promise<R>): Promise<R> {
    return storeOperation(`redis session store: ${operation}`, this.#timeout, work, withoutArguments);
  }
}
