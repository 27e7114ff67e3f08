// Account sessions (core): what a manager knows of sessions' owners — ending all of an
// owner's sessions, listing them, ending one by its handle, ending the others; the
// metadata a save records; and revocable sealed cookies (owners' generations).
import { GenerationCache } from '../GenerationCache.js';
import { decodeMeta, encodeMeta, metadataOf, type MetaFields, type OwnerSession } from '../metadata.js';
import type { ResolvedOptions } from '../options.js';
import type { Session } from '../Session.js';
import { SessionError, SessionStaleError, SessionStoreError } from '../SessionError.js';
import { hashId } from '../sessionHandle.js';
import {
  isOwnerIndexedStore,
  isOwnerListingStore,
  type LoadedSessionRecord,
  type OwnerListingSessionStore,
  type SessionStore,
} from '../SessionStore.js';
import type { Clock } from '../Clock.js';
import type { SessionEvents } from './SessionEvents.js';

/**
 * A store's failure as the manager reports it: its own errors as they are, others wrapped.
 *
 * @internal
 * @param error - What the store threw.
 * @returns The error to throw.
 */
export function storeError(error: unknown): SessionError {
  return error instanceof SessionError ? error : new SessionStoreError('session store failed', { cause: error });
}

/**
 * Runs a store operation, reporting its failure as {@link storeError} says.
 *
 * @internal
 * @param operation - The operation.
 * @returns What it resolves to.
 */
export async function callStore<R>(operation: () => Promise<R>): Promise<R> {
  try {
    return await operation();
  } catch (error) {
    throw storeError(error);
  }
}

/**
 * @internal The account side of one manager: owners, their sessions, metadata and
 * generations.
 */
export class SessionAccounts<T extends object> {
  readonly #store: SessionStore<T>;
  readonly #options: ResolvedOptions;
  readonly #events: SessionEvents;
  readonly #generations: GenerationCache | undefined;
  /** Whether saves record when an owned session was last seen, and by what client. */
  readonly recordsVisits: boolean;
  /** Whether loads check owners' generations (the `revocation` option). */
  readonly revokes: boolean;
  /** Reports the sessions a save of this manager evicted. */
  readonly evicted = (owner: string, handles: readonly string[]): void => {
    for (const handle of handles) {
      this.#events.emit('evicted', 'limit', handle, owner);
    }
  };

  /**
   * @param store - The manager's store.
   * @param options - The manager's resolved options.
   * @param events - The manager's event reporter.
   * @param clock - The manager's clock.
   * @throws TypeError when the options ask for an ability the store lacks.
   */
  constructor(store: SessionStore<T>, options: ResolvedOptions, events: SessionEvents, clock: Clock) {
    this.#store = store;
    this.#options = options;
    this.#events = events;
    const { ownerKey, maxSessionsPerOwner, revocation } = options;
    if (ownerKey !== undefined && !isOwnerIndexedStore(store) && revocation === undefined) {
      throw new TypeError('ownerKey needs a store that keeps an owner index (memory, Redis, PostgreSQL), or revocation');
    }
    if (maxSessionsPerOwner !== undefined) {
      if (!isOwnerListingStore(store)) {
        throw new TypeError('maxSessionsPerOwner needs a store that lists sessions (memory, Redis, PostgreSQL)');
      }
      store.limitOwnerSessions({ max: maxSessionsPerOwner, policy: options.whenOwnerFull, evicted: this.evicted });
    }
    this.recordsVisits = ownerKey !== undefined && isOwnerListingStore(store);
    this.revokes = revocation !== undefined;
    this.#generations =
      revocation === undefined
        ? undefined
        : new GenerationCache(revocation.generations, revocation.maxStaleness, revocation.whenUnavailable === 'trust', () =>
            clock.now(),
          );
  }

  /**
   * The owner named by a session's values, as text.
   *
   * @param values - The session's values.
   * @returns The owner, or `undefined` without `ownerKey` or an owner value.
   */
  owner(values: Partial<T>): string | undefined {
    const { ownerKey } = this.#options;
    if (ownerKey === undefined || !Object.hasOwn(values, ownerKey)) {
      return undefined;
    }
    const owner = (values as Record<string, unknown>)[ownerKey];
    return typeof owner === 'string' || typeof owner === 'number' ? String(owner) : undefined;
  }

