import { parseSetCookie } from 'cookie';
import fc from 'fast-check';
import { createCookie, createCookieSessionStorage } from 'react-router';
import {
  Context,
  DEFAULT_COOKIE_NAME,
  MemorySessionStore,
  type SessionEvent,
  SessionManager,
  SessionStoreError,
} from 'kit-session';
import { ReactRouterCookieAdopter } from 'kit-session/adopt/react-router';
import { withSession } from 'kit-session/fetch';
import { serveFetch, type TestServer } from '../adapters/scenarios.js';
import { CookieJar } from '../support/cookieJar.js';
import { FakeClock } from '../support/FakeClock.js';

// The old app is a real React Router cookie session storage (createCookieSessionStorage
// over createCookie, signed) in a Fetch handler served over node:http (@hono/node-server,
// as the adapter specs serve theirs; @remix-run/node-fetch-server is ESM-only, which
// jest's CommonJS run cannot load). The new app is kit-session (kit-session/fetch) with the
// adopter. Browsers are cookie jars that go to both on 127.0.0.1.

interface App {
  userId: string;
  notice: string;
}

const OLD = '__session';

/** The old app: POST /login?user=… logs in and leaves a flash; GET /me shows the session. */
async function startOldApp(secrets: string[] = ['s1']): Promise<TestServer> {
  const cookie = createCookie(OLD, { secrets, path: '/', httpOnly: true, sameSite: 'lax', secure: false });
  const { getSession, commitSession } = createCookieSessionStorage({ cookie });
  return serveFetch(async (request: Request) => {
    const url = new URL(request.url);
    const session = await getSession(request.headers.get('Cookie'));
    if (request.method === 'POST' && url.pathname === '/login') {
      session.set('userId', url.searchParams.get('user'));
      session.flash('notice', 'hi');
      return new Response('logged in', { headers: { 'Set-Cookie': await commitSession(session) } });
    }
    if (url.pathname === '/me') {
      return Response.json({ userId: session.get('userId') ?? null });
    }
    return new Response('not found', { status: 404 });
  });
}

/** The new app: GET /me shows the user and pops the flash; POST /logout ends the session. */
function startNewApp(manager: SessionManager<App>): Promise<TestServer> {
  const handle = withSession(manager, async (request, session) => {
    const { pathname } = new URL(request.url);
    if (request.method === 'POST' && pathname === '/logout') {
      session.destroy();
      return new Response('logged out');
    }
    return Response.json({ userId: session.get('userId') ?? null, notice: session.pop('notice') ?? null });
  });
  return serveFetch(async (request) => {
    try {
      return await handle(request);
    } catch (error) {
      return new Response(error instanceof SessionStoreError ? 'store error' : 'server error', { status: 500 });
    }
  });
}

/** The adopter as the new app builds it: the old app's own cookie. */
function adopterFor(secrets: string[] = ['s1'], until?: number): ReactRouterCookieAdopter<App> {
  const cookie = createCookie(OLD, { secrets, path: '/', httpOnly: true, sameSite: 'lax', secure: false });
  return new ReactRouterCookieAdopter<App>({ cookie, ...(until === undefined ? {} : { until }) });
}

/** The Set-Cookie lines of a response for one cookie name. */
function setCookies(response: Response, name: string): string[] {
  return response.headers.getSetCookie().filter((line) => line.startsWith(`${name}=`));
}

async function me(jar: CookieJar, app: TestServer): Promise<{ response: Response; body: { userId: string | null; notice: string | null } }> {
  const response = await jar.fetch(`${app.url}/me`);
  expect(response.status).toBe(200);
  return { response, body: (await response.json()) as { userId: string | null; notice: string | null } };
}

/** A browser logged in at the old app. */
async function loggedIn(oldApp: TestServer, user: string): Promise<{ jar: CookieJar; setCookie: string }> {
  const jar = new CookieJar();
  const response = await jar.fetch(`${oldApp.url}/login?user=${user}`, { method: 'POST' });
  expect(response.status).toBe(200);
  const [setCookie] = setCookies(response, OLD);
  expect(jar.get(OLD)).toBeDefined();
  return { jar, setCookie: setCookie! };
}

