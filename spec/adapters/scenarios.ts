import { createAdaptorServer } from '@hono/node-server';
import { randomBytes } from 'node:crypto';
import { IncomingMessage, type Server } from 'node:http';
import {
  CookieSessionStore,
  CookieTransport,
  DEFAULT_COOKIE_NAME,
  EncryptingStoreDecorator,
  HeaderTransport,
  importRawKey,
  MemorySessionStore,
  SessionCookieTooLargeError,
  SessionManager,
  type SessionAdopter,
  type SessionStore,
} from 'kit-session';
import type { Session } from 'kit-session';
import { CookieJar } from '../support/cookieJar.js';
import { CountingCookieStore, CountingMemoryStore } from '../support/countingStores.js';
import { TokenClient } from '../support/transportClients.js';

/** The values of the test app's session. */
export interface AppSession {
  visits: number;
  userId: string;
  flash: string;
  big: string;
}

/** A running test server. */
export interface TestServer {
  /** The base URL, `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Stops the server and drops its connections. */
  close(): Promise<void>;
}

/**
 * What every adapter's test app does, route by route, written once against the
 * session handle; each adapter spec wires these into its framework.
 *
 * - `GET /count`: adds one visit; the route also sets `Vary: Accept` and a cookie of its
 *   own (`theme=dark`), which must survive beside the session's headers.
 * - `GET /peek`: reads the visits without changing anything.
 * - `POST /login`: renews the session, logs `u-42` in and leaves a flash message.
 * - `GET /me`: the user and the flash message, which it pops.
 * - `POST /logout`: destroys the session.
 * - `GET /big`: stores a value too big for a cookie.
 * - `POST /twice`: saves the session twice in one response: adds a visit and commits,
 *   then renews it and leaves a flash message, saved at the end.
 * - `GET /small`: replaces it with a small one.
 * Errors: `SessionCookieTooLargeError` → 413 `session too large`, anything else → 500.
 */
export const routes = {
  count(session: Session<AppSession>): string {
    const visits = (session.get('visits') ?? 0) + 1;
    session.set('visits', visits);
    return `visits=${visits}`;
  },
  peek(session: Session<AppSession>): string {
    return `visits=${session.get('visits') ?? 0}`;
  },
  login(session: Session<AppSession>): string {
    session.renew();
    session.set('userId', 'u-42');
    session.set('flash', 'welcome');
    return 'ok';
  },
  me(session: Session<AppSession>): string {
    return JSON.stringify({ userId: session.get('userId') ?? null, flash: session.pop('flash') ?? null });
  },
  logout(session: Session<AppSession>): string {
    session.destroy();
    return 'bye';
  },
  big(session: Session<AppSession>): string {
    session.set('big', 'x'.repeat(5000));
    return 'saved';
  },
  async twice(session: Session<AppSession>): Promise<string> {
    session.set('visits', (session.get('visits') ?? 0) + 1);
    await session.commit();
    session.renew();
    session.set('flash', 'twice');
    return 'ok';
  },
  small(session: Session<AppSession>): string {
    session.set('big', 'x');
    return 'saved';
  },
  /** A health check: never touches the session. */
  health(_session: Session<AppSession>): string {
    return 'ok';
  },
  /** `count` after an explicit load, for a store that answers with a promise. */
  async loaded(session: Session<AppSession>): Promise<string> {
    await session.load();
    return `loaded ${routes.count(session)}`;
  },
} as const satisfies Record<string, (session: Session<AppSession>) => string | Promise<string>>;

/** The route names of {@link routes}, with their method and path. */
export const ROUTE_TABLE = [
  { name: 'count', method: 'GET', path: '/count' },
  { name: 'peek', method: 'GET', path: '/peek' },
  { name: 'login', method: 'POST', path: '/login' },
  { name: 'me', method: 'GET', path: '/me' },
  { name: 'logout', method: 'POST', path: '/logout' },
  { name: 'big', method: 'GET', path: '/big' },
  { name: 'twice', method: 'POST', path: '/twice' },
  { name: 'small', method: 'GET', path: '/small' },
  { name: 'health', method: 'GET', path: '/health' },
  { name: 'loaded', method: 'GET', path: '/loaded' },
] as const satisfies readonly { name: keyof typeof routes; method: 'GET' | 'POST'; path: string }[];

/** The `Vary` value `GET /count` sets of its own. */
export const APP_VARY = 'Accept';
/** The cookie `GET /count` sets of its own. */
export const APP_COOKIE = 'theme=dark; Path=/';

