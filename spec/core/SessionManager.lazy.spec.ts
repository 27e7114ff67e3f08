import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import {
  Context,
  CookieSessionStore,
  DEFAULT_COOKIE_NAME,
  EncryptingStoreDecorator,
  importRawKey,
  MemoryOwnerGenerations,
  MemorySessionStore,
  SessionHeadersSentError,
  SessionLoadPendingError,
  SessionManager,
  SessionStoreError,
  type Session,
  type SessionStore,
} from 'kit-session';
import { withSession } from 'kit-session/fetch';
import { CookieJar } from '../support/cookieJar.js';
import { CountingCookieStore, CountingMemoryStore } from '../support/countingStores.js';
import { FakeClock } from '../support/FakeClock.js';

interface Values {
  visits: number;
  userId: string;
}

const ORIGIN = 'https://app.test';

async function keys() {
  return [await importRawKey(randomBytes(32).toString('base64'))];
}

/** A request carrying the jar's cookies. */
function request(jar: CookieJar, path = '/'): Request {
  const headers = new Headers();
  if (jar.header() !== '') {
    headers.set('cookie', jar.header());
  }
  return new Request(`${ORIGIN}${path}`, { headers });
}

/** Sends through a fetch handler, keeping the response's cookies. */
async function send(handler: (request: Request) => Promise<Response>, jar: CookieJar, path = '/'): Promise<Response> {
  const response = await handler(request(jar, path));
  jar.store(response);
  return response;
}

/** A jar holding a saved session `{ visits: 1 }` of the manager. */
async function withVisit(manager: SessionManager<Values>): Promise<CookieJar> {
  const jar = new CookieJar();
  const count = withSession(manager, async (_request, session) => {
    await session.load();
    session.set('visits', (session.get('visits') ?? 0) + 1);
    return new Response('ok');
  });
  await send(count, jar);
  expect(jar.get(DEFAULT_COOKIE_NAME)).toBeDefined();
  return jar;
}

