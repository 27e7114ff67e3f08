// The switch from express-session, against the real packages over HTTP: an "old app"
// (express 5 + express-session with connect-redis 9, connect-redis 8.1 or
// connect-pg-simple) makes sessions; a "new app" (express 5 + kit-session's express
// adapter with ExpressSessionAdopter over the same store object) adopts them.
import { parseSetCookie } from 'cookie';
import connectPgSimple from 'connect-pg-simple';
import { RedisStore as RedisStore9 } from 'connect-redis';
import { RedisStore as RedisStore8 } from 'connect-redis-8';
import express, { type ErrorRequestHandler } from 'express';
import expressSession from 'express-session';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { createServer } from 'node:http';
import {
  DEFAULT_COOKIE_NAME,
  MemorySessionStore,
  SessionError,
  SessionManager,
  SessionStoreError,
  type SessionEvent,
  type SessionStore,
} from 'kit-session';
import { ExpressSessionAdopter, type ExpressSessionStoreLike } from 'kit-session/adopt/express-session';
import { getSession, session } from 'kit-session/express';
import { RedisSessionStore } from 'kit-session/redis';
import { Pool } from 'pg';
import { createClient } from 'redis';
import { listen, type TestServer } from '../adapters/scenarios.js';
import { CookieJar } from '../support/cookieJar.js';
import { FakeClock } from '../support/FakeClock.js';
import { deleteRedisKeys } from '../support/redisCluster.js';
import { DATABASE_URL, describeWith, hashedId, REDIS_URL, uniqueName } from '../support/services.js';

// express-session's own signing module (untyped), for cookies signed with a foreign secret.
const { sign } = require('cookie-signature') as { sign(value: string, secret: string): string };

const OLD_NAME = 'connect.sid';
const SECRETS = ['new-secret', 'old-secret'] as const;

/** The new app's values. */
interface Values {
  userId: string;
  cart: string[];
  passport: { user: string };
}

// ---------------------------------------------------------------------------------
// The old app: express-session
// ---------------------------------------------------------------------------------

/**
 * The old app: express-session over `store` with `secret`. `POST /login?user=u1` logs a
 * user in with a cart; `POST /passport?user=u1` as passport does (`passport.user`);
 * `GET /me` answers the session's values.
 */
function startOldApp(store: expressSession.Store, secret: readonly string[], maxAge = 3_600_000): Promise<TestServer> {
  const app = express();
  app.set('etag', false);
  app.use(expressSession({ secret: [...secret], store, resave: false, saveUninitialized: false, cookie: { maxAge } }));
  app.post('/login', (req, res) => {
    const user = String(req.query.user);
    Object.assign(req.session, { userId: user, cart: [`book-${user}`, 'pen'] });
    res.send('ok');
  });
  app.post('/passport', (req, res) => {
    const user = String(req.query.user);
    Object.assign(req.session, { passport: { user }, cart: ['ink'] });
    res.send('ok');
  });
  app.get('/me', (req, res) => {
    const { userId = null } = req.session as unknown as { userId?: string };
    res.json({ userId });
  });
  return listen(createServer(app));
}

/** One browser's session in the old app. */
interface OldSession {
  readonly jar: CookieJar;
  readonly user: string;
  readonly sid: string;
  /** The cookie's value as express-session wrote it, percent-decoded. */
  readonly value: string;
}

/** Logs a user in on the old app with a jar of its own. */
async function oldLogin(app: TestServer, user: string, route: '/login' | '/passport' = '/login'): Promise<OldSession> {
  const jar = new CookieJar();
  const response = await jar.fetch(`${app.url}${route}?user=${user}`, { method: 'POST' });
  expect(response.status).toBe(200);
  // express-session sends the head before its store has saved the session, and ends the
  // body once it has: the session is in the store only when the response is whole.
  await response.text();
  const raw = jar.get(OLD_NAME);
  expect(raw).toBeDefined();
  const value = decodeURIComponent(raw!);
  const sid = value.slice(2, value.lastIndexOf('.'));
  return { jar, user, sid, value };
}

