/**
 * The written definition of a session: a plain in-memory reference model of what a
 * session holds after any sequence of requests, and a model-based test (fast-check
 * `fc.commands` with `fc.asyncModelRun`) that runs random sequences against a real
 * store through the real `SessionManager` and checks every step against the model.
 *
 * docs/stores.md ("What a session means") is this model in prose; when one changes,
 * so must the other.
 *
 * The commands: a request of one browser (set, unset, pop, get, destroy, renew, in any
 * order), two concurrent requests of one browser (both load, then both save, in either
 * order; the browser keeps the cookie of the response that arrives last), a browser
 * copying another's cookie (a second tab, a restored profile, a stolen cookie), log
 * out everywhere, the clock moving (across the idle timeout and the lifetime), and key
 * rotation (a new key first, old ones still listed; then the old ones dropped), each
 * rebuild picking a crypto path. Also: a log-in (renew, then name the owner), a browser
 * clearing its cookie, `isFresh`, and a request to the "Your sessions" page (list the
 * owner's sessions, end one by the handle the listing gave, or end the others). Each
 * step also checks the events the manager reports; targets can bound each owner's
 * sessions or make sessions revocable, or have only the required store methods
 * (`wholeSaves`: every save whole, renewal without grace). The model knows the real
 * sessions by their handles (the SHA-256 of the real id), learned as both sides save.
 *
 * Environment: `FC_RUNS` (sequences per store), `FC_SEED` (replay a failure),
 * `FC_PATH` (with the seed: replay straight to the shrunk failure), `MODEL_TALLY`
 * (print what each store's sequences reached: steps and events; `FC_RUNS` prints it too).
 */
import { parseSetCookie } from 'cookie';
import fc from 'fast-check';
import {
  Context,
  DEFAULT_COOKIE_NAME,
  EncryptingStoreDecorator,
  importRawKey,
  isOwnerIndexedStore,
  isPatchableStore,
  isRenewableStore,
  MemoryOwnerGenerations,
  SessionLimitError,
  SessionManager,
  SessionStaleError,
  SessionValueError,
  type CryptoPath,
  type OwnerSession,
  type Session,
  type SessionEvent,
  type EncryptionKey,
  type SessionManagerOptions,
  type SessionStore,
} from 'kit-session';
import { createHash, randomBytes } from 'node:crypto';
import { FakeClock } from './FakeClock.js';

// ---------------------------------------------------------------------------------
// The reference model
// ---------------------------------------------------------------------------------

/** A value as JSON carries it. */
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const SECOND = 1000;
const MINUTE = 60 * SECOND;
/** The model's absolute lifetime. */
export const LIFETIME = 10 * MINUTE;
/** The model's idle timeout, when the run has one. */
export const IDLE_TIMEOUT = 2 * MINUTE;
/** The default touch interval for that idle timeout: min(1 minute, idle / 10). */
const TOUCH_INTERVAL = Math.min(MINUTE, IDLE_TIMEOUT / 10);
/** How deep a value may nest. */
const MAX_DEPTH = 64;
/** The value naming the owner, with `ownerKey`. */
const OWNER_KEY = 'userId';
/** The model's renewal grace, when the run has one (else 0). */
export const RENEWAL_GRACE = 20 * SECOND;
/** The model's renewal interval, when the run has one. */
export const RENEWAL_INTERVAL = 90 * SECOND;
/** How many renewals a retired id's successor is followed through. */
const MAX_RENEWAL_STEPS = 4;

/** What `setValue(key, value)` does to a session, by the rule every store follows. */
type Expected = { readonly kind: 'unset' } | { readonly kind: 'refused' } | { readonly kind: 'value'; readonly value: Json };

function storableText(text: string): boolean {
  return (text as string & { isWellFormed(): boolean }).isWellFormed() && !text.includes('\0');
}

/** Whether a JSON value holds text no store can keep, or nests deeper than allowed. */
function unstorable(value: Json, depthLeft: number): boolean {
  if (typeof value === 'string') {
    return !storableText(value);
  }
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  if (depthLeft === 0) {
    return true;
  }
  if (Array.isArray(value)) {
    return value.some((item) => unstorable(item, depthLeft - 1));
  }
  return Object.entries(value).some(([key, item]) => !storableText(key) || unstorable(item, depthLeft - 1));
}

/**
 * The rule for values: `undefined` unsets; anything else is kept as JSON gives it back,
 * or refused when JSON cannot encode it, gives nothing for it, or the result holds text
 * a store cannot keep or nests deeper than 64.
 */
export function expectedValue(value: unknown): Expected {
  if (value === undefined) {
    return { kind: 'unset' };
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    return { kind: 'refused' };
  }
  if (json === undefined) {
    return { kind: 'refused' };
  }
  const parsed = JSON.parse(json) as Json;
  return unstorable(parsed, MAX_DEPTH) ? { kind: 'refused' } : { kind: 'value', value: parsed };
}

/**
 * JSON with object keys sorted: two values are the same session data when these are
 * equal. Anything JSON would not give back as it is (NaN, -0, undefined, a Date, a
 * Map, a function, an array hole) is written so that it differs from what JSON gives.
 */
