import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { once } from 'node:events';
import { parseSetCookie } from 'cookie';
import { Cluster, Redis } from 'ioredis';
import pg from 'pg';
import {
  Context,
  CookieSessionStore,
  DEFAULT_COOKIE_NAME,
  EncryptingStoreDecorator,
  importRawKey,
  MemoryOwnerGenerations,
  MemorySessionStore,
  SessionLimitError,
  SessionManager,
  SessionNotFreshError,
  SessionStoreError,
  type EncryptionKey,
  type OwnerGenerations,
  type SessionEvent,
  type SessionManagerOptions,
  type SessionStore,
} from 'kit-session';
import {
  type OwnerListingSessionStore,
} from 'kit-session/store';
import { PostgresOwnerGenerations, PostgresSessionStore } from 'kit-session/postgres';
import { RedisOwnerGenerations, RedisSessionStore } from 'kit-session/redis';
import { FakeClock } from '../support/FakeClock.js';
import { deleteRedisKeys, dumpRedis, useRedisCluster } from '../support/redisCluster.js';
import { type AppValues, DATABASE_URL, describeWith, hashedId, REDIS_URL, uniqueName } from '../support/services.js';

// Account sessions ("Your sessions") through the manager, on every server-side store,
// bare and wrapped in EncryptingStoreDecorator with encryptValues, and, where it applies,
// on the encrypted cookie store: metadata, listing, ending one / the others / all,
// the bound per owner, freshness, revocable sealed cookies and the events.

const SECOND = 1000;
const MINUTE = 60 * SECOND;
/** A user agent no other text in a store holds: its absence from a dump means it is sealed. */
const AGENT = 'Mozilla/5.0 (X11; Linux) KitSessionAccountsAgent/1.0';
const ADDRESS = '203.0.113.77';

const newKey = () => importRawKey(randomBytes(32).toString('base64'));
const ticks = () => new Promise((resolve) => setImmediate(resolve));

/**
 * One browser on one device: keeps its session cookie, and sends each request through
 * the manager with real `Request` and `Headers` objects, its user agent and the address
 * header the `clientAddress` option of these tests reads.
 */
class Device {
  cookie: string | undefined;
  readonly #manager: SessionManager<AppValues>;
  readonly #agent: string;

  constructor(manager: SessionManager<AppValues>, agent = AGENT, cookie?: string) {
    this.#manager = manager;
    this.#agent = agent;
    this.cookie = cookie;
  }