// ---------------------------------------------------------------------------------
// The new app: kit-session with the adopter
// ---------------------------------------------------------------------------------

interface NewApp {
  readonly server: TestServer;
  readonly manager: SessionManager<Values>;
  readonly events: SessionEvent[];
  /** The errors the app's error middleware received. */
  readonly errors: unknown[];
}

/**
 * The new app: `GET /me` answers the session's values; `POST /logout` destroys it. Its
 * manager has `ownerKey: 'userId'` over `store` (a MemorySessionStore by default).
 */
async function startNewApp(
  adopter: ExpressSessionAdopter<Values>,
  clock?: FakeClock,
  store: SessionStore<Values> = new MemorySessionStore<Values>(),
): Promise<NewApp> {
  const events: SessionEvent[] = [];
  const errors: unknown[] = [];
  const manager = new SessionManager<Values>(
    store,
    { adopt: adopter, ownerKey: 'userId', onEvent: (event) => events.push(event) },
    clock,
  );
  const app = express();
  app.set('etag', false);
  app.use(session(manager));
  app.get('/me', (req, res) => {
    const s = getSession(req, manager);
    res.json({ userId: s.get('userId') ?? null, cart: s.get('cart') ?? null, passport: s.get('passport') ?? null });
  });
  app.post('/logout', (req, res) => {
    getSession(req, manager).destroy();
    res.send('bye');
  });
  const onError: ErrorRequestHandler = (error, _req, res, _next) => {
    errors.push(error);
    res.status(500).type('text/plain').send('server error');
  };
  app.use(onError);
  return { server: await listen(createServer(app)), manager, events, errors };
}

/** What a response of the new app's `GET /me` says and sets. */
async function visit(app: NewApp, jar: CookieJar, path = '/me', method = 'GET') {
  const response = await jar.fetch(`${app.server.url}${path}`, { method });
  const lines = response.headers.getSetCookie();
  const cookies = lines.map((line) => parseSetCookie(line));
  const body = response.headers.get('content-type')?.includes('json') === true ? ((await response.json()) as Record<string, unknown>) : await response.text();
  return {
    status: response.status,
    body,
    lines,
    kit: cookies.find((cookie) => cookie.name === DEFAULT_COOKIE_NAME),
    old: cookies.find((cookie) => cookie.name === OLD_NAME),
  };
}

/** Whether a Set-Cookie line for the old cookie expires it, with express-session's Path. */
function expectOldCookieExpired(old: ReturnType<typeof parseSetCookie> | undefined): void {
  expect(old).toBeDefined();
  expect(old!.value).toBe('');
  expect(old!.maxAge).toBe(0);
  expect(old!.expires?.getTime()).toBe(0);
  expect(old!.path).toBe('/');
}

// ---------------------------------------------------------------------------------
// The stores
// ---------------------------------------------------------------------------------

/** An express-session store under test, with direct reads of its backend. */
interface OldStore {
  readonly store: expressSession.Store;
  /** Whether the backend still holds the record of a sid (read directly, not through the store). */
  has(sid: string): Promise<boolean>;
  /** How long the backend keeps the record of a sid, in milliseconds (read directly). */
  ttl(sid: string): Promise<number>;
  /** A store object over the same backend whose client is closed. */
  closed(): Promise<ExpressSessionStoreLike>;
  /**
   * kit-session's store for the new app: a RedisSessionStore beside the old records in
   * the same Redis (its own prefix) for the Redis stores, else undefined (memory).
   */
  kitStore(): SessionStore<Values> | undefined;
  close(): Promise<void>;
}

async function connectRedis9(): Promise<OldStore> {
  const base = uniqueName('express_cr9');
  const prefix = `${base}:old:`;
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  const store = new RedisStore9({ client, prefix });
  return {
    store,
    has: async (sid) => (await client.exists(prefix + sid)) === 1,
    ttl: (sid) => client.pTTL(prefix + sid),
    closed: async () => {
      const dead = createClient({ url: REDIS_URL });
      await dead.connect();
      dead.destroy();
      return new RedisStore9({ client: dead, prefix });
    },
    kitStore: () => new RedisSessionStore<Values>(client, { prefix: `${base}:kit:` }),
    close: async () => {
      for await (const keys of client.scanIterator({ MATCH: `${base}:*`, COUNT: 500 })) {
        if (keys.length > 0) {
          await client.del(keys);
        }
      }
      client.destroy();
    },
  };
}

