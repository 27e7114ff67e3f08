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
 * rebuild picking a crypto path.
 *
 * Environment: `FC_RUNS` (sequences per store), `FC_SEED` (replay a failure),
 * `FC_PATH` (with the seed: replay straight to the shrunk failure).
 */
import { parseSetCookie } from 'cookie';
import fc from 'fast-check';
import {
  Context,
  DEFAULT_COOKIE_NAME,
  EncryptingStoreDecorator,
  importRawKey,
  SessionManager,
  SessionValueError,
  type CryptoPath,
  type Session,
  type EncryptionKey,
  type SessionManagerOptions,
  type SessionStore,
} from 'kit-session';
import { randomBytes } from 'node:crypto';
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
}

/** What a browser holds: a session id on a server-side store, or the whole session in a cookie. */
interface ModelCookie {
  /** The server-side session id (the model's own numbering); unset for the cookie store. */
  readonly sid?: number;
  /** The session itself, for the cookie store. */
  readonly record?: { readonly values: ReadonlyMap<string, Json>; readonly expireTime: number; readonly deadline: number };
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
}

/** What a response does to the browser's cookie. */
type CookieEffect = { readonly kind: 'none' } | { readonly kind: 'set'; readonly cookie: ModelCookie } | { readonly kind: 'expire' };

/** What kind of store a target is, as far as the meaning of a session goes. */
export interface TargetTraits {
  /** `'cookie'`: the session lives in the cookie; `'server'`: a server-side store that patches. */
  readonly kind: 'cookie' | 'server';
  /** Wrapped in `EncryptingStoreDecorator`: cookies are sealed, and keys matter. */
  readonly sealed: boolean;
  /** The decorator seals the values too. */
  readonly encryptValues: boolean;
  /** The store keeps an owner index: the manager runs with `ownerKey`. */
  readonly ownerIndex: boolean;
}

/** The reference model: what every store must give. */
export class SessionModel {
  now = Date.UTC(2026, 0, 1);
  /** The listed keys, newest (sealing) first, as generations. */
  keys: number[] = [1];
  #nextKey = 2;
  /** Each browser's cookie. */
  readonly jars: (ModelCookie | undefined)[];
  /** A server-side store's sessions, by the model's session id. */
  readonly sessions = new Map<number, StoredSession>();
  #nextSid = 1;

  constructor(
    readonly traits: TargetTraits,
    readonly idleTimeout: number | undefined,
    browsers: number,
  ) {
    this.jars = Array.from({ length: browsers }, () => undefined);
  }

  addKey(): void {
    this.keys = [this.#nextKey++, ...this.keys];
  }

  dropOldKeys(): void {
    this.keys = [this.keys[0]!];
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
    };
  }