  /**
   * Whether a loaded session's cookie was sealed before its owner's latest revocation.
   *
   * @param record - The loaded record.
   * @param meta - Its metadata.
   * @returns `true` when it is revoked (the `revoked` event is reported).
   * @throws SessionStoreError when the generations cannot be read and the options say to fail.
   */
  async revoked(record: LoadedSessionRecord<T>, meta: MetaFields): Promise<boolean> {
    const owner = this.owner(record.values);
    if (this.#generations === undefined || owner === undefined) {
      return false;
    }
    let current: number | undefined;
    try {
      current = await this.#generations.current(owner);
    } catch (error) {
      throw storeError(error);
    }
    if (current === undefined || (meta.g ?? 0) >= current) {
      return false;
    }
    this.#events.emitFor('revoked', 'generation', record.id, owner);
    return true;
  }

  /**
   * Whether a save must read the owner's generation first, past the cache (a log-in
   * seals the generation of now: a stale one would be revoked), and reads it.
   *
   * @param session - The session being saved.
   * @param owner - Its owner.
   * @returns A promise when the generation had to be read, else `undefined`.
   */
  sealGeneration(session: Session<T>, owner: string | undefined): Promise<void> | undefined {
    const generations = this.#generations;
    const { ownerKey } = this.#options;
    if (
      generations === undefined ||
      owner === undefined ||
      (session.meta.g !== undefined && !session.changedKeys.has(ownerKey as keyof T & string))
    ) {
      return undefined;
    }
    return generations.fresh(owner).then((generation) => {
      session.recordMeta({ ...session.meta, g: generation });
    });
  }

  /**
   * The metadata a save writes, as text (and recorded on the session): with an owner on
   * a store that lists sessions, everything (last seen now, the client); else only the
   * creation, authentication, renewal and generation, when there is one of them to
   * keep; else none.
   *
   * @param session - The session being saved.
   * @param owner - Its owner.
   * @param now - The current time.
   * @returns The metadata's text, or `undefined` for none.
   */
  metaText(session: Session<T>, owner: string | undefined, now: number): string | undefined {
    const known = session.meta;
    const generation = owner === undefined ? undefined : known.g;
    const renewed = this.#options.renewalInterval === undefined ? undefined : known.r;
    let fields: MetaFields | undefined;
    if (this.recordsVisits && owner !== undefined) {
      const { client } = session;
      fields = {
        c: known.c,
        a: known.a,
        s: now,
        u: client.userAgent ?? known.u,
        i: this.#options.clientAddress === undefined ? undefined : (client.address ?? known.i),
        g: generation,
        r: renewed,
      };
    } else if (known.a !== undefined || generation !== undefined || renewed !== undefined) {
      fields = { c: known.c, a: known.a, g: generation, r: renewed };
    }
    if (fields === undefined) {
      session.recordMeta({ c: known.c });
      // Metadata held from before (an owner since removed) is replaced, not kept.
      const held = known.a !== undefined || known.s !== undefined || known.g !== undefined || known.u !== undefined;
      return held ? encodeMeta({ c: known.c }) : undefined;
    }
    session.recordMeta(fields);
    return encodeMeta(fields);
  }

  /**
   * Ends every session of one owner. See `SessionManager.destroyOwnerSessions`.
   *
   * @param owner - The owner.
   * @returns How many sessions were ended.
   */
  async destroyOwnerSessions(owner: string | number): Promise<number> {
    const store = this.#store;
    if (this.#options.ownerKey === undefined) {
      throw new TypeError('destroyOwnerSessions needs the ownerKey option');
    }
    const name = String(owner);
    const generations = this.#generations;
    if (generations !== undefined) {
      await callStore(() => generations.bump(name));
    }
    const ended = isOwnerIndexedStore(store) ? await callStore(() => store.deleteOwnerSessions(name)) : 0;
    this.#events.emit('destroyed', 'owner', undefined, name);
    return ended;
  }