export function canonical(value: unknown): string {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0) ? JSON.stringify(value) : `#number(${String(value)})`;
    case 'object':
      break;
    default:
      return `#${typeof value}`;
  }
  if (value === null) {
    return 'null';
  }
  if (Array.isArray(value)) {
    const items: string[] = [];
    for (let i = 0; i < value.length; i++) {
      items.push(i in value ? canonical(value[i]) : '#hole');
    }
    return `[${items.join(',')}]`;
  }
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== null) {
    return `#${(value as object).constructor?.name ?? 'object'}`;
  }
  const entries = Object.keys(value)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`);
  return `{${entries.join(',')}}`;
}

function mapToObject(values: ReadonlyMap<string, Json>): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [key, value] of values) {
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** The owner a session's values name: the owner value's text, when it is a string or a number. */
function ownerOf(values: ReadonlyMap<string, Json>): string | undefined {
  const owner = values.get(OWNER_KEY);
  return typeof owner === 'string' || typeof owner === 'number' ? String(owner) : undefined;
}

/** A session as a server-side store keeps it. */
interface StoredSession {
  values: Map<string, Json>;
  expireTime: number;
  deadline: number;
  owner: string | undefined;
  /** When an owned session was last seen (written), on a store that lists sessions. */
  seen: number | undefined;
  /** With `encryptValues`: the key (generation) each value is sealed under. */
  valueKeys: Map<string, number>;
  /** When the session was created (its metadata's `createdAt`). */
  created: number;
  /** When it was last renewed (`authenticatedAt`), if ever. */
  auth: number | undefined;
  /** With revocation: the owner's generation sealed into its metadata. */
  gen: number | undefined;
  /** When the store last wrote it: the bound on an owner's sessions evicts the oldest. */
  written: number;
  /** With `encryptValues`: the key its metadata is sealed under, when it has metadata. */
  metaKey: number | undefined;
  /** When its id was last renewed by the renewal interval, if ever. */
  renewedAt: number | undefined;
  /** Retired by a renewal: the session it was renewed into. Never listed or counted. */
  successor: number | undefined;
  /**
   * Retired into another owner's session: its own owner's ends end it (a retired session
   * renewed within its owner ends with its successor).
   */
  filed: boolean;
}

/** What a session's metadata holds beside its creation: authenticated, last seen, generation. */
interface Meta {
  readonly a: number | undefined;
  readonly s: number | undefined;
  readonly g: number | undefined;
  readonly r: number | undefined;
}

/** What a browser holds: a session id on a server-side store, or the whole session in a cookie. */
interface ModelCookie {
  /** The server-side session id (the model's own numbering); unset for the cookie store. */
  readonly sid?: number;
  /** The session itself, for the cookie store. */
  readonly record?: {
    readonly values: ReadonlyMap<string, Json>;
    readonly expireTime: number;
    readonly deadline: number;
    readonly created: number;
    readonly auth: number | undefined;
    readonly gen: number | undefined;
    readonly renewedAt: number | undefined;
    /** Whether the cookie carries the session's id: it does when it carries metadata. */
    readonly hasId: boolean;
  };
  /** The key (generation) the cookie is sealed under; 0 for an unsealed store. */
  readonly key: number;
}

/** One request's session, as the model sees it between load and save. */
interface Working {
  status: 'new' | 'unmodified' | 'modified' | 'destroyed';
  values: Map<string, Json>;
  sid: number;
  stored: boolean;
  hasCookie: boolean;
  expireTime: number;
  deadline: number;
  changed: Set<string>;
  retired: number[];
  rewrite: boolean;
  /** When the store last saw the session, as loaded (owned sessions on a listing store). */
  seen: number | undefined;
  /** When the session was created. */
  created: number;
  /** When it was last renewed (`renew()` records it), if ever. */
  auth: number | undefined;
  /** With revocation: the owner's generation it holds. */
  gen: number | undefined;
  /** Whether the session existed before this request (loaded, or saved since): for events. */
  loaded: boolean;
  /** How the id was renewed in this request (`renew()`, or the interval): for the `renewed` event. */
  renewal: 'request' | 'interval' | undefined;
  /** When the id was last renewed by the renewal interval, if ever. */
  renewedAt: number | undefined;
  /** The stored id this request renewed: the store retires it when the successor is saved. */
  predecessor: number | undefined;
  /** Loaded as a retired id within the grace, or found renewed or ended at save: nothing is saved. */
  stale: boolean;
  /**
   * Whether the session has an id: a new one has; one loaded from a cookie has when the
   * cookie carries it (it does once saved with metadata). Ending one without an id
   * retires nothing, so destroying it and setting a value again reports only `created`.
   */
  retirable: boolean;
}

/** What a response does to the browser's cookie. */
type CookieEffect = { readonly kind: 'none' } | { readonly kind: 'set'; readonly cookie: ModelCookie } | { readonly kind: 'expire' };

/** What a save does: its cookie effect, or refused by the bound on an owner's sessions (nothing written). */
type SaveEffect = CookieEffect | { readonly kind: 'refused' };

/**
 * Which of the owner's sessions a full bound evicts: the store's choice among those
 * written least recently (the model cannot order sessions written in the same
 * millisecond), told by the manager's `evicted` events. Gives the model's session ids.
 */
export type EvictionOracle = (candidates: readonly number[], excess: number) => number[];

/** What kind of store a target is, as far as the meaning of a session goes. */
export interface TargetTraits {
  /**
   * `'cookie'`: the session lives in the cookie; `'server'`: a server-side store that
   * patches and renews atomically, unless `wholeSaves`.
   */
  readonly kind: 'cookie' | 'server';
  /**
   * A server-side store with only the required methods (no `patchSession`, no
   * `renewSession`): every save writes the whole session with `setSession`, so of two
   * concurrent requests the last save wins whole, and a save after another request ended
   * or renewed the session writes it back under its id; a renewal is `setSession` of the
   * new id, then `deleteSession` of the old one, with no grace (the old id then loads
   * nothing), and it too writes even when the old id is gone. Needs `ownerIndex: false`
   * and no `limit`.
   */
  readonly wholeSaves?: boolean;
  /** Wrapped in `EncryptingStoreDecorator`: cookies are sealed, and keys matter. */
  readonly sealed: boolean;
  /** The decorator seals the values too. */
  readonly encryptValues: boolean;
  /** The store keeps an owner index: the manager runs with `ownerKey`. */
  readonly ownerIndex: boolean;
  /** The manager bounds each owner's sessions (`maxSessionsPerOwner`, `whenOwnerFull`). */
  readonly limit?: { readonly max: number; readonly policy: 'evict' | 'refuse' };
  /** Revocable sessions: `MemoryOwnerGenerations`, `maxStaleness` 0 (the manager runs with `ownerKey`). */
  readonly revocation?: boolean;
}

/** The reference model: what every store must give. */
export class SessionModel {
  now = Date.UTC(2026, 0, 1);
  /** The listed keys, newest (sealing) first, as generations. */
  keys: number[] = [1];
  #nextKey = 2;
  /** Each browser's cookie. */
  readonly jars: (ModelCookie | undefined)[];
  /** Each browser's cookie before its last change: what a request sent before that change carried. */
  readonly previous: (ModelCookie | undefined)[];
  /** A server-side store's sessions, by the model's session id. */
  readonly sessions = new Map<number, StoredSession>();
  /** With revocation: each owner's generation. */
  readonly generations = new Map<string, number>();
  /** The events (`type/reason`) the manager reports, since the test last took them. */
  events: string[] = [];
  /** What the sequence reached that no event tells (for the tally), since the test last took it. */
  readonly reached: string[] = [];
  #nextSid = 1;

  constructor(
    readonly traits: TargetTraits,
    readonly idleTimeout: number | undefined,
    browsers: number,
    readonly renewalGrace = RENEWAL_GRACE,
    readonly renewalInterval: number | undefined = undefined,
  ) {
    this.jars = Array.from({ length: browsers }, () => undefined);
    this.previous = Array.from({ length: browsers }, () => undefined);
  }

  addKey(): void {
    this.keys = [this.#nextKey++, ...this.keys];
  }

  dropOldKeys(): void {
    this.keys = [this.keys[0]!];
  }

  /** Takes the events reported so far. */
  takeEvents(): string[] {
    const events = this.events;
    this.events = [];
    return events;
  }

  #event(type: string, reason: string): void {
    this.events.push(`${type}/${reason}`);
  }

  #idleExpiry(deadline: number): number {
    return this.idleTimeout === undefined ? deadline : Math.min(deadline, this.now + this.idleTimeout);
  }

  #fresh(hasCookie: boolean): Working {
    const deadline = this.now + LIFETIME;
    return {
      status: 'new',
      values: new Map(),
      sid: this.#nextSid++,
      stored: false,
      hasCookie,
      expireTime: this.#idleExpiry(deadline),
      deadline,
      changed: new Set(),
      retired: [],
      rewrite: false,
      seen: undefined,
      created: this.now,
      auth: undefined,
      gen: undefined,
      loaded: false,
      renewal: undefined,
      renewedAt: undefined,
      predecessor: undefined,
      stale: false,
      retirable: true,
    };
  }

  #live(expiry: { expireTime: number; deadline: number }): boolean {
    return expiry.expireTime > this.now && expiry.deadline > this.now;
  }

  /** Whether the store lists sessions (and the manager records when they were last seen). */
  get listing(): boolean {
    return this.traits.kind === 'server' && this.traits.ownerIndex;
  }

  /** Whether a session of this owner, sealed with this generation, was revoked since. */
  #revoked(values: ReadonlyMap<string, Json>, gen: number | undefined): boolean {
    const owner = ownerOf(values);
    if (this.traits.revocation !== true || owner === undefined || (gen ?? 0) >= (this.generations.get(owner) ?? 0)) {
      return false;
    }
    this.#event('revoked', 'generation');
    return true;
  }

  /** Loads the session a browser's cookie names. */
  load(jar: number, late = false): Working {
    const cookie = late ? this.previous[jar] : this.jars[jar];
    if (cookie === undefined) {
      return this.#fresh(false);
    }
    const { sealed, encryptValues } = this.traits;
    if (sealed && !this.keys.includes(cookie.key)) {
      return this.#fresh(true);
    }
    const sealedOld = sealed && cookie.key !== this.keys[0];
    if (cookie.record !== undefined) {
      const { record } = cookie;
      if (!this.#live(record)) {
        // The cookie store gives an expired record back: the manager reports it. (So may a
        // server-side store that still holds the session: see checkEvents.)
        this.#event('expired', record.deadline > this.now ? 'idle' : 'lifetime');
        return this.#fresh(true);
      }
      if (this.#revoked(record.values, record.gen)) {
        return this.#fresh(true);
      }
      return {
        ...this.#loaded(record, 0, { a: record.auth, s: undefined, g: record.gen, r: record.renewedAt }),
        rewrite: sealedOld,
        retirable: record.hasId,
      };
    }
    const stored = this.sessions.get(cookie.sid!);
    if (stored === undefined || !this.#live(stored)) {
      return this.#fresh(true);
    }
    if (stored.successor !== undefined && !this.#successorLive(stored.successor)) {
      // Retired, and its successor has ended: gone (no expired event).
      this.sessions.delete(cookie.sid!);
      return this.#fresh(true);
    }
    const valueKeys = encryptValues ? [...stored.valueKeys.values(), ...(stored.metaKey === undefined ? [] : [stored.metaKey])] : [];
    if (valueKeys.some((key) => !this.keys.includes(key))) {
      // A value or the metadata sealed under a key no longer listed: the session does not open.
      return this.#fresh(true);
    }
    if (this.#revoked(stored.values, stored.gen)) {
      return this.#fresh(true);
    }
    return {
      ...this.#loaded(stored, cookie.sid!, { a: stored.auth, s: stored.seen, g: stored.gen, r: stored.renewedAt }),
      rewrite: sealedOld || valueKeys.some((key) => key !== this.keys[0]),
      stale: stored.successor !== undefined,
    };
  }

  /** `deleteSession`: a retired id in its grace ends its successor too (a log-out racing a renewal wins). */
  #delete(sid: number): void {
    let next: number | undefined = sid;
    for (let step = 0; step <= MAX_RENEWAL_STEPS && next !== undefined; step++) {
      const stored = this.sessions.get(next);
      this.sessions.delete(next);
      next = stored !== undefined && this.#live(stored) ? stored.successor : undefined;
    }
  }

  /** Whether a retired session's successor, followed through later renewals, is live. */
  #successorLive(sid: number): boolean {
    let next: number | undefined = sid;
    for (let step = 0; step < MAX_RENEWAL_STEPS && next !== undefined; step++) {
      const stored = this.sessions.get(next);
      if (stored === undefined || !this.#live(stored)) {
        return false;
      }
      next = stored.successor;
    }
    return next === undefined;
  }

  #loaded(
    record: { values: ReadonlyMap<string, Json>; expireTime: number; deadline: number; created: number },
    sid: number,
    meta: Meta,
  ): Working {
    return {
      status: 'unmodified',
      values: new Map(record.values),
      sid,
      stored: true,
      hasCookie: true,
      expireTime: record.expireTime,
      deadline: record.deadline,
      changed: new Set(),
      retired: [],
      rewrite: false,
      seen: meta.s,
      created: record.created,
      auth: meta.a,
      gen: meta.g,
      loaded: true,
      renewal: undefined,
      renewedAt: meta.r,
      predecessor: undefined,
      stale: false,
      retirable: true,
    };
  }

  #reset(session: Working): void {
    session.sid = this.#nextSid++;
    session.stored = false;
    session.status = 'new';
    session.values = new Map();
    session.changed.clear();
    session.deadline = this.now + LIFETIME;
    session.expireTime = this.#idleExpiry(session.deadline);
    session.seen = undefined;
    session.created = this.now;
    session.auth = undefined;
    session.gen = undefined;
    session.loaded = false;
    session.renewal = undefined;
    session.renewedAt = undefined;
    session.predecessor = undefined;
    session.retirable = true;
  }

  #retire(session: Working): void {
    if (session.stored && session.retirable) {
      session.retired.push(session.sid);
    }
  }

  /** `setValue`: what it does, or `'refused'` when it throws SessionValueError and changes nothing. */
  set(session: Working, key: string, value: unknown): 'refused' | 'done' {
    if (!storableText(key)) {
      return 'refused';
    }
    const expected = expectedValue(value);
    if (expected.kind === 'refused') {
      return 'refused';
    }
    if (expected.kind === 'unset') {
      this.unset(session, key);
      return 'done';
    }
    if (session.status === 'destroyed') {
      // A log-in after a log-out in one request keeps its authentication time.
      const auth = session.renewal === 'request' ? session.auth : undefined;
      this.#reset(session);
      session.auth = auth;
      // A new session, stale no longer: the log-out is saved (ending a renewed id's
      // successor) and the new session with it.
      session.stale = false;
    }
    session.values.set(key, expected.value);
    session.changed.add(key);
    session.status = 'modified';
    return 'done';
  }

  unset(session: Working, key: string): void {
    if (!session.values.has(key)) {
      return;
    }
    session.values.delete(key);
    session.changed.add(key);
    if (session.status !== 'destroyed') {
      session.status = 'modified';
    }
  }

  destroy(session: Working): void {
    this.#retire(session);
    if (session.predecessor !== undefined) {
      // Renewed, then destroyed: the loaded id is deleted, not retired.
      session.retired.push(session.predecessor);
      session.predecessor = undefined;
    }
    session.values = new Map();
    session.changed.clear();
    session.stored = false;
    session.status = 'destroyed';
  }

  renew(session: Working): void {
    this.#renewId(session, 'request');
    session.auth = this.now;
  }

  #renewId(session: Working, how: 'request' | 'interval'): void {
    if (session.stored && session.retirable && session.status !== 'destroyed') {
      session.predecessor ??= session.sid;
    } else {
      this.#retire(session);
    }
    session.sid = this.#nextSid++;
    session.stored = false;
    session.renewal = session.renewal === 'request' ? 'request' : how;
    session.retirable = true;
    if (session.status !== 'destroyed') {
      session.status = 'modified';
    }
  }

  /** `isFresh(maxAge)`: renewed less than `maxAge` ago. */
  isFresh(session: Working, maxAge: number): boolean {
    return session.auth !== undefined && this.now - session.auth < maxAge;
  }

  #touchDue(session: Working): boolean {
    return this.idleTimeout !== undefined && this.#idleExpiry(session.deadline) - session.expireTime >= TOUCH_INTERVAL;
  }

  /**
   * Whether an owned session on a store that lists sessions is due to record when it was
   * last seen: once per touch interval (one minute without an idle timeout).
   */
  #seenDue(session: Working): boolean {
    const interval = this.idleTimeout === undefined ? MINUTE : TOUCH_INTERVAL;
    return session.seen !== undefined && this.now - session.seen >= interval;
  }

  /**
   * `injectSession`: writes what changed and tells what the response does to the cookie,
   * or that the bound on the owner's sessions refused the save (then nothing changed).
   * `evict` tells which sessions the store chose to evict.
   */
  save(session: Working, evict: EvictionOracle): SaveEffect {
    if (session.stale && session.status !== 'destroyed') {
      // Renewed by another request: nothing is saved, no cookie replaces the successor's.
      // (A log-out is saved: it deletes the retired id, which ends its successor too.)
      return { kind: 'none' };
    }
    if (
      this.renewalInterval !== undefined &&
      session.loaded &&
      session.stored &&
      session.status !== 'destroyed' &&
      this.now - Math.max(session.created, session.auth ?? session.created, session.renewedAt ?? session.created) >=
        this.renewalInterval
    ) {
      this.#renewId(session, 'interval');
      session.renewedAt = this.now;
    }
    let effect: CookieEffect = { kind: 'none' };
    const retired = [...session.retired];
    const wasStored = session.stored;
    const renewal = session.renewal;
    const loaded = session.loaded;
    let saved = false;
    const rewritten = session.status === 'unmodified' && (session.rewrite || this.#touchDue(session) || this.#seenDue(session));
    if (rewritten) {
      session.status = 'modified';
    }
    if (session.status === 'modified') {
      // An unchanged server-side session written only to record when it was last seen
      // keeps the browser's cookie when its expiry does not move: no Set-Cookie then.
      // (Only a store that patches: a whole save sends the cookie again.)
      const cookieStays =
        rewritten && this.traits.kind === 'server' && this.traits.wholeSaves !== true && session.stored && session.hasCookie && !session.rewrite;
      const cookieExpiry = session.expireTime;
      session.expireTime = this.#idleExpiry(session.deadline);
      const owner = ownerOf(session.values);
      if (this.traits.revocation === true && owner !== undefined && (session.gen === undefined || session.changed.has(OWNER_KEY))) {
        // A log-in seals the owner's generation of now.
        session.gen = this.generations.get(owner) ?? 0;
      }
      const saved_ = this.#write(session, evict);
      if (saved_ === 'refused') {
        return { kind: 'refused' };
      }
      if (saved_ === undefined) {
        // Ended or renewed elsewhere since it was loaded: a save never brings it back, and no cookie.
        this.#reset(session);
        session.stale = true;
      } else {
        saved = true;
        if (!cookieStays || session.expireTime !== cookieExpiry) {
          effect = { kind: 'set', cookie: saved_ };
        }
      }
    }
    if (session.status === 'destroyed' && session.hasCookie) {
      effect = { kind: 'expire' };
    }
    for (const sid of session.retired) {
      this.#delete(sid);
    }
    session.retired.length = 0;
    this.#reportSave(session, retired, wasStored, saved, renewal, loaded);
    if (saved) {
      session.predecessor = undefined;
    }
    return effect;
  }

  /** The events a save reports: created, renewed, destroyed. */
  #reportSave(
    session: Working,
    retired: readonly number[],
    wasStored: boolean,
    saved: boolean,
    renewal: 'request' | 'interval' | undefined,
    loaded: boolean,
  ): void {
    if (session.status === 'destroyed') {
      if (retired.length === 0 && loaded) {
        this.#event('destroyed', 'request');
      }
      retired.forEach(() => this.#event('destroyed', 'request'));
      return;
    }
    if (!saved) {
      return;
    }
    if (renewal !== undefined && loaded) {
      this.#event('renewed', renewal);
      return;
    }
    // Destroyed, then set again: the old session ended, a new one begins.
    retired.forEach(() => this.#event('destroyed', 'request'));
    if (!wasStored && !loaded) {
      this.#event('created', 'request');
    }
  }

  /**
   * The metadata a save writes: with an owner on a store that lists sessions, all of it
   * (last seen now); else the authentication and generation when there are any; else
   * nothing, and `'keep'` when nothing was held before either (a patch then leaves the
   * store's metadata as it is: a concurrent request's, maybe).
   */
  #meta(session: Working, owner: string | undefined): Meta | 'keep' {
    const generation = owner === undefined ? undefined : session.gen;
    const renewed = this.renewalInterval === undefined ? undefined : session.renewedAt;
    if (this.listing && owner !== undefined) {
      return { a: session.auth, s: this.now, g: generation, r: renewed };
    }
    if (session.auth !== undefined || generation !== undefined || renewed !== undefined) {
      return { a: session.auth, s: undefined, g: generation, r: renewed };
    }
    const held = session.auth !== undefined || session.seen !== undefined || session.gen !== undefined;
    return held ? { a: undefined, s: undefined, g: undefined, r: undefined } : 'keep';
  }

  /**
   * Files a session under an owner, within the bound: `'refused'`, or makes room by
   * evicting the owner's sessions written least recently (the store's choice among ties).
   */
  #admit(owner: string, sid: number, evict: EvictionOracle, predecessor?: number): 'refused' | undefined {
    const limit = this.traits.limit;
    if (limit === undefined) {
      return undefined;
    }
    // A renewal's predecessor never counts: the successor takes its place.
    const others = [...this.sessions].filter(
      ([other, stored]) =>
        other !== sid && other !== predecessor && stored.owner === owner && stored.successor === undefined && this.#live(stored),
    );
    const excess = others.length - limit.max + 1;
    if (excess <= 0) {
      return undefined;
    }
    if (limit.policy === 'refuse') {
      return 'refused';
    }
    const chosen = evict(
      others.map(([other]) => other),
      excess,
    );
    const written = (other: number) => this.sessions.get(other)!.written;
    const kept = others.filter(([other]) => !chosen.includes(other));
    const newestChosen = Math.max(...chosen.map(written));
    expect({ evicted: chosen.length, ofTheOldest: kept.every(([, stored]) => stored.written >= newestChosen) }).toEqual({
      evicted: excess,
      ofTheOldest: true,
    });
    for (const other of chosen) {
      this.sessions.delete(other);
      this.#event('evicted', 'limit');
    }
    return undefined;
  }

  #write(session: Working, evict: EvictionOracle): ModelCookie | undefined | 'refused' {
    const key = this.traits.sealed ? this.keys[0]! : 0;
    const owner = ownerOf(session.values);
    const meta = this.#meta(session, owner);
    const written = meta === 'keep' ? { a: undefined, s: undefined, g: undefined, r: undefined } : meta;
    if (this.traits.kind === 'cookie') {
      return {
        record: {
          values: new Map(session.values),
          expireTime: session.expireTime,
          deadline: session.deadline,
          created: session.created,
          auth: written.a,
          gen: written.g,
          renewedAt: written.r,
          hasId: meta !== 'keep' && session.retirable,
        },
        key,
      };
    }
    // A store without patches and atomic renewal writes the session whole, whatever
    // became of it since it was loaded: it wins over a concurrent request's save, and
    // brings back what another request ended or renewed meanwhile.
    const whole = this.traits.wholeSaves === true;
    const loadedId = session.stored ? session.sid : session.predecessor;
    if (whole && loadedId !== undefined) {
      const current = this.sessions.get(loadedId);
      if (current === undefined || !this.#live(current)) {
        this.reached.push(session.stored ? 'whole save of an ended session' : 'renewal of an ended session');
      } else if (current.written === this.now) {
        this.reached.push('whole save after another save at the same moment');
      }
    }
    if (session.stored && !whole) {
      const stored = this.sessions.get(session.sid);
      if (stored === undefined || !this.#live(stored) || stored.successor !== undefined) {
        return undefined;
      }
      const keys = session.rewrite ? new Set([...session.changed, ...session.values.keys()]) : session.changed;
      // The owner goes with the patch only when this request set or unset it.
      const newOwner = keys.has(OWNER_KEY) ? owner : stored.owner;
      if (newOwner !== undefined && newOwner !== stored.owner && this.#admit(newOwner, session.sid, evict) === 'refused') {
        return 'refused';
      }
      for (const name of keys) {
        if (session.values.has(name)) {
          stored.values.set(name, session.values.get(name)!);
          stored.valueKeys.set(name, key);
        } else {
          stored.values.delete(name);
          stored.valueKeys.delete(name);
        }
      }
      stored.expireTime = session.expireTime;
      stored.deadline = session.deadline;
      stored.owner = newOwner;
      stored.written = this.now;
      if (meta !== 'keep') {
        stored.metaKey = key;
        stored.auth = meta.a;
        stored.seen = meta.s;
        stored.gen = meta.g;
        stored.renewedAt = meta.r;
      }
      return { sid: session.sid, key };
    }
    const { predecessor } = session;
    const old = predecessor === undefined ? undefined : this.sessions.get(predecessor);
    if (predecessor !== undefined && !whole && (old === undefined || !this.#live(old) || old.successor !== undefined)) {
      // Ended, expired or renewed elsewhere since it was loaded: the renewal writes nothing.
      return undefined;
    }
    if (owner !== undefined && this.#admit(owner, session.sid, evict, predecessor) === 'refused') {
      return 'refused';
    }
    if (old !== undefined) {
      // Without atomic renewal there is no grace: the manager deletes the old id once the new one is written.
      if (this.renewalGrace > 0 && !whole) {
        old.successor = session.sid;
        old.filed = old.owner !== undefined && old.owner !== owner;
        old.expireTime = Math.min(old.expireTime, this.now + this.renewalGrace);
      } else {
        this.sessions.delete(predecessor!);
      }
    }
    this.sessions.set(session.sid, {
      values: new Map(session.values),
      expireTime: session.expireTime,
      deadline: session.deadline,
      owner,
      seen: written.s,
      valueKeys: new Map([...session.values.keys()].map((name) => [name, key])),
      created: session.created,
      auth: written.a,
      gen: written.g,
      written: this.now,
      metaKey: meta === 'keep' ? undefined : key,
      renewedAt: written.r,
      successor: undefined,
      filed: false,
    });
    return { sid: session.sid, key };
  }

  /** Bumps an owner's generation (revocation). */
  #bump(owner: string): number {
    const generation = (this.generations.get(owner) ?? 0) + 1;
    this.generations.set(owner, generation);
    return generation;
  }

  /** `destroyOwnerSessions`: ends every session of the owner; counts the live ones. */
  destroyOwner(owner: string): number {
    if (this.traits.revocation === true) {
      this.#bump(owner);
    }
    let ended = 0;
    // Without an owner index (a cookie store, a whole-save store with revocation) the
    // store deletes nothing: the generation ends the owner's sessions.
    for (const [sid, stored] of this.traits.ownerIndex ? this.sessions : []) {
      // A retired id renewed within its owner ends with its successor; one renewed into
      // another owner's session is ended here, uncounted.
      if (stored.owner === owner && (stored.successor === undefined || stored.filed)) {
        ended += this.#live(stored) && stored.successor === undefined ? 1 : 0;
        this.sessions.delete(sid);
      }
    }
    this.#event('destroyed', 'owner');
    return ended;
  }

  /** The live sessions filed under an owner (what `listOwnerSessions` lists), by id. */
  ownerSessions(owner: string): [number, StoredSession][] {
    return [...this.sessions].filter(([, stored]) => stored.owner === owner && stored.successor === undefined && this.#live(stored));
  }

  /** Whether a stored session's metadata opens: it does not once sealed under a key no longer listed. */
  metaOpens(stored: StoredSession): boolean {
    return !this.traits.encryptValues || stored.metaKey === undefined || this.keys.includes(stored.metaKey);
  }

  /** `destroySessionByHandle`: ends the session if it is the owner's; tells whether it was live. */
  destroyByHandle(owner: string, sid: number | undefined): boolean {
    // A retired id's handle ends its successor too: the same device.
    let next = sid;
    for (let step = 0; step <= MAX_RENEWAL_STEPS && next !== undefined; step++) {
      const stored = this.sessions.get(next);
      if (stored === undefined || stored.owner !== owner) {
        return false;
      }
      this.sessions.delete(next);
      if (stored.successor === undefined || !this.#live(stored)) {
        // A retired id past its grace is gone: it leads nowhere.
        const ended = stored.successor === undefined && this.#live(stored);
        if (ended) {
          this.#event('destroyed', 'handle');
        }
        return ended;
      }
      next = stored.successor;
    }
    return false;
  }

  /**
   * `destroyOtherSessions`: with revocation, bumps the owner's generation and seals the
   * request's session with it; ends the owner's other sessions on a listing store.
   */
  destroyOthers(session: Working): number | 'stale' {
    const owner = ownerOf(session.values);
    if (owner === undefined) {
      return 0;
    }
    if (session.stale) {
      return 'stale';
    }
    if (this.traits.revocation === true) {
      if (session.status === 'unmodified') {
        session.status = 'modified';
      }
      session.gen = this.#bump(owner);
    }
    let ended = 0;
    if (this.listing) {
      // Renewed in this request and not saved yet: the loaded id, which its save renews;
      // and what the kept one was renewed into meanwhile: the same device.
      const kept = new Set<number>();
      for (let sid = session.predecessor ?? (session.stored ? session.sid : undefined), step = 0; sid !== undefined && step <= MAX_RENEWAL_STEPS; step++) {
        kept.add(sid);
        sid = this.sessions.get(sid)?.successor;
      }
      ended = this.ownerSessions(owner).filter(([sid]) => !kept.has(sid)).length;
      for (const [sid, stored] of this.sessions) {
        if (stored.owner === owner && !kept.has(sid) && (stored.successor === undefined || stored.filed)) {
          this.sessions.delete(sid);
        }
      }
    }
    this.#event('destroyed', 'others');
    return ended;
  }

  /** Applies what a response does to the browser's cookie; the one it replaces is kept as the jar's previous. */
  receive(jar: number, effect: SaveEffect): void {
    if (effect.kind === 'set' || effect.kind === 'expire') {
      this.previous[jar] = this.jars[jar];
      this.jars[jar] = effect.kind === 'set' ? effect.cookie : undefined;
    }
  }
}

// ---------------------------------------------------------------------------------
// The real system
// ---------------------------------------------------------------------------------

/** A store to run the model against, built fresh for each sequence. */
export interface ModelTarget {
  readonly name: string;
  readonly traits: TargetTraits;
  /**
   * The crypto paths the decorator is built with; each rebuild (start, key rotation)
   * takes the next, so that with two paths each opens the other's seals.
   */
  readonly crypto?: readonly CryptoPath[];
  /** Builds the inner store (the undecorated one) on the run's clock. */
  readonly open: (clock: FakeClock) => Promise<{ readonly store: SessionStore<Record<string, unknown>>; readonly close?: () => Promise<void> }>;
}

/** The real store, manager and browsers of one sequence. */
export class RealSystem {
  keys: EncryptionKey[] = [];
  manager!: SessionManager<Record<string, unknown>>;
  readonly jars: (string | undefined)[];
  /** Each browser's cookie before its last change. */
  readonly previous: (string | undefined)[];
  /** How many commands ran (those whose precondition held). */
  steps = 0;
  /** The events the manager reported, since the test last took them. */
  events: SessionEvent[] = [];
  /** How many of each event (`type/reason`) the sequence saw. */
  readonly tally = new Map<string, number>();
  /** With revocation: the owners' generations, kept across rebuilds. */
  readonly generations = new MemoryOwnerGenerations();
  /** The real handle of each session the model knows by its id, and back. */
  readonly #handles = new Map<number, string>();
  readonly #sids = new Map<string, number>();
  #builds = 0;

  constructor(
    readonly clock: FakeClock,
    readonly target: ModelTarget,
    readonly inner: SessionStore<Record<string, unknown>>,
    readonly options: SessionManagerOptions,
    browsers: number,
    readonly close: () => Promise<void>,
  ) {
    this.jars = Array.from({ length: browsers }, () => undefined);
    this.previous = Array.from({ length: browsers }, () => undefined);
  }

  /** Builds the decorator (with the current keys and the next crypto path) and the manager. */
  build(): void {
    const { sealed, encryptValues } = this.target.traits;
    const paths = this.target.crypto ?? ['auto'];
    const crypto = paths[this.#builds++ % paths.length]!;
    const store = sealed
      ? new EncryptingStoreDecorator(this.inner, { keys: this.keys, encryptValues, crypto }, this.clock)
      : this.inner;
    const { limit, revocation } = this.target.traits;
    this.manager = new SessionManager(
      store,
      {
        ...this.options,
        onEvent: (event) => this.events.push(event),
        ...(limit === undefined ? {} : { maxSessionsPerOwner: limit.max, whenOwnerFull: limit.policy }),
        ...(revocation === true ? { revocation: { generations: this.generations, maxStaleness: 0 } } : {}),
      },
      this.clock,
    );
  }

  /**
   * Takes the events reported so far, once those whose handle is hashed asynchronously
   * have arrived.
   */
  async takeEvents(): Promise<SessionEvent[]> {
    await new Promise((resolve) => setImmediate(resolve));
    const events = this.events;
    this.events = [];
    return events;
  }

  /** The handle of a session the real store keeps: the SHA-256 of its id, base64url. */
  static handleOf(id: string): string {
    return createHash('sha256').update(id, 'utf8').digest('base64url');
  }

  /**
   * Records that the model's session `sid` is the real session with this id; a session
   * seen before must be the same one.
   */
  link(sid: number, id: string, where: string): void {
    const handle = RealSystem.handleOf(id);
    const known = this.#handles.get(sid);
    expect({ where, sameSession: known === undefined || known === handle }).toEqual({ where, sameSession: true });
    expect({ where, sameSession: (this.#sids.get(handle) ?? sid) === sid }).toEqual({ where, sameSession: true });
    this.#handles.set(sid, handle);
    this.#sids.set(handle, sid);
  }

  /** The real handle of the model's session. */
  handle(sid: number): string | undefined {
    return this.#handles.get(sid);
  }

  /** The model's session a real handle names. */
  sid(handle: string | undefined): number | undefined {
    return handle === undefined ? undefined : this.#sids.get(handle);
  }

  async addKey(): Promise<void> {
    this.keys = [await importRawKey(randomBytes(32).toString('base64')), ...this.keys];
    this.build();
  }

  dropOldKeys(): void {
    this.keys = [this.keys[0]!];
    this.build();
  }

  load(jar: number, late = false): Promise<Context> {
    const cookie = late ? this.previous[jar] : this.jars[jar];
    const headers: Record<string, string> = cookie === undefined ? {} : { cookie: `${DEFAULT_COOKIE_NAME}=${cookie}` };
    return this.manager.extractSession(Context.background, new Request('https://app.test/', { headers }));
  }

  session(context: Context): Session<Record<string, unknown>> {
    return context.value(this.manager.contextKey)!;
  }

  /** Saves, and tells what the response does to the cookie (or that the bound refused the save). */
  async save(
    context: Context,
  ): Promise<{ readonly kind: 'none' } | { readonly kind: 'set'; readonly value: string } | { readonly kind: 'expire' } | { readonly kind: 'refused' }> {
    const headers = new Headers();
    try {
      await this.manager.injectSession(context, headers);
    } catch (error) {
      if (error instanceof SessionLimitError) {
        expect([...headers.keys()]).toEqual([]);
        return { kind: 'refused' };
      }
      throw error;
    }
    const lines = headers.getSetCookie().map((line) => parseSetCookie(line)).filter((c) => c.name === DEFAULT_COOKIE_NAME);
    expect(lines.length).toBeLessThanOrEqual(1);
    const line = lines[0];
    if (line === undefined) {
      return { kind: 'none' };
    }
    return line.maxAge === 0 || line.value === '' ? { kind: 'expire' } : { kind: 'set', value: line.value ?? '' };
  }

  receive(jar: number, effect: Awaited<ReturnType<RealSystem['save']>>): void {
    if (effect.kind === 'set' || effect.kind === 'expire') {
      this.previous[jar] = this.jars[jar];
      this.jars[jar] = effect.kind === 'set' ? effect.value : undefined;
    }
  }
}

// ---------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------

/** One thing endpoint code does to the session. */
type Action =
  | { readonly op: 'get'; readonly key: string }
  | { readonly op: 'set'; readonly key: string; readonly value: unknown }
  | { readonly op: 'unset'; readonly key: string }
  | { readonly op: 'pop'; readonly key: string }
  | { readonly op: 'destroy' }
  | { readonly op: 'renew' }
  | { readonly op: 'fresh'; readonly maxAge: number };

function showAction(action: Action): string {
  switch (action.op) {
    case 'set':
      return `set ${JSON.stringify(action.key)}=${fc.stringify(action.value)}`;
    case 'get':
    case 'unset':
    case 'pop':
      return `${action.op} ${JSON.stringify(action.key)}`;
    case 'fresh':
      return `isFresh(${action.maxAge})`;
    default:
      return action.op;
  }
}

function checkSession(real: RealSystem, context: Context, expected: Working, where: string): void {
  const session = real.session(context);
  const got = {
    status: real.manager.getStatus(context),
    values: canonical(session.values),
    expireTime: session.expireTime,
    deadline: session.deadlineTime,
    createdAt: session.createdAt.getTime(),
    authenticatedAt: session.authenticatedAt?.getTime(),
    stale: session.isStale,
  };
  const want = {
    status: expected.status,
    values: canonical(mapToObject(expected.values)),
    expireTime: expected.expireTime,
    deadline: expected.deadline,
    createdAt: expected.created,
    authenticatedAt: expected.auth,
    stale: expected.stale,
  };
  expect({ where, ...got }).toEqual({ where, ...want });
}

/** Runs one action on both sides and checks what it gave. */
function act(model: SessionModel, working: Working, real: RealSystem, context: Context, action: Action): void {
  const { manager } = real;
  const where = showAction(action);
  switch (action.op) {
    case 'get': {
      const got = manager.getValue(context, action.key);
      expect({ where, got: canonical(got) }).toEqual({ where, got: canonical(working.values.get(action.key)) });
      break;
    }
    case 'set': {
      const outcome = model.set(working, action.key, action.value);
      let error: unknown;
      try {
        manager.setValue(context, action.key, action.value);
      } catch (caught) {
        error = caught;
      }
      if (outcome === 'refused') {
        expect({ where, error: error instanceof SessionValueError && error.code }).toEqual({ where, error: 'ERR_SESSION_VALUE' });
      } else if (error !== undefined) {
        throw error;
      }
      break;
    }
    case 'unset':
      model.unset(working, action.key);
      manager.unsetValue(context, action.key);
      break;
    case 'pop': {
      const want = working.values.get(action.key);
      model.unset(working, action.key);
      const got = manager.popValue(context, action.key);
      expect({ where, got: canonical(got) }).toEqual({ where, got: canonical(want) });
      break;
    }
    case 'destroy':
      model.destroy(working);
      manager.destroyValues(context);
      break;
    case 'renew':
      model.renew(working);
      manager.renewToken(context);
      break;
    case 'fresh':
      expect({ where, fresh: manager.isFresh(context, action.maxAge) }).toEqual({ where, fresh: model.isFresh(working, action.maxAge) });
      break;
  }
  checkSession(real, context, working, `after ${where}`);
}

type Command = fc.AsyncCommand<SessionModel, RealSystem>;

/** One request in flight: the model's session and the real one. */
interface InFlight {
  readonly working: Working;
  readonly context: Context;
}

/** Loads a browser's session on both sides and checks that they agree. */
async function arrive(model: SessionModel, real: RealSystem, jar: number, label: string, late = false): Promise<InFlight> {
  const working = model.load(jar, late);
  const context = await real.load(jar, late);
  checkSession(real, context, working, label);
  if (working.stale) {
    real.tally.set('retired id served', (real.tally.get('retired id served') ?? 0) + 1);
  }
  if (working.stored && model.traits.kind === 'server') {
    real.link(working.sid, real.session(context).id, label);
  }
  return { working, context };
}

/** Runs endpoint code on both sides. */
function handle(model: SessionModel, real: RealSystem, { working, context }: InFlight, actions: readonly Action[]): void {
  for (const action of actions) {
    act(model, working, real, context, action);
  }
}

/** Saves on both sides, checks that the responses agree, and gives the browser its cookie. */
async function respond(model: SessionModel, real: RealSystem, jar: number, { working, context }: InFlight): Promise<void> {
  const mark = real.events.length;
  const got = await real.save(context);
  // Whom the store evicted to make room, as the manager reported them.
  const evicted = real.events.slice(mark).filter((event) => event.type === 'evicted');
  const effect = model.save(working, (candidates) => {
    const chosen = evicted.map((event) => real.sid(event.handle));
    expect({ evicted: chosen.every((sid) => sid !== undefined && candidates.includes(sid)) }).toEqual({ evicted: true });
    return chosen as number[];
  });
  expect({ response: got.kind }).toEqual({ response: effect.kind });
  expect({ stale: real.session(context).isStale }).toEqual({ stale: working.stale });
  if (working.stale) {
    real.tally.set('stale save (nothing written)', (real.tally.get('stale save (nothing written)') ?? 0) + 1);
  }
  if (got.kind === 'refused') {
    real.tally.set('save refused', (real.tally.get('save refused') ?? 0) + 1);
  }
  for (const what of model.reached.splice(0)) {
    real.tally.set(what, (real.tally.get(what) ?? 0) + 1);
  }
  if (effect.kind !== 'refused' && !working.stale && model.sessions.has(working.sid)) {
    const session = real.session(context);
    expect({ stored: session.stored }).toEqual({ stored: true });
    real.link(working.sid, session.id, 'saved');
  }
  model.receive(jar, effect);
  real.receive(jar, got);
}

/** Checks that the manager reported the events the model predicts (types and reasons). */
async function checkEvents(model: SessionModel, real: RealSystem, where: string): Promise<void> {
  let got = (await real.takeEvents()).map((event) => `${event.type}/${event.reason}`).sort();
  for (const event of got) {
    real.tally.set(event, (real.tally.get(event) ?? 0) + 1);
  }
  if (model.traits.kind === 'server') {
    // A server-side store reports an expired session only while it still holds it: the
    // memory store until its sweep (which looks at a few entries on each write) drops
    // it, PostgreSQL until deleteExpired, Redis never. The model does not follow sweeps;
    // the expired event is checked on the cookie store here, and on each store in
    // spec/core/SessionManager.accounts.int.spec.ts.
    got = got.filter((event) => !event.startsWith('expired/'));
  }
  const want = model.takeEvents().sort();
  expect({ where, events: got }).toEqual({ where, events: want });
}

/**
 * Lists an owner's sessions on both sides (from a request, so that its own is `current`)
 * and checks that they are the same sessions with the same metadata.
 */
async function checkListing(model: SessionModel, real: RealSystem, owner: string, request: InFlight | undefined, where: string): Promise<void> {
  const listed = await real.manager.listOwnerSessions(owner, request?.context);
  const seen = (session: OwnerSession) => (session.lastSeen ?? session.createdAt).getTime();
  expect({ where, mostRecentlySeenFirst: listed.every((session, i) => i === 0 || seen(listed[i - 1]!) >= seen(session)) }).toEqual({
    where,
    mostRecentlySeenFirst: true,
  });
  const own = request?.working.stored === true ? request.working.sid : undefined;
  const got = listed
    .map((session) => ({
      sid: real.sid(session.handle) ?? `unknown handle ${session.handle}`,
      current: session.current,
      createdAt: session.createdAt.getTime(),
      authenticatedAt: session.authenticatedAt?.getTime(),
      lastSeen: session.lastSeen?.getTime(),
      expiresAt: session.expiresAt.getTime(),
      deadline: session.deadline.getTime(),
    }))
    .sort((a, b) => String(a.sid).localeCompare(String(b.sid)));
  const want = model
    .ownerSessions(owner)
    .map(([sid, stored]) => ({
      sid,
      current: sid === own,
      createdAt: stored.created,
      authenticatedAt: model.metaOpens(stored) ? stored.auth : undefined,
      lastSeen: model.metaOpens(stored) ? stored.seen : undefined,
      expiresAt: stored.expireTime,
      deadline: stored.deadline,
    }))
    .sort((a, b) => String(a.sid).localeCompare(String(b.sid)));
  expect({ where, owner, sessions: got }).toEqual({ where, owner, sessions: want });
}

function showActions(actions: readonly Action[]): string {
  return actions.map(showAction).join(', ') || 'read only';
}

/**
 * A request of one browser. A late one was sent before the browser's last cookie change
 * arrived (a renewal, a log-in, a log-out) and is answered after it: it carries the
 * browser's previous cookie, and the browser keeps whatever its response sets.
 */
class RequestCommand implements Command {
  constructor(
    readonly jar: number,
    readonly actions: readonly Action[],
    readonly late = false,
  ) {}

  check(): boolean {
    return true;
  }

  async run(model: SessionModel, real: RealSystem): Promise<void> {
    real.steps++;
    const request = await arrive(model, real, this.jar, this.late ? 'late request loaded' : 'loaded', this.late);
    handle(model, real, request, this.actions);
    await respond(model, real, this.jar, request);
    await checkEvents(model, real, this.toString());
  }

  toString(): string {
    return this.late
      ? `lateRequest(browser ${this.jar} with its previous cookie: ${showActions(this.actions)})`
      : `request(browser ${this.jar}: ${showActions(this.actions)})`;
  }
}

class ConcurrentCommand implements Command {
  constructor(
    readonly jar: number,
    readonly first: readonly Action[],
    readonly second: readonly Action[],
    readonly secondSavesFirst: boolean,
  ) {}

  check(): boolean {
    return true;
  }

  async run(model: SessionModel, real: RealSystem): Promise<void> {
    real.steps++;
    // Both load before either saves.
    const first = await arrive(model, real, this.jar, 'first loaded');
    const second = await arrive(model, real, this.jar, 'second loaded');
    handle(model, real, first, this.first);
    handle(model, real, second, this.second);
    for (const request of this.secondSavesFirst ? [second, first] : [first, second]) {
      await respond(model, real, this.jar, request);
    }
    await checkEvents(model, real, this.toString());
  }

  toString(): string {
    const order = this.secondSavesFirst ? 'second' : 'first';
    return `concurrent(browser ${this.jar}: [${showActions(this.first)}] | [${showActions(this.second)}], ${order} saves first)`;
  }
}

class CopyCookieCommand implements Command {
  constructor(
    readonly from: number,
    readonly to: number,
  ) {}

  check(): boolean {
    return this.from !== this.to;
  }

  async run(model: SessionModel, real: RealSystem): Promise<void> {
    real.steps++;
    model.jars[this.to] = model.jars[this.from];
    real.jars[this.to] = real.jars[this.from];
  }

  toString(): string {
    return `copyCookie(browser ${this.from} → browser ${this.to})`;
  }
}

class ClearCookieCommand implements Command {
  constructor(readonly jar: number) {}

  check(): boolean {
    return true;
  }

  async run(model: SessionModel, real: RealSystem): Promise<void> {
    real.steps++;
    // The session stays in a server-side store until it expires: an owner's forgotten device.
    model.jars[this.jar] = undefined;
    real.jars[this.jar] = undefined;
  }

  toString(): string {
    return `clearCookie(browser ${this.jar})`;
  }
}

class LogOutEverywhereCommand implements Command {
  constructor(readonly owner: string | number) {}

  check(model: Readonly<SessionModel>): boolean {
    return model.traits.ownerIndex || model.traits.revocation === true;
  }

  async run(model: SessionModel, real: RealSystem): Promise<void> {
    real.steps++;
    const want = model.destroyOwner(String(this.owner));
    const got = await real.manager.destroyOwnerSessions(this.owner);
    expect({ ended: got }).toEqual({ ended: want });
    await checkEvents(model, real, this.toString());
  }

  toString(): string {
    return `logOutEverywhere(${JSON.stringify(this.owner)})`;
  }
}

/** What a request to the account's "Your sessions" page does. */
type AccountOp = 'list' | 'end' | 'others';

/**
 * A request of one browser to its owner's "Your sessions" page (the owner its session
 * names, else the one given): lists the sessions (its own marked `current`), then maybe
 * ends one by the handle the listing gave (any session the model knows, the owner's or
 * not, its own included, or a handle no session has), or ends all the others
 * (`destroyOtherSessions`, which with revocation seals its own cookie anew).
 */
class AccountCommand implements Command {
  constructor(
    readonly jar: number,
    readonly owner: string | number,
    readonly op: AccountOp,
    readonly pick: number,
  ) {}

  check(model: Readonly<SessionModel>): boolean {
    return model.listing || (this.op === 'others' && model.traits.revocation === true);
  }

  async run(model: SessionModel, real: RealSystem): Promise<void> {
    real.steps++;
    const request = await arrive(model, real, this.jar, 'loaded');
    const owner = ownerOf(request.working.values) ?? String(this.owner);
    if (model.listing) {
      await checkListing(model, real, owner, request, 'listed');
    }
    if (this.op === 'end') {
      const sids = [...model.sessions.keys()].sort((a, b) => a - b);
      const sid = sids[this.pick % (sids.length + 1)];
      const handle = sid === undefined ? 'A'.repeat(43) : real.handle(sid)!;
      const want = model.destroyByHandle(owner, sid);
      const got = await real.manager.destroySessionByHandle(owner, handle);
      expect({ ended: got }).toEqual({ ended: want });
      await checkListing(model, real, owner, request, 'after destroySessionByHandle');
    } else if (this.op === 'others') {
      const want = model.destroyOthers(request.working);
      const got = await real.manager.destroyOtherSessions(request.context).catch((error: unknown) => {
        if (error instanceof SessionStaleError) {
          return 'stale' as const;
        }
        throw error;
      });
      expect({ ended: got }).toEqual({ ended: want });
      checkSession(real, request.context, request.working, 'after destroyOtherSessions');
      if (model.listing) {
        await checkListing(model, real, owner, request, 'after destroyOtherSessions');
      }
    }
    await respond(model, real, this.jar, request);
    await checkEvents(model, real, this.toString());
  }

  toString(): string {
    const what = this.op === 'end' ? `end #${this.pick}` : this.op;
    return `account(browser ${this.jar}, owner ${JSON.stringify(this.owner)} unless its own: ${what})`;
  }
}

