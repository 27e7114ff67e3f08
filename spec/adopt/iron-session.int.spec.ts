import fc from 'fast-check';
import { parseSetCookie, type SetCookie } from 'cookie';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Redis } from 'ioredis';
import { getIronSession, type SessionOptions } from 'iron-session';
import { MemorySessionStore, SessionManager, type SessionEvent, type SessionStore } from 'kit-session';
import { IronSessionAdopter, type IronSessionAdopterOptions } from 'kit-session/adopt/iron-session';
import { withSession } from 'kit-session/node';
import { RedisSessionStore } from 'kit-session/redis';
import { listen, type TestServer } from '../adapters/scenarios.js';
import { CookieJar } from '../support/cookieJar.js';
import { FakeClock } from '../support/FakeClock.js';
import { deleteRedisKeys } from '../support/redisCluster.js';
import { describeWith, REDIS_URL, uniqueName } from '../support/services.js';

// The switch from iron-session 8 to kit-session, over HTTP: an "old app" runs
// iron-session's real getIronSession on node:http and logs browsers in (each a CookieJar);
// a "new app" runs kit-session (kit-session/node) with an IronSessionAdopter, and the
// same browsers come to it with their iron-session cookies.

interface AppSession {
  userId: string;
  roles: string[];
  csrf: string;
}

const IRON_COOKIE = 'myapp_session';
const KIT_COOKIE = 'kit';
const OLD_PASSWORD = 'old_password_of_at_least_32_characters_long';
const NEW_PASSWORD = 'new_password_of_at_least_32_characters_long!';
const FOREIGN_PASSWORD = 'a_foreign_password_of_at_least_32_characters';
const SKEW = 60_000;

const servers: TestServer[] = [];