/** The app's error page, as a status and a body. */
export function errorPage(error: unknown): { status: number; body: string } {
  return error instanceof SessionCookieTooLargeError
    ? { status: 413, body: 'session too large' }
    : { status: 500, body: 'server error' };
}

/**
 * The kinds of store the scenarios run against: the encrypted cookie store (also with
 * `cookie.chunking`, a session past one cookie written over several) and memory.
 */
export type StoreKind = 'encrypted cookie' | 'memory' | 'chunked encrypted cookie';

/** The cookie of the old session library the scenario managers adopt from. */
export const LEGACY_COOKIE = 'legacy.sid';
/** The old library's one session: its id, and the user it holds. */
export const LEGACY_SESSION = { sid: 'legacy-1', userId: 'u-legacy' } as const;

/**
 * The old session library's adopter: a request with `legacy.sid=legacy-1` (and no
 * kit-session cookie) is adopted with `userId: 'u-legacy'`, and its old cookie expired.
 */
const legacyAdopter: SessionAdopter<AppSession> = {
  source: 'legacy',
  cookieNames: [LEGACY_COOKIE],
  adopt: (request) =>
    request.headers.get('cookie')?.split(/;\s*/).includes(`${LEGACY_COOKIE}=${LEGACY_SESSION.sid}`) === true
      ? { values: { userId: LEGACY_SESSION.userId }, expireCookies: [`${LEGACY_COOKIE}=; Path=/; Max-Age=0`] }
      : undefined,
};

/** Builds a manager with the default cookie over one kind of store, adopting the legacy library's session. */
export async function makeManager(kind: StoreKind): Promise<SessionManager<AppSession>> {
  if (kind === 'memory') {
    return new SessionManager<AppSession>(new MemorySessionStore<AppSession>(), { adopt: legacyAdopter });
  }
  const keys = [await importRawKey(randomBytes(32).toString('base64'))];
  return new SessionManager<AppSession>(
    new EncryptingStoreDecorator<AppSession>(new CookieSessionStore<AppSession>(), { keys }),
    { adopt: legacyAdopter, ...(kind === 'chunked encrypted cookie' ? { cookie: { chunking: true } } : {}) },
  );
}

/** A store whose every method rejects with `Error('down')`: a store that cannot be reached. */
export function brokenStore(): SessionStore<AppSession> {
  return {
    getSession: () => Promise.reject(new Error('down')),
    setSession: () => Promise.reject(new Error('down')),
    deleteSession: () => Promise.reject(new Error('down')),
  };
}

/** The session's own `Set-Cookie` headers in a response. */
export function sessionCookies(response: Response): string[] {
  return response.headers.getSetCookie().filter((cookie) => cookie.startsWith(`${DEFAULT_COOKIE_NAME}=`));
}

/** The tokens of a comma-separated header, in lower case. */
export function headerTokens(response: Response, name: string): string[] {
  return (response.headers.get(name) ?? '')
    .split(',')
    .map((token) => token.trim().toLowerCase())
    .filter((token) => token !== '');
}

/**
 * Registers the scenarios every adapter must pass, over real HTTP on 127.0.0.1, for
 * both kinds of store.
 *
 * @param start - Starts the adapter's test app (see {@link routes}) with a manager.
 */