/** What ends a session, or fills its owner's bound, while a request of it is in flight. */
type RaceEnd = 'owner' | 'handle' | 'others' | 'login';

/**
 * A request that loads its session, runs endpoint code (a log-in, say: renew and name
 * the owner), and saves only after something else has happened meanwhile: its owner
 * logs out everywhere, its device is ended by its handle, another browser ends the
 * others, or another browser logs in as the same owner (the bound).
 */
class RaceCommand implements Command {
  constructor(
    readonly jar: number,
    readonly actions: readonly Action[],
    readonly other: number,
    readonly end: RaceEnd,
    readonly owner: string | number,
  ) {}

  check(model: Readonly<SessionModel>): boolean {
    return this.end === 'login' || model.listing;
  }

  async run(model: SessionModel, real: RealSystem): Promise<void> {
    real.steps++;
    const request = await arrive(model, real, this.jar, 'racing request loaded');
    const loadedSid = request.working.stored ? request.working.sid : undefined;
    const loadedOwner = ownerOf(request.working.values);
    handle(model, real, request, this.actions);
    const owner = loadedOwner ?? ownerOf(request.working.values) ?? String(this.owner);
    switch (this.end) {
      case 'owner': {
        const want = model.destroyOwner(owner);
        expect({ ended: await real.manager.destroyOwnerSessions(owner) }).toEqual({ ended: want });
        break;
      }
      case 'handle': {
        const handle = loadedSid === undefined ? undefined : real.handle(loadedSid);
        const want = model.destroyByHandle(owner, handle === undefined ? undefined : loadedSid);
        expect({ ended: await real.manager.destroySessionByHandle(owner, handle ?? 'A'.repeat(43)) }).toEqual({ ended: want });
        break;
      }
      case 'others':
        await new AccountCommand(this.other, owner, 'others', 0).run(model, real);
        real.steps--;
        break;
      case 'login':
        await new RequestCommand(this.other, [{ op: 'renew' }, { op: 'set', key: OWNER_KEY, value: owner }]).run(model, real);
        real.steps--;
        break;
    }
    await respond(model, real, this.jar, request);
    await checkEvents(model, real, this.toString());
  }

