import { randomBytes } from 'node:crypto';
import {
  Context,
  CookieSessionStore,
  EncryptingStoreDecorator,
  importRawKey,
  MemorySessionStore,
  SessionManager,
  SessionStaleError,
  type SessionEvent,
  type SessionManagerOptions,
} from 'kit-session';
import { withSession } from 'kit-session/fetch';
import { FakeClock } from '../support/FakeClock.js';
import { request, roundTrip } from '../support/http.js';

interface AppSession {
  userId: string;
  cart: number;
  page: string;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;

function memoryManager(clock: FakeClock, options: SessionManagerOptions = {}) {
  const store = new MemorySessionStore<AppSession>({}, clock);
  return { store, manager: new SessionManager<AppSession>(store, { ownerKey: 'userId', ...options }, clock) };
}

async function cookieManager(clock: FakeClock, options: SessionManagerOptions = {}) {
  const keys = [await importRawKey(randomBytes(32).toString('base64'))];
  const store = new EncryptingStoreDecorator<AppSession>(new CookieSessionStore({}, clock), { keys }, clock);
  return new SessionManager<AppSession>(store, options, clock);
}

/** A browser that put something in its cart, then logs in: the log-in renews the id. */
async function cartThenLogIn(manager: SessionManager<AppSession>) {
  const anonymous = await roundTrip(manager, undefined, (c) => manager.setValue(c, 'cart', 2));
  const login = await roundTrip(manager, anonymous.cookie, (c) => {
    manager.renewToken(c);
    manager.setValue(c, 'userId', 'ada');
  });
  return { before: anonymous.cookie!, after: login.cookie! };
}

describe(SessionManager, () => {
  let clock: FakeClock;

  beforeEach(() => {
    clock = new FakeClock();
  });

  describe('a request that still carries the id a renewal retired (server-side store)', () => {
    it('within the grace, is served the session as it was, read-only: no save, no cookie, never the log-in', async () => {
      const { manager } = memoryManager(clock);
      const { before, after } = await cartThenLogIn(manager);
      clock.advance(29 * SECOND);
      const late = await roundTrip(manager, before, (c) => {
        expect(manager.session(c).isStale).toBe(true);
        expect(manager.getValue(c, 'cart')).toBe(2);
        expect(manager.getValue(c, 'userId')).toBeUndefined();
        manager.setValue(c, 'page', '/late');
      });
      expect(late.headers.get('set-cookie')).toBeNull();
      // The browser keeps the successor's cookie, logged in, with the cart, without the late change.
      const next = await roundTrip(manager, after);
      expect(manager.session(next.context).values).toEqual({ cart: 2, userId: 'ada' });
    });

    it('after the grace, is an unknown id: a fresh session, as any unknown cookie', async () => {
      const { manager } = memoryManager(clock);
      const { before } = await cartThenLogIn(manager);
      clock.advance(30 * SECOND);
      const late = await roundTrip(manager, before);
      expect(manager.getStatus(late.context)).toBe('new');
      expect(manager.session(late.context).isStale).toBe(false);
      expect(late.headers.get('set-cookie')).toBeNull();
    });

    it('with renewalGrace 0, is an unknown id at once', async () => {
      const { manager } = memoryManager(clock, { renewalGrace: 0 });
      const { before } = await cartThenLogIn(manager);
      const late = await roundTrip(manager, before);
      expect(manager.getStatus(late.context)).toBe('new');
    });

    it('when it loaded before the renewal and saves after it, writes nothing and sends no cookie', async () => {
      const { manager } = memoryManager(clock);
      const anonymous = await roundTrip(manager, undefined, (c) => manager.setValue(c, 'cart', 2));
      const early = await manager.extractSession(Context.background, request(anonymous.cookie));
      const login = await roundTrip(manager, anonymous.cookie, (c) => {
        manager.renewToken(c);
        manager.setValue(c, 'userId', 'ada');
      });
      manager.setValue(early, 'page', '/early');
      const headers = new Headers();
      await manager.injectSession(early, headers);
      expect(headers.get('set-cookie')).toBeNull();
      expect(manager.session(early).isStale).toBe(true);
      const next = await roundTrip(manager, login.cookie);
      expect(manager.session(next.context).values).toEqual({ cart: 2, userId: 'ada' });
    });

    it('an explicit commit() of its dropped changes rejects with SessionStaleError; one that changed nothing resolves', async () => {
      const { manager } = memoryManager(clock);
      const { before } = await cartThenLogIn(manager);
      const outcomes: unknown[] = [];
      const handler = withSession(manager, async (_request, session) => {
        if (new URL(_request.url).pathname === '/write') {
          session.set('page', '/late');
        }
        outcomes.push(await session.commit().then(() => 'saved', (error: unknown) => error));
        return new Response('ok');
      });
      const read = await handler(new Request('http://localhost/read', { headers: { cookie: before } }));
      const write = await handler(new Request('http://localhost/write', { headers: { cookie: before } }));
      expect(outcomes[0]).toBe('saved');
      expect(outcomes[1]).toBeInstanceOf(SessionStaleError);
      expect(outcomes[1]).toMatchObject({ code: 'ERR_SESSION_STALE' });
      expect(read.headers.get('set-cookie')).toBeNull();
      expect(write.headers.get('set-cookie')).toBeNull();
    });

    it('destroyOtherSessions from it rejects with SessionStaleError and ends nothing', async () => {
      const { manager } = memoryManager(clock);
      const { before, after } = await cartThenLogIn(manager);
      const late = await manager.extractSession(Context.background, request(before));
      // The retired session had no owner: nothing to end, and nothing is.
      expect(await manager.destroyOtherSessions(late)).toBe(0);
      const { before: owned } = await (async () => {
        const again = await roundTrip(manager, after, (c) => manager.renewToken(c));
        return { before: after, after: again.cookie };
      })();
      const stale = await manager.extractSession(Context.background, request(owned));
      await expect(async () => manager.destroyOtherSessions(stale)).rejects.toBeInstanceOf(SessionStaleError);
      expect(await manager.listOwnerSessions('ada')).toHaveLength(1);
    });
  });

  describe('a log-out racing a renewal (server-side store)', () => {
    it('from a request that still carries the retired id: the log-out wins, the successor ends and the cookie is expired', async () => {
      const { manager } = memoryManager(clock);
      const { before, after } = await cartThenLogIn(manager);
      const logout = await roundTrip(manager, before, (c) => manager.destroyValues(c));
      expect(logout.headers.getSetCookie()[0]).toMatch(/Max-Age=0/);
      expect(manager.getStatus((await roundTrip(manager, after)).context)).toBe('new');
    });

    it('from a request that loaded before the renewal and saves after it: the successor ends too', async () => {
      const { manager } = memoryManager(clock);
      const anonymous = await roundTrip(manager, undefined, (c) => manager.setValue(c, 'userId', 'ada'));
      const logout = await manager.extractSession(Context.background, request(anonymous.cookie));
      const renewed = await roundTrip(manager, anonymous.cookie, (c) => manager.renewToken(c));
      manager.destroyValues(logout);
      await manager.injectSession(logout, new Headers());
      expect(manager.getStatus((await roundTrip(manager, renewed.cookie)).context)).toBe('new');
      expect(await manager.listOwnerSessions('ada')).toEqual([]);
    });
  });

  describe('destroyOtherSessions racing a renewal of the asking device', () => {
    it('keeps what the asking session was renewed into meanwhile: the device that asked stays logged in', async () => {
      const { manager } = memoryManager(clock);
      const laptop = await cartThenLogIn(manager);
      const phone = await cartThenLogIn(manager);
      const asking = await manager.extractSession(Context.background, request(laptop.after));
      const renewed = await roundTrip(manager, laptop.after, (c) => manager.renewToken(c));
      expect(await manager.destroyOtherSessions(asking)).toBe(1);
      expect(manager.getValue((await roundTrip(manager, renewed.cookie)).context, 'userId')).toBe('ada');
      expect(manager.getStatus((await roundTrip(manager, phone.after)).context)).toBe('new');
    });
  });

  describe('a request that still carries the cookie a renewal replaced (stateless cookie store)', () => {
    // The cookie store keeps nothing on a server: nothing can tell that a cookie was
    // replaced. This is exactly what happens.
    it('is served the session the old cookie carries: never the log-in, which only the new cookie holds', async () => {
      const manager = await cookieManager(clock);
      const { before } = await cartThenLogIn(manager);
      const late = await roundTrip(manager, before);
      expect(manager.session(late.context).values).toEqual({ cart: 2 });
      expect(manager.session(late.context).isStale).toBe(false);
    });

    it('when it changes nothing, sends no cookie: the browser keeps the new one', async () => {
      const manager = await cookieManager(clock);
      const { before } = await cartThenLogIn(manager);
      const late = await roundTrip(manager, before, (c) => manager.getValue(c, 'cart'));
      expect(late.headers.get('set-cookie')).toBeNull();
    });

    it('when it changes something, its cookie (the old session and its change) replaces the new one in the browser', async () => {
      const manager = await cookieManager(clock);
      const { before } = await cartThenLogIn(manager);
      const late = await roundTrip(manager, before, (c) => manager.setValue(c, 'page', '/late'));
      expect(late.headers.get('set-cookie')).not.toBeNull();
      const next = await roundTrip(manager, late.cookie);
      expect(manager.session(next.context).values).toEqual({ cart: 2, page: '/late' });
    });
  });

  describe('renewalInterval', () => {
    it('renews the id of a session in use once the interval has passed, keeping values and authentication time', async () => {
      const events: SessionEvent[] = [];
      const { manager } = memoryManager(clock, { renewalInterval: 5 * MINUTE, onEvent: (event) => events.push(event) });
      const { after } = await cartThenLogIn(manager);
      const loggedIn = manager.session((await roundTrip(manager, after)).context).authenticatedAt;
      clock.advance(5 * MINUTE - 1);
      expect((await roundTrip(manager, after)).headers.get('set-cookie')).toBeNull();
      clock.advance(1);
      const renewed = await roundTrip(manager, after);
      expect(renewed.cookie).not.toBe(after);
      const next = await roundTrip(manager, renewed.cookie);
      expect(manager.session(next.context).values).toEqual({ cart: 2, userId: 'ada' });
      expect(manager.session(next.context).authenticatedAt).toEqual(loggedIn);
      expect(events.filter((event) => event.type === 'renewed').map((event) => event.reason)).toEqual(['request', 'interval']);
      // The retired id is served read-only within the grace, then forgotten.
      const late = await roundTrip(manager, after, (c) => manager.setValue(c, 'page', '/late'));
      expect(late.headers.get('set-cookie')).toBeNull();
      clock.advance(30 * SECOND);
      expect(manager.getStatus((await roundTrip(manager, after)).context)).toBe('new');
    });

    it('a read-only request whose periodic renewal lost to another request\'s commits without SessionStaleError', async () => {
      const { manager } = memoryManager(clock, { renewalInterval: MINUTE });
      const { after } = await cartThenLogIn(manager);
      clock.advance(MINUTE);
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const outcomes: unknown[] = [];
      const slow = withSession(manager, async (_request, session) => {
        await gate;
        outcomes.push(await session.commit().then(() => 'saved', (error: unknown) => error));
        outcomes.push(session.isStale);
        return new Response('ok');
      });
      const fast = withSession(manager, async () => new Response('ok'));
      const cookie = { headers: { cookie: after } };
      const slowResponse = slow(new Request('http://localhost/', cookie));
      await new Promise((resolve) => setTimeout(resolve, 10)); // the slow one has loaded
      const fastResponse = await fast(new Request('http://localhost/', cookie));
      expect(fastResponse.headers.get('set-cookie')).not.toBeNull(); // it renewed
      release();
      expect((await slowResponse).headers.get('set-cookie')).toBeNull();
      expect(outcomes).toEqual(['saved', true]);
    });

    it('never counts as a new authentication: isFresh keeps the log-in time', async () => {
      const { manager } = memoryManager(clock, { renewalInterval: MINUTE });
      const { after } = await cartThenLogIn(manager);
      clock.advance(2 * MINUTE);
      const renewed = await roundTrip(manager, after);
      const next = await roundTrip(manager, renewed.cookie);
      expect(manager.isFresh(next.context, 2 * MINUTE)).toBe(false);
      expect(manager.isFresh(next.context, 2 * MINUTE + 1)).toBe(true);
    });

    it('at the owner bound, takes its predecessor\'s place: never refused', async () => {
      const { manager } = memoryManager(clock, { renewalInterval: MINUTE, maxSessionsPerOwner: 1, whenOwnerFull: 'refuse' });
      const { after } = await cartThenLogIn(manager);
      let cookie = after;
      for (let round = 0; round < 3; round++) {
        clock.advance(MINUTE);
        cookie = (await roundTrip(manager, cookie)).cookie!;
      }
      expect(manager.getValue((await roundTrip(manager, cookie)).context, 'userId')).toBe('ada');
      expect(await manager.listOwnerSessions('ada')).toHaveLength(1);
    });

    it('when the clock moves back, does not renew', async () => {
      const { manager } = memoryManager(clock, { renewalInterval: MINUTE });
      const { after } = await cartThenLogIn(manager);
      clock.advance(-10 * MINUTE);
      expect((await roundTrip(manager, after)).headers.get('set-cookie')).toBeNull();
    });

    it('is refused unless a positive number', () => {
      for (const renewalInterval of [0, -1, Number.NaN, Infinity, '60000']) {
        expect(() => memoryManager(clock, { renewalInterval } as unknown as SessionManagerOptions)).toThrow(TypeError);
      }
      for (const renewalGrace of [-1, Number.NaN, Infinity, '0']) {
        expect(() => memoryManager(clock, { renewalGrace } as unknown as SessionManagerOptions)).toThrow(TypeError);
      }
    });
  });

  describe('a renewal at the owner bound', () => {
    it("with 'refuse', a re-authentication of a session at the bound passes (requireFresh can be met)", async () => {
      const { manager } = memoryManager(clock, { maxSessionsPerOwner: 1, whenOwnerFull: 'refuse' });
      const { after } = await cartThenLogIn(manager);
      clock.advance(10 * MINUTE);
      const again = await roundTrip(manager, after, (c) => {
        manager.renewToken(c);
        manager.setValue(c, 'userId', 'ada');
      });
      const next = await roundTrip(manager, again.cookie);
      expect(() => manager.requireFresh(next.context, MINUTE)).not.toThrow();
    });

    it("with 'evict', a re-authentication evicts none of the owner's other devices", async () => {
      const events: SessionEvent[] = [];
      const { manager } = memoryManager(clock, { maxSessionsPerOwner: 2, onEvent: (event) => events.push(event) });
      const phone = await cartThenLogIn(manager);
      await cartThenLogIn(manager);
      for (let round = 0; round < 3; round++) {
        await roundTrip(manager, phone.after, (c) => {
          manager.renewToken(c);
          manager.setValue(c, 'userId', 'ada');
        });
      }
      expect(events.filter((event) => event.type === 'evicted')).toEqual([]);
    });
  });
});