afterEach(async () => {
  jest.useRealTimers();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/**
 * The old app: iron-session 8 as an app uses it. `POST /login?user=N` saves
 * `{ userId: 'uN', roles, csrf }`; `GET /me` answers the session's data; `POST /logout`
 * destroys it.
 */
async function startOldApp(options: Partial<SessionOptions> = {}): Promise<TestServer> {
  const sessionOptions: SessionOptions = {
    cookieName: IRON_COOKIE,
    password: OLD_PASSWORD,
    ttl: 3600,
    ...options,
    cookieOptions: { secure: false, ...options.cookieOptions },
  };
  const server = await listen(
    createServer((req: IncomingMessage, res: ServerResponse) => {
      void (async () => {
        const session = await getIronSession<Partial<AppSession>>(req, res, sessionOptions);
        const url = new URL(req.url ?? '/', 'http://old.test');
        if (req.method === 'POST' && url.pathname.endsWith('/login')) {
          const n = url.searchParams.get('user') ?? '0';
          session.userId = `u${n}`;
          session.roles = Number(n) % 2 === 0 ? ['reader'] : ['reader', 'editor'];
          session.csrf = `csrf-${n}-${Math.random().toString(36).slice(2)}`;
          await session.save();
          res.end('ok');
        } else if (req.method === 'POST' && url.pathname.endsWith('/logout')) {
          session.destroy();
          res.end('bye');
        } else {
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify(session));
        }
      })().catch(() => {
        res.statusCode = 500;
        res.end('old app failed');
      });
    }),
  );
  servers.push(server);
  return server;
}

interface NewApp {
  readonly url: string;
  readonly manager: SessionManager<AppSession>;
  readonly events: SessionEvent[];
}

/**
 * The new app: kit-session on node:http with an IronSessionAdopter. `GET /me` answers the
 * session's values and status; `POST /logout` destroys the session.
 */
async function startNewApp(
  adopter: Partial<IronSessionAdopterOptions<AppSession>> = {},
  { store = new MemorySessionStore<AppSession>(), clock }: { store?: SessionStore<AppSession>; clock?: FakeClock } = {},
): Promise<NewApp> {
  const events: SessionEvent[] = [];
  const manager = new SessionManager<AppSession>(
    store,
    {
      cookie: { name: KIT_COOKIE, secure: false },
      ownerKey: 'userId',
      onEvent: (event) => events.push(event),
      adopt: new IronSessionAdopter<AppSession>({ cookieName: IRON_COOKIE, password: OLD_PASSWORD, ttl: 3600, ...adopter }),
    },
    clock,
  );
  const server = await listen(
    createServer(
      withSession(manager, (req, res, session) => {
        res.setHeader('content-type', 'application/json');
        if (req.method === 'POST' && req.url === '/logout') {
          session.destroy();
          return '{}';
        }
        return JSON.stringify({
          status: session.status,
          userId: session.get('userId'),
          roles: session.get('roles'),
          csrf: session.get('csrf'),
        });
      }),
    ),
  );
  servers.push(server);
  return { url: server.url, manager, events };
}

/** The Set-Cookie lines of a response, parsed, by cookie name. */
function setCookies(response: Response): Map<string, SetCookie> {
  return new Map(response.headers.getSetCookie().map((line) => {
    const parsed = parseSetCookie(line);
    return [parsed.name, parsed];
  }));
}

/** Logs a browser in on the old app; answers the old cookie as set and the data as the old app reads it back. */
async function logInOld(oldApp: TestServer, jar: CookieJar, user: number, path = ''): Promise<{ cookie: SetCookie; data: AppSession }> {
  const response = await jar.fetch(`${oldApp.url}${path}/login?user=${user}`, { method: 'POST' });
  expect(response.status).toBe(200);
  const cookie = setCookies(response).get(IRON_COOKIE);
  expect(cookie?.value).toMatch(/^Fe26\.2\*/);
  const data = (await (await jar.fetch(`${oldApp.url}${path}/me`)).json()) as AppSession;
  expect(data.userId).toBe(`u${user}`);
  return { cookie: cookie!, data };
}

/** A request to the new app's `/me`; answers the body and the Set-Cookie lines. */
async function me(newApp: NewApp, jar: CookieJar): Promise<{ body: Partial<AppSession> & { status: string }; cookies: Map<string, SetCookie> }> {
  const response = await jar.fetch(`${newApp.url}/me`);
  expect(response.status).toBe(200);
  const cookies = setCookies(response);
  return { body: (await response.json()) as Partial<AppSession> & { status: string }, cookies };
}

/** Checks that a browser with an iron-session cookie was not adopted: a fresh empty session, the old cookie left alone. */
async function expectNotAdopted(newApp: NewApp, jar: CookieJar): Promise<void> {
  const oldValue = jar.get(IRON_COOKIE);
  const { body, cookies } = await me(newApp, jar);
  expect(body).toEqual({ status: 'new' });
  expect(cookies.size).toBe(0);
  expect(jar.get(IRON_COOKIE)).toBe(oldValue);
  expect(jar.get(KIT_COOKIE)).toBeUndefined();
}

describe('IronSessionAdopter, iron-session 8 to kit-session over HTTP', () => {
  it('adopts 50 iron-session sessions: the values carried, a new kit-session cookie, the old cookie expired in the same response', async () => {
    const oldApp = await startOldApp();
    const newApp = await startNewApp();
    const browsers = Array.from({ length: 50 }, (_, i) => ({ jar: new CookieJar(), user: i % 25 }));
    const before = await Promise.all(browsers.map(({ jar, user }) => logInOld(oldApp, jar, user)));

    const first = await Promise.all(browsers.map(({ jar }) => me(newApp, jar)));
    first.forEach(({ body, cookies }, i) => {
      const { cookie: oldCookie, data } = before[i]!;
      expect(body).toEqual({ status: 'modified', userId: data.userId, roles: data.roles, csrf: data.csrf });
      expect(cookies.get(KIT_COOKIE)?.value).toBeTruthy();
      const expired = cookies.get(IRON_COOKIE);
      expect(expired).toMatchObject({ value: '', maxAge: 0, path: oldCookie.path });
      expect(browsers[i]!.jar.names()).toEqual([KIT_COOKIE]);
    });
    // Every browser got a session of its own.
    expect(new Set(browsers.map(({ jar }) => jar.get(KIT_COOKIE))).size).toBe(50);
    expect(newApp.events.filter((event) => event.type === 'created' && event.reason === 'adopted')).toHaveLength(50);

    // The next request, with only the kit-session cookie, keeps the session.
    const second = await Promise.all(browsers.map(({ jar }) => me(newApp, jar)));
    second.forEach(({ body, cookies }, i) => {
      expect(body).toEqual({ ...first[i]!.body, status: 'unmodified' });
      expect(cookies.has(IRON_COOKIE)).toBe(false);
    });
    expect(newApp.events.filter((event) => event.type === 'created')).toHaveLength(50);

    // Owner keys: each user's two adopted sessions are listed under the user.
    for (const user of ['u0', 'u1', 'u24']) {
      const listed = await newApp.manager.listOwnerSessions(user);
      expect(listed).toHaveLength(2);
      const handles = newApp.events.filter((event) => event.reason === 'adopted' && event.owner === user).map((event) => event.handle);
      expect(listed.map(({ handle }) => handle).sort()).toEqual(handles.sort());
    }
    expect(await newApp.manager.listOwnerSessions('u25')).toEqual([]);
  });

  it("expires the old cookie with its own Path (an iron-session cookie scoped to /app)", async () => {
    const oldApp = await startOldApp({ cookieOptions: { path: '/app' } });
    const newApp = await startNewApp({ path: '/app' });
    const jar = new CookieJar();
    const { cookie, data } = await logInOld(oldApp, jar, 7, '/app');
    expect(cookie.path).toBe('/app');
    const { body, cookies } = await me(newApp, jar);
    expect(body.userId).toBe(data.userId);
    expect(cookies.get(IRON_COOKIE)).toMatchObject({ value: '', maxAge: 0, path: '/app' });
  });

  it('a log-out on the adopting request saves no session and still expires the old cookie', async () => {
    const oldApp = await startOldApp();
    const newApp = await startNewApp();
    const jar = new CookieJar();
    await logInOld(oldApp, jar, 3);
    const response = await jar.fetch(`${newApp.url}/logout`, { method: 'POST' });
    expect(response.status).toBe(200);
    expect(setCookies(response).get(IRON_COOKIE)).toMatchObject({ value: '', maxAge: 0 });
    expect(jar.names()).toEqual([]);
    expect(await newApp.manager.listOwnerSessions('u3')).toEqual([]);
    expect((await me(newApp, jar)).body).toEqual({ status: 'new' });
  });

  it('adopts sessions sealed before and after a password rotation, with the rotated map {2: new, 1: old}', async () => {
    const beforeRotation = await startOldApp({ password: { 1: OLD_PASSWORD } });
    const afterRotation = await startOldApp({ password: { 2: NEW_PASSWORD, 1: OLD_PASSWORD } });
    const newApp = await startNewApp({ password: { 2: NEW_PASSWORD, 1: OLD_PASSWORD } });
    const jars = Array.from({ length: 6 }, () => new CookieJar());
    for (const [i, jar] of jars.entries()) {
      await logInOld(i < 3 ? beforeRotation : afterRotation, jar, i);
      expect(jar.get(IRON_COOKIE)!.split('*')[1]).toBe(i < 3 ? '1' : '2');
    }
    for (const [i, jar] of jars.entries()) {
      const { body, cookies } = await me(newApp, jar);
      expect(body).toMatchObject({ status: 'modified', userId: `u${i}` });
      expect(cookies.get(IRON_COOKIE)?.maxAge).toBe(0);
    }
    // An adopter that dropped the old password no longer opens the old seals.
    const withoutOld = await startNewApp({ password: { 2: NEW_PASSWORD } });
    const oldSealed = new CookieJar();
    await logInOld(beforeRotation, oldSealed, 9);
    await expectNotAdopted(withoutOld, oldSealed);
  });

  describe('refuses, with a fresh empty session and the old cookie left alone', () => {
    it('a seal made with another password', async () => {
      const foreignApp = await startOldApp({ password: FOREIGN_PASSWORD });
      const newApp = await startNewApp();
      const jar = new CookieJar();
      await logInOld(foreignApp, jar, 1);
      await expectNotAdopted(newApp, jar);
      expect(await newApp.manager.listOwnerSessions('u1')).toEqual([]);
    });

    it('tampered and truncated seals (fast-check), which the old app does not open either', async () => {
      const oldApp = await startOldApp();
      const newApp = await startNewApp();
      const source = new CookieJar();
      const { data } = await logInOld(oldApp, source, 5);
      const seal = source.get(IRON_COOKIE)!;
      const sealed = seal.slice(0, seal.lastIndexOf('~'));
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_*';
      const tampered = fc
        .oneof(
          fc.tuple(fc.nat(sealed.length - 1), fc.constantFrom(...alphabet)).map(([at, char]) => sealed.slice(0, at) + char + sealed.slice(at + 1)),
          fc.nat(sealed.length - 1).map((at) => sealed.slice(0, at)),
          fc.tuple(fc.nat(sealed.length - 1), fc.integer({ min: 1, max: 16 })).map(([at, n]) => sealed.slice(0, at) + sealed.slice(at + n)),
        )
        .filter((value) => value !== sealed)
        .map((value) => `${value}~2`);
      await fc.assert(
        fc.asyncProperty(tampered, async (value) => {
          const jar = new CookieJar();
          jar.set(IRON_COOKIE, value);
          await expectNotAdopted(newApp, jar);
          const old = await jar.fetch(`${oldApp.url}/me`);
          expect(old.status === 500 || Object.keys((await old.json()) as object).length === 0).toBe(true);
        }),
        { numRuns: 25 },
      );
      // The untampered seal still opens.
      expect((await me(newApp, source)).body.csrf).toBe(data.csrf);
    });

    it("an expired seal, by Date.now() (iron-webcrypto's check) as by the manager's clock", async () => {
      const oldApp = await startOldApp({ ttl: 120 });
      const jar = new CookieJar();
      const { cookie } = await logInOld(oldApp, jar, 4);
      expect(cookie.maxAge).toBe(60); // iron-session: ttl - 60 s
      const expiry = Number(jar.get(IRON_COOKIE)!.split('~')[0]!.split('*')[5]);

      // The manager's clock past the expiry (+ iron's 60 s skew), Date.now() still before it.
      const lateClock = new FakeClock(expiry + SKEW);
      await expectNotAdopted(await startNewApp({ ttl: 120 }, { clock: lateClock }), jar);
      const justInTime = await startNewApp({ ttl: 120 }, { clock: new FakeClock(expiry + SKEW - 1) });
      expect((await me(justInTime, jar.clone())).body.userId).toBe('u4');

      // Date.now() past it (only Date is faked: servers and sockets run on real timers),
      // the manager's clock before it: iron-webcrypto refuses the seal, and so does the old app.
      const earlyClock = new FakeClock(Date.now());
      const newApp = await startNewApp({ ttl: 120 }, { clock: earlyClock });
      jest.useFakeTimers({ now: expiry + SKEW, doNotFake: ['hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] });
      await expectNotAdopted(newApp, jar);
      expect(await (await jar.fetch(`${oldApp.url}/me`)).json()).toEqual({});
    });

    it('an old cookie from the time after `until`', async () => {
      const oldApp = await startOldApp();
      const clock = new FakeClock(Date.now());
      const newApp = await startNewApp({ until: clock.now() + 1000 }, { clock });
      const jar = new CookieJar();
      await logInOld(oldApp, jar, 2);
      clock.advance(1000);
      await expectNotAdopted(newApp, jar);
    });
  });

  it('adopts again a copy of an iron-session cookie kept from before the switch (iron-session cannot revoke), until `until`', async () => {
    const oldApp = await startOldApp();
    const clock = new FakeClock(Date.now());
    const newApp = await startNewApp({ until: clock.now() + 60_000 }, { clock });
    const jar = new CookieJar();
    await logInOld(oldApp, jar, 8);
    const copy = jar.clone();
    const lateCopy = jar.clone();
    expect((await me(newApp, jar)).body.status).toBe('modified');
    const replay = await me(newApp, copy);
    expect(replay.body).toMatchObject({ status: 'modified', userId: 'u8' });
    expect(copy.get(KIT_COOKIE)).not.toBe(jar.get(KIT_COOKIE));
    expect(await newApp.manager.listOwnerSessions('u8')).toHaveLength(2);
    // From `until` on, the same copy is no longer adopted.
    clock.advance(60_000);
    await expectNotAdopted(newApp, lateCopy);
  });

  it("adopts a seal made under another cookie name: iron-session does not bind the name, and the old app opens it too", async () => {
    const otherApp = await startOldApp({ cookieName: 'other_app' });
    const oldApp = await startOldApp();
    const newApp = await startNewApp();
    const source = new CookieJar();
    await source.fetch(`${otherApp.url}/login?user=6`, { method: 'POST' });
    const seal = source.get('other_app');
    expect(seal).toMatch(/^Fe26\.2\*/);
    const moved = new CookieJar();
    moved.set(IRON_COOKIE, seal!);
    expect(await (await moved.fetch(`${oldApp.url}/me`)).json()).toMatchObject({ userId: 'u6' });
    expect((await me(newApp, moved)).body).toMatchObject({ status: 'modified', userId: 'u6' });
  });
});

describeWith('redis', 'IronSessionAdopter with RedisSessionStore', () => {
  let client: Redis;
  const prefix = `${uniqueName('kit-session-iron')}:`;

  beforeAll(() => {
    client = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    await deleteRedisKeys(client, prefix);
    client.disconnect();
  });

  it('adopted sessions are stored in Redis and listed under their owner', async () => {
    const oldApp = await startOldApp();
    const newApp = await startNewApp({}, { store: new RedisSessionStore<AppSession>(client, { prefix }) });
    const jars = Array.from({ length: 10 }, () => new CookieJar());
    await Promise.all(jars.map((jar, i) => logInOld(oldApp, jar, i % 2)));
    const adopted = await Promise.all(jars.map((jar) => me(newApp, jar)));
    for (const { body, cookies } of adopted) {
      expect(body.status).toBe('modified');
      expect(cookies.get(IRON_COOKIE)?.maxAge).toBe(0);
    }
    expect(await newApp.manager.listOwnerSessions('u0')).toHaveLength(5);
    expect(await newApp.manager.listOwnerSessions('u1')).toHaveLength(5);
    for (const jar of jars) {
      expect((await me(newApp, jar)).body.status).toBe('unmodified');
    }
    expect((await client.keys(`${prefix}*`)).length).toBeGreaterThan(0);
  });
});