export function describeAdapterScenarios(start: (manager: SessionManager<AppSession>) => Promise<TestServer>): void {
  describe.each<StoreKind>(['encrypted cookie', 'memory', 'chunked encrypted cookie'])('with the %s store', (kind) => {
    let server: TestServer;
    let jar: CookieJar;
    const url = (path: string): string => `${server.url}${path}`;

    beforeAll(async () => {
      server = await start(await makeManager(kind));
    });
    afterAll(async () => {
      await server.close();
    });
    beforeEach(() => {
      jar = new CookieJar();
    });

    it('counts visits across requests with the cookie jar', async () => {
      for (const expected of ['visits=1', 'visits=2', 'visits=3']) {
        const response = await jar.fetch(url('/count'));
        expect(response.status).toBe(200);
        expect(await response.text()).toBe(expected);
      }
    });

    it('saves the session before the head goes out: the response carries its cookie', async () => {
      const response = await jar.fetch(url('/count'));
      expect(response.status).toBe(200);
      const [cookie, ...more] = sessionCookies(response);
      expect(more).toEqual([]);
      expect(cookie).toMatch(/; HttpOnly/i);
      expect(cookie).toMatch(/; SameSite=Lax/i);
      expect(jar.get(DEFAULT_COOKIE_NAME)).toBeDefined();
      // The saved session is what the next request loads.
      expect(await (await jar.fetch(url('/peek'))).text()).toBe('visits=1');
    });

    it("keeps the app's own headers beside the session's", async () => {
      const response = await jar.fetch(url('/count'));
      const cookies = response.headers.getSetCookie();
      expect(cookies).toHaveLength(2);
      expect(cookies).toContain(APP_COOKIE);
      expect(sessionCookies(response)).toHaveLength(1);
      expect(headerTokens(response, 'vary')).toEqual(expect.arrayContaining(['accept', 'cookie']));
      expect(headerTokens(response, 'cache-control')).toContain('private');
      expect(jar.get('theme')).toBe('dark');
    });

    it('writes no cookie when the session did not change', async () => {
      await jar.fetch(url('/count'));
      const response = await jar.fetch(url('/peek'));
      expect(await response.text()).toBe('visits=1');
      expect(response.headers.getSetCookie()).toEqual([]);
    });

    it('renews the token on login and shows the flash message once', async () => {
      await jar.fetch(url('/count'));
      const before = jar.clone();
      const login = await jar.fetch(url('/login'), { method: 'POST' });
      expect(login.status).toBe(200);
      expect(sessionCookies(login)).toHaveLength(1);
      expect(jar.get(DEFAULT_COOKIE_NAME)).not.toBe(before.get(DEFAULT_COOKIE_NAME));

      const first = await jar.fetch(url('/me'));
      expect(await first.json()).toEqual({ userId: 'u-42', flash: 'welcome' });
      const second = await jar.fetch(url('/me'));
      expect(await second.json()).toEqual({ userId: 'u-42', flash: null });
      expect(await (await jar.fetch(url('/peek'))).text()).toBe('visits=1');
    });

    if (kind === 'memory') {
      it('a request still carrying the cookie from before the login never sees the login and never logs the browser out (server-side store)', async () => {
        await jar.fetch(url('/count'));
        const before = jar.clone();
        await jar.fetch(url('/login'), { method: 'POST' });
        const replay = await before.fetch(url('/me'));
        expect(replay.status).toBe(200);
        expect(await replay.json()).toEqual({ userId: null, flash: null });
        // Within the renewal grace it is served the session as it was, read-only: its
        // change is not saved, and no cookie of it replaces the logged-in one. (A route
        // that commits by itself learns it from SessionStaleError.)
        const late = await before.fetch(url('/count'));
        expect(sessionCookies(late)).toEqual([]);
        expect(await (await before.fetch(url('/peek'))).text()).toBe('visits=1');
        expect(await (await jar.fetch(url('/me'))).json()).toEqual({ userId: 'u-42', flash: 'welcome' });
        expect(await (await jar.fetch(url('/peek'))).text()).toBe('visits=1');
      });

      it('no longer loads the cookie from before the logout (server-side store)', async () => {
        await jar.fetch(url('/login'), { method: 'POST' });
        const before = jar.clone();
        await jar.fetch(url('/logout'), { method: 'POST' });
        const replay = await before.fetch(url('/me'));
        expect(await replay.json()).toEqual({ userId: null, flash: null });
      });
    }

    it('sends one cookie, the last save\'s, when a route saves twice in one response', async () => {
      await jar.fetch(url('/count'));
      const before = jar.get(DEFAULT_COOKIE_NAME);
      const response = await jar.fetch(url('/twice'), { method: 'POST' });
      expect(response.status).toBe(200);
      expect(sessionCookies(response)).toHaveLength(1);
      expect(jar.get(DEFAULT_COOKIE_NAME)).not.toBe(before);
      expect(await (await jar.fetch(url('/me'))).json()).toEqual({ userId: null, flash: 'twice' });
      expect(await (await jar.fetch(url('/peek'))).text()).toBe('visits=2');
    });

    it('expires the cookie on logout', async () => {
      await jar.fetch(url('/login'), { method: 'POST' });
      const logout = await jar.fetch(url('/logout'), { method: 'POST' });
      expect(logout.status).toBe(200);
      const [cookie, ...more] = sessionCookies(logout);
      expect(more).toEqual([]);
      expect(cookie).toMatch(/; Max-Age=0/i);
      expect(jar.get(DEFAULT_COOKIE_NAME)).toBeUndefined();
      const me = await jar.fetch(url('/me'));
      expect(await me.json()).toEqual({ userId: null, flash: null });
    });

    it("adopts another library's session once: its values, a new cookie, the old cookie expired in the same response", async () => {
      jar.set(LEGACY_COOKIE, LEGACY_SESSION.sid);
      const adopted = await jar.fetch(url('/me'));
      expect(adopted.status).toBe(200);
      expect(JSON.parse(await adopted.text())).toEqual({ userId: LEGACY_SESSION.userId, flash: null });
      expect(sessionCookies(adopted).length).toBeGreaterThan(0);
      expect(adopted.headers.getSetCookie()).toContain(`${LEGACY_COOKIE}=; Path=/; Max-Age=0`);
      expect(jar.get(LEGACY_COOKIE)).toBeUndefined();
      const next = await jar.fetch(url('/me'));
      expect(JSON.parse(await next.text())).toEqual({ userId: LEGACY_SESSION.userId, flash: null });
      expect(next.headers.getSetCookie()).toEqual([]);
      // Logged out: the adopted session ends, and the old one does not come back.
      await jar.fetch(url('/logout'), { method: 'POST' });
      expect(JSON.parse(await (await jar.fetch(url('/me'))).text())).toEqual({ userId: null, flash: null });
      // Adopted by a route that saves twice in one response: the old cookie is still expired in it.
      const twice = new CookieJar();
      twice.set(LEGACY_COOKIE, LEGACY_SESSION.sid);
      const saved = await twice.fetch(url('/twice'), { method: 'POST' });
      expect(saved.status).toBe(200);
      expect(saved.headers.getSetCookie()).toContain(`${LEGACY_COOKIE}=; Path=/; Max-Age=0`);
      expect(twice.names().filter((name) => name.startsWith(DEFAULT_COOKIE_NAME)).length).toBeGreaterThan(0);
      expect(JSON.parse(await (await twice.fetch(url('/me'))).text())).toEqual({ userId: LEGACY_SESSION.userId, flash: 'twice' });
      // An unknown old session is not adopted.
      const stranger = new CookieJar();
      stranger.set(LEGACY_COOKIE, 'forged');
      const refused = await stranger.fetch(url('/me'));
      expect(JSON.parse(await refused.text())).toEqual({ userId: null, flash: null });
      expect(refused.headers.getSetCookie()).toEqual([]);
    });

    it('gives a tampered cookie a fresh session and a 200', async () => {
      await jar.fetch(url('/count'));
      await jar.fetch(url('/count'));
      const token = jar.get(DEFAULT_COOKIE_NAME)!;
      const flipped = `${token.slice(0, 10)}${token[10] === 'A' ? 'B' : 'A'}${token.slice(11)}`;
      jar.set(DEFAULT_COOKIE_NAME, flipped);
      const response = await jar.fetch(url('/count'));
      expect(response.status).toBe(200);
      expect(await response.text()).toBe('visits=1');

      jar.set(DEFAULT_COOKIE_NAME, 'not-a-token-at-all');
      const garbage = await jar.fetch(url('/peek'));
      expect(garbage.status).toBe(200);
      expect(await garbage.text()).toBe('visits=0');
    });

    if (kind === 'encrypted cookie') {
      it("sends a session too large for a cookie down the app's error path, with no cookie", async () => {
        await jar.fetch(url('/count'));
        const response = await jar.fetch(url('/big'));
        expect(response.status).toBe(413);
        expect(await response.text()).toBe('session too large');
        expect(response.headers.getSetCookie()).toEqual([]);
        // The browser keeps its earlier cookie: the session is as it was.
        expect(await (await jar.fetch(url('/peek'))).text()).toBe('visits=1');
      });
    }

    if (kind === 'chunked encrypted cookie') {
      it('writes a session too large for one cookie over two, shrinks it to one and logs out to none', async () => {
        const chunkNames = (response: Response) =>
          response.headers
            .getSetCookie()
            .filter((cookie) => cookie.startsWith(`${DEFAULT_COOKIE_NAME}`))
            .map((cookie) => `${cookie.slice(0, cookie.indexOf('='))}${/; Max-Age=0/i.test(cookie) ? ' expired' : ''}`)
            .sort();
        const held = () => jar.names().filter((name) => name.startsWith(DEFAULT_COOKIE_NAME)).sort();
        await jar.fetch(url('/count'));
        const big = await jar.fetch(url('/big'));
        expect(big.status).toBe(200);
        expect(chunkNames(big)).toEqual([DEFAULT_COOKIE_NAME, `${DEFAULT_COOKIE_NAME}.1`]);
        expect(held()).toEqual([DEFAULT_COOKIE_NAME, `${DEFAULT_COOKIE_NAME}.1`]);
        expect(await (await jar.fetch(url('/count'))).text()).toBe('visits=2');
        const small = await jar.fetch(url('/small'));
        expect(chunkNames(small)).toEqual([DEFAULT_COOKIE_NAME, `${DEFAULT_COOKIE_NAME}.1 expired`]);
        expect(held()).toEqual([DEFAULT_COOKIE_NAME]);
        expect(await (await jar.fetch(url('/peek'))).text()).toBe('visits=2');
        await jar.fetch(url('/big'));
        await jar.fetch(url('/logout'), { method: 'POST' });
        expect(held()).toEqual([]);
      });
    }
  });
}

