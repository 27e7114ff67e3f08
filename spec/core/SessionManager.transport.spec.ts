import { randomBytes } from 'node:crypto';
import {
  Context,
  CookieSessionStore,
  CookieTransport,
  DEFAULT_COOKIE_NAME,
  EncryptingStoreDecorator,
  HeaderTransport,
  importRawKey,
  MemorySessionStore,
  SessionCookieTooLargeError,
  SessionManager,
  SessionTokenTooLargeError,
  type SessionManagerOptions,
  type SessionTransport,
} from 'kit-session';
import { FakeClock } from '../support/FakeClock.js';
import { CookieClient, expectHeaderResponse, HeaderClient, varyTokens } from '../support/transportClients.js';

interface AppSession {
  userId: string;
  cart: number;
  page: string;
  big: string;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

type StoreKind = 'encrypted cookie' | 'encrypted memory' | 'encrypted memory, encryptValues';

interface Fixture {
  readonly manager: SessionManager<AppSession>;
  /** The server-side store under the decorator, when there is one. */
  readonly memory: MemorySessionStore<AppSession> | undefined;
}

async function build(kind: StoreKind, clock: FakeClock, options: SessionManagerOptions = {}): Promise<Fixture> {
  const keys = [await importRawKey(randomBytes(32).toString('base64'))];
  const memory = kind === 'encrypted cookie' ? undefined : new MemorySessionStore<AppSession>({}, clock);
  const inner = memory ?? new CookieSessionStore<AppSession>({}, clock);
  const store = new EncryptingStoreDecorator<AppSession>(inner, { keys, encryptValues: kind.endsWith('encryptValues') }, clock);
  const manager = new SessionManager<AppSession>(
    store,
    { transport: [new CookieTransport(), new HeaderTransport()], ...options },
    clock,
  );
  return { manager, memory };
}

describe(SessionManager, () => {
  let clock: FakeClock;

  beforeEach(() => {
    clock = new FakeClock();
  });

  describe.each<StoreKind>(['encrypted cookie', 'encrypted memory', 'encrypted memory, encryptValues'])(
    'with a cookie and a header transport, over the %s store',
    (kind) => {
      const serverSide = kind !== 'encrypted cookie';

      it('gives a native client its new session by header: token and max-age, no-store, no cookie, no Vary: Cookie', async () => {
        const { manager } = await build(kind, clock);
        const app = new HeaderClient(manager);
        const { headers, context } = await app.request((c) => manager.setValue(c, 'cart', 1));
        expect(manager.session(context).route).toBe(1);
        expectHeaderResponse(headers);
        expect(headers.get('session-token')).toBe(app.token);
        expect(app.token).toMatch(/^[\w-]{40,}$/);
        expect(headers.get('session-token-max-age')).toBe(String((24 * HOUR) / SECOND));
        expect(headers.has('vary')).toBe(false);

        const next = await app.request();
        expect(manager.getValue(next.context, 'cart')).toBe(1);
        expect(manager.getStatus(next.context)).toBe('unmodified');
        // An unchanged session says nothing: the client keeps its token.
        expect([...next.headers.keys()]).toEqual([]);
      });

      it('gives a browser its session by cookie, as before: Set-Cookie, Vary: Cookie, Cache-Control: private, no token header', async () => {
        const { manager } = await build(kind, clock);
        const browser = new CookieClient(manager);
        const { headers, context } = await browser.request((c) => manager.setValue(c, 'cart', 2));
        expect(manager.session(context).route).toBe(0);
        expect(headers.getSetCookie()).toHaveLength(1);
        expect(headers.getSetCookie()[0]).toMatch(new RegExp(`^${DEFAULT_COOKIE_NAME}=`));
        expect(varyTokens(headers)).toEqual(['cookie']);
        expect(headers.get('cache-control')).toBe('private');
        expect(headers.has('session-token')).toBe(false);
        expect(manager.getValue((await browser.request()).context, 'cart')).toBe(2);
      });

      it('opens nothing when a cookie token is sent as a Bearer token: a fresh session, sent back by header', async () => {
        const { manager } = await build(kind, clock);
        const browser = new CookieClient(manager);
        await browser.request((c) => manager.setValue(c, 'userId', 'ada'));
        const thief = new HeaderClient(manager, browser.token);
        const { context, headers } = await thief.request((c) => {
          expect(manager.getStatus(c)).toBe('new');
          expect(manager.getValue(c, 'userId')).toBeUndefined();
          manager.setValue(c, 'page', '/');
        });
        expect(manager.session(context).route).toBe(1);
        expectHeaderResponse(headers);
        expect(thief.token).not.toBe(browser.token);
        // The browser's own session is untouched.
        expect(manager.getValue((await browser.request()).context, 'userId')).toBe('ada');
      });

      it('opens nothing when a header token is sent as the cookie: a fresh session, sent back by cookie', async () => {
        const { manager } = await build(kind, clock);
        const app = new HeaderClient(manager);
        await app.request((c) => manager.setValue(c, 'userId', 'ada'));
        const planted = new CookieClient(manager, app.token);
        const { context, headers } = await planted.request((c) => {
          expect(manager.getStatus(c)).toBe('new');
          expect(manager.getValue(c, 'userId')).toBeUndefined();
          manager.setValue(c, 'page', '/');
        });
        expect(manager.session(context).route).toBe(0);
        expect(headers.getSetCookie()).toHaveLength(1);
        expect(headers.has('session-token')).toBe(false);
        expect(manager.getValue((await app.request()).context, 'userId')).toBe('ada');
      });

      it('gives a request whose Bearer token does not open a fresh session by header, not by cookie', async () => {
        const { manager } = await build(kind, clock);
        for (const token of ['not-a-token', randomBytes(48).toString('base64url')]) {
          const app = new HeaderClient(manager, token);
          const { context, headers } = await app.request((c) => {
            expect(manager.getStatus(c)).toBe('new');
            manager.setValue(c, 'cart', 3);
          });
          expect(manager.session(context).route).toBe(1);
          expectHeaderResponse(headers);
          expect(app.token).not.toBe(token);
          expect(manager.getValue((await app.request()).context, 'cart')).toBe(3);
        }
      });

      it('keeps both clients in the one store, each opening only its own session', async () => {
        const { manager, memory } = await build(kind, clock);
        const browser = new CookieClient(manager);
        const app = new HeaderClient(manager);
        await browser.request((c) => manager.setValue(c, 'userId', 'ada'));
        await app.request((c) => manager.setValue(c, 'userId', 'bob'));
        if (memory !== undefined) {
          expect(memory.size).toBe(2);
        }
        expect(manager.getValue((await browser.request()).context, 'userId')).toBe('ada');
        expect(manager.getValue((await app.request()).context, 'userId')).toBe('bob');
      });

      it('renews by header: the new token in the response, the old one no longer the session', async () => {
        const { manager } = await build(kind, clock);
        const app = new HeaderClient(manager);
        await app.request((c) => manager.setValue(c, 'cart', 2));
        const before = app.token!;
        const login = await app.request((c) => {
          manager.renewToken(c);
          manager.setValue(c, 'userId', 'ada');
        });
        expectHeaderResponse(login.headers);
        expect(app.token).toBeDefined();
        expect(app.token).not.toBe(before);
        const after = await app.request();
        expect(manager.session(after.context).values).toEqual({ cart: 2, userId: 'ada' });
        if (serverSide) {
          // The retired id, within the grace: read-only, never the log-in, no header.
          clock.advance(10 * SECOND);
          const late = new HeaderClient(manager, before);
          const stale = await late.request((c) => {
            expect(manager.session(c).isStale).toBe(true);
            expect(manager.getValue(c, 'userId')).toBeUndefined();
            manager.setValue(c, 'page', '/late');
          });
          expect([...stale.headers.keys()]).toEqual([]);
          expect(late.token).toBe(before);
          // After the grace: unknown, a fresh session.
          clock.advance(30 * SECOND);
          expect(manager.getStatus(await late.load())).toBe('new');
          expect(manager.session((await app.request()).context).values).toEqual({ cart: 2, userId: 'ada' });
        }
      });

      it('renews by header on renewalInterval, and a request already on its way with the old token gets no token header', async () => {
        const { manager } = await build(kind, clock, { renewalInterval: 15 * MINUTE });
        const app = new HeaderClient(manager);
        await app.request((c) => manager.setValue(c, 'userId', 'ada'));
        const first = app.token!;
        clock.advance(16 * MINUTE);
        // Two requests leave with the same token; the first one back renews.
        const tab = new HeaderClient(manager, first);
        const inFlight = await tab.load();
        const renewed = await app.request();
        expectHeaderResponse(renewed.headers);
        expect(app.token).not.toBe(first);
        if (serverSide) {
          manager.setValue(inFlight, 'page', '/elsewhere');
          const late = await tab.save(inFlight);
          expect(manager.session(inFlight).isStale).toBe(true);
          expect(late.has('session-token')).toBe(false);
          expect(late.getSetCookie()).toEqual([]);
        }
        expect(manager.getValue((await app.request()).context, 'userId')).toBe('ada');
      });

      it('logs out by header: an empty token and max-age 0, said plainly; the token then opens nothing', async () => {
        const { manager } = await build(kind, clock);
        const app = new HeaderClient(manager);
        await app.request((c) => manager.setValue(c, 'userId', 'ada'));
        const token = app.token!;
        const { headers } = await app.request((c) => manager.destroyValues(c));
        expectHeaderResponse(headers);
        expect(headers.get('session-token')).toBe('');
        expect(headers.get('session-token-max-age')).toBe('0');
        expect(app.token).toBeUndefined();
        if (serverSide) {
          expect(manager.getStatus(await new HeaderClient(manager, token).load())).toBe('new');
        }
      });

      it('writes no log-out header for a session that never reached the client', async () => {
        const { manager } = await build(kind, clock);
        const { headers } = await new HeaderClient(manager).request((c) => {
          manager.setValue(c, 'cart', 1);
          manager.destroyValues(c);
        });
        expect([...headers.keys()]).toEqual([]);
      });

      it('gives the idle expiry as the max-age, and moves it by header', async () => {
        const { manager } = await build(kind, clock, { idleTimeout: 30 * MINUTE });
        const app = new HeaderClient(manager);
        const first = await app.request((c) => manager.setValue(c, 'cart', 1));
        expect(first.headers.get('session-token-max-age')).toBe(String((30 * MINUTE) / SECOND));
        clock.advance(20 * MINUTE);
        const touched = await app.request();
        expectHeaderResponse(touched.headers);
        expect(touched.headers.get('session-token-max-age')).toBe(String((30 * MINUTE) / SECOND));
        clock.advance(20 * MINUTE);
        expect(manager.getValue((await app.request()).context, 'cart')).toBe(1);
      });
    },
  );

  describe('choosing the transport of a request', () => {
    it('takes the first transport that finds a token, in the order given', async () => {
      for (const order of ['cookie first', 'header first'] as const) {
        const keys = [await importRawKey(randomBytes(32).toString('base64'))];
        const store = new EncryptingStoreDecorator<AppSession>(new MemorySessionStore<AppSession>({}, clock), { keys }, clock);
        const transports: SessionTransport[] = [new CookieTransport(), new HeaderTransport()];
        const manager = new SessionManager<AppSession>(store, { transport: order === 'cookie first' ? transports : transports.reverse() }, clock);
        const browser = new CookieClient(manager);
        const app = new HeaderClient(manager);
        await browser.request((c) => manager.setValue(c, 'page', 'browser'));
        await app.request((c) => manager.setValue(c, 'page', 'app'));
        // One request carrying both.
        const both = await browser.load({ authorization: `Bearer ${app.token}` });
        expect(manager.getValue(both, 'page')).toBe(order === 'cookie first' ? 'browser' : 'app');
      }
    });

    it('sends a session that no token started to the transport that accepts the request, else the cookie', async () => {
      const keys = [await importRawKey(randomBytes(32).toString('base64'))];
      const store = new EncryptingStoreDecorator<AppSession>(new MemorySessionStore<AppSession>({}, clock), { keys }, clock);
      const manager = new SessionManager<AppSession>(
        store,
        {
          // The header transport first, and one with the app's own rule.
          transport: [new HeaderTransport(), new HeaderTransport({ header: 'x-app-token', accepts: (r) => r.headers.get('x-client') === 'app' }), new CookieTransport()],
        },
        clock,
      );
      const routeOf = async (headers: Record<string, string>) =>
        manager.session(await manager.extractSession(Context.background, new Request('https://app.test/', { headers }))).route;
      expect(await routeOf({ authorization: 'Bearer' })).toBe(0);
      expect(await routeOf({ 'x-client': 'app' })).toBe(1);
      expect(await routeOf({})).toBe(2);
      expect(await routeOf({ authorization: 'Basic dXNlcjpwYXNz' })).toBe(2);
      // A header the rule does not take is no token of its own either.
      expect(await routeOf({ 'x-app-token': '' })).toBe(2);
    });

    it('with header transports alone, gives a request that carries none of their headers the first', async () => {
      const manager = new SessionManager<AppSession>(new MemorySessionStore<AppSession>({}, clock), {
        transport: [new HeaderTransport({ header: 'x-a', accepts: () => false }), new HeaderTransport({ header: 'x-b', accepts: () => false })],
      }, clock);
      const context = await manager.extractSession(Context.background, new Request('https://app.test/'));
      expect(manager.session(context).route).toBe(0);
      const headers = new Headers();
      manager.setValue(context, 'cart', 1);
      await manager.injectSession(context, headers);
      expect(headers.get('session-token')).not.toBeNull();
      expect(manager.name).toBe('header:x-a');
    });
  });

  describe('the size of a header token', () => {
    it('throws SessionTokenTooLargeError, not the cookie error, and writes nothing, when a self-contained session outgrows the header', async () => {
      const keys = [await importRawKey(randomBytes(32).toString('base64'))];
      const store = new EncryptingStoreDecorator<AppSession>(new CookieSessionStore<AppSession>({}, clock), { keys }, clock);
      const manager = new SessionManager<AppSession>(store, { transport: [new CookieTransport(), new HeaderTransport({ maxSize: 1024 })] }, clock);
      const app = new HeaderClient(manager);
      await app.request((c) => manager.setValue(c, 'cart', 1));
      const token = app.token;
      const context = await app.load();
      manager.setValue(context, 'big', 'x'.repeat(2000));
      const headers = new Headers();
      const saving = manager.injectSession(context, headers);
      await expect(async () => saving).rejects.toBeInstanceOf(SessionTokenTooLargeError);
      await expect(async () => saving).rejects.not.toBeInstanceOf(SessionCookieTooLargeError);
      await expect(async () => saving).rejects.toMatchObject({ code: 'ERR_SESSION_TOKEN_TOO_LARGE' });
      expect([...headers.keys()]).toEqual([]);
      expect(app.token).toBe(token);
    });

    it('refuses a server-side save whose token would not fit, before the store is written', async () => {
      const keys = [await importRawKey(randomBytes(32).toString('base64'))];
      const memory = new MemorySessionStore<AppSession>({}, clock);
      const store = new EncryptingStoreDecorator<AppSession>(memory, { keys }, clock);
      const manager = new SessionManager<AppSession>(store, { transport: [new CookieTransport(), new HeaderTransport({ maxSize: 20 })] }, clock);
      const context = await new HeaderClient(manager).load();
      manager.setValue(context, 'cart', 1);
      await expect(async () => manager.injectSession(context, new Headers())).rejects.toBeInstanceOf(SessionTokenTooLargeError);
      expect(memory.size).toBe(0);
    });
  });

  describe('with the default transport (a cookie alone)', () => {
    it('ignores a Bearer token and answers by cookie, as before the header transport', async () => {
      const keys = [await importRawKey(randomBytes(32).toString('base64'))];
      const store = new EncryptingStoreDecorator<AppSession>(new MemorySessionStore<AppSession>({}, clock), { keys }, clock);
      const manager = new SessionManager<AppSession>(store, {}, clock);
      expect(manager.name).toBe(DEFAULT_COOKIE_NAME);
      const browser = new CookieClient(manager);
      const { headers } = await browser.request((c) => manager.setValue(c, 'cart', 1), { authorization: 'Bearer' });
      expect(headers.getSetCookie()).toHaveLength(1);
      expect(varyTokens(headers)).toEqual(['cookie']);
      expect(headers.get('cache-control')).toBe('private');
      expect(headers.has('session-token')).toBe(false);
      const withBearer = await browser.load({ authorization: `Bearer ${browser.token}` });
      expect(manager.getValue(withBearer, 'cart')).toBe(1);
      // The cookie's token as a Bearer token, without the cookie, is nothing to a cookie-only manager.
      const bearerOnly = await new HeaderClient(manager, browser.token).load();
      expect(manager.getStatus(bearerOnly)).toBe('new');
    });
  });
});