async function connectRedis8(): Promise<OldStore> {
  const base = uniqueName('express_cr8');
  const prefix = `${base}:old:`;
  const client = new Redis(REDIS_URL);
  const store = new RedisStore8({ client, prefix });
  return {
    store,
    has: async (sid) => (await client.exists(prefix + sid)) === 1,
    ttl: (sid) => client.pttl(prefix + sid),
    closed: async () => {
      const dead = new Redis(REDIS_URL, { maxRetriesPerRequest: 0, enableOfflineQueue: false });
      dead.disconnect();
      return new RedisStore8({ client: dead, prefix });
    },
    kitStore: () => new RedisSessionStore<Values>(client, { prefix: `${base}:kit:` }),
    close: async () => {
      await deleteRedisKeys(client, `${base}:`);
      client.disconnect();
    },
  };
}

async function connectPg(): Promise<OldStore> {
  const tableName = uniqueName('express_sessions');
  const pool = new Pool({ connectionString: DATABASE_URL, max: 4 });
  const PGStore = connectPgSimple(expressSession);
  const store = new PGStore({ pool, tableName, createTableIfMissing: true, pruneSessionInterval: false });
  // The table is created on the first query: make sure it exists before the tests.
  await new Promise<void>((resolve, reject) => store.get('warm-up', (error) => (error ? reject(error) : resolve())));
  return {
    store,
    has: async (sid) => (await pool.query(`SELECT 1 FROM "${tableName}" WHERE sid = $1`, [sid])).rowCount === 1,
    ttl: async (sid) =>
      Number(
        (await pool.query<{ ms: string }>(`SELECT (EXTRACT(EPOCH FROM expire - now()) * 1000)::bigint AS ms FROM "${tableName}" WHERE sid = $1`, [sid]))
          .rows[0]?.ms ?? -2,
      ),
    closed: async () => {
      const dead = new Pool({ connectionString: DATABASE_URL, max: 1 });
      await dead.end();
      return new PGStore({ pool: dead, tableName, pruneSessionInterval: false });
    },
    kitStore: () => undefined,
    close: async () => {
      await pool.query(`DROP TABLE IF EXISTS "${tableName}"`);
      store.close();
      await pool.end();
    },
  };
}

const STORES: readonly { name: string; service: 'redis' | 'postgres'; open: () => Promise<OldStore> }[] = [
  { name: 'connect-redis 9 (node-redis)', service: 'redis', open: connectRedis9 },
  { name: 'connect-redis 8.1 (ioredis)', service: 'redis', open: connectRedis8 },
  { name: 'connect-pg-simple 10 (pg)', service: 'postgres', open: connectPg },
];

/** Adopter over the old store: the same secrets, in the same order. */
const adopterOf = (store: ExpressSessionStoreLike, options: Partial<ConstructorParameters<typeof ExpressSessionAdopter<Values>>[0]> = {}) =>
  new ExpressSessionAdopter<Values>({ secret: SECRETS, store, ...options });