  toString(): string {
    return `race(browser ${this.jar}: ${showActions(this.actions)}; meanwhile ${this.end} (browser ${this.other}, owner ${JSON.stringify(this.owner)}))`;
  }
}

class AdvanceCommand implements Command {
  constructor(readonly ms: number) {}

  check(): boolean {
    return true;
  }

  async run(model: SessionModel, real: RealSystem): Promise<void> {
    real.steps++;
    model.now += this.ms;
    real.clock.advance(this.ms);
  }

  toString(): string {
    return `advance(${this.ms} ms)`;
  }
}

class AddKeyCommand implements Command {
  check(model: Readonly<SessionModel>): boolean {
    return model.traits.sealed && model.keys.length < 4;
  }

  async run(model: SessionModel, real: RealSystem): Promise<void> {
    real.steps++;
    model.addKey();
    await real.addKey();
  }

  toString(): string {
    return 'addKey(new key first, old ones still listed)';
  }
}

class DropOldKeysCommand implements Command {
  check(model: Readonly<SessionModel>): boolean {
    return model.traits.sealed && model.keys.length > 1;
  }

  async run(model: SessionModel, real: RealSystem): Promise<void> {
    real.steps++;
    model.dropOldKeys();
    real.dropOldKeys();
  }

  toString(): string {
    return 'dropOldKeys(only the newest listed)';
  }
}

