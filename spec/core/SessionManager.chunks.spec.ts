import { randomBytes } from 'node:crypto';
import {
  Context,
  CookieSessionStore,
  EncryptingStoreDecorator,
  importRawKey,
  MemoryOwnerGenerations,
  MemorySessionStore,
  SessionCookieTooLargeError,
  SessionManager,
  type CryptoPath,
  type SessionManagerOptions,
  type SessionStore,
} from 'kit-session';
import { withSession } from 'kit-session/fetch';
import { CookieJar } from '../support/cookieJar.js';
import { FakeClock } from '../support/FakeClock.js';

// Chunked cookies through the manager, on every store the cookie store composes with: a
// session past one cookie survives the round trip, shrinks and grows without leaving a
// stale cookie, is never joined from two tabs' cookies, and logs out to nothing.

type Values = Record<string, unknown>;
const NAME = '__Host-session';

/** Random text that does not compress: `bytes` random bytes as base64url. */
function payload(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

/** The session's cookies a jar holds, `name` and `name.k`, sorted. */
function sessionCookies(jar: CookieJar): string[] {
  return jar
    .names()
    .filter((name) => name === NAME || name.startsWith(`${NAME}.`))
    .sort();
}

/** One request of a browser: its jar's cookies in, the response's Set-Cookies kept. */
async function step(
  manager: SessionManager<Values>,
  jar: CookieJar,
  act: (context: Context) => void | Promise<void> = () => {},
): Promise<{ context: Context; headers: Headers }> {
  const cookie = jar.header();
  const request = new Request('https://app.test/', cookie === '' ? {} : { headers: { cookie } });
  const context = await manager.extractSession(Context.background, request);
  await act(context);
  const headers = new Headers();
  await manager.injectSession(context, headers);
  jar.storeLines(headers.getSetCookie());
  return { context, headers };
}

interface Variant {
  readonly name: string;
  readonly build: (clock: FakeClock) => Promise<{ store: SessionStore<Values>; options?: SessionManagerOptions }>;
}

const sealedCookie = (crypto: CryptoPath) => async (clock: FakeClock) => ({
  store: new EncryptingStoreDecorator<Values>(
    new CookieSessionStore({}, clock),
    { keys: [await importRawKey(randomBytes(32).toString('base64'))], crypto },
    clock,
  ),
});

const COOKIE_STORES: readonly Variant[] = [
  { name: 'EncryptingStoreDecorator(CookieSessionStore), node:crypto', build: sealedCookie('auto') },
  { name: 'EncryptingStoreDecorator(CookieSessionStore), Web Crypto', build: sealedCookie('webcrypto') },
  {
    name: 'EncryptingStoreDecorator(CookieSessionStore) with revocation',
    build: async (clock) => ({
      ...(await sealedCookie('auto')(clock)),
      options: { ownerKey: 'userId', revocation: { generations: new MemoryOwnerGenerations(), maxStaleness: 0 } },
    }),
  },
  { name: 'CookieSessionStore({ allowPlaintext: true })', build: async (clock) => ({ store: new CookieSessionStore<Values>({ allowPlaintext: true }, clock) }) },
];

for (const variant of COOKIE_STORES) {
  describe(`SessionManager with cookie.chunking on ${variant.name}`, () => {
    let clock: FakeClock;
    let manager: SessionManager<Values>;

    beforeEach(async () => {
      clock = new FakeClock();
      const { store, options } = await variant.build(clock);
      manager = new SessionManager<Values>(store, { ...options, cookie: { chunking: true } }, clock);
    });

    it('a 10 KB session survives the round trip, shrinks to one cookie, grows again and logs out to nothing', async () => {
      const jar = new CookieJar();
      const big = payload(6000); // 8000 characters, more in the cookie
      await step(manager, jar, (c) => {
        manager.setValue(c, 'userId', 'ada');
        manager.setValue(c, 'big', big);
      });
      expect(sessionCookies(jar)).toEqual([NAME, `${NAME}.1`, `${NAME}.2`]);
      expect(jar.header().length).toBeGreaterThan(10_240);

      // Read back whole, and unchanged it sends no cookie.
      const { context, headers } = await step(manager, jar);
      expect(manager.getValue(context, 'big')).toBe(big);
      expect(manager.getStatus(context)).toBe('unmodified');
      expect(headers.getSetCookie()).toEqual([]);

      // Shrinks: one cookie left, the old chunks expired in the same response.
      await step(manager, jar, (c) => manager.unsetValue(c, 'big'));
      expect(sessionCookies(jar)).toEqual([NAME]);
      const small = await step(manager, jar);
      expect(manager.getValue(small.context, 'userId')).toBe('ada');
      expect(manager.getValue(small.context, 'big')).toBeUndefined();

      // Grows to two, then to three, then to two.
      await step(manager, jar, (c) => manager.setValue(c, 'big', payload(4000)));
      expect(sessionCookies(jar)).toEqual([NAME, `${NAME}.1`]);
      await step(manager, jar, (c) => manager.setValue(c, 'big', big));
      expect(sessionCookies(jar)).toEqual([NAME, `${NAME}.1`, `${NAME}.2`]);
      const medium = payload(4000);
      await step(manager, jar, (c) => manager.setValue(c, 'big', medium));
      expect(sessionCookies(jar)).toEqual([NAME, `${NAME}.1`]);
      expect(manager.getValue((await step(manager, jar)).context, 'big')).toBe(medium);

      // Log-out: no cookie of the session left.
      await step(manager, jar, (c) => manager.setValue(c, 'big', big));
      await step(manager, jar, (c) => manager.destroyValues(c));
      expect(sessionCookies(jar)).toEqual([]);
      expect(manager.getStatus((await step(manager, jar)).context)).toBe('new');
    });

    it("two tabs' sets never join: a mix of their cookies loads a fresh session", async () => {
      const start = new CookieJar();
      await step(manager, start, (c) => {
        manager.setValue(c, 'userId', 'ada');
        manager.setValue(c, 'big', payload(6000));
      });
      // Both tabs send the same cookies; each response writes a set of its own.
      const [tabA, tabB] = [start.clone(), start.clone()];
      await step(manager, tabA, (c) => manager.setValue(c, 'big', payload(6000)));
      await step(manager, tabB, (c) => manager.setValue(c, 'big', payload(6000)));
      for (const [from, other] of [
        [tabA, tabB],
        [tabB, tabA],
      ] as const) {
        for (const index of [1, 2]) {
          const mixed = from.clone();
          mixed.set(`${NAME}.${index}`, other.get(`${NAME}.${index}`)!);
          expect(manager.getStatus((await step(manager, mixed)).context)).toBe('new');
        }
      }
      // Each tab's own set still loads.
      expect(manager.getStatus((await step(manager, tabA.clone())).context)).toBe('unmodified');
      expect(manager.getStatus((await step(manager, tabB.clone())).context)).toBe('unmodified');
    });

    it('a session past the budget throws SessionCookieTooLargeError and writes no header', async () => {
      const jar = new CookieJar();
      const context = await manager.extractSession(Context.background, new Request('https://app.test/'));
      manager.setValue(context, 'userId', 'ada');
      manager.setValue(context, 'big', payload(9500));
      const headers = new Headers();
      const failure = manager.injectSession(context, headers);
      await expect(async () => failure).rejects.toBeInstanceOf(SessionCookieTooLargeError);
      await failure.catch((error: SessionCookieTooLargeError) => {
        expect(error.limit).toBe(12_288);
        expect(error.size).toBeGreaterThan(12_288);
      });
      expect([...headers.keys()]).toEqual([]);
      expect(sessionCookies(jar)).toEqual([]);
    });

    it('a second save in one response (commit(), then the adapter\'s) leaves only the last set', async () => {
      const big = payload(6000);
      const small = payload(300);
      const app = withSession(manager, async (request, session) => {
        const { pathname } = new URL(request.url);
        if (pathname === '/grow-then-shrink') {
          session.set('big', big);
          await session.commit();
          session.set('big', small);
        } else if (pathname === '/shrink-then-grow') {
          session.set('big', small);
          await session.commit();
          session.set('big', big);
        }
        const value = session.get('big');
        return new Response(String(typeof value === 'string' ? value.length : 0));
      });
      const jar = new CookieJar();
      const visit = async (path: string) => {
        const cookie = jar.header();
        const response = await app(new Request(`https://app.test${path}`, cookie === '' ? {} : { headers: { cookie } }));
        jar.storeLines(response.headers.getSetCookie());
        return response;
      };
      const grown = await visit('/grow-then-shrink');
      // One Set-Cookie per name: the small session, and the first save's chunks expired.
      const names = grown.headers.getSetCookie().map((line) => line.slice(0, line.indexOf('=')));
      expect(names.sort()).toEqual([NAME, `${NAME}.1`, `${NAME}.2`]);
      expect(sessionCookies(jar)).toEqual([NAME]);
      expect(await (await visit('/')).text()).toBe(String(small.length));

      await visit('/shrink-then-grow');
      expect(sessionCookies(jar)).toEqual([NAME, `${NAME}.1`, `${NAME}.2`]);
      expect(await (await visit('/')).text()).toBe(String(big.length));
    });

    if (variant.name.includes('revocation')) {
      it('log out everywhere revokes a chunked cookie', async () => {
        const jar = new CookieJar();
        await step(manager, jar, (c) => {
          manager.setValue(c, 'userId', 'ada');
          manager.setValue(c, 'big', payload(6000));
        });
        expect(sessionCookies(jar)).toHaveLength(3);
        await manager.destroyOwnerSessions('ada');
        expect(manager.getStatus((await step(manager, jar)).context)).toBe('new');
      });
    }
  });
}

describe('SessionManager with cookie.chunking on a server-side store', () => {
  it('EncryptingStoreDecorator(MemorySessionStore): a large session stays one cookie of the id', async () => {
    const clock = new FakeClock();
    const store = new EncryptingStoreDecorator<Values>(
      new MemorySessionStore<Values>({}, clock),
      { keys: [await importRawKey(randomBytes(32).toString('base64'))], encryptValues: true },
      clock,
    );
    const manager = new SessionManager<Values>(store, { cookie: { chunking: true } }, clock);
    const jar = new CookieJar();
    const big = payload(30_000);
    const { headers } = await step(manager, jar, (c) => manager.setValue(c, 'big', big));
    expect(headers.getSetCookie()).toHaveLength(1);
    expect(sessionCookies(jar)).toEqual([NAME]);
    expect(jar.get(NAME)!.length).toBeLessThan(200);
    expect(manager.getValue((await step(manager, jar)).context, 'big')).toBe(big);
    // Log-out still expires every name a set could have had.
    const out = await step(manager, jar, (c) => manager.destroyValues(c));
    expect(out.headers.getSetCookie()).toHaveLength(4);
    expect(sessionCookies(jar)).toEqual([]);
  });
});