describe('kit-session/adopt/react-router over HTTP', () => {
  let oldApp: TestServer;
  const servers: TestServer[] = [];

  beforeAll(async () => {
    oldApp = await startOldApp();
  });

  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  afterAll(async () => {
    await oldApp.close();
  });

  async function newApp(manager: SessionManager<App>): Promise<TestServer> {
    const server = await startNewApp(manager);
    servers.push(server);
    return server;
  }

  it('adopts 50 sessions of the old app: values and flash carried, old cookie expired in the same response, kept after', async () => {
    const events: SessionEvent[] = [];
    const manager = new SessionManager<App>(new MemorySessionStore<App>(), { adopt: adopterFor(), onEvent: (event) => events.push(event) });
    const app = await newApp(manager);
    const users = Array.from({ length: 50 }, (_, index) => `u${index}`);
    const tokens = await Promise.all(
      users.map(async (user) => {
        const { jar, setCookie } = await loggedIn(oldApp, user);
        const oldPath = parseSetCookie(setCookie).path;
        expect(oldPath).toBe('/');

        const first = await me(jar, app);
        expect(first.body).toEqual({ userId: user, notice: 'hi' });
        expect(setCookies(first.response, DEFAULT_COOKIE_NAME)).toHaveLength(1);
        const expired = setCookies(first.response, OLD);
        expect(expired).toHaveLength(1);
        const line = parseSetCookie(expired[0]!);
        expect(line.value).toBe('');
        expect(line.path).toBe(oldPath);
        expect(line.expires!.getTime()).toBeLessThanOrEqual(0);
        expect(jar.names()).toEqual([DEFAULT_COOKIE_NAME]);

        const second = await me(jar, app);
        expect(second.body).toEqual({ userId: user, notice: null }); // the flash was shown once
        expect(setCookies(second.response, OLD)).toEqual([]);
        const third = await me(jar, app);
        expect(third.body).toEqual({ userId: user, notice: null });
        return jar.get(DEFAULT_COOKIE_NAME)!;
      }),
    );
    expect(new Set(tokens).size).toBe(50);
    const adopted = events.filter((event) => event.type === 'created' && event.reason === 'adopted');
    expect(adopted).toHaveLength(50);
  });

  it('adopts cookies signed with an older secret when the adopter\'s cookie lists it after the new one', async () => {
    const app = await newApp(new SessionManager<App>(new MemorySessionStore<App>(), { adopt: adopterFor(['s2', 's1']) }));
    const rotatedOld = await startOldApp(['s2', 's1']);
    servers.push(rotatedOld);
    const before = await loggedIn(oldApp, 'u1'); // signed with s1
    const after = await loggedIn(rotatedOld, 'u2'); // signed with s2
    expect((await me(before.jar, app)).body).toEqual({ userId: 'u1', notice: 'hi' });
    expect((await me(after.jar, app)).body).toEqual({ userId: 'u2', notice: 'hi' });
  });

  describe('refuses what React Router refuses: a fresh session, the cookie left alone', () => {
    let app: TestServer;
    let events: SessionEvent[];

    beforeEach(async () => {
      events = [];
      const manager = new SessionManager<App>(new MemorySessionStore<App>(), {
        adopt: adopterFor(),
        onEvent: (event) => events.push(event),
      });
      app = await newApp(manager);
    });

    async function refused(value: string): Promise<void> {
      const jar = new CookieJar();
      jar.set(OLD, value);
      const { response, body } = await me(jar, app);
      expect(body).toEqual({ userId: null, notice: null });
      expect(setCookies(response, OLD)).toEqual([]);
      expect(jar.get(OLD)).toBe(value);
    }

    it('a changed payload under the old signature', async () => {
      const { jar } = await loggedIn(oldApp, 'u1');
      const value = decodeURIComponent(jar.get(OLD)!);
      const [payload, signature] = value.split('.') as [string, string];
      const data = JSON.parse(Buffer.from(payload, 'base64').toString()) as Record<string, unknown>;
      expect(data.userId).toBe('u1');
      const forged = Buffer.from(JSON.stringify({ ...data, userId: 'admin' })).toString('base64');
      await refused(encodeURIComponent(`${forged}.${signature}`));
      expect(events.filter((event) => event.reason === 'adopted')).toEqual([]);
    });

    it('a changed signature', async () => {
      const { jar } = await loggedIn(oldApp, 'u1');
      const value = decodeURIComponent(jar.get(OLD)!);
      const dot = value.lastIndexOf('.');
      const at = dot + 5;
      const flipped = value.slice(0, at) + (value[at] === 'A' ? 'B' : 'A') + value.slice(at + 1);
      await refused(encodeURIComponent(flipped));
    });

    it('a session of an app with another secret', async () => {
      const foreign = await startOldApp(['not-ours']);
      servers.push(foreign);
      const { jar } = await loggedIn(foreign, 'admin');
      expect((await me(jar, foreign)).body).toEqual({ userId: 'admin' }); // its own app opens it
      await refused(jar.get(OLD)!);
    });

    it('a session of an app whose cookie is unsigned', async () => {
      const unsigned = await startOldApp([]);
      servers.push(unsigned);
      const { jar } = await loggedIn(unsigned, 'admin');
      expect((await me(jar, unsigned)).body).toEqual({ userId: 'admin' });
      await refused(jar.get(OLD)!);
    });

    it('any edit of a real cookie\'s signed payload or signature (fast-check)', async () => {
      const { jar } = await loggedIn(oldApp, 'u1');
      const value = decodeURIComponent(jar.get(OLD)!);
      // The signature's last character keeps two spare bits of base64: left alone.
      const editable = value.length - 1;
      await fc.assert(
        fc.asyncProperty(
          fc.nat({ max: editable - 1 }),
          fc.constantFrom('replace', 'insert', 'delete'),
          fc.constantFrom(...'ABCabc0189+/=.-_'),
          async (at, kind, char) => {
            const edited =
              kind === 'replace'
                ? value.slice(0, at) + char + value.slice(at + 1)
                : kind === 'insert'
                  ? value.slice(0, at) + char + value.slice(at)
                  : value.slice(0, at) + value.slice(at + 1);
            fc.pre(edited !== value);
            await refused(encodeURIComponent(edited));
          },
        ),
        { numRuns: 40 },
      );
      expect(events.filter((event) => event.reason === 'adopted')).toEqual([]);
    });
  });

  it('lists the adopted sessions under their owner', async () => {
    const manager = new SessionManager<App>(new MemorySessionStore<App>(), { adopt: adopterFor(), ownerKey: 'userId' });
    const app = await newApp(manager);
    const laptop = await loggedIn(oldApp, 'u1');
    const phone = await loggedIn(oldApp, 'u1');
    const other = await loggedIn(oldApp, 'u2');
    expect(await manager.listOwnerSessions('u1')).toEqual([]);
    await me(laptop.jar, app);
    expect(await manager.listOwnerSessions('u1')).toHaveLength(1);
    await me(phone.jar, app);
    await me(other.jar, app);
    const sessions = await manager.listOwnerSessions('u1');
    expect(sessions).toHaveLength(2);
    expect(new Set(sessions.map(({ handle }) => handle)).size).toBe(2);
    expect(await manager.listOwnerSessions('u2')).toHaveLength(1);
  });

  it('ends the session when the adopting request logs out, and expires the old cookie too', async () => {
    const manager = new SessionManager<App>(new MemorySessionStore<App>(), { adopt: adopterFor(), ownerKey: 'userId' });
    const app = await newApp(manager);
    const { jar } = await loggedIn(oldApp, 'u1');
    const response = await jar.fetch(`${app.url}/logout`, { method: 'POST' });
    expect(response.status).toBe(200);
    expect(setCookies(response, OLD)).toHaveLength(1);
    expect(jar.names()).toEqual([]);
    expect((await me(jar, app)).body).toEqual({ userId: null, notice: null });
    expect(await manager.listOwnerSessions('u1')).toEqual([]);
  });

  it('a log-out after the switch does not bring the old session back', async () => {
    const app = await newApp(new SessionManager<App>(new MemorySessionStore<App>(), { adopt: adopterFor() }));
    const { jar } = await loggedIn(oldApp, 'u1');
    expect((await me(jar, app)).body.userId).toBe('u1');
    await jar.fetch(`${app.url}/logout`, { method: 'POST' });
    expect((await me(jar, app)).body).toEqual({ userId: null, notice: null });
  });

  it('adopts a copied cookie again wherever it is replayed, until `until`, and never after', async () => {
    const clock = new FakeClock(Date.now());
    const until = clock.now() + 60 * 60 * 1000;
    const manager = new SessionManager<App>(new MemorySessionStore<App>(), { adopt: adopterFor(['s1'], until), ownerKey: 'userId' }, clock);
    const app = await newApp(manager);
    const { jar } = await loggedIn(oldApp, 'u1');
    const copy = jar.clone();
    const later = jar.clone();
    expect((await me(jar, app)).body.userId).toBe('u1');
    // The browser's cookie is expired, but a copy taken before still opens: React Router
    // puts no date and no id in the value, and keeps no record to delete.
    expect((await me(copy, app)).body.userId).toBe('u1');
    expect(copy.get(DEFAULT_COOKIE_NAME)).not.toBe(jar.get(DEFAULT_COOKIE_NAME));
    expect(await manager.listOwnerSessions('u1')).toHaveLength(2);
    clock.advance(until - clock.now());
    const { response, body } = await me(later, app);
    expect(body).toEqual({ userId: null, notice: null });
    expect(setCookies(response, OLD)).toEqual([]);
  });

  it('fails the request with SessionStoreError when the old cookie cannot be read', async () => {
    const broken = new ReactRouterCookieAdopter<App>({
      cookie: {
        name: OLD,
        isSigned: true,
        expires: undefined,
        parse: () => Promise.reject(new Error('crypto down')),
        serialize: () => Promise.resolve(`${OLD}=; Path=/`),
      },
    });
    const manager = new SessionManager<App>(new MemorySessionStore<App>(), { adopt: broken });
    const request = new Request('http://app.test/me', { headers: { cookie: `${OLD}=x.y` } });
    await expect(manager.extractSession(Context.background, request)).rejects.toBeInstanceOf(SessionStoreError);
    const app = await newApp(manager);
    const jar = new CookieJar();
    jar.set(OLD, 'x.y');
    const response = await jar.fetch(`${app.url}/me`);
    expect(response.status).toBe(500);
    expect(await response.text()).toBe('store error');
  });
});