// ---------------------------------------------------------------------------------
// What the commands are made of
// ---------------------------------------------------------------------------------

const BROWSERS = 3;

/** Arrays nested `depth` deep, printed as `nested(depth)` in a failure report. */
function nested(depth: number): unknown {
  let value: unknown[] = [];
  for (let i = 1; i < depth; i++) {
    value = [value];
  }
  // A symbol-keyed property: JSON and Object.keys never see it; fast-check prints with it.
  Object.defineProperty(value, fc.toStringMethod, { value: () => `nested(${depth})` });
  return value;
}

/** Names: mostly a few that sequences share, sometimes any text, rarely names no store can keep. */
const nameArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(OWNER_KEY, 'cart', 'flash', 'theme') },
  { weight: 2, arbitrary: fc.constantFrom('', '__proto__', 'constructor', 'toString', 'v', 'o', 'e', 'ключ', '🔑 key', 'a.b:c') },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }) },
  { weight: 1, arbitrary: fc.constantFrom('nul\u0000', 'lone\ud800', '\udc00') },
);

function throwingToJson(): unknown {
  return {
    toJSON() {
      throw new Error('no');
    },
  };
}

function cycle(): unknown {
  const value: Record<string, unknown> = { a: 1 };
  value.self = value;
  return value;
}