  load(cookie = this.cookie): Promise<Context> {
    const headers: Record<string, string> = { 'user-agent': this.#agent, 'x-client-address': ADDRESS };
    if (cookie !== undefined) {
      headers.cookie = `${DEFAULT_COOKIE_NAME}=${cookie}`;
    }
    return this.#manager.extractSession(Context.background, new Request('https://app.test/', { headers }));
  }

  async save(context: Context, headers = new Headers()): Promise<Headers> {
    await this.#manager.injectSession(context, headers);
    for (const line of headers.getSetCookie()) {
      const { name, value, maxAge } = parseSetCookie(line);
      if (name === DEFAULT_COOKIE_NAME) {
        this.cookie = maxAge === 0 || value === '' ? undefined : value;
      }
    }
    return headers;
  }

  /** One whole request; gives back the context and the response's headers. */
  async request(act: (context: Context) => void | Promise<void> = () => {}): Promise<{ context: Context; headers: Headers }> {
    const context = await this.load();
    await act(context);
    const headers = await this.save(context);
    return { context, headers };
  }

  /** Logs in as `owner`: a new token, then the owner value. */
  logIn(owner: string): Promise<{ context: Context; headers: Headers }> {
    return this.request((context) => {
      this.#manager.renewToken(context);
      this.#manager.setValue(context, 'userId', owner);
    });
  }
}

const clientAddress = (request: { headers: { get(name: string): string | null } }) =>
  request.headers.get('x-client-address') ?? undefined;

/** The id the store keeps a request's session under (never to be seen outside the store). */
const idOf = (manager: SessionManager<AppValues>, context: Context) => manager.session(context).id;

/** A session that was never renewed (an anonymous cart) is never fresh, however long the maxAge. */
async function expectAnonymousNeverFresh(manager: SessionManager<AppValues>): Promise<void> {
  const anonymous = new Device(manager);
  await anonymous.request((context) => manager.setValue(context, 'cart', ['book']));
  const never = await anonymous.load();
  expect(manager.isFresh(never, 24 * 60 * MINUTE)).toBe(false);
  expect(() => manager.requireFresh(never, 24 * 60 * MINUTE)).toThrow(SessionNotFreshError);
}

// ---------------------------------------------------------------------------------
// Server-side stores
// ---------------------------------------------------------------------------------

/** A server-side store under test, and what its backend holds, as text. */
interface ServerBackend {
  readonly store: OwnerListingSessionStore<AppValues>;
  /** Everything the backend holds for these tests, as text (a Redis dump, the SQL rows, the memory listing). */
  readonly raw: () => Promise<string>;
  readonly close?: () => Promise<void>;
}

function describeAccountSessions(name: string, open: (clock: FakeClock) => Promise<ServerBackend>): void {
  for (const encrypted of [false, true]) {
    describe(`${name}${encrypted ? ' in EncryptingStoreDecorator with encryptValues' : ''}: account sessions`, () => {
      let clock: FakeClock;
      let backend: ServerBackend;
      let keys: EncryptionKey[];
      let store: SessionStore<AppValues>;

      beforeEach(async () => {
        clock = new FakeClock();
        backend = await open(clock);
        keys = [await newKey()];
        store = encrypted ? new EncryptingStoreDecorator(backend.store, { keys, encryptValues: true }, clock) : backend.store;
      });

      afterEach(async () => {
        await backend.close?.();
      });

      const managerWith = (options: SessionManagerOptions = {}) =>
        new SessionManager<AppValues>(store, { ownerKey: 'userId', ...options }, clock);

      describe('metadata', () => {
        it('after a log-in, lists created, authenticated and last-seen times and the user agent; no client address without the option', async () => {
          const manager = managerWith();
          const device = new Device(manager);
          const createdAt = clock.now();
          await device.request((context) => manager.setValue(context, 'cart', ['book']));
          clock.advance(10 * SECOND);
          const loggedInAt = clock.now();
          await device.logIn('ada');

          const sessions = await manager.listOwnerSessions('ada');
          expect(sessions).toHaveLength(1);
          expect(sessions[0]).toMatchObject({
            createdAt: new Date(createdAt),
            authenticatedAt: new Date(loggedInAt),
            lastSeen: new Date(loggedInAt),
            userAgent: AGENT,
            clientAddress: undefined,
            current: false,
          });
          expect(await manager.listOwnerSessions('bob')).toEqual([]);
        });

        it('records the client address only with the clientAddress option', async () => {
          const manager = managerWith({ clientAddress });
          await new Device(manager).logIn('ada');
          const [session] = await manager.listOwnerSessions('ada');
          expect(session!.clientAddress).toBe(ADDRESS);
          expect(session!.userAgent).toBe(AGENT);
        });

        it('moves lastSeen only once idleTouchInterval has passed, and that write sends no Set-Cookie', async () => {
          const manager = managerWith();
          const device = new Device(manager);
          const loggedInAt = clock.now();
          await device.logIn('ada');
          const cookie = device.cookie;

          clock.advance(30 * SECOND);
          const early = await device.request();
          expect(early.headers.getSetCookie()).toEqual([]);
          expect((await manager.listOwnerSessions('ada'))[0]!.lastSeen).toEqual(new Date(loggedInAt));

          clock.advance(31 * SECOND); // 61 s after the log-in: past the 60 s default
          const seenAt = clock.now();
          const due = await device.request();
          expect(due.headers.getSetCookie()).toEqual([]);
          expect((await manager.listOwnerSessions('ada'))[0]!.lastSeen).toEqual(new Date(seenAt));

          // The browser's cookie is still the one it had, and still works.
          expect(device.cookie).toBe(cookie);
          const context = await device.load();
          expect(manager.getValue(context, 'userId')).toBe('ada');
        });

        it(
          encrypted
            ? 'the backend holds neither the user agent, the client address nor the session id in plain text'
            : 'the backend holds the user agent in plain text (no encryptValues), never the session id',
          async () => {
            const manager = managerWith({ clientAddress });
            const device = new Device(manager);
            await device.logIn('ada');
            const id = idOf(manager, await device.load());
            const raw = await backend.raw();
            expect(raw.length).toBeGreaterThan(0);
            expect(raw.includes('KitSessionAccountsAgent')).toBe(!encrypted);
            expect(raw.includes(ADDRESS)).toBe(!encrypted);
            expect(raw.includes(id)).toBe(false);
            // The listing through the manager opens what the store sealed.
            expect((await manager.listOwnerSessions('ada'))[0]).toMatchObject({ userAgent: AGENT, clientAddress: ADDRESS });
          },
        );
      });

      describe('.listOwnerSessions', () => {
        it('marks the caller\'s session current and sorts the most recently seen first', async () => {
          const manager = managerWith();
          const [a, b, c] = [new Device(manager, 'agent-a'), new Device(manager, 'agent-b'), new Device(manager, 'agent-c')];
          await a.logIn('ada');
          clock.advance(SECOND);
          await b.logIn('ada');
          clock.advance(SECOND);
          await c.logIn('ada');
          await new Device(manager, 'agent-bob').logIn('bob');
          clock.advance(61 * SECOND);
          await a.request(); // a is seen again: most recent

          const fromC = await c.load();
          const sessions = await manager.listOwnerSessions('ada', fromC);
          expect(sessions.map((session) => session.userAgent)).toEqual(['agent-a', 'agent-c', 'agent-b']);
          expect(sessions.map((session) => session.current)).toEqual([false, true, false]);
          expect(sessions[1]!.handle).toBe(hashedId(idOf(manager, fromC)));

          // Another owner's request marks none of ada's sessions.
          const fromBob = await new Device(manager).load();
          expect((await manager.listOwnerSessions('ada', fromBob)).some((session) => session.current)).toBe(false);
        });

        it('gives handles that do not work as cookies, sealed or not', async () => {
          const manager = managerWith();
          const device = new Device(manager);
          await device.logIn('ada');
          const { handle } = (await manager.listOwnerSessions('ada'))[0]!;
          const id = idOf(manager, await device.load());
          expect(handle).toBe(hashedId(id));
          expect(handle).not.toBe(id);

          const asCookie = await new Device(manager).load(handle);
          expect(manager.getStatus(asCookie)).toBe('new');
          expect(manager.getValue(asCookie, 'userId')).toBeUndefined();

          if (encrypted) {
            // The handle sealed with the same key and cookie name, as a token would be.
            const sealer = new EncryptingStoreDecorator(
              new MemorySessionStore<AppValues>({}, clock),
              { keys, encryptValues: true, cookieName: DEFAULT_COOKIE_NAME },
              clock,
            );
            const record = { values: {}, expireTime: clock.now() + MINUTE, deadline: clock.now() + MINUTE };
            const sealedHandle = await sealer.setSession(handle, record);
            const sealedHandleContext = await new Device(manager).load(sealedHandle);
            expect(manager.getStatus(sealedHandleContext)).toBe('new');
            expect(manager.getValue(sealedHandleContext, 'userId')).toBeUndefined();
            // Control: the id sealed the same way does open the session.
            const sealedId = await sealer.setSession(id, record);
            expect(manager.getValue(await new Device(manager).load(sealedId), 'userId')).toBe('ada');
          }
        });
      });

      describe('.destroySessionByHandle', () => {
        it('ends that device only; another owner\'s handle ends nothing; emits destroyed with reason handle', async () => {
          const events: SessionEvent[] = [];
          const manager = managerWith({ onEvent: (event) => events.push(event) });
          const [phone, laptop, bobs] = [new Device(manager, 'phone'), new Device(manager, 'laptop'), new Device(manager, 'bob')];
          await phone.logIn('ada');
          await laptop.logIn('ada');
          await bobs.logIn('bob');
          const phoneHandle = (await manager.listOwnerSessions('ada')).find((session) => session.userAgent === 'phone')!.handle;
          const bobHandle = (await manager.listOwnerSessions('bob'))[0]!.handle;
          events.length = 0;

          expect(await manager.destroySessionByHandle('bob', phoneHandle)).toBe(false);
          expect(await manager.destroySessionByHandle('ada', bobHandle)).toBe(false);
          expect(manager.getValue(await phone.load(), 'userId')).toBe('ada');
          expect(manager.getValue(await bobs.load(), 'userId')).toBe('bob');
          expect(events).toEqual([]);

          expect(await manager.destroySessionByHandle('ada', phoneHandle)).toBe(true);
          expect(manager.getStatus(await phone.load())).toBe('new');
          expect(manager.getValue(await laptop.load(), 'userId')).toBe('ada');
          expect((await manager.listOwnerSessions('ada')).map((session) => session.userAgent)).toEqual(['laptop']);
          expect(events).toEqual([{ type: 'destroyed', reason: 'handle', handle: phoneHandle, owner: 'ada', at: new Date(clock.now()) }]);

          expect(await manager.destroySessionByHandle('ada', phoneHandle)).toBe(false);
          expect(await manager.destroySessionByHandle('ada', '')).toBe(false);
        });
      });

      describe('.destroyOtherSessions', () => {
        it('keeps the caller\'s session and returns how many it ended', async () => {
          const manager = managerWith();
          const devices = [new Device(manager, 'one'), new Device(manager, 'two'), new Device(manager, 'three')];
          for (const device of devices) {
            await device.logIn('ada');
          }
          const bobs = new Device(manager);
          await bobs.logIn('bob');

          const { context } = await devices[1]!.request(async (context) => {
            expect(await manager.destroyOtherSessions(context)).toBe(2);
          });
          expect(manager.getValue(await devices[1]!.load(), 'userId')).toBe('ada');
          expect(manager.getStatus(await devices[0]!.load())).toBe('new');
          expect(manager.getStatus(await devices[2]!.load())).toBe('new');
          expect(manager.getValue(await bobs.load(), 'userId')).toBe('bob');
          const listed = await manager.listOwnerSessions('ada', await devices[1]!.load());
          expect(listed.map((session) => [session.userAgent, session.current])).toEqual([['two', true]]);
          expect(listed[0]!.handle).toBe(hashedId(idOf(manager, context)));
        });

        it('right after a log-in in the same request (renewed, not yet stored), ends every earlier session', async () => {
          const manager = managerWith();
          const [one, two] = [new Device(manager, 'one'), new Device(manager, 'two')];
          await one.logIn('ada');
          await two.logIn('ada');
          const fresh = new Device(manager, 'three');
          await fresh.request(async (context) => {
            manager.renewToken(context);
            manager.setValue(context, 'userId', 'ada');
            expect(await manager.destroyOtherSessions(context)).toBe(2);
          });
          expect(manager.getStatus(await one.load())).toBe('new');
          expect(manager.getStatus(await two.load())).toBe('new');
          expect(manager.getValue(await fresh.load(), 'userId')).toBe('ada');
          expect((await manager.listOwnerSessions('ada')).map((session) => session.userAgent)).toEqual(['three']);

          // The same on a device that was logged in already and logs in again.
          await one.logIn('ada');
          await one.request(async (context) => {
            manager.renewToken(context);
            expect(await manager.destroyOtherSessions(context)).toBe(1);
          });
          expect(manager.getStatus(await fresh.load())).toBe('new');
          expect(manager.getValue(await one.load(), 'userId')).toBe('ada');
          expect(await manager.listOwnerSessions('ada')).toHaveLength(1);
        });
      });

      describe('maxSessionsPerOwner', () => {
        it("with 'evict', logs out the least recently seen device and reports it as evicted", async () => {
          const events: SessionEvent[] = [];
          const manager = managerWith({ maxSessionsPerOwner: 2, whenOwnerFull: 'evict', onEvent: (event) => events.push(event) });
          const [a, b, c] = [new Device(manager, 'a'), new Device(manager, 'b'), new Device(manager, 'c')];
          await a.logIn('ada');
          clock.advance(SECOND);
          await b.logIn('ada');
          await new Device(manager, 'bob').logIn('bob');
          clock.advance(61 * SECOND);
          await a.request(); // a is seen again; b is now the least recently seen
          const bHandle = (await manager.listOwnerSessions('ada')).find((session) => session.userAgent === 'b')!.handle;
          clock.advance(SECOND);
          events.length = 0;

          await c.logIn('ada');
          await ticks();
          expect(manager.getStatus(await b.load())).toBe('new');
          expect(manager.getValue(await a.load(), 'userId')).toBe('ada');
          expect(manager.getValue(await c.load(), 'userId')).toBe('ada');
          expect((await manager.listOwnerSessions('ada')).map((session) => session.userAgent).sort()).toEqual(['a', 'c']);
          expect(await manager.listOwnerSessions('bob')).toHaveLength(1);
          expect(events.filter((event) => event.type === 'evicted')).toEqual([
            { type: 'evicted', reason: 'limit', handle: bHandle, owner: 'ada', at: expect.any(Date) },
          ]);
        });

        it("with 'refuse', the log-in's save rejects with SessionLimitError, stores nothing and sends no cookie", async () => {
          const manager = managerWith({ maxSessionsPerOwner: 2, whenOwnerFull: 'refuse' });
          const [a, b, c] = [new Device(manager, 'a'), new Device(manager, 'b'), new Device(manager, 'c')];
          await a.logIn('ada');
          await b.logIn('ada');

          const context = await c.load();
          manager.renewToken(context);
          manager.setValue(context, 'userId', 'ada');
          const headers = new Headers();
          await expect(async () => c.save(context, headers)).rejects.toBeInstanceOf(SessionLimitError);
          expect(headers.getSetCookie()).toEqual([]);
          expect(c.cookie).toBeUndefined();
          expect((await manager.listOwnerSessions('ada')).map((session) => session.userAgent).sort()).toEqual(['a', 'b']);
          expect(manager.getValue(await a.load(), 'userId')).toBe('ada');
          expect(manager.getValue(await b.load(), 'userId')).toBe('ada');
          // Another owner is not bound by ada's count.
          await new Device(manager, 'bob').logIn('bob');
          expect(await manager.listOwnerSessions('bob')).toHaveLength(1);
        });
      });

      describe('renewal', () => {
        it.each(['refuse', 'evict'] as const)("with '%s' at the bound, a re-authentication takes its predecessor's place: never refused, evicting nobody", async (whenOwnerFull) => {
          const events: SessionEvent[] = [];
          const manager = managerWith({ maxSessionsPerOwner: 2, whenOwnerFull, onEvent: (event) => events.push(event) });
          const [a, b] = [new Device(manager, 'a'), new Device(manager, 'b')];
          await a.logIn('ada');
          await b.logIn('ada');
          clock.advance(10 * MINUTE);
          await a.logIn('ada');
          await a.logIn('ada');
          expect(manager.isFresh(await a.load(), MINUTE)).toBe(true);
          expect((await manager.listOwnerSessions('ada')).map((session) => session.userAgent).sort()).toEqual(['a', 'b']);
          expect(events.filter((event) => event.type === 'evicted')).toEqual([]);
          await manager.destroyOwnerSessions('ada');
        });

        it('a renewal saved after its device was ended (by handle, the others, all) saves nothing and sends no cookie', async () => {
          for (const end of ['handle', 'others', 'owner'] as const) {
            const manager = managerWith();
            const [phone, laptop] = [new Device(manager, 'phone'), new Device(manager, 'laptop')];
            await phone.logIn('ada');
            await laptop.logIn('ada');
            const handle = (await manager.listOwnerSessions('ada')).find((session) => session.userAgent === 'phone')!.handle;
            const renewing = await phone.load();
            manager.renewToken(renewing);
            manager.setValue(renewing, 'cart', ['late']);
            if (end === 'handle') {
              await manager.destroySessionByHandle('ada', handle);
            } else if (end === 'others') {
              await manager.destroyOtherSessions(await laptop.load());
            } else {
              await manager.destroyOwnerSessions('ada');
            }
            const before = phone.cookie;
            const headers = await phone.save(renewing);
            expect(headers.getSetCookie()).toEqual([]);
            expect(phone.cookie).toBe(before);
            expect(manager.session(renewing).isStale).toBe(true);
            expect(manager.getStatus(await phone.load())).toBe('new');
            expect((await manager.listOwnerSessions('ada')).map((session) => session.userAgent)).not.toContain('phone');
            await manager.destroyOwnerSessions('ada');
          }
        });

        it('two managers sharing the store each report the evictions of their own saves', async () => {
          const seen: Record<'a' | 'b', string[]> = { a: [], b: [] };
          const [one, two] = (['a', 'b'] as const).map((name) =>
            managerWith({ maxSessionsPerOwner: 1, onEvent: (event) => event.type === 'evicted' && seen[name].push(event.owner!) }),
          );
          await new Device(one!).logIn('ada');
          await new Device(two!).logIn('bob');
          await new Device(one!).logIn('ada');
          await new Device(two!).logIn('bob');
          await new Device(two!).logIn('bob');
          await ticks();
          expect(seen).toEqual({ a: ['ada'], b: ['bob', 'bob'] });
        });
      });

      describe('.isFresh and .requireFresh', () => {
        it('fresh after renew, in the request and after a reload; stale beyond maxAge; never renewed, never fresh', async () => {
          const manager = managerWith();
          const device = new Device(manager);
          await device.request((context) => {
            manager.renewToken(context);
            manager.setValue(context, 'userId', 'ada');
            expect(manager.isFresh(context, 5 * MINUTE)).toBe(true);
          });
          clock.advance(4 * MINUTE);
          const reloaded = await device.load();
          expect(manager.isFresh(reloaded, 5 * MINUTE)).toBe(true);
          expect(() => manager.requireFresh(reloaded, 5 * MINUTE)).not.toThrow();
          clock.advance(2 * MINUTE);
          const stale = await device.load();
          expect(manager.isFresh(stale, 5 * MINUTE)).toBe(false);
          expect(() => manager.requireFresh(stale, 5 * MINUTE)).toThrow(SessionNotFreshError);

          await expectAnonymousNeverFresh(manager);
          // An owner set without renew is not an authentication either.
          const owned = new Device(manager);
          await owned.request((context) => manager.setValue(context, 'userId', 'bob'));
          expect(manager.isFresh(await owned.load(), 24 * 60 * MINUTE)).toBe(false);
        });
      });

      describe('events', () => {
        it('reports created, renewed and destroyed (request, handle, others, owner) by handle and owner, never an id or a token', async () => {
          const events: SessionEvent[] = [];
          const manager = managerWith({ onEvent: (event) => events.push(event) });
          const secrets: string[] = [];
          const track = async (device: Device, context: Context) => {
            secrets.push(idOf(manager, context), device.cookie!);
          };
          const phone = new Device(manager, 'phone');
          const laptop = new Device(manager, 'laptop');
          const tablet = new Device(manager, 'tablet');

          const anon = await phone.request((context) => manager.setValue(context, 'cart', ['book']));
          await track(phone, anon.context);
          const anonHandle = hashedId(idOf(manager, anon.context));
          const login = await phone.logIn('ada');
          await track(phone, login.context);
          await track(laptop, (await laptop.logIn('ada')).context);
          await track(tablet, (await tablet.logIn('ada')).context);
          await ticks();
          const handles = Object.fromEntries((await manager.listOwnerSessions('ada')).map((session) => [session.userAgent, session.handle]));
          expect(events.map(({ type, reason, handle, owner }) => [type, reason, handle, owner])).toEqual([
            ['created', 'request', anonHandle, undefined],
            ['renewed', 'request', handles.phone, 'ada'],
            ['created', 'request', handles.laptop, 'ada'],
            ['created', 'request', handles.tablet, 'ada'],
          ]);
          events.length = 0;

          await manager.destroySessionByHandle('ada', handles.tablet!);
          await laptop.request((context) => manager.destroyValues(context));
          await laptop.logIn('ada');
          await phone.request(async (context) => {
            await manager.destroyOtherSessions(context);
          });
          await manager.destroyOwnerSessions('ada');
          await ticks();
          expect(events.map(({ type, reason, handle, owner }) => [type, reason, handle, owner])).toEqual([
            ['destroyed', 'handle', handles.tablet, 'ada'],
            ['destroyed', 'request', handles.laptop, 'ada'],
            ['created', 'request', expect.any(String), 'ada'],
            ['destroyed', 'others', undefined, 'ada'],
            ['destroyed', 'owner', undefined, 'ada'],
          ]);
          for (const event of events) {
            expect(event.at).toEqual(new Date(clock.now()));
            if (event.handle !== undefined) {
              expect(event.handle).toMatch(/^[A-Za-z0-9_-]{43}$/);
            }
          }
          const text = JSON.stringify(events);
          expect(secrets.length).toBeGreaterThan(0);
          for (const secret of secrets) {
            expect(text.includes(secret)).toBe(false);
          }
        });

        it('a listener that throws does not fail the request', async () => {
          let calls = 0;
          const manager = managerWith({
            onEvent: () => {
              calls++;
              throw new Error('audit log down');
            },
          });
          const device = new Device(manager);
          await device.logIn('ada');
          await device.request((context) => manager.renewToken(context));
          expect(await manager.destroyOwnerSessions('ada')).toBe(1);
          await ticks();
          expect(calls).toBe(3);
          expect(manager.getStatus(await device.load())).toBe('new');
        });

        if (name.startsWith('MemorySessionStore')) {
          it('reports a cookie that comes back after the idle timeout as expired (reason idle)', async () => {
            const events: SessionEvent[] = [];
            const manager = managerWith({ idleTimeout: 10 * MINUTE, onEvent: (event) => events.push(event) });
            const device = new Device(manager);
            const { context } = await device.logIn('ada');
            const handle = hashedId(idOf(manager, context));
            events.length = 0;
            clock.advance(11 * MINUTE);
            const late = await device.load();
            await ticks();
            expect(manager.getStatus(late)).toBe('new');
            expect(events).toEqual([{ type: 'expired', reason: 'idle', handle, owner: 'ada', at: new Date(clock.now()) }]);
          });
        }
      });
    });
  }
}

let redis: Redis | undefined;
let pool: pg.Pool | undefined;
const table = uniqueName('kit_session_accounts');
const generationsTable = uniqueName('kit_generations_accounts');
let tablesMade = false;

const redisClient = () => {
  if (redis === undefined) {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    redis.on('error', () => {});
  }
  return redis;
};

/** A RedisSessionStore under a prefix of its own, on a server or a Cluster. */
const redisBackend = (client: Redis | Cluster, clock: FakeClock): ServerBackend => {
  const prefix = `${uniqueName('kit-session-accounts')}:`;
  return {
    store: new RedisSessionStore<AppValues>(client, { prefix }, clock),
    raw: () => dumpRedis(client, prefix),
    close: () => deleteRedisKeys(client, prefix),
  };
};

/**
 * Redis generations under a prefix of their own, on a server or a Cluster; `elsewhere`
 * is another instance's view of the same keys.
 */
const redisGenerations = (client: Redis | Cluster): GenerationsFixture => {
  const prefix = `${uniqueName('kit-generations-accounts')}:`;
  return {
    generations: new RedisOwnerGenerations(client, { prefix }),
    elsewhere: new RedisOwnerGenerations(client, { prefix }),
    close: () => deleteRedisKeys(client, prefix),
  };
};

const postgresPool = async () => {
  if (pool === undefined) {
    pool = new pg.Pool({ connectionString: DATABASE_URL, max: 3 });
  }
  if (!tablesMade) {
    tablesMade = true;
    await new PostgresSessionStore(pool, { table }).createTable();
    await new PostgresOwnerGenerations(pool, { table: generationsTable }).createTable();
  }
  return pool;
};

afterAll(async () => {
  await redis?.quit();
  if (pool !== undefined) {
    await pool.query(`DROP TABLE IF EXISTS "${table}"`);
    await pool.query(`DROP TABLE IF EXISTS "${generationsTable}"`);
    await pool.end();
  }
});

describe('SessionManager accounts on MemorySessionStore', () => {
  describeAccountSessions('MemorySessionStore', async (clock) => {
    const store = new MemorySessionStore<AppValues>({}, clock);
    return {
      store,
      raw: async () => JSON.stringify(await Promise.all(['ada', 'bob'].map((owner) => store.listOwnerSessions(owner)))),
    };
  });
});

describeWith('redis', 'SessionManager accounts on Redis', () => {
  describeAccountSessions('RedisSessionStore', async (clock) => redisBackend(redisClient(), clock));
});

describeWith('postgres', 'SessionManager accounts on PostgreSQL', () => {
  describeAccountSessions('PostgresSessionStore', async (clock) => {
    const client = await postgresPool();
    return {
      store: new PostgresSessionStore<AppValues>(client, { table }, clock),
      raw: async () => JSON.stringify((await client.query(`SELECT * FROM "${table}"`)).rows),
      close: async () => {
        await client.query(`TRUNCATE "${table}"`);
      },
    };
  });
});

describeWith('redis-binaries', 'SessionManager accounts on a three-node Redis Cluster', () => {
  const clusterClient = useRedisCluster();

  describeAccountSessions('RedisSessionStore (Cluster)', async (clock) => redisBackend(clusterClient(), clock));

  describeRevocation('RedisOwnerGenerations (Cluster)', async () => redisGenerations(clusterClient()));
});

// ---------------------------------------------------------------------------------
// The encrypted cookie store
// ---------------------------------------------------------------------------------

describe('SessionManager accounts on the encrypted cookie store', () => {
  let clock: FakeClock;
  let keys: EncryptionKey[];

  beforeEach(async () => {
    clock = new FakeClock();
    keys = [await newKey()];
  });

  const managerWith = (options: SessionManagerOptions = {}) =>
    new SessionManager<AppValues>(new EncryptingStoreDecorator(new CookieSessionStore({}, clock), { keys }, clock), options, clock);

  it('isFresh: fresh after renew and after a reload (authenticatedAt travels in the cookie), stale beyond maxAge', async () => {
    const manager = managerWith();
    const device = new Device(manager);
    const loggedInAt = clock.now();
    await device.request((context) => {
      manager.renewToken(context);
      manager.setValue(context, 'userId', 'ada');
      expect(manager.isFresh(context, 5 * MINUTE)).toBe(true);
    });
    clock.advance(4 * MINUTE);
    const reloaded = await device.load();
    expect(manager.session(reloaded).authenticatedAt).toEqual(new Date(loggedInAt));
    expect(manager.isFresh(reloaded, 5 * MINUTE)).toBe(true);
    clock.advance(2 * MINUTE);
    const stale = await device.load();
    expect(manager.isFresh(stale, 5 * MINUTE)).toBe(false);
    expect(() => manager.requireFresh(stale, 5 * MINUTE)).toThrow(SessionNotFreshError);

    await expectAnonymousNeverFresh(manager);
  });

  it('reports a cookie that comes back after the idle timeout as expired (reason idle), without its token', async () => {
    const events: SessionEvent[] = [];
    const manager = managerWith({ idleTimeout: 10 * MINUTE, onEvent: (event) => events.push(event) });
    const device = new Device(manager);
    await device.request((context) => manager.setValue(context, 'theme', 'dark'));
    const token = device.cookie!;
    await ticks();
    expect(events.map(({ type, reason }) => [type, reason])).toEqual([['created', 'request']]);
    events.length = 0;
    clock.advance(11 * MINUTE);
    const late = await device.load();
    await ticks();
    expect(manager.getStatus(late)).toBe('new');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'expired', reason: 'idle', owner: undefined, at: new Date(clock.now()) });
    expect(JSON.stringify(events).includes(token)).toBe(false);
  });

