import {
  Context,
  CookieSessionStore,
  EncryptingStoreDecorator,
  importRawKey,
  MemorySessionStore,
  SessionCookieTooLargeError,
  SessionManager,
  SessionNotLoadedError,
  SessionStoreError,
  type LoadedSessionRecord,
  type SessionManagerOptions,
  type SessionRecord,
  type SessionStore,
} from 'kit-session';
import { randomBytes } from 'node:crypto';
import { FakeClock } from '../support/FakeClock.js';
import { cookiePair, request, roundTrip } from '../support/http.js';

interface AppSession {
  userId: string;
  visits: number;
  flash: string;
  cart: string[];
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

async function encryptedCookieManager(clock: FakeClock, options: SessionManagerOptions = {}) {
  const keys = [await importRawKey(randomBytes(32).toString('base64'))];
  const cookieName = options.cookie?.name ?? '__Host-session';
  const store = new EncryptingStoreDecorator<AppSession>(new CookieSessionStore({}, clock), { keys, cookieName }, clock);
  return new SessionManager<AppSession>(store, options, clock);
}

function memoryManager(clock: FakeClock, options: SessionManagerOptions = {}) {
  const store = new MemorySessionStore<AppSession>({}, clock);
  return { store, manager: new SessionManager<AppSession>(store, options, clock) };
}

/** A store whose infrastructure is down: every call rejects. */
class BrokenStore implements SessionStore<AppSession> {
  readonly failure = new Error('connect ECONNREFUSED 127.0.0.1:6379');
  async getSession(_token: string): Promise<LoadedSessionRecord<AppSession> | undefined> {
    throw this.failure;
  }
  async setSession(_id: string, _record: SessionRecord<AppSession>): Promise<string> {
    throw this.failure;
  }
  async deleteSession(_id: string): Promise<void> {
    throw this.failure;
  }
}

describe(SessionManager, () => {
  let clock: FakeClock;

  beforeEach(() => {
    clock = new FakeClock();
  });

  describe('.extractSession', () => {
    it('when no cookie comes in, holds a new empty session', async () => {
      const manager = await encryptedCookieManager(clock);
      const context = await manager.extractSession(Context.background, request());
      expect(manager.getStatus(context)).toBe('new');
      expect(manager.getValue(context, 'userId')).toBeUndefined();
    });

    it('loads what an earlier response saved', async () => {
      const manager = await encryptedCookieManager(clock);
      const first = await roundTrip(manager, undefined, (c) => manager.setValue(c, 'userId', 'ada'));
      const context = await manager.extractSession(Context.background, request(first.cookie));
      expect(manager.getStatus(context)).toBe('unmodified');
      expect(manager.getValue(context, 'userId')).toBe('ada');
    });

    it('finds its cookie among others', async () => {
      const manager = await encryptedCookieManager(clock);
      const { cookie } = await roundTrip(manager, undefined, (c) => manager.setValue(c, 'visits', 7));
      const context = await manager.extractSession(Context.background, request(`a=1; ${cookie}; theme=dark`));
      expect(manager.getValue(context, 'visits')).toBe(7);
    });

    it('does not change the context it was given', async () => {
      const manager = await encryptedCookieManager(clock);
      await manager.extractSession(Context.background, request());
      expect(() => manager.getStatus(Context.background)).toThrow(SessionNotLoadedError);
    });

    it('when the store fails, rejects with SessionStoreError carrying the cause and no token', async () => {
      const store = new BrokenStore();
      const manager = new SessionManager<AppSession>(store, {}, clock);
      const token = 'secret-token-value';
      const failure = manager.extractSession(Context.background, request(`__Host-session=${token}`));
      await expect(async () => failure).rejects.toBeInstanceOf(SessionStoreError);
      await failure.catch((error: SessionStoreError) => {
        expect(error.code).toBe('ERR_SESSION_STORE');
        expect(error.cause).toBe(store.failure);
        expect(error.message).not.toContain(token);
      });
    });

    it('when no cookie comes in, does not ask the store', async () => {
      const manager = new SessionManager<AppSession>(new BrokenStore(), {}, clock);
      const context = await manager.extractSession(Context.background, request('other=1'));
      expect(manager.getStatus(context)).toBe('new');
    });
  });

  describe('.injectSession', () => {
    it('when nothing changed, writes no header and saves nothing', async () => {
      const manager = await encryptedCookieManager(clock);
      const { cookie } = await roundTrip(manager, undefined, (c) => manager.setValue(c, 'visits', 1));
      const { headers } = await roundTrip(manager, cookie, (c) => {
        manager.getValue(c, 'visits');
      });
      expect([...headers.keys()]).toEqual([]);
    });

    it('when the session is new and untouched, writes no header', async () => {
      const manager = await encryptedCookieManager(clock);
      const { headers } = await roundTrip(manager, undefined);
      expect(headers.get('set-cookie')).toBeNull();
    });

    it('when the session changed, sends a secure cookie and tells caches', async () => {
      const manager = await encryptedCookieManager(clock);
      const { headers } = await roundTrip(manager, undefined, (c) => manager.setValue(c, 'visits', 1));
      const setCookie = headers.get('set-cookie')!;
      expect(setCookie).toMatch(/^__Host-session=[A-Za-z0-9_-]+; Max-Age=86400; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
      expect(headers.get('vary')).toBe('Cookie');
      expect(headers.get('cache-control')).toBe('private');
    });

    it('percent-encodes a token outside the URI-safe characters, and reads it back', async () => {
      // A custom store may hand out any token; base64url ones go out as they are.
      class OddTokenStore extends MemorySessionStore<AppSession> {
        override async setSession(id: string, record: SessionRecord<AppSession>): Promise<string> {
          await super.setSession(id, record);
          return `${id} /;é`;
        }
        override getSession(token: string): Promise<LoadedSessionRecord<AppSession> | undefined> {
          return super.getSession(token.endsWith(' /;é') ? token.slice(0, -4) : `${token}!`);
        }
      }
      const manager = new SessionManager<AppSession>(new OddTokenStore({}, clock), {}, clock);
      const { cookie, headers } = await roundTrip(manager, undefined, (c) => manager.setValue(c, 'visits', 1));
      expect(headers.get('set-cookie')).toMatch(/^__Host-session=[A-Za-z0-9_-]+%20%2F%3B%C3%A9; /);
      const { context } = await roundTrip(manager, cookie);
      expect(manager.getValue(context, 'visits')).toBe(1);
    });

    it('appends to headers the app set, never replacing them', async () => {
      const manager = await encryptedCookieManager(clock);
      const context = await manager.extractSession(Context.background, request());
      manager.setValue(context, 'visits', 1);
      const headers = new Headers({ vary: 'Accept', 'set-cookie': 'theme=dark' });
      await manager.injectSession(context, headers);
      expect(headers.get('vary')).toBe('Accept, Cookie');
      expect(headers.getSetCookie()).toHaveLength(2);
      expect(headers.getSetCookie()[0]).toBe('theme=dark');
    });

    it('with persistent: false, sends a browser-session cookie without Max-Age', async () => {
      const manager = await encryptedCookieManager(clock, { cookie: { persistent: false } });
      const { headers } = await roundTrip(manager, undefined, (c) => manager.setValue(c, 'visits', 1));
      expect(headers.get('set-cookie')).not.toMatch(/Max-Age|Expires/i);
    });

    it('uses the cookie options given', async () => {
      const manager = await encryptedCookieManager(clock, {
        cookie: { name: '__Secure-app', domain: 'example.com', path: '/app', sameSite: 'strict', partitioned: true },
        lifetime: 2 * HOUR,
      });
      const { headers } = await roundTrip(manager, undefined, (c) => manager.setValue(c, 'visits', 1));
      const setCookie = headers.get('set-cookie')!;
      expect(setCookie.startsWith('__Secure-app=')).toBe(true);
      expect(setCookie).toContain('Max-Age=7200');
      expect(setCookie).toContain('Domain=example.com');
      expect(setCookie).toContain('Path=/app');
      expect(setCookie).toContain('SameSite=Strict');
      expect(setCookie).toContain('Partitioned');
    });

    it('when the cookie would exceed 4096 bytes, throws SessionCookieTooLargeError and writes no header', async () => {
      const manager = await encryptedCookieManager(clock);
      const context = await manager.extractSession(Context.background, request());
      manager.setValue(context, 'flash', 'x'.repeat(4000));
      const headers = new Headers();
      const failure = manager.injectSession(context, headers);
      await expect(async () => failure).rejects.toBeInstanceOf(SessionCookieTooLargeError);
      await failure.catch((error: SessionCookieTooLargeError) => {
        expect(error.code).toBe('ERR_SESSION_COOKIE_TOO_LARGE');
        expect(error.size).toBeGreaterThan(4096);
        expect(error.limit).toBe(4096);
      });
      expect([...headers.keys()]).toEqual([]);
    });

    it('accepts a session just under the limit', async () => {
      const manager = await encryptedCookieManager(clock);
      const { headers } = await roundTrip(manager, undefined, (c) => manager.setValue(c, 'flash', 'x'.repeat(2800)));
      expect(headers.get('set-cookie')!.length).toBeLessThanOrEqual(4096);
    });

    it('honours a lower maxCookieSize', async () => {
      const manager = await encryptedCookieManager(clock, { maxCookieSize: 300 });
      const context = await manager.extractSession(Context.background, request());
      manager.setValue(context, 'flash', 'x'.repeat(200));
      await expect(async () => manager.injectSession(context, new Headers())).rejects.toBeInstanceOf(SessionCookieTooLargeError);
    });

    it('when the context never went through extractSession, throws SessionNotLoadedError', async () => {
      const manager = await encryptedCookieManager(clock);
      await expect(async () => manager.injectSession(Context.background, new Headers())).rejects.toBeInstanceOf(
        SessionNotLoadedError,
      );
    });

    it('when the store fails to save, rejects with SessionStoreError and writes no header', async () => {
      const manager = new SessionManager<AppSession>(new BrokenStore(), {}, clock);
      const context = await manager.extractSession(Context.background, request());
      manager.setValue(context, 'visits', 1);
      const headers = new Headers();
      await expect(async () => manager.injectSession(context, headers)).rejects.toBeInstanceOf(SessionStoreError);
      expect(headers.get('set-cookie')).toBeNull();
    });

    it('merges with a Web Headers the app filled: no contradictory cache directives, no repeated Vary', async () => {
      const manager = await encryptedCookieManager(clock);
      const context = await manager.extractSession(Context.background, request());
      manager.setValue(context, 'visits', 1);
      const headers = new Headers({ 'cache-control': 'public, max-age=3600', vary: 'Cookie, Accept' });
      await manager.injectSession(context, headers);
      expect(headers.get('cache-control')).toBe('max-age=3600, private');
      expect(headers.get('vary')).toBe('Cookie, Accept');
    });

    it('keeps an app that already said no-store as it was', async () => {
      const manager = await encryptedCookieManager(clock);
      const context = await manager.extractSession(Context.background, request());
      manager.setValue(context, 'visits', 1);
      const headers = new Headers({ 'cache-control': 'no-store' });
      await manager.injectSession(context, headers);
      expect(headers.get('cache-control')).toBe('no-store');
    });

    it('saves once: a second call in the same request writes nothing more', async () => {
      const manager = await encryptedCookieManager(clock);
      const context = await manager.extractSession(Context.background, request());
      manager.setValue(context, 'visits', 1);
      await manager.injectSession(context, new Headers());
      const again = new Headers();
      await manager.injectSession(context, again);
      expect(again.get('set-cookie')).toBeNull();
      expect(manager.getStatus(context)).toBe('unmodified');
    });
  });

  describe('values', () => {
    it('sets, reads and unsets values, typed by T', async () => {
      const manager = await encryptedCookieManager(clock);
      const first = await roundTrip(manager, undefined, (c) => {
        manager.setValue(c, 'cart', ['apple']);
        manager.setValue(c, 'userId', 'ada');
        manager.unsetValue(c, 'userId');
      });
      const { context } = await roundTrip(manager, first.cookie);
      expect(manager.getValue(context, 'cart')).toEqual(['apple']);
      expect(manager.getValue(context, 'userId')).toBeUndefined();
    });

    it('does not see properties of Object.prototype as values', async () => {
      const manager = new SessionManager<Record<string, unknown>>(new MemorySessionStore(), {}, clock);
      const context = await manager.extractSession(Context.background, request());
      expect(manager.getValue(context, 'toString')).toBeUndefined();
      expect(manager.getValue(context, 'constructor')).toBeUndefined();
    });

    it('unsetting a value that is not set changes nothing', async () => {
      const manager = await encryptedCookieManager(clock);
      const { cookie } = await roundTrip(manager, undefined, (c) => manager.setValue(c, 'visits', 1));
      const { headers, context } = await roundTrip(manager, cookie, (c) => manager.unsetValue(c, 'flash'));
      expect(manager.isModified(context)).toBe(false);
      expect(headers.get('set-cookie')).toBeNull();
    });

    it('popValue reads a flash message once', async () => {
      const manager = await encryptedCookieManager(clock);
      const first = await roundTrip(manager, undefined, (c) => manager.setValue(c, 'flash', 'Saved!'));
      let shown: string | undefined;
      const second = await roundTrip(manager, first.cookie, (c) => {
        shown = manager.popValue(c, 'flash');
      });
      expect(shown).toBe('Saved!');
      const third = await roundTrip(manager, second.cookie, (c) => {
        shown = manager.popValue(c, 'flash');
      });
      expect(shown).toBeUndefined();
      expect(manager.isModified(third.context)).toBe(false);
    });

    it.each([
      ['getValue', (m: SessionManager<AppSession>, c: Context) => m.getValue(c, 'visits')],
      ['setValue', (m: SessionManager<AppSession>, c: Context) => m.setValue(c, 'visits', 1)],
      ['unsetValue', (m: SessionManager<AppSession>, c: Context) => m.unsetValue(c, 'visits')],
      ['popValue', (m: SessionManager<AppSession>, c: Context) => m.popValue(c, 'visits')],
      ['destroyValues', (m: SessionManager<AppSession>, c: Context) => m.destroyValues(c)],
      ['renewToken', (m: SessionManager<AppSession>, c: Context) => m.renewToken(c)],
      ['setPersistent', (m: SessionManager<AppSession>, c: Context) => m.setPersistent(c, false)],
      ['isModified', (m: SessionManager<AppSession>, c: Context) => m.isModified(c)],
      ['getStatus', (m: SessionManager<AppSession>, c: Context) => m.getStatus(c)],
      ['getExpireTime', (m: SessionManager<AppSession>, c: Context) => m.getExpireTime(c)],
      ['getDeadline', (m: SessionManager<AppSession>, c: Context) => m.getDeadline(c)],
    ])('%s on a context that never went through extractSession throws SessionNotLoadedError', async (_name, call) => {
      const manager = await encryptedCookieManager(clock);
      let thrown: unknown;
      try {
        call(manager, Context.background);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(SessionNotLoadedError);
      expect((thrown as SessionNotLoadedError).code).toBe('ERR_SESSION_NOT_LOADED');
    });

    it('a session loaded by one manager is not visible to a manager with another cookie name', async () => {
      const manager = await encryptedCookieManager(clock);
      const other = await encryptedCookieManager(clock, { cookie: { name: '__Host-other' } });
      const context = await manager.extractSession(Context.background, request());
      expect(() => other.getValue(context, 'visits')).toThrow(SessionNotLoadedError);
    });
  });

  describe('.destroyValues', () => {
    it('expires the cookie and deletes the session from the store', async () => {
      const { store, manager } = memoryManager(clock);
      const { cookie } = await roundTrip(manager, undefined, (c) => manager.setValue(c, 'userId', 'ada'));
      expect(store.size).toBe(1);
      const { headers, context } = await roundTrip(manager, cookie, (c) => manager.destroyValues(c));
      expect(headers.get('set-cookie')).toMatch(/^__Host-session=; Max-Age=0; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax$/);
      expect(headers.get('vary')).toBe('Cookie');
      expect(store.size).toBe(0);
      expect(manager.getStatus(context)).toBe('new');
      const after = await roundTrip(manager, cookie);
      expect(manager.getValue(after.context, 'userId')).toBeUndefined();
    });

    it('then setValue starts a new session under a new id; the old one stays gone', async () => {
      const { store, manager } = memoryManager(clock);
      const first = await roundTrip(manager, undefined, (c) => manager.setValue(c, 'userId', 'ada'));
      const second = await roundTrip(manager, first.cookie, (c) => {
        manager.destroyValues(c);
        manager.setValue(c, 'flash', 'Logged out');
      });
      expect(second.cookie).not.toBe(first.cookie);
      expect(store.size).toBe(1);
      const old = await roundTrip(manager, first.cookie);
      expect(manager.getStatus(old.context)).toBe('new');
      const fresh = await roundTrip(manager, second.cookie);
      expect(manager.getValue(fresh.context, 'flash')).toBe('Logged out');
      expect(manager.getValue(fresh.context, 'userId')).toBeUndefined();
    });

    it('when no cookie came in, destroying writes no header', async () => {
      const { manager } = memoryManager(clock);
      const { headers } = await roundTrip(manager, undefined, (c) => manager.destroyValues(c));
      expect([...headers.keys()]).toEqual([]);
    });

    it('when deleting fails, the next injectSession deletes again: a logout is never half done', async () => {
      const store = new MemorySessionStore<AppSession>({}, clock);
      const manager = new SessionManager<AppSession>(store, {}, clock);
      const { cookie } = await roundTrip(manager, undefined, (c) => manager.setValue(c, 'userId', 'ada'));
      const context = await manager.extractSession(Context.background, request(cookie));
      manager.destroyValues(context);
      const deleteSession = store.deleteSession.bind(store);
      store.deleteSession = async () => {
        throw new Error('connection reset');
      };
      await expect(async () => manager.injectSession(context, new Headers())).rejects.toBeInstanceOf(SessionStoreError);
      store.deleteSession = deleteSession;
      const headers = new Headers();
      await manager.injectSession(context, headers);
      expect(headers.get('set-cookie')).toMatch(/Max-Age=0/);
      expect(manager.getStatus((await roundTrip(manager, cookie)).context)).toBe('new');
    });

    it('a session started after destroy gets a fresh deadline', async () => {
      const { manager } = memoryManager(clock, { lifetime: HOUR });
      const { cookie } = await roundTrip(manager, undefined, (c) => manager.setValue(c, 'userId', 'ada'));
      clock.advance(50 * MINUTE);
      const context = await manager.extractSession(Context.background, request(cookie));
      manager.destroyValues(context);
      await manager.injectSession(context, new Headers());
      manager.setValue(context, 'flash', 'bye');
      expect(manager.getDeadline(context).getTime()).toBe(clock.now() + HOUR);
    });
  });

  describe('.renewToken', () => {
    it('gives a new token, keeps the values, and retires the old token in the store', async () => {
      const { store, manager } = memoryManager(clock);
      const first = await roundTrip(manager, undefined, (c) => manager.setValue(c, 'visits', 3));
      const second = await roundTrip(manager, first.cookie, (c) => {
        manager.renewToken(c);
        manager.setValue(c, 'userId', 'ada');
      });
      expect(second.cookie).not.toBe(first.cookie);
      // The retired id stays, read-only, for the renewal grace.
      expect(store.size).toBe(2);
      const renewed = await roundTrip(manager, second.cookie);
      expect(manager.getValue(renewed.context, 'visits')).toBe(3);
      expect(manager.getValue(renewed.context, 'userId')).toBe('ada');
      const old = await roundTrip(manager, first.cookie);
      // Within the renewal grace, the old token is served read-only, as it was.
      expect(manager.session(old.context).isStale).toBe(true);
      expect(manager.getValue(old.context, 'userId')).toBeUndefined();
      clock.advance(30_000);
      const later = await roundTrip(manager, first.cookie);
      expect(manager.getStatus(later.context)).toBe('new');
      expect(store.size).toBe(1);
    });

    it('alone marks the session modified, so the new token is sent', async () => {
      const manager = await encryptedCookieManager(clock);
      const first = await roundTrip(manager, undefined, (c) => manager.setValue(c, 'visits', 1));
      const second = await roundTrip(manager, first.cookie, (c) => manager.renewToken(c));
      expect(second.headers.get('set-cookie')).not.toBeNull();
      expect(second.cookie).not.toBe(first.cookie);
    });

    it('keeps the absolute deadline: renewing never extends the lifetime', async () => {
      const { manager } = memoryManager(clock, { lifetime: HOUR });
      const first = await roundTrip(manager, undefined, (c) => manager.setValue(c, 'visits', 1));
      clock.advance(30 * MINUTE);
      const second = await roundTrip(manager, first.cookie, (c) => manager.renewToken(c));
      expect(manager.getDeadline(second.context).getTime()).toBe(clock.now() + 30 * MINUTE);
    });
  });

  describe('expiry', () => {
    it('ends a session at its absolute lifetime, however active', async () => {
      const { manager } = memoryManager(clock, { lifetime: HOUR });
      let { cookie } = await roundTrip(manager, undefined, (c) => manager.setValue(c, 'visits', 0));
      for (let i = 1; i < 6; i++) {
        clock.advance(10 * MINUTE);
        ({ cookie } = await roundTrip(manager, cookie, (c) => manager.setValue(c, 'visits', i)));
      }
      clock.advance(9 * MINUTE);
      const before = await roundTrip(manager, cookie);
      expect(manager.getValue(before.context, 'visits')).toBe(5);
      clock.advance(MINUTE);
      const after = await roundTrip(manager, cookie);
      expect(manager.getStatus(after.context)).toBe('new');
    });

    it('ends a session after the idle timeout without requests', async () => {
      const manager = await encryptedCookieManager(clock, { idleTimeout: 30 * MINUTE });
      const { cookie } = await roundTrip(manager, undefined, (c) => manager.setValue(c, 'visits', 1));
      clock.advance(30 * MINUTE - 1);
      expect(manager.getStatus((await roundTrip(manager, cookie)).context)).toBe('unmodified');
      clock.advance(1);
      expect(manager.getStatus((await roundTrip(manager, cookie)).context)).toBe('new');
    });

    it('moves the idle expiry forward with activity, never past the lifetime', async () => {
      const manager = await encryptedCookieManager(clock, { lifetime: HOUR, idleTimeout: 20 * MINUTE });
      let { cookie } = await roundTrip(manager, undefined, (c) => manager.setValue(c, 'visits', 1));
      const expiries: number[] = [];
      for (let i = 0; i < 3; i++) {
        clock.advance(15 * MINUTE);
        const trip = await roundTrip(manager, cookie);
        expect(manager.getStatus(trip.context)).toBe('unmodified');
        expect(trip.headers.get('set-cookie')).not.toBeNull();
        expiries.push(manager.getExpireTime(trip.context).getTime() - clock.now());
        cookie = trip.cookie;
      }
      // At 15 and 30 minutes the idle period is 20 minutes; at 45 only 15 remain to the deadline.
      expect(expiries).toEqual([20 * MINUTE, 20 * MINUTE, 15 * MINUTE]);
      clock.advance(15 * MINUTE);
      expect(manager.getStatus((await roundTrip(manager, cookie)).context)).toBe('new');
    });

    it('touches an unchanged session only when the expiry moves by the touch interval', async () => {
      const manager = await encryptedCookieManager(clock, { idleTimeout: 30 * MINUTE });
      const { cookie } = await roundTrip(manager, undefined, (c) => manager.setValue(c, 'visits', 1));
      clock.advance(59 * SECOND);
      expect((await roundTrip(manager, cookie)).headers.get('set-cookie')).toBeNull();
      clock.advance(SECOND);
      expect((await roundTrip(manager, cookie)).headers.get('set-cookie')).not.toBeNull();
    });

    it('sets Max-Age from the remaining time', async () => {
      const manager = await encryptedCookieManager(clock, { lifetime: HOUR, idleTimeout: 10 * MINUTE });
      const first = await roundTrip(manager, undefined, (c) => manager.setValue(c, 'visits', 1));
      expect(first.headers.get('set-cookie')).toContain('Max-Age=600');
      let { cookie } = first;
      // Kept alive by a request every 9 minutes, up to 54 minutes: 6 minutes remain.
      for (let i = 0; i < 6; i++) {
        clock.advance(9 * MINUTE);
        ({ cookie } = await roundTrip(manager, cookie, (c) => manager.setValue(c, 'visits', i)));
      }
      const last = await roundTrip(manager, cookie, (c) => manager.setValue(c, 'visits', 99));
      expect(last.headers.get('set-cookie')).toContain('Max-Age=360');
      clock.advance(6 * MINUTE);
      expect(manager.getStatus((await roundTrip(manager, last.cookie)).context)).toBe('new');
    });

    it('getExpireTime and getDeadline tell when the session ends', async () => {
      const manager = await encryptedCookieManager(clock, { lifetime: HOUR, idleTimeout: 10 * MINUTE });
      const { context } = await roundTrip(manager, undefined, (c) => manager.setValue(c, 'visits', 1));
      expect(manager.getDeadline(context).getTime()).toBe(clock.now() + HOUR);
      expect(manager.getExpireTime(context).getTime()).toBe(clock.now() + 10 * MINUTE);
    });

    it('the expiry is enforced on the server side, whatever the cookie Max-Age says', async () => {
      // The memory store does not expire entries by itself before the clock says so;
      // the manager checks the record's expiry on every load.
      const { manager } = memoryManager(clock, { lifetime: HOUR });
      const { cookie } = await roundTrip(manager, undefined, (c) => manager.setValue(c, 'visits', 1));
      clock.advance(HOUR);
      expect(manager.getStatus((await roundTrip(manager, cookie)).context)).toBe('new');
    });
  });

  describe('.isModified and .getStatus', () => {
    it('follow the session through a request', async () => {
      const manager = await encryptedCookieManager(clock);
      const { cookie } = await roundTrip(manager, undefined, (c) => manager.setValue(c, 'visits', 1));
      const context = await manager.extractSession(Context.background, request(cookie));
      expect([manager.getStatus(context), manager.isModified(context)]).toEqual(['unmodified', false]);
      manager.setValue(context, 'visits', 2);
      expect([manager.getStatus(context), manager.isModified(context)]).toEqual(['modified', true]);
      manager.destroyValues(context);
      expect([manager.getStatus(context), manager.isModified(context)]).toEqual(['destroyed', true]);
    });
  });

  describe('with a patchable store', () => {
    it('concurrent requests of one session that change different keys keep all their changes', async () => {
      const { manager } = memoryManager(clock);
      const { cookie } = await roundTrip(manager, undefined, (c) => manager.setValue(c, 'visits', 0));
      const contexts = await Promise.all(
        Array.from({ length: 10 }, () => manager.extractSession(Context.background, request(cookie))),
      );
      const manager2 = manager as unknown as SessionManager<Record<string, number>>;
      contexts.forEach((context, i) => manager2.setValue(context, `k${i}`, i));
      await Promise.all(contexts.map((context) => manager.injectSession(context, new Headers())));
      const { context } = await roundTrip(manager2, cookie);
      for (let i = 0; i < 10; i++) {
        expect(manager2.getValue(context, `k${i}`)).toBe(i);
      }
    });

    it('when the session was ended elsewhere meanwhile, a save does not bring it back', async () => {
      const { store, manager } = memoryManager(clock);
      const { cookie } = await roundTrip(manager, undefined, (c) => manager.setValue(c, 'userId', 'ada'));
      const context = await manager.extractSession(Context.background, request(cookie));
      await roundTrip(manager, cookie, (c) => manager.destroyValues(c));
      manager.setValue(context, 'visits', 1);
      const headers = new Headers();
      await manager.injectSession(context, headers);
      expect(store.size).toBe(0);
      // No cookie at all: an expiring one could delete a concurrent renewal's cookie.
      expect(headers.get('set-cookie')).toBeNull();
      expect(manager.getStatus(context)).toBe('new');
    });
  });

  describe('.destroyOwnerSessions', () => {
    it('ends every session of one owner and no other', async () => {
      const { manager } = memoryManager(clock, { ownerKey: 'userId' });
      const login = (userId: string) => roundTrip(manager, undefined, (c) => manager.setValue(c, 'userId', userId));
      const ada = await Promise.all([login('ada'), login('ada'), login('ada')]);
      const bob = await Promise.all([login('bob'), login('bob')]);
      expect(await manager.destroyOwnerSessions('ada')).toBe(3);
      for (const { cookie } of ada) {
        expect(manager.getStatus((await roundTrip(manager, cookie)).context)).toBe('new');
      }
      for (const { cookie } of bob) {
        expect(manager.getValue((await roundTrip(manager, cookie)).context, 'userId')).toBe('bob');
      }
    });

    it('without ownerKey, throws TypeError', async () => {
      const { manager } = memoryManager(clock);
      await expect(async () => manager.destroyOwnerSessions('ada')).rejects.toBeInstanceOf(TypeError);
    });
  });

  it('sends the cookie back as it came (a round trip through the headers the browser would send)', async () => {
    const manager = await encryptedCookieManager(clock);
    const { headers } = await roundTrip(manager, undefined, (c) => manager.setValue(c, 'userId', 'ädä 🌍; "x"'));
    const { context } = await roundTrip(manager, cookiePair(headers));
    expect(manager.getValue(context, 'userId')).toBe('ädä 🌍; "x"');
  });
});

describe('SessionManager and odd value names', () => {
  it('keeps a value named __proto__ as an ordinary value, through a round trip', async () => {
    const clock = new FakeClock();
    const manager = new SessionManager<Record<string, unknown>>(new MemorySessionStore({}, clock), {}, clock);
    const first = await roundTrip(manager, undefined, (c) => manager.setValue(c, '__proto__', { polluted: true }));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const { context } = await roundTrip(manager, first.cookie);
    expect(manager.getValue(context, '__proto__')).toEqual({ polluted: true });
    expect(manager.getValue(context, 'polluted')).toBeUndefined();
  });

  describe('onEvent', () => {
    it('when two managers share one store, each reports the evictions of its own saves', async () => {
      const clock = new FakeClock();
      const store = new MemorySessionStore<AppSession>({}, clock);
      const seen: Record<string, string[]> = { a: [], b: [] };
      const [a, b] = (['a', 'b'] as const).map(
        (name) =>
          new SessionManager<AppSession>(
            store,
            { ownerKey: 'userId', maxSessionsPerOwner: 1, onEvent: (event) => seen[name]!.push(`${event.type}/${event.owner}`) },
            clock,
          ),
      );
      const logIn = (manager: SessionManager<AppSession>, owner: string) =>
        roundTrip(manager, undefined, (c) => {
          manager.renewToken(c);
          manager.setValue(c, 'userId', owner);
        });
      await logIn(a!, 'ada');
      await logIn(b!, 'bob');
      await logIn(a!, 'ada');
      await logIn(b!, 'bob');
      await logIn(b!, 'bob');
      expect(seen.a!.filter((event) => event.startsWith('evicted'))).toEqual(['evicted/ada']);
      expect(seen.b!.filter((event) => event.startsWith('evicted'))).toEqual(['evicted/bob', 'evicted/bob']);
    });
  });
});