/** Owners: `42` and `'42'` are one owner (numbers count as their text). */
const ownerArb = fc.constantFrom<string | number>('u1', 'u2', 42, '42');

/** Values JSON changes, drops or cannot carry: each store must treat them the same. */
const edgeValueArb: fc.Arbitrary<unknown> = fc.constantFrom<() => unknown>(
  () => undefined,
  () => () => 1,
  () => Symbol('s'),
  () => 10n,
  cycle,
  throwingToJson,
  () => nested(5000),
  () => nested(MAX_DEPTH),
  () => nested(MAX_DEPTH + 1),
  () => new Date(0),
  () => NaN,
  () => -0,
  () => 1e21,
  () => 5e-324,
  () => ({ kept: 1, gone: undefined, fn: () => 1 }),
  () => [undefined, () => 1, Symbol('s')],
  () => 'nul\u0000',
  () => 'lone\ud800',
  () => ({ ['k\u0000']: 1 }),
  () => new Map([[1, 2]]),
  () => 'emoji 🌍 ü 中',
  () => ({ '': { '__proto__': [1], constructor: null } }),
).map((make) => make());

const valueArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: ownerArb },
  { weight: 2, arbitrary: edgeValueArb },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 2, withBigInt: true, withDate: true, withMap: true, withSet: true, withNullPrototype: true, withSparseArray: true, withBoxedValues: true }) },
);

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('set' as const), key: nameArb, value: valueArb }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('set' as const), key: fc.constant(OWNER_KEY), value: ownerArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('get' as const), key: nameArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('unset' as const), key: nameArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('pop' as const), key: nameArb }) },
  { weight: 1, arbitrary: fc.constant({ op: 'destroy' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'renew' as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('fresh' as const), maxAge: fc.constantFrom(SECOND, MINUTE, IDLE_TIMEOUT, LIFETIME) }) },
);

