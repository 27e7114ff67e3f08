// Account sessions (core): what a manager knows of sessions' owners — ending all of an
// owner's sessions, listing them, ending one by its handle, ending the others, the bound
// and its evictions — with the metadata policy and revocable cookies beside it
// (SessionMetadata.ts, SessionRevocation.ts).
import { decodeMeta, metadataOf, type OwnerSession } from '../metadata.js';
import type { ResolvedOptions } from '../options.js';
import type { Session } from '../Session.js';
import { callStore, SessionStaleError } from '../SessionError.js';
import { hashId, isHandle } from '../sessionHandle.js';
import {
  isOwnerIndexedStore,
  isOwnerListingStore,
  type LoadedSessionRecord,
  type OwnerListingSessionStore,
  type SessionStore,
} from '../SessionStore.js';
import type { Clock } from '../Clock.js';
import type { SessionEvents } from './SessionEvents.js';
import { SessionMetadata } from './SessionMetadata.js';
import { SessionRevocation } from './SessionRevocation.js';

/**
 * @internal The account side of one manager: owners and their sessions, with the
 * manager's metadata policy and revocation.
 */
export class SessionAccounts<T extends object> {
  readonly #store: SessionStore<T>;
  readonly #options: ResolvedOptions;
  readonly #events: SessionEvents;
  /** Whether saves record when an owned session was last seen, and by what client. */
  readonly recordsVisits: boolean;
  /** What saves record as metadata. */
  readonly metadata: SessionMetadata;
  /** Revocable sealed cookies (the `revocation` option). */
  readonly revocation: SessionRevocation<T>;
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
    this.metadata = new SessionMetadata(options, this.recordsVisits);
    this.revocation = new SessionRevocation(options, events, clock);
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
    await this.revocation.bump(name);
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
    if (!isOwnerListingStore(store) && !this.revocation.active) {
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
    if (this.revocation.active) {
      session.markChanged();
      const generation = await this.revocation.bump(owner);
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