  it('a listener that throws does not fail the request', async () => {
    const manager = managerWith({
      onEvent: () => {
        throw new Error('audit log down');
      },
    });
    const device = new Device(manager);
    await device.request((context) => manager.setValue(context, 'theme', 'dark'));
    expect(manager.getValue(await device.load(), 'theme')).toBe('dark');
  });
});

// ---------------------------------------------------------------------------------
// Revocable sealed cookies
// ---------------------------------------------------------------------------------

/** Generations for one test: this process's, and another process's view of the same ones. */
interface GenerationsFixture {
  readonly generations: OwnerGenerations;
  readonly elsewhere: OwnerGenerations;
  readonly close?: () => Promise<void>;
}

/**
 * Generations whose server can be made unreachable: `current` then throws, as a client of
 * a server that does not answer would. It stands for the unreachable server, nothing else.
 */
class UnreachableWhenTold implements OwnerGenerations {
  down = false;
  readonly #inner: OwnerGenerations;

  constructor(inner: OwnerGenerations) {
    this.#inner = inner;
  }

  current(owner: string): Promise<number> {
    return this.down ? Promise.reject(new Error('connect ECONNREFUSED')) : this.#inner.current(owner);
  }

  bump(owner: string): Promise<number> {
    return this.down ? Promise.reject(new Error('connect ECONNREFUSED')) : this.#inner.bump(owner);
  }
}