const actionsArb = fc.array(actionArb, { maxLength: 4 });
const jarArb = fc.nat({ max: BROWSERS - 1 });

const commandArbs: fc.Arbitrary<Command>[] = [
    fc.tuple(jarArb, actionsArb).map(([jar, actions]) => new RequestCommand(jar, actions)),
    fc.tuple(jarArb, actionsArb).map(([jar, actions]) => new RequestCommand(jar, actions)),
    fc
      .tuple(jarArb, actionsArb, actionsArb, fc.boolean())
      .map(([jar, first, second, order]) => new ConcurrentCommand(jar, first, second, order)),
    // A log-in: renew, then name the owner.
    fc
      .tuple(jarArb, ownerArb)
      .map(([jar, owner]) => new RequestCommand(jar, [{ op: 'renew' }, { op: 'set', key: OWNER_KEY, value: owner }])),
    fc.tuple(jarArb, actionsArb).map(([jar, actions]) => new RequestCommand(jar, actions, true)),
    fc
      .tuple(
        jarArb,
        fc.oneof(actionsArb, fc.constant<Action[]>([{ op: 'renew' }]), ownerArb.map((owner): Action[] => [{ op: 'renew' }, { op: 'set', key: OWNER_KEY, value: owner }])),
        jarArb,
        fc.constantFrom<RaceEnd>('owner', 'handle', 'others', 'login'),
        ownerArb,
      )
      .map(([jar, actions, other, end, owner]) => new RaceCommand(jar, actions, other, end, owner)),
    fc.tuple(jarArb, jarArb).map(([from, to]) => new CopyCookieCommand(from, to)),
    jarArb.map((jar) => new ClearCookieCommand(jar)),
    ownerArb.map((owner) => new LogOutEverywhereCommand(owner)),
    fc
      .tuple(jarArb, ownerArb, fc.constantFrom<AccountOp>('list', 'end', 'end', 'others'), fc.nat({ max: 7 }))
      .map(([jar, owner, op, pick]) => new AccountCommand(jar, owner, op, pick)),
    fc
      .constantFrom(SECOND, TOUCH_INTERVAL - 1, TOUCH_INTERVAL, RENEWAL_GRACE - 1, RENEWAL_GRACE, MINUTE, IDLE_TIMEOUT - 1, IDLE_TIMEOUT, IDLE_TIMEOUT + 1, RENEWAL_INTERVAL, LIFETIME / 2, LIFETIME)
      .map((ms) => new AdvanceCommand(ms)),
    fc.constant(new AddKeyCommand()),
    fc.constant(new DropOldKeysCommand()),
];
const commandsArb = fc.commands(commandArbs, { maxCommands: 40, size: 'medium' });