describe(SessionManager, () => {
  describe('.deferSession', () => {
    it('reads nothing until the first touch; untouched, injectSession writes no header and calls no store', async () => {
      const store = new CountingCookieStore<Values>(await keys());
      const manager = new SessionManager<Values>(store);
      const jar = await withVisit(manager);
      store.reset();
      const context = manager.deferSession(Context.background, request(jar));
      const headers = new Headers();
      await manager.injectSession(context, headers);
      expect([...headers]).toEqual([]);
      expect(store.total).toBe(0);
      expect(manager.session(context).isLoaded).toBe(false);
    });

    it('loads at once on the first touch when the store answers at once (the cookie store on node:crypto)', async () => {
      const store = new CountingCookieStore<Values>(await keys());
      const manager = new SessionManager<Values>(store);
      const jar = await withVisit(manager);
      store.reset();
      const session = manager.session(manager.deferSession(Context.background, request(jar)));
      expect(session.get('visits')).toBe(1);
      expect(session.isLoaded).toBe(true);
      expect(session.status).toBe('unmodified');
      expect(session.get('visits')).toBe(1);
      expect(store.calls.getSession).toBe(1);
    });

    it('throws SessionLoadPendingError on a touch while a store that answers with a promise loads; two touches and two load() calls share one load', async () => {
      const store = new CountingMemoryStore<Values>();
      const manager = new SessionManager<Values>(store, { load: 'lazy' });
      const jar = await withVisit(manager);
      store.reset();
      const session = manager.session(manager.deferSession(Context.background, request(jar)));
      expect(() => session.get('visits')).toThrow(SessionLoadPendingError);
      expect(() => session.set('visits', 5)).toThrow(expect.objectContaining({ code: 'ERR_SESSION_LOAD_PENDING' }));
      const [first, second] = [session.load(), session.load()];
      await Promise.all([first, second]);
      expect(store.calls.getSession).toBe(1);
      expect(session.get('visits')).toBe(1);
      expect(session.status).toBe('unmodified');
      // Loaded: load() answers at once, with no further store call.
      await session.load();
      expect(store.calls.getSession).toBe(1);
    });

    it('a failing load on first touch is a SessionStoreError, and is tried again by the next touch', async () => {
      let down = true;
      const inner = new MemorySessionStore<Values>();
      const flaky: SessionStore<Values> = {
        getSession: (token) => (down ? Promise.reject(new Error('down')) : inner.getSession(token)),
        setSession: (id, record) => inner.setSession(id, record),
        deleteSession: (id) => inner.deleteSession(id),
      };
      const manager = new SessionManager<Values>(flaky, { load: 'lazy' });
      down = false;
      const jar = await withVisit(manager);
      down = true;
      const session = manager.session(manager.deferSession(Context.background, request(jar)));
      await expect(session.load()).rejects.toBeInstanceOf(SessionStoreError);
      expect(session.isLoaded).toBe(false);
      down = false;
      await session.load();
      expect(session.get('visits')).toBe(1);
    });

    it('a store that throws at once fails the first touch with SessionStoreError, not a crash', async () => {
      const broken: SessionStore<Values> = {
        getSession: () => {
          throw new Error('down');
        },
        setSession: () => 'never',
        deleteSession: () => undefined,
      };
      const manager = new SessionManager<Values>(broken, { load: 'lazy' });
      const jar = new CookieJar();
      jar.set(DEFAULT_COOKIE_NAME, 'some-token');
      const session = manager.session(manager.deferSession(Context.background, request(jar)));
      expect(() => session.get('visits')).toThrow(SessionStoreError);
      await expect(session.load()).rejects.toBeInstanceOf(SessionStoreError);
    });

    it('any cookie from outside loads, on first touch, a fresh empty session: never a throw', async () => {
      const manager = new SessionManager<Values>(new CountingCookieStore<Values>(await keys()));
      const saved = (await withVisit(manager)).get(DEFAULT_COOKIE_NAME)!;
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.string(),
            fc.base64String(),
            fc.nat({ max: saved.length - 1 }).map((cut) => saved.slice(0, cut)),
            fc.tuple(fc.nat({ max: saved.length - 1 }), fc.constantFrom('A', 'B', '-', '_')).map(
              ([at, char]) => `${saved.slice(0, at)}${saved[at] === char ? 'C' : char}${saved.slice(at + 1)}`,
            ),
          ),
          async (value) => {
            fc.pre(value !== saved);
            const headers = new Headers({ cookie: `${DEFAULT_COOKIE_NAME}=${encodeURIComponent(value)}` });
            const session = manager.session(manager.deferSession(Context.background, new Request(ORIGIN, { headers })));
            expect(session.get('visits')).toBeUndefined();
            expect(session.status).toBe('new');
          },
        ),
        { numRuns: 200 },
      );
    });
  });

  describe('.extractSession', () => {
    it('still loads at once, whatever the load option says (the seed\'s low-level API)', async () => {
      const store = new CountingCookieStore<Values>(await keys());
      const manager = new SessionManager<Values>(store, { load: 'lazy' });
      const jar = await withVisit(manager);
      store.reset();
      const context = await manager.extractSession(Context.background, request(jar));
      expect(store.calls.getSession).toBe(1);
      expect(manager.session(context).isLoaded).toBe(true);
      expect(manager.getValue(context, 'visits')).toBe(1);
    });
  });

  describe('an adapter\'s session loaded on first touch', () => {
    it('commit() before any touch saves nothing and sends nothing', async () => {
      const store = new CountingCookieStore<Values>(await keys());
      const manager = new SessionManager<Values>(store, { load: 'lazy' });
      const jar = await withVisit(manager);
      store.reset();
      const handler = withSession(manager, async (_request, session) => {
        await session.commit();
        return new Response('committed');
      });
      const response = await send(handler, jar);
      expect(response.headers.getSetCookie()).toEqual([]);
      expect(store.total).toBe(0);
    });

    it('destroy() as the first touch loads the session and expires its cookie; renew() as the first touch keeps its values under a new token', async () => {
      const store = new CountingCookieStore<Values>(await keys());
      const manager = new SessionManager<Values>(store, { load: 'lazy' });
      const jar = await withVisit(manager);
      const before = jar.get(DEFAULT_COOKIE_NAME);
      const renew = withSession(manager, async (_request, session) => {
        session.renew();
        return new Response('renewed');
      });
      const renewed = await send(renew, jar);
      expect(renewed.headers.getSetCookie()).toHaveLength(1);
      expect(jar.get(DEFAULT_COOKIE_NAME)).not.toBe(before);
      const read = withSession(manager, async (_request, session) => new Response(String(session.get('visits'))));
      expect(await (await send(read, jar)).text()).toBe('1');
      const destroy = withSession(manager, async (_request, session) => {
        session.destroy();
        return new Response('bye');
      });
      const ended = await send(destroy, jar);
      expect(ended.headers.getSetCookie()).toEqual([expect.stringMatching(/Max-Age=0/i)]);
      expect(jar.get(DEFAULT_COOKIE_NAME)).toBeUndefined();
    });

    it('a touch after the response went out may read (it loads then) but not change', async () => {
      const store = new CountingCookieStore<Values>(await keys());
      const manager = new SessionManager<Values>(store, { load: 'lazy' });
      const jar = await withVisit(manager);
      let kept: Session<Values> | undefined;
      const handler = withSession(manager, async (_request, session) => {
        kept = session;
        return new Response('later');
      });
      const response = await send(handler, jar);
      expect(response.headers.getSetCookie()).toEqual([]);
      expect(kept!.isLoaded).toBe(false);
      expect(() => kept!.set('visits', 9)).toThrow(SessionHeadersSentError);
      expect(kept!.isLoaded).toBe(false);
      expect(kept!.get('visits')).toBe(1);
    });

    it('an untouched request does not move the idle expiry; a touched one does', async () => {
      const clock = new FakeClock();
      const store = new CountingMemoryStore<Values>({}, clock);
      const manager = new SessionManager<Values>(store, { load: 'lazy', idleTimeout: '30m' }, clock);
      const jar = await withVisit(manager);
      clock.advance(20 * 60_000);
      store.reset();
      const untouched = withSession(manager, async () => new Response('ok'));
      expect((await send(untouched, jar)).headers.getSetCookie()).toEqual([]);
      expect(store.total).toBe(0);
      const touched = withSession(manager, async (_request, session) => {
        await session.load();
        return new Response(String(session.get('visits')));
      });
      expect(await (await send(touched, jar)).text()).toBe('1');
      // The read moved the idle expiry: the store wrote it again.
      expect(store.calls.patchSession + store.calls.setSession).toBe(1);
    });
  });

  describe("load: 'auto'", () => {
    it('defers from the first request over the sealed cookie store on node:crypto, which declares loadsAtOnce', async () => {
      const store = new CountingCookieStore<Values>(await keys());
      expect(store.loadsAtOnce).toBe(true);
      const manager = new SessionManager<Values>(store);
      expect(manager.defersLoad).toBe(true);
      const jar = await withVisit(manager);
      store.reset();
      const untouched = withSession(manager, async () => new Response('ok'));
      expect((await send(untouched, jar)).headers.getSetCookie()).toEqual([]);
      expect(store.total).toBe(0);
      const read = withSession(manager, async (_request, session) => new Response(String(session.get('visits'))));
      expect(await (await send(read, jar)).text()).toBe('1');
      expect(store.calls.getSession).toBe(1);
    });

    it('loads before the handler over the same store on Web Crypto, with adopt, and with revocation (their loads wait)', async () => {
      const [key] = await keys();
      const webcrypto = new EncryptingStoreDecorator<Values>(new CookieSessionStore<Values>(), { keys: [key!], crypto: 'webcrypto' });
      expect(webcrypto.loadsAtOnce).toBe(false);
      expect(new SessionManager<Values>(webcrypto).defersLoad).toBe(false);
      const store = new CountingCookieStore<Values>([key!]);
      const adopter = { source: 'old', cookieNames: ['old'], adopt: () => undefined };
      expect(new SessionManager<Values>(store, { adopt: adopter }).defersLoad).toBe(false);
      const revocation = { generations: new MemoryOwnerGenerations() };
      expect(new SessionManager<Values>(store, { ownerKey: 'userId', revocation }).defersLoad).toBe(false);
      expect(new SessionManager<Values>(store, { load: 'eager' }).defersLoad).toBe(false);
      expect(new SessionManager<Values>(new MemorySessionStore<Values>(), { load: 'lazy' }).defersLoad).toBe(true);
    });

    it('never defers over a store that answers with a promise', async () => {
      const store = new CountingMemoryStore<Values>();
      const manager = new SessionManager<Values>(store);
      const jar = await withVisit(manager);
      const count = withSession(manager, async (_request, session) => {
        session.set('visits', (session.get('visits') ?? 0) + 1);
        return new Response(String(session.get('visits')));
      });
      expect(await (await send(count, jar)).text()).toBe('2');
      expect(manager.defersLoad).toBe(false);
      expect(await (await send(count, jar)).text()).toBe('3');
    });

    it('a store that does not declare loadsAtOnce is loaded before the handler even when it answers at once, then with a promise: no touch fails', async () => {
      const inner = new CountingCookieStore<Values>(await keys());
      let slow = false;
      const varying: SessionStore<Values> = {
        getSession: (token) => (slow ? Promise.resolve(inner.getSession(token)) : inner.getSession(token)),
        setSession: (id, record) => inner.setSession(id, record),
        deleteSession: (id) => inner.deleteSession(id),
      };
      const manager = new SessionManager<Values>(varying);
      expect(manager.defersLoad).toBe(false);
      const jar = await withVisit(manager);
      const read = withSession(manager, async (_request, session) => new Response(String(session.get('visits'))));
      expect(await (await send(read, jar)).text()).toBe('1');
      slow = true;
      expect(await (await send(read, jar)).text()).toBe('1');
      expect(manager.defersLoad).toBe(false);
    });

    it('refuses an unknown load option with a TypeError', () => {
      expect(() => new SessionManager<Values>(new MemorySessionStore<Values>(), { load: 'sometimes' as 'lazy' })).toThrow(TypeError);
    });
  });
});