/** Asserts that a response carries no header of the session's: no cookie, no `Vary: Cookie`, no `Cache-Control: private`. */
export function expectNoSessionHeaders(response: Response): void {
  expect(response.headers.getSetCookie()).toEqual([]);
  expect(headerTokens(response, 'vary')).not.toContain('cookie');
  expect(headerTokens(response, 'cache-control')).not.toContain('private');
}

/**
 * Registers the scenarios of sessions loaded on first touch (the manager's `load`
 * option), over real HTTP, with stores that count their calls: a request whose handler
 * never touches the session makes no store call and sends no session header; touched
 * requests behave as before.
 *
 * @param start - Starts the adapter's test app (see {@link routes}) with a manager.
 */
export function describeLazyScenarios(start: (manager: SessionManager<AppSession>) => Promise<TestServer>): void {
  describe('sessions loaded on first touch', () => {
    let server: TestServer | undefined;
    let jar: CookieJar;
    const url = (path: string): string => `${server!.url}${path}`;

    beforeEach(() => {
      jar = new CookieJar();
    });
    afterEach(async () => {
      await server?.close();
      server = undefined;
    });

    it('keeps no node:http request in a WeakMap, touched or not (a weak map filled per request made minor GCs pause for milliseconds: the p99 tail)', async () => {
      const store = new CountingCookieStore<AppSession>([await importRawKey(randomBytes(32).toString('base64'))]);
      server = await start(new SessionManager<AppSession>(store));
      const keys: unknown[] = [];
      const set = WeakMap.prototype.set;
      const spy = jest.spyOn(WeakMap.prototype, 'set').mockImplementation(function (this: WeakMap<object, unknown>, key, value) {
        keys.push(key);
        return set.call(this, key, value);
      });
      try {
        expect(await (await jar.fetch(url('/count'))).text()).toBe('visits=1');
        expect(await (await jar.fetch(url('/count'))).text()).toBe('visits=2');
        expect(await (await jar.fetch(url('/health'))).text()).toBe('ok');
      } finally {
        spy.mockRestore();
      }
      expect(keys.filter((key) => key instanceof IncomingMessage)).toEqual([]);
    });

    it("the default cookie store (load: 'auto'): an untouched request with a cookie opens nothing and sends nothing; touched ones count on", async () => {
      const store = new CountingCookieStore<AppSession>([await importRawKey(randomBytes(32).toString('base64'))]);
      server = await start(new SessionManager<AppSession>(store));
      expect(await (await jar.fetch(url('/count'))).text()).toBe('visits=1');
      expect(await (await jar.fetch(url('/count'))).text()).toBe('visits=2');
      store.reset();
      const untouched = await jar.fetch(url('/health'));
      expect(untouched.status).toBe(200);
      expect(await untouched.text()).toBe('ok');
      expectNoSessionHeaders(untouched);
      expect(store.calls).toEqual({ getSession: 0, setSession: 0, deleteSession: 0, patchSession: 0, renewSession: 0 });
      const touched = await jar.fetch(url('/count'));
      expect(await touched.text()).toBe('visits=3');
      expect(sessionCookies(touched)).toHaveLength(1);
      expect(store.calls).toMatchObject({ getSession: 1, setSession: 1 });
      const read = await jar.fetch(url('/peek'));
      expect(await read.text()).toBe('visits=3');
      expectNoSessionHeaders(read);
      expect(store.calls).toMatchObject({ getSession: 2, setSession: 1 });
    });

    it("load: 'lazy' over the memory store (it answers with a promise): untouched requests call no store; a touch before load() fails the request with ERR_SESSION_LOAD_PENDING and saves nothing", async () => {
      const store = new CountingMemoryStore<AppSession>();
      server = await start(new SessionManager<AppSession>(store, { load: 'lazy', idleTimeout: '30m' }));
      const first = await jar.fetch(url('/health'));
      expect(await first.text()).toBe('ok');
      expectNoSessionHeaders(first);
      expect(store.total).toBe(0);
      expect(await (await jar.fetch(url('/loaded'))).text()).toBe('loaded visits=1');
      expect(await (await jar.fetch(url('/loaded'))).text()).toBe('loaded visits=2');
      store.reset();
      const untouched = await jar.fetch(url('/health'));
      expect(untouched.status).toBe(200);
      expectNoSessionHeaders(untouched);
      expect(store.total).toBe(0);
      const early = await jar.fetch(url('/count'));
      expect(early.status).toBe(500);
      expect(sessionCookies(early)).toEqual([]);
      expect(await (await jar.fetch(url('/loaded'))).text()).toBe('loaded visits=3');
    });

    it("load: 'auto' over the memory store loads before the handler, as before: touched routes need no load()", async () => {
      const store = new CountingMemoryStore<AppSession>();
      server = await start(new SessionManager<AppSession>(store));
      for (const expected of ['visits=1', 'visits=2', 'visits=3']) {
        expect(await (await jar.fetch(url('/count'))).text()).toBe(expected);
      }
      store.reset();
      const untouched = await jar.fetch(url('/health'));
      expectNoSessionHeaders(untouched);
      // Read, since the store answers with a promise, but nothing saved.
      expect(store.calls).toEqual({ getSession: 1, setSession: 0, deleteSession: 0, patchSession: 0, renewSession: 0 });
    });
  });
}