for (const { name, service, open } of STORES) {
  describeWith(service, `ExpressSessionAdopter with ${name}`, () => {
    let old: OldStore;
    /** 15 sessions made when the old app had only 'old-secret', then 25 with both. */
    let sessions: OldSession[];
    let newApp: NewApp | undefined;

    beforeAll(async () => {
      old = await open();
      sessions = [];
      const before = await startOldApp(old.store, ['old-secret']);
      try {
        for (let n = 0; n < 15; n++) {
          sessions.push(await oldLogin(before, `u${n}`));
        }
      } finally {
        await before.close();
      }
      const after = await startOldApp(old.store, SECRETS);
      try {
        for (let n = 15; n < 40; n++) {
          sessions.push(await oldLogin(after, `u${n}`));
        }
      } finally {
        await after.close();
      }
    });

    afterAll(async () => {
      await old?.close();
    });

    afterEach(async () => {
      await newApp?.server.close();
      newApp = undefined;
    });

    /** Fresh old sessions for one test, made by the old app with both secrets. */
    const freshOld = async (count: number, route: '/login' | '/passport' = '/login', label = 'x'): Promise<OldSession[]> => {
      const app = await startOldApp(old.store, SECRETS);
      try {
        const made: OldSession[] = [];
        for (let n = 0; n < count; n++) {
          made.push(await oldLogin(app, `${label}${n}`, route));
        }
        return made;
      } finally {
        await app.close();
      }
    };

    it('the old app signed the first 15 with old-secret and the rest with new-secret, in the store', async () => {
      for (const [index, { sid, value }] of sessions.entries()) {
        expect(value).toBe(`s:${sign(sid, index < 15 ? 'old-secret' : 'new-secret')}`);
        expect(await old.has(sid)).toBe(true);
      }
    });

    it('adopts all 40 sessions (both secrets): values carried, a new id, the old cookie expired in the same response, the old record left for the grace', async () => {
      newApp = await startNewApp(adopterOf(old.store), undefined, old.kitStore());
      let adopted = 0;
      for (const { jar, user, sid, value } of sessions) {
        const first = await visit(newApp, jar);
        expect(first.status).toBe(200);
        expect(first.body).toEqual({ userId: user, cart: [`book-${user}`, 'pen'], passport: null });
        expect(first.kit).toBeDefined();
        expect(first.kit!.value).not.toBe('');
        expect(first.kit!.value).not.toContain(sid);
        expect(first.kit!.value).not.toContain(value.slice(2));
        expectOldCookieExpired(first.old);
        expect(jar.names()).toEqual([DEFAULT_COOKIE_NAME]);

        // The next request carries only the kit-session cookie, and keeps the session.
        const second = await visit(newApp, jar);
        expect(second.body).toEqual(first.body);
        expect(second.old).toBeUndefined();

        // 'expire' (the default): the old record stays for the grace (30 s), then its store forgets it.
        expect(await old.has(sid)).toBe(true);
        const left = await old.ttl(sid);
        expect(left).toBeGreaterThan(20_000);
        expect(left).toBeLessThanOrEqual(31_000);

        // The owner's sessions list the adopted one, under a handle that is not the old sid's.
        const listed = await newApp.manager.listOwnerSessions(user);
        expect(listed).toHaveLength(1);
        expect(listed[0]!.handle).not.toBe(hashedId(sid));
        expect(listed[0]!.handle).not.toContain(sid);
        adopted++;
      }
      expect(adopted).toBe(40);
      const created = newApp.events.filter((event) => event.type === 'created');
      expect(created).toHaveLength(40);
      expect(created.every((event) => event.reason === 'adopted')).toBe(true);
      expect(new Set(created.map((event) => event.owner))).toEqual(new Set(sessions.map(({ user }) => user)));
      expect(newApp.errors).toEqual([]);
    });

    it("with oldRecord 'delete', deletes each old record once the new session is saved", async () => {
      const made = await freshOld(5, '/login', 'd');
      newApp = await startNewApp(adopterOf(old.store, { oldRecord: 'delete' }), undefined, old.kitStore());
      for (const { jar, user, sid } of made) {
        expect(await old.has(sid)).toBe(true);
        const first = await visit(newApp, jar);
        expect(first.body).toMatchObject({ userId: user });
        expect(first.kit).toBeDefined();
        expectOldCookieExpired(first.old);
        expect(await old.has(sid)).toBe(false);
        expect((await visit(newApp, jar)).body).toMatchObject({ userId: user });
      }
    });

    it("with oldRecord 'keep', leaves each old record as it was, to expire by its own TTL", async () => {
      const made = await freshOld(3, '/login', 'k');
      newApp = await startNewApp(adopterOf(old.store, { oldRecord: 'keep' }), undefined, old.kitStore());
      for (const { jar, user, sid } of made) {
        const before = await old.ttl(sid);
        const first = await visit(newApp, jar);
        expect(first.body).toMatchObject({ userId: user });
        expectOldCookieExpired(first.old);
        expect(await old.has(sid)).toBe(true);
        // The old app's hour, not the grace.
        expect(await old.ttl(sid)).toBeGreaterThan(Math.min(before, 3_500_000) - 60_000);
      }
    });

    it.each<['expire' | 'keep' | 'delete']>([['expire'], ['keep'], ['delete']])("a log-out in the adopting request deletes the old record, with oldRecord '%s'", async (oldRecord) => {
      const made = await freshOld(2, '/login', `l${oldRecord}`);
      newApp = await startNewApp(adopterOf(old.store, { oldRecord }), undefined, old.kitStore());
      for (const { jar, user, sid } of made) {
        const bye = await visit(newApp, jar, '/logout', 'POST');
        expect(bye.status).toBe(200);
        expectOldCookieExpired(bye.old);
        expect(await old.has(sid)).toBe(false);
        expect(await newApp.manager.listOwnerSessions(user)).toEqual([]);
        expect((await visit(newApp, jar)).body).toEqual({ userId: null, cart: null, passport: null });
      }
    });

    it('passport sessions: a map turns passport.user into userId', async () => {
      const made = await freshOld(5, '/passport', 'p');
      newApp = await startNewApp(
        adopterOf(old.store, {
          map: (data) => {
            const user = (data.passport as { user?: string } | undefined)?.user;
            return user === undefined ? undefined : { userId: user, cart: data.cart as string[] };
          },
        }),
        undefined,
        old.kitStore(),
      );
      for (const { jar, user } of made) {
        const first = await visit(newApp, jar);
        expect(first.body).toEqual({ userId: user, cart: ['ink'], passport: null });
        expectOldCookieExpired(first.old);
        expect(await newApp.manager.listOwnerSessions(user)).toHaveLength(1);
      }
    });

    it('two parallel requests of one browser with only the old cookie are both adopted (the grace of the default)', async () => {
      const { jar, user, sid } = (await freshOld(1, '/login', 'r'))[0]!;
      newApp = await startNewApp(adopterOf(old.store), undefined, old.kitStore());
      const app = newApp;
      const [a, b] = await Promise.all([visit(app, jar.clone()), visit(app, jar.clone())]);
      for (const response of [a, b]) {
        expect(response.status).toBe(200);
        expect(response.body).toEqual({ userId: user, cart: [`book-${user}`, 'pen'], passport: null });
        expect(response.kit).toBeDefined();
        expectOldCookieExpired(response.old);
      }
      expect(a.kit!.value).not.toBe(b.kit!.value);
      expect(await app.manager.listOwnerSessions(user)).toHaveLength(2);
      expect(await old.has(sid)).toBe(true);
    });

    it('a store that cannot be reached fails the request with SessionStoreError, not a fresh session', async () => {
      const { jar } = (await freshOld(1, '/login', 'f'))[0]!;
      newApp = await startNewApp(adopterOf(await old.closed()), undefined, old.kitStore());
      const response = await visit(newApp, jar);
      expect(response.status).toBe(500);
      expect(response.kit).toBeUndefined();
      expect(response.old).toBeUndefined();
      expect(newApp.errors).toHaveLength(1);
      expect(newApp.errors[0]).toBeInstanceOf(SessionStoreError);
      expect((newApp.errors[0] as SessionError).code).toBe('ERR_SESSION_STORE');
    });
  });
}

