// kit-session/dynamodb: DynamoDbSessionStore, sessions in a DynamoDB table through the AWS
// SDK v3 low-level client, on single-item conditional writes only (no transactions).
import {
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  CreateTableCommand,
  DescribeTableCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  UpdateTimeToLiveCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { systemClock, type Clock } from '../../core/Clock.js';
import { checkOptionKeys } from '../../core/options.js';
import type {
  EvictionReport,
  LoadedSessionRecord,
  OwnerListingSessionStore,
  OwnerSessionLimit,
  OwnerSessionRecord,
  PatchableSessionStore,
  RenewableSessionStore,
  SessionPatch,
  SessionRecord,
  SessionRenewal,
  TokenLengthSessionStore,
} from '../../core/SessionStore.js';
import {
  checkId,
  checkRenewal,
  isHandle,
  isId,
  MAX_RENEWAL_STEPS,
  OwnerBound,
  resolveTimeout,
  sessionKey,
  storeOperation,
} from '../policy.js';
import {
  entryName,
  entryValue,
  isLiveOwn,
  LIVE_CONDITION,
  LIVE_NAMES,
  MAX_EXPRESSION,
  numberValue,
  ownerItemKey,
  patchedItem,
  patchUpdate,
  PK,
  readOwner,
  readSession,
  sessionItem,
  stringValue,
  tombstone,
  ttlSeconds,
  valuesOf,
  type Item,
  type OwnerItem,
  type SessionItem,
} from './items.js';
import { checkTable, isConditionFailure, named, scrubError } from './dynamoErrors.js';

/**
 * Options of {@link DynamoDbSessionStore}.
 */
export interface DynamoDbSessionStoreOptions {
  /**
   * The table's name: 3 to 255 characters of letters, digits, `_`, `-` and `.` (DynamoDB's
   * own rule). Sessions and owner items share it.
   * @default 'sessions'
   */
  readonly table?: string;
  /**
   * The longest one operation may take, in milliseconds, before it rejects with
   * `SessionStoreError` (cause: an error named `TimeoutError`); each request is aborted
   * then too. A write that reached DynamoDB may still have applied.
   * @default 5000
   */
  readonly timeout?: number;
  /**
   * How many times a compare-and-set is tried before the operation fails with
   * `SessionStoreError`: a bounded save whose owner's item another save changed between its
   * read and its write, and a patch too large for one DynamoDB expression (4 KB) whose
   * session another write changed meanwhile. 1 to 1000.
   * @default 20
   */
  readonly maxAttempts?: number;
}

const STORE_OPTIONS = ['table', 'timeout', 'maxAttempts'] as const satisfies readonly (keyof DynamoDbSessionStoreOptions)[];

/**
 * The default table name.
 *
 * @example
 * ```ts
 * new DynamoDbSessionStore(client, { table: DEFAULT_DYNAMODB_TABLE }); // the same as no option
 * ```
 */
export const DEFAULT_DYNAMODB_TABLE = 'sessions';


/** The most keys one BatchGetItem takes. */
const BATCH = 100;

/** The longest grace kept: about 35 years, in milliseconds. */
const MAX_GRACE = 2 ** 40;

/** What a bounded admission decided. */
interface Admission {
  readonly excess: number;
  readonly evicted: readonly string[];
}

/**
 * Keeps sessions in a DynamoDB table, through the AWS SDK v3 low-level client
 * (`@aws-sdk/client-dynamodb`, an optional peer dependency), on single-item conditional
 * writes only: no transactions, so it runs on DynamoDB and on emulators without them.
 *
 * **Layout.** One item per session, keyed by the SHA-256 of the session id (base64url),
 * never the id. Each value is its own entry of a map attribute, as JSON text, so that a
 * patch is one `UpdateItem` (`SET v.#name = :json`, `REMOVE v.#name`) under a condition
 * that the session is live and not retired: concurrent patches of different values all
 * keep their change, and a patch never brings an ended session back. One item per owner
 * (keyed by the SHA-256 of the owner) files the owner's sessions, with a version for
 * compare-and-set: the bound per owner is exact without transactions. An ended session's
 * item becomes a tombstone that no save writes over, so that a save racing an end never
 * brings it back. The `ttl` attribute (seconds) lets DynamoDB's TTL delete ended items;
 * enable TTL on it ({@link DynamoDbSessionStore.createTable} does). DynamoDB deletes late:
 * the store compares every write with its own clock, never trusting TTL.
 *
 * **Round trips.** A load is one `GetItem` (a retired id in its grace: one more per
 * renewal followed). A save without an owner is one `PutItem`; with an owner, two (the
 * owner item, then the session); with a bound, three (read, compare-and-set, put), four
 * when the owner is full (the owner's sessions read in one `BatchGetItem`), more when it
 * evicts or another save of the owner races it. A patch is one `UpdateItem`; one that
 * moves the owner, two or three more.
 *
 * @typeParam T - The shape of the session's values.
 * @example
 * ```ts
 * import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
 * import { SessionManager } from 'kit-session';
 * import { DynamoDbSessionStore } from 'kit-session/dynamodb';
 *
 * const store = new DynamoDbSessionStore(new DynamoDBClient({}), { table: 'app_sessions' });
 * await store.createTable(); // once, or in your infrastructure code
 * const manager = new SessionManager<{ userId: string }>(store, { ownerKey: 'userId' });
 * ```
 */
export class DynamoDbSessionStore<T = Record<string, unknown>>
  implements PatchableSessionStore<T>, RenewableSessionStore<T>, OwnerListingSessionStore<T>, TokenLengthSessionStore<T>
{
  readonly #client: DynamoDBClient;
  readonly #table: string;
  readonly #timeout: number;
  readonly #attempts: number;
  readonly #clock: Clock;
  readonly #bound = new OwnerBound();

  /**
   * @param client - The app's `DynamoDBClient` (the store never destroys it).
   * @param options - See {@link DynamoDbSessionStoreOptions}.
   * @param clock - The source of time for expiry.
   * @throws TypeError when `client` has no `send`, an option is invalid, or `options` names
   *   an option that does not exist.
   */
  constructor(client: DynamoDBClient, options: DynamoDbSessionStoreOptions = {}, clock?: Clock) {
    checkOptionKeys('DynamoDbSessionStore options', options, STORE_OPTIONS);
    if (typeof (client as { send?: unknown } | null)?.send !== 'function') {
      throw new TypeError('client must be a DynamoDBClient');
    }
    this.#client = client;
    this.#table = checkTable(options.table ?? DEFAULT_DYNAMODB_TABLE);
    this.#timeout = resolveTimeout(options.timeout);
    const attempts = options.maxAttempts ?? 20;
    if (!Number.isSafeInteger(attempts) || attempts < 1 || attempts > 1000) {
      throw new TypeError('maxAttempts must be a whole number from 1 to 1000');
    }
    this.#attempts = attempts;
    this.#clock = clock ?? systemClock;
  }

  /**
   * Creates the table (partition key `pk`, a string; on-demand billing) if it does not
   * exist, waits until it is active, and enables TTL on the `ttl` attribute. Safe when
   * several app instances run it at once.
   *
   * @throws SessionStoreError when DynamoDB fails.
   * @example
   * ```ts
   * await new DynamoDbSessionStore(client).createTable();
   * ```
   */
  async createTable(): Promise<void> {
    await this.#run('create table', async (signal) => {
      try {
        await this.#client.send(
          new CreateTableCommand({
            TableName: this.#table,
            AttributeDefinitions: [{ AttributeName: PK, AttributeType: 'S' }],
            KeySchema: [{ AttributeName: PK, KeyType: 'HASH' }],
            BillingMode: 'PAY_PER_REQUEST',
          }),
          { abortSignal: signal },
        );
      } catch (error) {
        if (!(named(error, 'ResourceInUseException'))) {
          throw error;
        }
      }
    });
    for (let attempt = 0; attempt < 600; attempt++) {
      const status = await this.#run('create table', async (signal) => {
        const answer = await this.#client.send(new DescribeTableCommand({ TableName: this.#table }), { abortSignal: signal });
        return answer.Table?.TableStatus;
      });
      if (status === 'ACTIVE') {
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await this.#run('create table', async (signal) => {
      try {
        await this.#client.send(
          new UpdateTimeToLiveCommand({ TableName: this.#table, TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true } }),
          { abortSignal: signal },
        );
      } catch (error) {
        // An emulator without TTL (dynalite), or TTL enabled already: the store never relies on it.
        const name = (error as { name?: string }).name;
        if (name !== 'UnknownOperationException' && name !== 'ValidationException') {
          throw error;
        }
      }
    });
  }

  /**
   * Loads a session: one strongly consistent `GetItem`. A renewed id is given, marked
   * `superseded`, only within its grace and while its successor (followed through later
   * renewals, one `GetItem` each) is live.
   *
   * @param token - The session's id.
   * @returns The record, or `undefined` when unknown, malformed, ended, or retired and no
   *   longer served. A session past its expiry is given back as it is until DynamoDB's TTL
   *   deletes it (the manager reports it as expired and never serves it).
   * @throws SessionStoreError when DynamoDB fails.
   * @example
   * ```ts
   * const record = await store.getSession(token); // undefined when unknown
   * ```
   */
  async getSession(token: string): Promise<LoadedSessionRecord<T> | undefined> {
    if (!isId(token)) {
      return undefined;
    }
    return this.#run('load', async (signal) => {
      const item = await this.#get(sessionKey(token), signal);
      if (item === undefined || item.gone) {
        return undefined;
      }
      if (item.successor !== undefined) {
        const now = this.#clock.now();
        if (!(item.graceEnd > now) || !(await this.#chainLive(item.successor, now, signal))) {
          return undefined;
        }
      }
      const values = valuesOrUndefined(item);
      if (values === undefined || !Number.isFinite(item.expireTime) || !Number.isFinite(item.deadline)) {
        return undefined;
      }
      return {
        id: token,
        values: values as Partial<T>,
        expireTime: item.expireTime,
        deadline: item.deadline,
        ...(item.meta === undefined ? {} : { meta: item.meta }),
        ...(item.successor === undefined ? {} : { superseded: true }),
      };
    });
  }

  /**
   * Saves a session whole, replacing what was kept under its id: one `PutItem` (never over
   * a tombstone: a session ended meanwhile stays ended). With an owner, the owner's item
   * files it first; on a store with a bound, by compare-and-set, evicting or refusing.
   *
   * @param id - The session's id.
   * @param record - The values, expiry and metadata.
   * @param owner - The session's owner, for {@link DynamoDbSessionStore.deleteOwnerSessions}.
   * @param report - Told whom the save evicted; else the bound's own `evicted` is.
   * @returns The id, which is the token.
   * @throws TypeError when the id is not 1 to 256 characters of base64url.
   * @throws SessionLimitError when the bound refuses a new session of the owner; nothing
   *   was written.
   * @throws SessionStoreError when DynamoDB fails.
   * @example
   * ```ts
   * const token = await store.setSession(id, { values: { userId: 'u1' }, expireTime, deadline }, 'u1'); // token === id
   * ```
   */
  async setSession(id: string, record: SessionRecord<T>, owner?: string, report?: EvictionReport): Promise<string> {
    checkId(id);
    const handle = sessionKey(id);
    const ownerKey = typeof owner === 'string' ? ownerItemKey(owner) : undefined;
    const admitted = await this.#run('save', async (signal) => {
      const now = this.#clock.now();
      let admission: Admission = { excess: 0, evicted: [] };
      if (ownerKey !== undefined) {
        const counts = Math.min(record.expireTime, record.deadline) > now;
        admission = await this.#file(ownerKey, handle, undefined, counts, now, signal);
        if (admission.excess > 0 && this.#bound.limit?.policy === 'refuse') {
          return admission;
        }
      }
      const old = await this.#put(sessionItem(handle, record, ownerKey, now), signal);
      if (old?.owner !== undefined && old.owner !== ownerKey) {
        await this.#unfile(old.owner, [handle], signal);
      }
      return admission;
    });
    if (owner !== undefined && this.#bound.limit !== undefined) {
      this.#bound.settle(owner, admitted.excess, admitted.evicted, report);
    }
    return id;
  }

  /**
   * Applies a patch: one `UpdateItem` that sets and removes just the values the request
   * changed, under the condition that the session is live and not retired. A patch that
   * moves the owner files the session under the new owner first (bounded) and takes it out
   * of the old owner's item after.
   *
   * @param id - The session's id.
   * @param patch - What changed.
   * @returns The id, or `undefined` when the session is not live (unknown, ended, expired
   *   or renewed): nothing was written.
   * @throws TypeError when the id is not 1 to 256 characters of base64url.
   * @throws SessionLimitError when the bound refuses the session for its new owner.
   * @throws SessionStoreError when DynamoDB fails.
   * @example
   * ```ts
   * const token = await store.patchSession(id, { set: { visits: 2 }, unset: ['flash'], expireTime, deadline });
   * ```
   */
  async patchSession(id: string, patch: SessionPatch<T>): Promise<string | undefined> {
    checkId(id);
    const handle = sessionKey(id);
    const { owner } = patch;
    const ownerKey = typeof owner === 'string' ? ownerItemKey(owner) : owner === null ? null : undefined;
    const outcome = await this.#run('save', async (signal) => {
      const now = this.#clock.now();
      let admission: Admission = { excess: 0, evicted: [] };
      if (typeof ownerKey === 'string') {
        // Read first, so that a patch of a session no longer live files (and evicts) nothing.
        const current = await this.#get(handle, signal);
        if (!isLiveOwn(current, now)) {
          return undefined;
        }
        admission = await this.#file(ownerKey, handle, undefined, current.owner !== ownerKey, now, signal);
        if (admission.excess > 0 && this.#bound.limit?.policy === 'refuse') {
          return admission;
        }
      }
      const update = patchUpdate(patch as SessionPatch<object>, ownerKey, now);
      let old: Item | undefined;
      // The expression holds placeholders only (ASCII): its length is its size in bytes.
      if (update.UpdateExpression.length > MAX_EXPRESSION) {
        old = await this.#patchWhole(handle, patch as SessionPatch<object>, ownerKey, now, signal);
      } else {
        try {
          const answer = await this.#client.send(
            new UpdateItemCommand({
              TableName: this.#table,
              Key: { [PK]: stringValue(handle) },
              ...update,
              ConditionExpression: LIVE_CONDITION,
              ...(ownerKey === undefined ? {} : { ReturnValues: 'UPDATED_OLD' }),
            }),
            { abortSignal: signal },
          );
          old = answer.Attributes ?? {};
        } catch (error) {
          if (!isConditionFailure(error)) {
            throw error;
          }
        }
      }
      if (old === undefined) {
        if (typeof ownerKey === 'string') {
          await this.#unfileIfFiledNow(ownerKey, handle, signal);
        }
        return undefined;
      }
      const before = old?.own?.S;
      if (ownerKey !== undefined && before !== undefined && before !== ownerKey) {
        await this.#unfile(before, [handle], signal);
      }
      return admission;
    });
    if (outcome === undefined) {
      return undefined;
    }
    if (typeof owner === 'string' && this.#bound.limit !== undefined) {
      this.#bound.settle(owner, outcome.excess, outcome.evicted, patch.evicted);
    }
    return id;
  }

  /**
   * Renews a session without a transaction: reads the old item (live, of its own); files
   * the successor under its owner (in its predecessor's place when the owner is the same,
   * else bounded as a new session); claims the old item (a conditional `UpdateItem`
   * setting its successor: of concurrent renewals one wins); writes the successor (never
   * over a tombstone: an end that followed the claim wins); and settles (the old item
   * deleted at once when there is no grace). About five round trips.
   *
   * @param id - The session's current id.
   * @param newId - The successor's id.
   * @param renewal - The successor's record and owner, and the grace of the old id.
   * @returns The new id, or `undefined` when the old id is not live or an end won.
   * @throws TypeError when `newId` is not 1 to 256 characters of base64url, or is `id`.
   * @throws SessionLimitError when the owner's bound refuses the successor.
   * @throws SessionStoreError when DynamoDB fails.
   * @example
   * ```ts
   * const token = await store.renewSession(oldId, newId, { record, owner: 'u1', grace: 30_000 });
   * ```
   */
  async renewSession(id: string, newId: string, renewal: SessionRenewal<T>): Promise<string | undefined> {
    if (!checkRenewal(id, newId)) {
      return undefined;
    }
    const { record, owner, grace } = renewal;
    const handle = sessionKey(id);
    const next = sessionKey(newId);
    const ownerKey = typeof owner === 'string' ? ownerItemKey(owner) : undefined;
    const kept = grace > 0 ? Math.min(grace, MAX_GRACE) : 0;
    const outcome = await this.#run('renew', async (signal) => {
      const now = this.#clock.now();
      const old = await this.#get(handle, signal);
      if (!isLiveOwn(old, now)) {
        return undefined;
      }
      let admission: Admission = { excess: 0, evicted: [] };
      if (ownerKey !== undefined) {
        const inPlace = old.owner === ownerKey;
        const counts = !inPlace && Math.min(record.expireTime, record.deadline) > now;
        admission = await this.#file(ownerKey, next, handle, counts, now, signal);
        if (admission.excess > 0 && this.#bound.limit?.policy === 'refuse') {
          return admission;
        }
      }
      const graceEnd = Math.min(now + kept, old.expireTime, old.deadline);
      const claimed = await this.#claim(handle, next, ownerKey, graceEnd, old.owner, now, signal);
      if (!claimed) {
        if (ownerKey !== undefined) {
          await this.#unfile(ownerKey, [next], signal);
        }
        return undefined;
      }
      const written = await this.#putFresh(sessionItem(next, record, ownerKey, now), signal);
      if (!written) {
        if (ownerKey !== undefined) {
          await this.#unfile(ownerKey, [next], signal);
        }
        return undefined;
      }
      if (kept === 0) {
        await this.#send(new PutItemCommand({ TableName: this.#table, Item: tombstone(handle, now) }), signal);
      }
      if (old.owner !== undefined && (kept === 0 || old.owner === ownerKey)) {
        await this.#unfile(old.owner, [handle], signal);
      }
      return admission;
    });
    if (outcome === undefined) {
      return undefined;
    }
    if (owner !== undefined && this.#bound.limit !== undefined) {
      this.#bound.settle(owner, outcome.excess, outcome.evicted, renewal.evicted);
    }
    return outcome.excess > 0 && this.#bound.limit?.policy === 'refuse' ? undefined : newId;
  }

  /**
   * Forgets a session: its item becomes a tombstone (one `PutItem`), and a retired id in
   * its grace ends its successor too (a log-out racing a renewal wins), one more per
   * renewal followed; then it leaves its owner's item. Unknown and malformed ids are fine.
   *
   * @param id - The session's id.
   * @throws SessionStoreError when DynamoDB fails.
   * @example
   * ```ts
   * await store.deleteSession(id); // an unknown id resolves too
   * ```
   */
  async deleteSession(id: string): Promise<void> {
    if (!isId(id)) {
      return;
    }
    await this.#run('delete', (signal) => this.#endChain(sessionKey(id), undefined, signal));
  }

  /**
   * Ends every session filed under an owner but the one named by `keep` and what it was
   * renewed into: reads the owner's item, turns each session's item into a tombstone (in
   * parallel, each only while it is still the owner's), and takes them out of the item.
   *
   * @param owner - The owner.
   * @param keep - Optional: the handle of a session to leave alone.
   * @returns How many live sessions were ended.
   * @throws SessionStoreError when DynamoDB fails.
   * @example
   * ```ts
   * const ended = await store.deleteOwnerSessions('u1'); // "log out everywhere"
   * ```
   */
  async deleteOwnerSessions(owner: string, keep?: string): Promise<number> {
    if (typeof owner !== 'string') {
      return 0;
    }
    const ownerKey = ownerItemKey(owner);
    return this.#run('delete owner sessions', async (signal) => {
      const now = this.#clock.now();
      const filed = readOwner(await this.#getRaw(ownerKey, signal));
      const keptHandles = new Set<string>();
      if (isHandle(keep)) {
        let handle: string | undefined = keep;
        for (let step = 0; step <= MAX_RENEWAL_STEPS && handle !== undefined; step++) {
          keptHandles.add(handle);
          const item: SessionItem | undefined = await this.#get(handle, signal);
          handle = item?.successor !== undefined && item.graceEnd > now ? item.successor : undefined;
        }
        // A renewal of a kept session under way: its successor is filed, not yet written.
        for (const entry of filed.entries) {
          if (entry.predecessor !== undefined && keptHandles.has(entry.predecessor)) {
            keptHandles.add(entry.handle);
          }
        }
      }
      let ended = 0;
      const done = new Set<string>();
      const end = async (handle: string, step: number): Promise<void> => {
        if (done.has(handle) || keptHandles.has(handle) || step > MAX_RENEWAL_STEPS) {
          return;
        }
        done.add(handle);
        const old = await this.#tombstoneIf(handle, ownerKey, true, now, signal);
        if (old === undefined) {
          return;
        }
        if (isLiveOwn(old, now)) {
          ended++;
        }
        // A retired session renewed within the owner: its successor is the owner's too.
        if (old.successor !== undefined && old.successorOwner === ownerKey && old.graceEnd > now) {
          await end(old.successor, step + 1);
        }
      };
      await Promise.all(filed.entries.map((entry) => end(entry.handle, 0)));
      await this.#unfile(ownerKey, [...done], signal);
      return ended;
    });
  }

  /**
   * Lists the live sessions of one owner: its item, then its sessions in strongly
   * consistent `BatchGetItem`s (100 a request); entries of sessions that ended are then
   * taken out of the owner's item (one `UpdateItem`, only when there are any).
   *
   * @param owner - The owner.
   * @returns Each live session's handle, metadata and expiry, in no set order.
   * @throws SessionStoreError when DynamoDB fails.
   * @example
   * ```ts
   * const sessions = await store.listOwnerSessions('u1');
   * ```
   */
  async listOwnerSessions(owner: string): Promise<OwnerSessionRecord[]> {
    if (typeof owner !== 'string') {
      return [];
    }
    const ownerKey = ownerItemKey(owner);
    return this.#run('list owner sessions', async (signal) => {
      const now = this.#clock.now();
      const filed = readOwner(await this.#getRaw(ownerKey, signal));
      const items = await this.#getMany(filed.entries.map((entry) => entry.handle), signal);
      const listed: OwnerSessionRecord[] = [];
      const stale: string[] = [];
      for (const entry of filed.entries) {
        const item = items.get(entry.handle);
        if (isLiveOwn(item, now) && item.owner === ownerKey) {
          listed.push({ handle: entry.handle, meta: item.meta, expireTime: item.expireTime, deadline: item.deadline });
        } else if (item !== undefined && (item.gone || !(Math.min(item.expireTime, item.deadline) > now))) {
          // Ended or expired: it can never be live again, so its entry goes. (An entry whose
          // item is missing may be a save under way, and one of another owner's session may
          // be filed here again by a racing patch: a bounded save drops those, safely.)
          stale.push(entry.handle);
        }
      }
      await this.#unfile(ownerKey, stale, signal);
      return listed;
    });
  }

  /**
   * Ends one session of an owner by its handle: its item becomes a tombstone only while it
   * is the owner's (a conditional `PutItem`); a retired handle in its grace ends its
   * successor, the same device.
   *
   * @param owner - The owner.
   * @param handle - The session's handle, from `listOwnerSessions`.
   * @returns `true` when a live session of that owner was ended.
   * @throws SessionStoreError when DynamoDB fails.
   * @example
   * ```ts
   * await store.deleteSessionByHandle('u1', handle); // "end this one"
   * ```
   */
  async deleteSessionByHandle(owner: string, handle: string): Promise<boolean> {
    if (!isHandle(handle) || typeof owner !== 'string') {
      return false;
    }
    return this.#run('delete session by handle', (signal) => this.#endChain(handle, ownerItemKey(owner), signal));
  }

  /**
   * Bounds the live sessions of each owner: from then on a save that files a session under
   * an owner with `max` other live sessions evicts the least recently written (or refuses,
   * as the policy says), by compare-and-set on the owner's item.
   *
   * @param limit - The bound, its policy and the eviction callback.
   * @throws TypeError when `max` is not a positive integer, the policy is unknown, or the
   *   store is bounded differently already.
   * @example
   * ```ts
   * store.limitOwnerSessions({ max: 5, policy: 'evict' });
   * ```
   */
  limitOwnerSessions(limit: OwnerSessionLimit): void {
    this.#bound.set(limit);
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

  // ---------------------------------------------------------------------------------
  // The owner's item
  // ---------------------------------------------------------------------------------

  /**
   * Files `handle` under the owner before its session is written. Without a bound (or when
   * it does not count), one `UpdateItem` of its entry. With a bound: read the item; when
   * the owner is full, read its sessions and count the live ones (a filed session whose item
   * is not there yet, or is live but not yet moved to this owner by its patch, counts while
   * it is recent; an older one never written is made a tombstone so that a late write cannot
   * bring it back); evict or refuse; and write by compare-and-set on the
   * version, again from the start when another save got there first.
   */
  async #file(ownerKey: string, handle: string, predecessor: string | undefined, counts: boolean, now: number, signal: AbortSignal): Promise<Admission> {
    const limit = this.#bound.limit;
    if (limit === undefined || !counts) {
      await this.#send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: { [PK]: stringValue(ownerKey) },
          UpdateExpression: 'SET #e = :e ADD #ver :one',
          ExpressionAttributeNames: { '#e': entryName(handle), '#ver': 'ver' },
          ExpressionAttributeValues: { ':e': entryValue(now, predecessor), ':one': numberValue(1) },
        }),
        signal,
      );
      return { excess: 0, evicted: [] };
    }
    const evicted: string[] = [];
    for (let attempt = 0; attempt < this.#attempts; attempt++) {
      const raw = await this.#getRaw(ownerKey, signal);
      const filed = readOwner(raw);
      const others = filed.entries.filter((entry) => entry.handle !== handle && entry.handle !== predecessor);
      if (filed.entries.some((entry) => entry.handle === handle)) {
        return { excess: 0, evicted };
      }
      const drop: string[] = [];
      let live = others.map((entry) => ({ handle: entry.handle, written: entry.filed }));
      if (others.length >= limit.max) {
        const items = await this.#getMany(others.map((entry) => entry.handle), signal);
        live = [];
        let restart = false;
        for (const entry of others) {
          const item = items.get(entry.handle);
          if (item === undefined && now - entry.filed < 2 * this.#timeout) {
            live.push({ handle: entry.handle, written: entry.filed });
          } else if (item === undefined) {
            // Filed long ago, never written: make sure no late write brings it back.
            if ((await this.#tombstoneIf(entry.handle, undefined, true, now, signal, true)) !== undefined) {
              restart = true;
            }
            drop.push(entry.handle);
          } else if (isLiveOwn(item, now) && item.owner === ownerKey) {
            live.push({ handle: entry.handle, written: Math.max(item.written, entry.filed) });
          } else if (isLiveOwn(item, now) && now - entry.filed < 2 * this.#timeout) {
            // Filed just now by a patch that moves a live session to this owner and has not
            // written it yet (its item still names no owner or the one before): it counts.
            live.push({ handle: entry.handle, written: entry.filed });
          } else if (item.successor === undefined || !(item.graceEnd > now) || item.owner !== ownerKey) {
            drop.push(entry.handle);
          }
        }
        if (restart) {
          continue;
        }
      }
      const excess = Math.max(live.length - limit.max + 1, 0);
      if (excess > 0 && limit.policy === 'refuse') {
        return { excess, evicted };
      }
      const victims = live
        .sort((a, b) => a.written - b.written)
        .slice(0, excess)
        .map((entry) => entry.handle);
      // A victim filed but not written yet is made a tombstone too: its write then fails.
      await Promise.all(victims.map((victim) => this.#endChain(victim, ownerKey, signal, false, true)));
      evicted.push(...victims);
      const removed = [...drop, ...victims];
      const names: Record<string, string> = { '#e': entryName(handle), '#ver': 'ver' };
      removed.forEach((gone, i) => {
        names[`#r${i}`] = entryName(gone);
      });
      try {
        await this.#client.send(
          new UpdateItemCommand({
            TableName: this.#table,
            Key: { [PK]: stringValue(ownerKey) },
            UpdateExpression: `SET #e = :e, #ver = :next${removed.length > 0 ? ` REMOVE ${removed.map((_, i) => `#r${i}`).join(', ')}` : ''}`,
            ConditionExpression: raw === undefined ? 'attribute_not_exists(#ver)' : '#ver = :ver',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: {
              ':e': entryValue(now, predecessor),
              ':next': numberValue(filed.version + 1),
              ...(raw === undefined ? {} : { ':ver': numberValue(filed.version) }),
            },
          }),
          { abortSignal: signal },
        );
        return { excess, evicted };
      } catch (error) {
        if (!(isConditionFailure(error))) {
          throw error;
        }
        // Another save of the owner got there first: try again after a random pause that
        // doubles with each attempt (at most 200 ms), so that racing saves spread out.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(200, 5 * 2 ** attempt)));
      }
    }
    throw new Error('the owner item changed on every attempt');
  }

  /** Takes handles out of an owner's item: one `UpdateItem`. */
  async #unfile(ownerKey: string, handles: readonly string[], signal: AbortSignal): Promise<void> {
    if (handles.length === 0) {
      return;
    }
    const names: Record<string, string> = { '#ver': 'ver', '#pk': PK };
    handles.forEach((handle, i) => {
      names[`#r${i}`] = entryName(handle);
    });
    try {
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: { [PK]: stringValue(ownerKey) },
          UpdateExpression: `REMOVE ${handles.map((_, i) => `#r${i}`).join(', ')} ADD #ver :one`,
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ':one': numberValue(1) },
        }),
        { abortSignal: signal },
      );
    } catch (error) {
      if (!(isConditionFailure(error))) {
        throw error;
      }
    }
  }

  /**
   * A patch too large for one expression (more than about 250 values changed at once, a key
   * rotation's rewrite of a big session): read, merge, and put conditional on the item's
   * `rev` being what was read (every patch moves it) and the session still live, again from
   * the read when another write got there first.
   *
   * @returns The item as it was, or `undefined` when the session is not live.
   */
  async #patchWhole(handle: string, patch: SessionPatch<object>, ownerKey: string | null | undefined, now: number, signal: AbortSignal): Promise<Item | undefined> {
    for (let attempt = 0; attempt < this.#attempts; attempt++) {
      const read = await this.#getRaw(handle, signal);
      if (read === undefined || !isLiveOwn(readSession(read), now)) {
        return undefined;
      }
      const rev = read.rev?.N;
      try {
        await this.#client.send(
          new PutItemCommand({
            TableName: this.#table,
            Item: patchedItem(read, patch, ownerKey, now),
            ConditionExpression: `${LIVE_CONDITION} AND ${rev === undefined ? 'attribute_not_exists(#rev)' : '#rev = :rev'}`,
            ExpressionAttributeNames: { ...LIVE_NAMES, '#rev': 'rev' },
            ExpressionAttributeValues: { ':now': numberValue(now), ...(rev === undefined ? {} : { ':rev': { N: rev } }) },
          }),
          { abortSignal: signal },
        );
        return read;
      } catch (error) {
        if (!isConditionFailure(error)) {
          throw error;
        }
      }
    }
    throw new Error('the session changed on every attempt');
  }

  /** After a refused patch: takes the handle out again unless its session is the owner's. */
  async #unfileIfFiledNow(ownerKey: string, handle: string, signal: AbortSignal): Promise<void> {
    const item = await this.#get(handle, signal);
    if (item === undefined || item.gone || item.owner !== ownerKey) {
      await this.#unfile(ownerKey, [handle], signal);
    }
  }

  // ---------------------------------------------------------------------------------
  // Session items
  // ---------------------------------------------------------------------------------

  /** Claims a live session for its successor: of concurrent renewals, one wins. */
  async #claim(
    handle: string,
    next: string,
    ownerKey: string | undefined,
    graceEnd: number,
    before: string | undefined,
    now: number,
    signal: AbortSignal,
  ): Promise<boolean> {
    const names: Record<string, string> = { ...LIVE_NAMES, '#ge': 'ge', '#ttl': 'ttl' };
    const values: Record<string, AttributeValue> = {
      ':now': numberValue(now),
      ':succ': stringValue(next),
      ':ge': numberValue(graceEnd),
      ':ttl': numberValue(ttlSeconds(graceEnd)),
    };
    // The retired record is served with its expiry cut to the grace's end.
    let update = 'SET #succ = :succ, #ge = :ge, #xp = :ge, #ttl = :ttl';
    if (ownerKey !== undefined) {
      names['#so'] = 'so';
      values[':so'] = stringValue(ownerKey);
      update += ', #so = :so';
    }
    let condition = LIVE_CONDITION;
    names['#own'] = 'own';
    if (before === undefined) {
      condition += ' AND attribute_not_exists(#own)';
    } else {
      values[':before'] = stringValue(before);
      condition += ' AND #own = :before';
    }
    try {
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: { [PK]: stringValue(handle) },
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
        { abortSignal: signal },
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) {
        return false;
      }
      throw error;
    }
  }

  /**
   * Ends a session and, while it is a retired one in its grace, the successors it leads to
   * (at most MAX_RENEWAL_STEPS): each item made a tombstone, then taken out of its owner's
   * item. With `ownerKey` (an end by handle, an eviction), every step must be that owner's
   * session: a retired id renewed into another owner's session ends alone. A successor not
   * written yet (a renewal under way) is made a tombstone too, so its write fails: the end
   * wins.
   *
   * @returns Whether a live session was ended.
   */
  async #endChain(first: string, ownerKey: string | undefined, signal: AbortSignal, unfile = true, orMissing = false): Promise<boolean> {
    const now = this.#clock.now();
    let handle: string = first;
    for (let step = 0; step <= MAX_RENEWAL_STEPS; step++) {
      const names: Record<string, string> = {};
      const values: Record<string, AttributeValue> = {};
      let condition: string | undefined;
      if (ownerKey !== undefined) {
        names['#own'] = 'own';
        values[':own'] = stringValue(ownerKey);
        condition = '#own = :own';
      }
      if (step > 0 || orMissing) {
        names['#pk'] = PK;
        condition = condition === undefined ? undefined : `attribute_not_exists(#pk) OR ${condition}`;
      }
      let old: SessionItem | undefined;
      try {
        const answer = await this.#client.send(tombstoneCommand(this.#table, handle, now, condition, names, values), { abortSignal: signal });
        old = readSession(answer.Attributes);
      } catch (error) {
        if (isConditionFailure(error)) {
          // Not the owner's (an ended one has no owner any more): nothing ended here.
          return false;
        }
        throw error;
      }
      if (old === undefined) {
        // Nothing was there: unknown at the first step; later, a successor whose renewal is
        // under way, ended now (its write will fail).
        return step > 0;
      }
      if (old.gone) {
        return false;
      }
      if (unfile && old.owner !== undefined) {
        await this.#unfile(old.owner, [handle], signal);
      }
      const follows =
        old.successor !== undefined &&
        old.graceEnd > now &&
        Math.min(old.expireTime, old.deadline) > now &&
        (ownerKey === undefined || old.successorOwner === ownerKey);
      if (!follows) {
        return isLiveOwn(old, now);
      }
      handle = old.successor!;
    }
    return false;
  }

  /**
   * Makes an item a tombstone, giving what it was: with `ownerKey`, only while the session is
   * that owner's (`orMissing`: or there is no item yet); `onlyMissing`: only when there is
   * none. Gives `undefined` when the condition failed or nothing was there.
   */
  async #tombstoneIf(
    handle: string,
    ownerKey: string | undefined,
    orMissing: boolean,
    now: number,
    signal: AbortSignal,
    onlyMissing = false,
  ): Promise<SessionItem | undefined> {
    const names: Record<string, string> = {};
    const values: Record<string, AttributeValue> = {};
    let condition: string | undefined;
    if (onlyMissing) {
      names['#pk'] = PK;
      condition = 'attribute_not_exists(#pk)';
    } else if (ownerKey !== undefined) {
      names['#own'] = 'own';
      values[':own'] = stringValue(ownerKey);
      condition = '#own = :own';
      if (orMissing) {
        names['#pk'] = PK;
        condition = 'attribute_not_exists(#pk) OR #own = :own';
      }
    }
    try {
      const answer = await this.#client.send(tombstoneCommand(this.#table, handle, now, condition, names, values), { abortSignal: signal });
      if (onlyMissing) {
        return undefined;
      }
      return readSession(answer.Attributes);
    } catch (error) {
      if (isConditionFailure(error)) {
        // onlyMissing: the item is there after all. Say so with a placeholder.
        return onlyMissing ? readSession({ [PK]: stringValue(handle) }) : undefined;
      }
      throw error;
    }
  }

  /** Writes a whole session unless it was ended (a tombstone); gives what was there. */
  async #put(item: Item, signal: AbortSignal): Promise<SessionItem | undefined> {
    try {
      const answer = await this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: item,
          ConditionExpression: 'attribute_not_exists(#gone)',
          ExpressionAttributeNames: { '#gone': 'gone' },
          ReturnValues: 'ALL_OLD',
        }),
        { abortSignal: signal },
      );
      return readSession(answer.Attributes);
    } catch (error) {
      if (isConditionFailure(error)) {
        // Ended while it was being saved: the end wins.
        return undefined;
      }
      throw error;
    }
  }

  /** Writes a renewal's successor unless an end got there first. */
  async #putFresh(item: Item, signal: AbortSignal): Promise<boolean> {
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: item,
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PK },
        }),
        { abortSignal: signal },
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) {
        return false;
      }
      throw error;
    }
  }

  /** Whether a successor, followed through later renewals, is live. */
  async #chainLive(first: string, now: number, signal: AbortSignal): Promise<boolean> {
    let handle: string | undefined = first;
    for (let step = 0; step < MAX_RENEWAL_STEPS && handle !== undefined; step++) {
      const item = await this.#get(handle, signal);
      if (item === undefined || item.gone || !(item.expireTime > now && item.deadline > now)) {
        return false;
      }
      if (item.successor === undefined) {
        return true;
      }
      if (!(item.graceEnd > now)) {
        return false;
      }
      handle = item.successor;
    }
    return false;
  }

  async #get(handle: string, signal: AbortSignal): Promise<SessionItem | undefined> {
    return readSession(await this.#getRaw(handle, signal));
  }

  async #getRaw(key: string, signal: AbortSignal): Promise<Item | undefined> {
    const answer = await this.#client.send(
      new GetItemCommand({ TableName: this.#table, Key: { [PK]: stringValue(key) }, ConsistentRead: true }),
      { abortSignal: signal },
    );
    return answer.Item;
  }

  /** Reads many session items, strongly consistent, 100 a request, in parallel. */
  async #getMany(handles: readonly string[], signal: AbortSignal): Promise<Map<string, SessionItem>> {
    const found = new Map<string, SessionItem>();
    const chunks: string[][] = [];
    for (let i = 0; i < handles.length; i += BATCH) {
      chunks.push(handles.slice(i, i + BATCH));
    }
    await Promise.all(
      chunks.map(async (chunk) => {
        let keys: Item[] | undefined = chunk.map((handle) => ({ [PK]: stringValue(handle) }));
        for (let round = 0; keys !== undefined && keys.length > 0 && round < 10; round++) {
          const answer: BatchGetItemCommandOutput = await this.#client.send(
            new BatchGetItemCommand({ RequestItems: { [this.#table]: { Keys: keys, ConsistentRead: true } } }),
            { abortSignal: signal },
          );
          for (const item of answer.Responses?.[this.#table] ?? []) {
            const handle = item[PK]?.S;
            const read = readSession(item);
            if (handle !== undefined && read !== undefined) {
              found.set(handle, read);
            }
          }
          keys = answer.UnprocessedKeys?.[this.#table]?.Keys;
        }
        if (keys !== undefined && keys.length > 0) {
          throw new Error('DynamoDB left keys unprocessed');
        }
      }),
    );
    return found;
  }

  async #send(command: PutItemCommand | UpdateItemCommand, signal: AbortSignal): Promise<void> {
    await this.#client.send(command as never, { abortSignal: signal });
  }

  /** One operation against the store's timeout; each request aborted at the deadline. */
  #run<R>(what: string, work: (signal: AbortSignal) => Promise<R>): Promise<R> {
    const controller = new AbortController();
    return storeOperation(
      `dynamodb session store: ${what}`,
      this.#timeout,
      () => {
        // Just after the operation's deadline (which rejects it first, as a timeout): stops
        // what is still in flight.
        const timer = setTimeout(() => controller.abort(), this.#timeout + 50);
        return work(controller.signal).finally(() => clearTimeout(timer));
      },
      scrubError,
    );
  }
}

/** The values of a session item, or `undefined` when they are not JSON. */
function valuesOrUndefined(item: SessionItem): Record<string, unknown> | undefined {
  return item.values === undefined ? undefined : valuesOf(item.values);
}

/**
 * The write that makes an item a tombstone and gives what it was, under `condition` (with
 * its names and values) when there is one.
 */
function tombstoneCommand(
  table: string,
  handle: string,
  now: number,
  condition: string | undefined,
  names: Record<string, string>,
  values: Record<string, AttributeValue>,
): PutItemCommand {
  return new PutItemCommand({
    TableName: table,
    Item: tombstone(handle, now),
    ReturnValues: 'ALL_OLD',
    ...(condition === undefined
      ? {}
      : {
          ConditionExpression: condition,
          // Only the names the condition uses (a name set for a condition that was then left out is not sent).
          ExpressionAttributeNames: Object.fromEntries(Object.entries(names).filter(([name]) => condition.includes(name))),
          ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
        }),
  });
}