function describeRevocation(name: string, open: () => Promise<GenerationsFixture>): void {
  describe(`revocable sealed cookies with ${name}`, () => {
    let clock: FakeClock;
    let keys: EncryptionKey[];
    let fixture: GenerationsFixture;
    let ada: string;

    beforeEach(async () => {
      clock = new FakeClock();
      keys = [await newKey()];
      fixture = await open();
      ada = uniqueName('ada');
    });

    afterEach(async () => {
      await fixture.close?.();
    });

    const managerWith = (generations: OwnerGenerations, options: SessionManagerOptions = {}) =>
      new SessionManager<AppValues>(
        new EncryptingStoreDecorator(new CookieSessionStore({}, clock), { keys }, clock),
        { ownerKey: 'userId', ...options, revocation: { generations, maxStaleness: 5000, ...options.revocation } },
        clock,
      );

    it('a cookie sealed before destroyOwnerSessions opens as a fresh session, reported as revoked', async () => {
      const events: SessionEvent[] = [];
      const manager = managerWith(fixture.generations, { onEvent: (event) => events.push(event) });
      const phone = new Device(manager);
      await phone.logIn(ada);
      const token = phone.cookie!;
      expect(manager.getValue(await phone.load(), 'userId')).toBe(ada);
      events.length = 0;

      expect(await manager.destroyOwnerSessions(ada)).toBe(0);
      const after = await phone.load(); // this manager's own bump applies at once
      await ticks();
      expect(manager.getStatus(after)).toBe('new');
      expect(manager.getValue(after, 'userId')).toBeUndefined();
      expect(events.map(({ type, reason, owner }) => [type, reason, owner])).toEqual([
        ['destroyed', 'owner', ada],
        ['revoked', 'generation', ada],
      ]);
      expect(JSON.stringify(events).includes(token)).toBe(false);

      // A log-in after the revocation seals the new generation: that cookie works.
      await phone.logIn(ada);
      expect(manager.getValue(await phone.load(), 'userId')).toBe(ada);
    });

    it("another instance's bump is seen only once maxStaleness has passed; this instance's own applies at once", async () => {
      const here = managerWith(fixture.generations);
      const there = managerWith(fixture.elsewhere);
      const phone = new Device(here);
      await phone.logIn(ada);
      const token = phone.cookie!;
      const loggedInAt = clock.now();

      expect(await there.destroyOwnerSessions(ada)).toBe(0);
      // The other instance knows at once.
      expect(there.getStatus(await new Device(there).load(token))).toBe('new');
      // This one read the generation at the log-in and trusts it for 5 s.
      clock.advance(4999);
      expect(here.getValue(await phone.load(), 'userId')).toBe(ada);
      clock.advance(1);
      expect(clock.now() - loggedInAt).toBe(5000);
      const stale = await phone.load();
      expect(here.getStatus(stale)).toBe('new');
      expect(here.getValue(stale, 'userId')).toBeUndefined();
    });

    it('destroyOtherSessions keeps the caller, sealing its cookie again (a new Set-Cookie); the other cookies are revoked', async () => {
      const manager = managerWith(fixture.generations);
      const [phone, laptop] = [new Device(manager), new Device(manager)];
      await phone.logIn(ada);
      await laptop.logIn(ada);
      const laptopBefore = laptop.cookie!;

      const { headers } = await laptop.request(async (context) => {
        expect(await manager.destroyOtherSessions(context)).toBe(0);
      });
      expect(headers.getSetCookie()).toHaveLength(1);
      expect(laptop.cookie).toBeDefined();
      expect(laptop.cookie).not.toBe(laptopBefore);
      expect(manager.getValue(await laptop.load(), 'userId')).toBe(ada);
      expect(manager.getStatus(await phone.load())).toBe('new');
      expect(manager.getStatus(await laptop.load(laptopBefore))).toBe('new');
      // After the cache has expired too, from the server's generation.
      clock.advance(6 * SECOND);
      const reread = managerWith(fixture.elsewhere);
      expect(reread.getValue(await new Device(reread).load(laptop.cookie), 'userId')).toBe(ada);
      expect(reread.getStatus(await new Device(reread).load(phone.cookie))).toBe('new');
    });

    it("when the generations cannot be read, 'fail' rejects with SessionStoreError (once the cached read is stale)", async () => {
      const flaky = new UnreachableWhenTold(fixture.generations);
      const manager = managerWith(flaky, { revocation: { generations: flaky, whenUnavailable: 'fail' } });
      const phone = new Device(manager);
      await phone.logIn(ada);
      flaky.down = true;
      // Within maxStaleness the generation read at the log-in is used: no read, no failure.
      expect(manager.getValue(await phone.load(), 'userId')).toBe(ada);
      clock.advance(6 * SECOND);
      await expect(async () => phone.load()).rejects.toBeInstanceOf(SessionStoreError);
      // A request without an owned cookie needs no generation.
      expect(manager.getStatus(await new Device(manager).load())).toBe('new');
    });

    it("when the generations cannot be read, 'trust' accepts the cookie, and still applies a generation read before", async () => {
      const flaky = new UnreachableWhenTold(fixture.generations);
      const options = { revocation: { generations: flaky, whenUnavailable: 'trust' as const } };
      const manager = managerWith(flaky, options);
      const phone = new Device(manager);
      await phone.logIn(ada);
      expect(await manager.destroyOwnerSessions(ada)).toBe(0); // phone's cookie is revoked
      const laptop = new Device(manager);
      await laptop.logIn(ada); // sealed with the new generation

      flaky.down = true;
      clock.advance(6 * SECOND); // the cached generation is stale: a read is tried, and fails
      expect(manager.getValue(await laptop.load(), 'userId')).toBe(ada);
      expect(manager.getStatus(await phone.load())).toBe('new');

      // An instance that never read ada's generation accepts the revoked cookie as sealed.
      const fresh = managerWith(flaky, options);
      expect(fresh.getValue(await new Device(fresh).load(phone.cookie), 'userId')).toBe(ada);
    });
  });
}