describeWith('redis', 'ExpressSessionAdopter refuses forgeries (connect-redis 9)', () => {
  let old: OldStore;
  let oldApp: TestServer;
  let newApp: NewApp;
  let real: OldSession;

  beforeAll(async () => {
    old = await connectRedis9();
    oldApp = await startOldApp(old.store, SECRETS);
    real = await oldLogin(oldApp, 'victim');
    newApp = await startNewApp(adopterOf(old.store), undefined, old.kitStore());
  });

  afterAll(async () => {
    await newApp?.server.close();
    await oldApp?.close();
    await old?.close();
  });

  /** A browser sending one forged old cookie: nothing adopted, the cookie left alone. */
  async function expectRefused(value: string, app: NewApp = newApp): Promise<void> {
    const jar = new CookieJar();
    jar.set(OLD_NAME, encodeURIComponent(value));
    const response = await visit(app, jar);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ userId: null, cart: null, passport: null });
    expect(response.old).toBeUndefined();
    expect(app.errors).toEqual([]);
  }

  const mac = () => real.value.slice(real.value.lastIndexOf('.') + 1);

  it('refuses a tampered signature', async () => {
    const last = real.value.at(-1) === 'A' ? 'B' : 'A';
    await expectRefused(real.value.slice(0, -1) + last);
  });

  it("refuses another sid under the real sid's signature", async () => {
    const other = (await oldLogin(oldApp, 'attacker')).sid;
    await expectRefused(`s:${other}.${mac()}`);
  });

  it('refuses a real sid signed with a foreign secret', async () => {
    await expectRefused(`s:${sign(real.sid, 'foreign-secret')}`);
  });

  it('refuses an unsigned s:sid and a raw sid', async () => {
    await expectRefused(`s:${real.sid}`);
    await expectRefused(real.sid);
  });

  it("refuses a session expired by the manager's clock (cookie.expires)", async () => {
    const shortApp = await startOldApp(old.store, SECRETS, 60_000);
    const short = await oldLogin(shortApp, 'short');
    await shortApp.close();
    const clock = new FakeClock(Date.now() + 61_000);
    const later = await startNewApp(adopterOf(old.store), clock);
    try {
      expect(await old.has(short.sid)).toBe(true); // Redis's TTL has not run out: only the date refuses it
      await expectRefused(short.value, later);
      // Half a minute earlier by the clock (before cookie.expires), it is adopted.
      clock.advance(-30_000);
      expect((await visit(later, short.jar)).body).toMatchObject({ userId: 'short' });
    } finally {
      await later.server.close();
    }
  });

  it('refuses a sid whose record was deleted', async () => {
    const gone = await oldLogin(oldApp, 'gone');
    await new Promise<void>((resolve, reject) => old.store.destroy(gone.sid, (error) => (error ? reject(error) : resolve())));
    await expectRefused(gone.value);
  });

  it('property: a mutated cookie value is never adopted', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(real.value.length - 1), fc.constantFrom(...'Aa0+/.=-_s:'.split('')), async (at, char) => {
        const value = real.value.slice(0, at) + char + real.value.slice(at + 1);
        fc.pre(value !== real.value);
        await expectRefused(value);
      }),
      { numRuns: 60 },
    );
  });

  it('and still adopts the real one', async () => {
    const response = await visit(newApp, real.jar);
    expect(response.body).toEqual({ userId: 'victim', cart: ['book-victim', 'pen'], passport: null });
    expectOldCookieExpired(response.old);
  });
});

describe('ExpressSessionAdopter with express-session MemoryStore', () => {
  it('adopts a session made over HTTP, and a store whose get fails makes the request fail with SessionStoreError', async () => {
    const store = new expressSession.MemoryStore();
    const oldApp = await startOldApp(store, SECRETS);
    const made = await oldLogin(oldApp, 'm1');
    await oldApp.close();
    const app = await startNewApp(adopterOf(store));
    const broken: ExpressSessionStoreLike = {
      get: (_sid, callback) => setImmediate(() => callback(new Error('down'))),
      destroy: (_sid, callback) => callback?.(),
      set: (_sid, _session, callback) => callback?.(),
    };
    const failing = await startNewApp(adopterOf(broken));
    try {
      const refused = await visit(failing, made.jar.clone());
      expect(refused.status).toBe(500);
      expect(failing.errors[0]).toBeInstanceOf(SessionStoreError);
      const first = await visit(app, made.jar);
      expect(first.body).toEqual({ userId: 'm1', cart: ['book-m1', 'pen'], passport: null });
      expectOldCookieExpired(first.old);
      expect(await app.manager.listOwnerSessions('m1')).toHaveLength(1);
    } finally {
      await app.server.close();
      await failing.server.close();
    }
  });
});