// ---------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------

/** How many sequences each store runs: `FC_RUNS`, else the given default. */
export function modelRuns(fallback: number): number {
  const runs = Number(process.env.FC_RUNS);
  return Number.isSafeInteger(runs) && runs > 0 ? runs : fallback;
}

/** The seed: `FC_SEED`, else a fixed one, so that CI runs the same sequences every time. */
const SEED = Number.isSafeInteger(Number(process.env.FC_SEED)) && process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : 20261201;

/** Counts what the runs did, for the closing line of each store's test. */
interface Tally {
  sequences: number;
  steps: number;
  /** How many events of each type the runs saw, so that the closing line shows what they exercised. */
  events: Map<string, number>;
}

/**
 * Registers the model-based test for one store: `runs` random sequences, each checked
 * step by step against {@link SessionModel}. A failure prints the seed, the path and
 * the shrunk sequence (`FC_SEED=… FC_PATH=… npm test -- model` replays it).
 *
 * @param target - The store.
 * @param runs - How many sequences (`FC_RUNS` overrides).
 */
export function describeSessionModel(target: ModelTarget, runs: number): void {
  const { wholeSaves, ownerIndex, limit, kind } = target.traits;
  if (wholeSaves === true && (kind !== 'server' || ownerIndex || limit !== undefined)) {
    throw new TypeError(`${target.name}: wholeSaves is a server-side store with no owner index and no bound`);
  }
  it(`${target.name}: every step of ${modelRuns(runs)} random request sequences matches the model`, async () => {
    const tally: Tally = { sequences: 0, steps: 0, events: new Map() };
    const renewalArb = fc.record({ grace: fc.constantFrom(RENEWAL_GRACE, RENEWAL_GRACE, 0), periodic: fc.boolean() });
    const property = fc.asyncProperty(fc.boolean(), renewalArb, commandsArb, async (idle, renewal, commands) => {
      const clock = new FakeClock();
      const { store, close } = await target.open(clock);
      if (kind === 'server') {
        // The traits say which of the manager's paths the model predicts: the store must offer
        // exactly those abilities (wholeSaves: the required methods only).
        const patches = wholeSaves !== true;
        expect({ patches: isPatchableStore(store), renews: isRenewableStore(store), ownerIndex: isOwnerIndexedStore(store) }).toEqual({
          patches,
          renews: patches,
          ownerIndex,
        });
      }
      const renewalInterval = renewal.periodic ? RENEWAL_INTERVAL : undefined;
      const options: SessionManagerOptions = {
        lifetime: LIFETIME,
        renewalGrace: renewal.grace,
        ...(renewalInterval === undefined ? {} : { renewalInterval }),
        ...(idle ? { idleTimeout: IDLE_TIMEOUT } : {}),
        ...(target.traits.ownerIndex || target.traits.revocation === true ? { ownerKey: OWNER_KEY } : {}),
        // The model does not predict cookie sizes: no sequence comes near this.
        maxCookieSize: 1_000_000,
      };
      const model = new SessionModel(target.traits, idle ? IDLE_TIMEOUT : undefined, BROWSERS, renewal.grace, renewalInterval);
      const real = new RealSystem(clock, target, store, options, BROWSERS, close ?? (async () => {}));
      if (target.traits.sealed) {
        await real.addKey();
      } else {
        real.build();
      }
      tally.sequences++;
      try {
        await fc.asyncModelRun(() => ({ model, real }), commands);
      } finally {
        tally.steps += real.steps;
        for (const [event, count] of real.tally) {
          tally.events.set(event, (tally.events.get(event) ?? 0) + count);
        }
        await real.close();
      }
    });
    const path = process.env.FC_PATH;
    await fc.assert(property, {
      numRuns: modelRuns(runs),
      seed: SEED,
      ...(path === undefined ? {} : { path }),
      endOnFailure: false,
    });
    expect(tally.sequences).toBe(modelRuns(runs));
    // What the sequences reached, on request only: a passing suite prints nothing.
    if (process.env.FC_RUNS !== undefined || process.env.MODEL_TALLY !== undefined) {
      const events = [...tally.events].sort().map(([event, count]) => `${event} ${count}`).join(', ');
      process.stdout.write(`model test, ${target.name}: ${tally.sequences} sequences, ${tally.steps} steps (seed ${SEED}); events: ${events}\n`);
    }
    // Long runs (FC_RUNS) get the time they need: a test cut off by jest would run on
    // beside the next one, on the same table or prefix.
  }, 120_000 + modelRuns(runs) * 500);
}