describeRevocation('MemoryOwnerGenerations', async () => {
  const generations = new MemoryOwnerGenerations();
  return { generations, elsewhere: generations };
});

describeWith('redis', 'revocation on Redis', () => {
  describeRevocation('RedisOwnerGenerations', async () => redisGenerations(redisClient()));
});

describeWith('postgres', 'revocation on PostgreSQL', () => {
  describeRevocation('PostgresOwnerGenerations', async () => {
    const client = await postgresPool();
    return {
      generations: new PostgresOwnerGenerations(client, { table: generationsTable }),
      elsewhere: new PostgresOwnerGenerations(client, { table: generationsTable }),
    };
  });
});

describe('revocation with RedisOwnerGenerations pointed at a closed port', () => {
  let port: number;

  beforeAll(async () => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as net.AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
  });

  it("'fail' rejects the request with SessionStoreError; 'trust' accepts the cookie", async () => {
    const clock = new FakeClock();
    const keys = [await newKey()];
    const build = (generations: OwnerGenerations, whenUnavailable: 'fail' | 'trust') =>
      new SessionManager<AppValues>(
        new EncryptingStoreDecorator(new CookieSessionStore({}, clock), { keys }, clock),
        { ownerKey: 'userId', revocation: { generations, whenUnavailable } },
        clock,
      );
    const sealing = build(new MemoryOwnerGenerations(), 'fail');
    const phone = new Device(sealing);
    await phone.logIn('ada');

    const dead = new Redis(port, '127.0.0.1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      enableOfflineQueue: false,
    });
    dead.on('error', () => {});
    try {
      const unreachable = new RedisOwnerGenerations(dead, { timeout: 200 });
      const failing = build(unreachable, 'fail');
      await expect(async () => new Device(failing).load(phone.cookie)).rejects.toBeInstanceOf(SessionStoreError);
      const trusting = build(unreachable, 'trust');
      expect(trusting.getValue(await new Device(trusting).load(phone.cookie), 'userId')).toBe('ada');
    } finally {
      dead.disconnect();
    }
  });
});