/** The stores the header scenarios run against, both encrypted: a token is bound to its transport. */
export type HeaderStoreKind = 'encrypted cookie' | 'encrypted memory';

/**
 * Builds a manager that serves browsers by cookie and native clients by header
 * (`Authorization: Bearer`, the token back in `session-token`).
 */
export async function makeTransportManager(kind: HeaderStoreKind): Promise<SessionManager<AppSession>> {
  const keys = [await importRawKey(randomBytes(32).toString('base64'))];
  const inner = kind === 'encrypted memory' ? new MemorySessionStore<AppSession>() : new CookieSessionStore<AppSession>();
  return new SessionManager<AppSession>(new EncryptingStoreDecorator<AppSession>(inner, { keys }), {
    transport: [new CookieTransport(), new HeaderTransport()],
  });
}

/** Asserts what a response that gives or ends a header token holds, and what it must not. */
export function expectTokenResponse(response: Response): void {
  const tokens = response.headers.get('session-token');
  expect(tokens).not.toBeNull();
  // One value: a second save replaced the first rather than joining it ("a, b").
  expect(tokens).not.toMatch(/[,\s]/);
  expect(response.headers.get('session-token-max-age')).toMatch(/^\d+$/);
  expect(headerTokens(response, 'cache-control')).toContain('no-store');
  expect(sessionCookies(response)).toEqual([]);
  expect(headerTokens(response, 'vary')).not.toContain('cookie');
}