  #live(expiry: { expireTime: number; deadline: number }): boolean {
    return expiry.expireTime > this.now && expiry.deadline > this.now;
  }

  /** Loads the session a browser's cookie names. */
  load(jar: number): Working {
    const cookie = this.jars[jar];
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
        return this.#fresh(true);
      }
      return { ...this.#loaded(record, 0, undefined), rewrite: sealedOld };
    }
    const stored = this.sessions.get(cookie.sid!);
    if (stored === undefined || !this.#live(stored)) {
      return this.#fresh(true);
    }
    const valueKeys = encryptValues ? [...stored.valueKeys.values()] : [];
    if (valueKeys.some((key) => !this.keys.includes(key))) {
      // A value sealed under a key no longer listed: the session does not open.
      return this.#fresh(true);
    }
    return { ...this.#loaded(stored, cookie.sid!, stored.seen), rewrite: sealedOld || valueKeys.some((key) => key !== this.keys[0]) };
  }

  #loaded(
    record: { values: ReadonlyMap<string, Json>; expireTime: number; deadline: number },
    sid: number,
    seen: number | undefined,
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
      seen,
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
  }

  #retire(session: Working): void {
    if (session.stored && this.traits.kind === 'server') {
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
      this.#reset(session);
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
    session.values = new Map();
    session.changed.clear();
    session.stored = false;
    session.status = 'destroyed';
  }

  renew(session: Working): void {
    this.#retire(session);
    session.sid = this.#nextSid++;
    session.stored = false;
    if (session.status !== 'destroyed') {
      session.status = 'modified';
    }
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
    return this.#recordsSeen() && session.seen !== undefined && this.now - session.seen >= interval;
  }

  #recordsSeen(): boolean {
    return this.traits.kind === 'server' && this.traits.ownerIndex;
  }

  /** `injectSession`: writes what changed and tells what the response does to the cookie. */
  save(session: Working): CookieEffect {
    let effect: CookieEffect = { kind: 'none' };
    const rewritten = session.status === 'unmodified' && (session.rewrite || this.#touchDue(session) || this.#seenDue(session));
    if (rewritten) {
      session.status = 'modified';
    }
    if (session.status === 'modified') {
      // An unchanged server-side session written only to record when it was last seen
      // keeps the browser's cookie when its expiry does not move: no Set-Cookie then.
      const cookieStays = rewritten && this.traits.kind === 'server' && session.stored && session.hasCookie && !session.rewrite;
      const cookieExpiry = session.expireTime;
      session.expireTime = this.#idleExpiry(session.deadline);
      const saved = this.#write(session);
      if (saved === undefined) {
        // Ended elsewhere since it was loaded: a patch never brings it back, and no cookie.
        this.#reset(session);
      } else if (!cookieStays || session.expireTime !== cookieExpiry) {
        effect = { kind: 'set', cookie: saved };
      }
    }
    if (session.status === 'destroyed' && session.hasCookie) {
      effect = { kind: 'expire' };
    }
    for (const sid of session.retired) {
      this.sessions.delete(sid);
    }
    session.retired.length = 0;
    return effect;
  }

  #write(session: Working): ModelCookie | undefined {
    const key = this.traits.sealed ? this.keys[0]! : 0;
    if (this.traits.kind === 'cookie') {
      return {
        record: { values: new Map(session.values), expireTime: session.expireTime, deadline: session.deadline },
        key,
      };
    }
    if (session.stored) {
      const stored = this.sessions.get(session.sid);
      if (stored === undefined || !this.#live(stored)) {
        return undefined;
      }
      const keys = session.rewrite ? new Set([...session.changed, ...session.values.keys()]) : session.changed;
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
      if (keys.has(OWNER_KEY)) {
        stored.owner = ownerOf(session.values);
      }
      stored.seen = this.#recordsSeen() && ownerOf(session.values) !== undefined ? this.now : undefined;
      return { sid: session.sid, key };
    }
    this.sessions.set(session.sid, {
      values: new Map(session.values),
      expireTime: session.expireTime,
      deadline: session.deadline,
      owner: ownerOf(session.values),
      seen: this.#recordsSeen() && ownerOf(session.values) !== undefined ? this.now : undefined,
      valueKeys: new Map([...session.values.keys()].map((name) => [name, key])),
    });
    return { sid: session.sid, key };
  }

  /** `destroyOwnerSessions`: ends every session of the owner; counts the live ones. */
  destroyOwner(owner: string): number {
    let ended = 0;
    for (const [sid, stored] of this.sessions) {
      if (stored.owner === owner) {
        ended += this.#live(stored) ? 1 : 0;
        this.sessions.delete(sid);
      }
    }
    return ended;
  }

  /** Applies what a response does to the browser's cookie. */
  receive(jar: number, effect: CookieEffect): void {
    if (effect.kind === 'set') {
      this.jars[jar] = effect.cookie;
    } else if (effect.kind === 'expire') {
      this.jars[jar] = undefined;
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
  /** How many commands ran (those whose precondition held). */
  steps = 0;
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
  }

  /** Builds the decorator (with the current keys and the next crypto path) and the manager. */
  build(): void {
    const { sealed, encryptValues } = this.target.traits;
    const paths = this.target.crypto ?? ['auto'];
    const crypto = paths[this.#builds++ % paths.length]!;
    const store = sealed
      ? new EncryptingStoreDecorator(this.inner, { keys: this.keys, encryptValues, crypto }, this.clock)
      : this.inner;
    this.manager = new SessionManager(store, this.options, this.clock);
  }

  async addKey(): Promise<void> {
    this.keys = [await importRawKey(randomBytes(32).toString('base64')), ...this.keys];
    this.build();
  }

  dropOldKeys(): void {
    this.keys = [this.keys[0]!];
    this.build();
  }

  load(jar: number): Promise<Context> {
    const cookie = this.jars[jar];
    const headers: Record<string, string> = cookie === undefined ? {} : { cookie: `${DEFAULT_COOKIE_NAME}=${cookie}` };
    return this.manager.extractSession(Context.background, new Request('https://app.test/', { headers }));
  }

  session(context: Context): Session<Record<string, unknown>> {
    return context.value(this.manager.contextKey)!;
  }

  /** Saves, and tells what the response does to the cookie. */
  async save(context: Context): Promise<{ readonly kind: 'none' } | { readonly kind: 'set'; readonly value: string } | { readonly kind: 'expire' }> {
    const headers = new Headers();
    await this.manager.injectSession(context, headers);
    const lines = headers.getSetCookie().map((line) => parseSetCookie(line)).filter((c) => c.name === DEFAULT_COOKIE_NAME);
    expect(lines.length).toBeLessThanOrEqual(1);
    const line = lines[0];
    if (line === undefined) {
      return { kind: 'none' };
    }
    return line.maxAge === 0 || line.value === '' ? { kind: 'expire' } : { kind: 'set', value: line.value ?? '' };
  }

  receive(jar: number, effect: Awaited<ReturnType<RealSystem['save']>>): void {
    if (effect.kind === 'set') {
      this.jars[jar] = effect.value;
    } else if (effect.kind === 'expire') {
      this.jars[jar] = undefined;
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
  | { readonly op: 'renew' };

function showAction(action: Action): string {
  switch (action.op) {
    case 'set':
      return `set ${JSON.stringify(action.key)}=${fc.stringify(action.value)}`;
    case 'get':
    case 'unset':
    case 'pop':
      return `${action.op} ${JSON.stringify(action.key)}`;
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
  };
  const want = {
    status: expected.status,
    values: canonical(mapToObject(expected.values)),
    expireTime: expected.expireTime,
    deadline: expected.deadline,
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
async function arrive(model: SessionModel, real: RealSystem, jar: number, label: string): Promise<InFlight> {
  const working = model.load(jar);
  const context = await real.load(jar);
  checkSession(real, context, working, label);
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
  const effect = model.save(working);
  const got = await real.save(context);
  expect({ response: got.kind }).toEqual({ response: effect.kind });
  model.receive(jar, effect);
  real.receive(jar, got);
}

function showActions(actions: readonly Action[]): string {
  return actions.map(showAction).join(', ') || 'read only';
}

class RequestCommand implements Command {
  constructor(
    readonly jar: number,
    readonly actions: readonly Action[],
  ) {}

  check(): boolean {
    return true;
  }

  async run(model: SessionModel, real: RealSystem): Promise<void> {
    real.steps++;
    const request = await arrive(model, real, this.jar, 'loaded');
    handle(model, real, request, this.actions);
    await respond(model, real, this.jar, request);
  }

  toString(): string {
    return `request(browser ${this.jar}: ${showActions(this.actions)})`;
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

class LogOutEverywhereCommand implements Command {
  constructor(readonly owner: string | number) {}

  check(model: Readonly<SessionModel>): boolean {
    return model.traits.ownerIndex;
  }

  async run(model: SessionModel, real: RealSystem): Promise<void> {
    real.steps++;
    const want = model.destroyOwner(String(this.owner));
    const got = await real.manager.destroyOwnerSessions(this.owner);
    expect({ ended: got }).toEqual({ ended: want });
  }

  toString(): string {
    return `logOutEverywhere(${JSON.stringify(this.owner)})`;
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
);

const actionsArb = fc.array(actionArb, { maxLength: 4 });
const jarArb = fc.nat({ max: BROWSERS - 1 });

const commandArbs: fc.Arbitrary<Command>[] = [
    fc.tuple(jarArb, actionsArb).map(([jar, actions]) => new RequestCommand(jar, actions)),
    fc.tuple(jarArb, actionsArb).map(([jar, actions]) => new RequestCommand(jar, actions)),
    fc
      .tuple(jarArb, actionsArb, actionsArb, fc.boolean())
      .map(([jar, first, second, order]) => new ConcurrentCommand(jar, first, second, order)),
    fc.tuple(jarArb, jarArb).map(([from, to]) => new CopyCookieCommand(from, to)),
    ownerArb.map((owner) => new LogOutEverywhereCommand(owner)),
    fc
      .constantFrom(SECOND, TOUCH_INTERVAL - 1, TOUCH_INTERVAL, MINUTE, IDLE_TIMEOUT - 1, IDLE_TIMEOUT, IDLE_TIMEOUT + 1, LIFETIME / 2, LIFETIME)
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
  it(`${target.name}: every step of ${modelRuns(runs)} random request sequences matches the model`, async () => {
    const tally: Tally = { sequences: 0, steps: 0 };
    const property = fc.asyncProperty(fc.boolean(), commandsArb, async (idle, commands) => {
      const clock = new FakeClock();
      const { store, close } = await target.open(clock);
      const options: SessionManagerOptions = {
        lifetime: LIFETIME,
        ...(idle ? { idleTimeout: IDLE_TIMEOUT } : {}),
        ...(target.traits.ownerIndex ? { ownerKey: OWNER_KEY } : {}),
        // The model does not predict cookie sizes: no sequence comes near this.
        maxCookieSize: 1_000_000,
      };
      const model = new SessionModel(target.traits, idle ? IDLE_TIMEOUT : undefined, BROWSERS);
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
    console.log(`model test, ${target.name}: ${tally.sequences} sequences, ${tally.steps} steps (seed ${SEED})`);
    // Long runs (FC_RUNS) get the time they need: a test cut off by jest would run on
    // beside the next one, on the same table or prefix.
  }, 120_000 + modelRuns(runs) * 500);
}