  /**
   * Lists the live sessions of one owner. See `SessionManager.listOwnerSessions`.
   *
   * @param owner - The owner.
   * @param own - The asking request's session, marked `current`.
   * @returns The sessions, most recently seen first.
   */
  async listOwnerSessions(owner: string | number, own: Session<T> | undefined): Promise<OwnerSession[]> {
    const store = this.#listingStore('listOwnerSessions');
    const records = await callStore(() => store.listOwnerSessions(String(owner)));
    const current = own === undefined ? undefined : await handleOf(own);
    const sessions = records.map((record): OwnerSession => {
      const fields = decodeMeta(record.meta) ?? { c: record.deadline - this.#options.lifetime };
      return {
        handle: record.handle,
        current: record.handle === current,
        expiresAt: new Date(record.expireTime),
        deadline: new Date(record.deadline),
        ...metadataOf(fields),
      };
    });
    const seen = (session: OwnerSession) => (session.lastSeen ?? session.createdAt).getTime();
    return sessions.sort((a, b) => seen(b) - seen(a));
  }

  /**
   * Ends one session of an owner by its handle. See `SessionManager.destroySessionByHandle`.
   *
   * @param owner - The owner.
   * @param handle - The session's handle.
   * @returns `true` when a live session was ended.
   */
  async destroySessionByHandle(owner: string | number, handle: string): Promise<boolean> {
    const store = this.#listingStore('destroySessionByHandle');
    if (!isHandle(handle)) {
      // No store can hold it: a handle is the base64url SHA-256 of an id.
      return false;
    }
    const name = String(owner);
    const ended = await callStore(() => store.deleteSessionByHandle(name, handle));
    if (ended) {
      this.#events.emit('destroyed', 'handle', handle, name);
    }
    return ended;
  }

  /**
   * Ends every session of the request's owner but the request's own. See
   * `SessionManager.destroyOtherSessions`.
   *
   * @param session - The request's session.
   * @returns How many sessions the store ended.
   */
  async destroyOtherSessions(session: Session<T>): Promise<number> {
    const store = this.#store;
    if (!isOwnerListingStore(store) && this.#generations === undefined) {
      throw new TypeError('destroyOtherSessions needs a store that lists sessions, or the revocation option');
    }
    const owner = this.owner(session.values);
    if (owner === undefined) {
      return 0;
    }
    if (session.isStale) {
      // Its id was renewed by another request: keeping it would end its successor.
      throw new SessionStaleError('another request renewed this session: retry with the new cookie');
    }
    let ended = 0;
    const generations = this.#generations;
    if (generations !== undefined) {
      session.markChanged();
      const generation = await callStore(() => generations.bump(owner));
      session.recordMeta({ ...session.meta, g: generation });
    }
    if (isOwnerListingStore(store)) {
      // Renewed in this request and not saved yet: the loaded id, which its save renews.
      const { predecessor } = session;
      const keep = predecessor === undefined ? await handleOf(session) : await hashId(predecessor);
      ended = await callStore(() => store.deleteOwnerSessions(owner, keep));
    }
    this.#events.emit('destroyed', 'others', undefined, owner);
    return ended;
  }

  #listingStore(what: string): OwnerListingSessionStore<T> {
    const store = this.#store;
    if (this.#options.ownerKey === undefined || !isOwnerListingStore(store)) {
      throw new TypeError(`${what} needs the ownerKey option and a store that lists sessions (memory, Redis, PostgreSQL)`);
    }
    return store;
  }
}

/** The handle of a stored session, or `undefined` when the store does not hold it. */
async function handleOf<T extends object>(session: Session<T>): Promise<string | undefined> {
  return session.stored && session.id !== '' ? hashId(session.id) : undefined;
}

/** A handle's shape: the base64url text of a SHA-256 (43 characters). */
const HANDLE = /^[A-Za-z0-9_-]{43}$/;

function isHandle(handle: unknown): handle is string {
  return typeof handle === 'string' && HANDLE.test(handle);
}