/**
 * Registers the scenarios of an app that serves browsers by cookie and native clients
 * by header, over real HTTP on 127.0.0.1, for both encrypted stores: the adapter writes
 * the token header through its own sink, merged with the app's headers.
 *
 * @param start - Starts the adapter's test app (see {@link routes}) with a manager.
 */
export function describeHeaderScenarios(start: (manager: SessionManager<AppSession>) => Promise<TestServer>): void {
  describe.each<HeaderStoreKind>(['encrypted cookie', 'encrypted memory'])('with a cookie and a header transport, over the %s store', (kind) => {
    let server: TestServer;
    const url = (path: string): string => `${server.url}${path}`;

    beforeAll(async () => {
      server = await start(await makeTransportManager(kind));
    });
    afterAll(async () => {
      await server.close();
    });

    it('a native client logs in by header, calls with its Bearer token, and logs out', async () => {
      const app = new TokenClient();
      const login = await app.fetch(url('/login'), { method: 'POST' });
      expect(login.status).toBe(200);
      expectTokenResponse(login);
      expect(login.headers.get('session-token-max-age')).toBe(String(24 * 60 * 60));
      const token = app.token;
      expect(token).toMatch(/^[\w-]{40,}$/);

      const me = await app.fetch(url('/me'));
      expect(await me.json()).toEqual({ userId: 'u-42', flash: 'welcome' });
      // The flash popped changed the session: its token is sent again, as a cookie would be.
      expectTokenResponse(me);
      const again = await app.fetch(url('/me'));
      expect(await again.json()).toEqual({ userId: 'u-42', flash: null });
      // Unchanged: nothing about the token.
      expect(again.headers.has('session-token')).toBe(false);

      const logout = await app.fetch(url('/logout'), { method: 'POST' });
      expect(logout.status).toBe(200);
      expectTokenResponse(logout);
      expect(logout.headers.get('session-token')).toBe('');
      expect(logout.headers.get('session-token-max-age')).toBe('0');
      expect(app.token).toBeUndefined();
      expect(await (await app.fetch(url('/me'))).json()).toEqual({ userId: null, flash: null });
      if (kind === 'encrypted memory') {
        // The server forgot it: the old token, replayed, is nobody.
        expect(await (await new TokenClient(token).fetch(url('/me'))).json()).toEqual({ userId: null, flash: null });
      }
    });

    it("keeps the app's own headers beside the token, and adds no session cookie and no Vary: Cookie", async () => {
      const app = new TokenClient();
      const response = await app.fetch(url('/count'));
      expect(await response.text()).toBe('visits=1');
      expectTokenResponse(response);
      expect(response.headers.getSetCookie()).toEqual([APP_COOKIE]);
      expect(headerTokens(response, 'vary')).toEqual(['accept']);
      expect(await (await app.fetch(url('/count'))).text()).toBe('visits=2');
    });

    it('gives one token, the last save\'s, when a route saves twice in one response', async () => {
      const app = new TokenClient();
      await app.fetch(url('/count'));
      const before = app.token;
      const response = await app.fetch(url('/twice'), { method: 'POST' });
      expect(response.status).toBe(200);
      expectTokenResponse(response);
      expect(app.token).not.toBe(before);
      expect(await (await app.fetch(url('/me'))).json()).toEqual({ userId: null, flash: 'twice' });
      expect(await (await app.fetch(url('/peek'))).text()).toBe('visits=2');
    });

    it('serves a browser by cookie beside it, and neither token opens through the other', async () => {
      const jar = new CookieJar();
      const app = new TokenClient();
      await jar.fetch(url('/login'), { method: 'POST' });
      await app.fetch(url('/count'));
      const cookie = jar.get(DEFAULT_COOKIE_NAME)!;
      expect(cookie).toBeDefined();

      // The browser's cookie as a Bearer token: nobody, and the fresh session goes back by header.
      const stolen = new TokenClient(cookie);
      const asBearer = await stolen.fetch(url('/count'));
      expect(await asBearer.text()).toBe('visits=1');
      expectTokenResponse(asBearer);
      expect(stolen.token).not.toBe(cookie);

      // The app's token as the cookie: nobody either, answered by cookie.
      const planted = new CookieJar();
      planted.set(DEFAULT_COOKIE_NAME, app.token!);
      const asCookie = await planted.fetch(url('/peek'));
      expect(await asCookie.text()).toBe('visits=0');
      expect(asCookie.headers.has('session-token')).toBe(false);

      // Each still has its own session.
      expect(await (await jar.fetch(url('/me'))).json()).toEqual({ userId: 'u-42', flash: 'welcome' });
      expect(await (await app.fetch(url('/peek'))).text()).toBe('visits=1');
    });
  });
}

/**
 * Closes a node:http server, dropping the keep-alive connections `fetch` leaves open.
 */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}

/**
 * Starts a node:http server on 127.0.0.1 with an ephemeral port.
 */
export function listen(server: Server): Promise<TestServer> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error('no port'));
        return;
      }
      resolve({ url: `http://127.0.0.1:${address.port}`, close: () => closeServer(server) });
    });
  });
}

/** Serves a Fetch API handler over node:http, as Bun.serve or Deno.serve would. */
export function serveFetch(fetchHandler: (request: Request) => Response | Promise<Response>): Promise<TestServer> {
  return listen(createAdaptorServer({ fetch: fetchHandler }) as Server);
}
