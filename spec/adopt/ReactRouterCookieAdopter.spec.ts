import fc from 'fast-check';
import { type Cookie, createCookie, createCookieSessionStorage, type SessionStorage } from 'react-router';
import type { AdoptedSession } from 'kit-session';
import { ReactRouterCookieAdopter } from 'kit-session/adopt/react-router';

// Every cookie here is written by React Router's own createCookieSessionStorage, and read
// back by the adopter through the same package: no stand-in for React Router.

interface App {
  userId: string;
  notice: string;
  theme: string;
  cart: number[];
}

const NOW = Date.UTC(2026, 5, 1);

/** The old app's cookie and storage, as the app builds them. */
function oldApp(secrets: string[] = ['s1'], options: Parameters<typeof createCookie>[1] = {}): { cookie: Cookie; storage: SessionStorage } {
  const cookie = createCookie('__session', { secrets, path: '/', httpOnly: true, sameSite: 'lax', secure: false, ...options });
  return { cookie, storage: createCookieSessionStorage({ cookie }) };
}

/** A session committed by React Router: the `name=value` pair its Set-Cookie gives the browser. */
async function committed(storage: SessionStorage, values: Record<string, unknown>, flashes: Record<string, unknown> = {}): Promise<string> {
  const session = await storage.getSession(null);
  for (const [key, value] of Object.entries(values)) {
    session.set(key, value);
  }
  for (const [key, value] of Object.entries(flashes)) {
    session.flash(key, value);
  }
  return (await storage.commitSession(session)).split(';')[0]!;
}

/** A request with a `Cookie` header, or none. */
function request(cookie?: string): { headers: Headers } {
  return { headers: new Headers(cookie === undefined ? {} : { cookie }) };
}

async function adopt(adopter: ReactRouterCookieAdopter<App>, cookie?: string, now = NOW): Promise<AdoptedSession<App> | undefined> {
  return adopter.adopt(request(cookie), now);
}

describe(ReactRouterCookieAdopter, () => {
  describe('constructor', () => {
    it('takes the app\'s signed Cookie, and names the source and the old cookie', () => {
      const adopter = new ReactRouterCookieAdopter<App>({ cookie: oldApp().cookie });
      expect(adopter.source).toBe('react-router');
      expect(adopter.cookieName).toBe('__session');
      expect(adopter.cookieNames).toEqual(['__session']);
    });

    it('takes the options form, named __session by default as React Router names it', () => {
      expect(new ReactRouterCookieAdopter<App>({ cookie: { secrets: ['s1'] } }).cookieNames).toEqual(['__session']);
      expect(new ReactRouterCookieAdopter<App>({ cookie: { name: 'rr', secrets: ['s1'] } }).cookieNames).toEqual(['rr']);
    });

    it('refuses an unsigned Cookie with a TypeError: anyone could forge it', () => {
      expect(() => new ReactRouterCookieAdopter<App>({ cookie: createCookie('__session') })).toThrow(TypeError);
      expect(() => new ReactRouterCookieAdopter<App>({ cookie: createCookie('__session', { secrets: [] }) })).toThrow(TypeError);
    });

    it.each<[string, unknown]>([
      ['no secrets', { name: '__session' }],
      ['empty secrets', { secrets: [] }],
      ['an empty secret', { secrets: ['s1', ''] }],
      ['a secret not a string', { secrets: [42] }],
      ['secrets not a list', { secrets: 's1' }],
      ['an empty name', { name: '', secrets: ['s1'] }],
      ['a name not a string', { name: 7, secrets: ['s1'] }],
      ['a path not starting with /', { secrets: ['s1'], path: 'app' }],
      ['null', null],
      ['a string', '__session'],
    ])('refuses cookie options with %s with a TypeError', (_case, cookie) => {
      expect(() => new ReactRouterCookieAdopter<App>({ cookie: cookie as Cookie })).toThrow(TypeError);
    });

    it('refuses path or domain beside the cookie with a TypeError: they are the cookie\'s own', () => {
      const { cookie } = oldApp();
      expect(() => new ReactRouterCookieAdopter<App>({ cookie, path: '/' } as never)).toThrow(TypeError);
      expect(() => new ReactRouterCookieAdopter<App>({ cookie, domain: 'app.test' } as never)).toThrow(TypeError);
    });

    it('refuses a bad map or until, and no options at all, with a TypeError', () => {
      const { cookie } = oldApp();
      expect(() => new ReactRouterCookieAdopter<App>({ cookie, map: 'userId' as never })).toThrow(TypeError);
      expect(() => new ReactRouterCookieAdopter<App>({ cookie, until: Number.NaN })).toThrow(TypeError);
      expect(() => new ReactRouterCookieAdopter<App>(undefined as never)).toThrow(TypeError);
    });
  });

  describe('.adopt', () => {
    it('carries the data over, each flash under its own key, and expires the cookie as destroySession does', async () => {
      const { cookie, storage } = oldApp();
      const pair = await committed(storage, { userId: 'u1', cart: [1, 2] }, { notice: 'hi' });
      const adopted = await adopt(new ReactRouterCookieAdopter<App>({ cookie }), pair);
      expect(adopted?.values).toEqual({ userId: 'u1', cart: [1, 2], notice: 'hi' });
      expect(adopted?.expireCookies).toEqual([await storage.destroySession(await storage.getSession(null))]);
      expect(adopted?.retire).toBeUndefined();
    });

    it('finds the cookie among others in the header', async () => {
      const { cookie, storage } = oldApp();
      const pair = await committed(storage, { userId: 'u2' });
      const adopted = await adopt(new ReactRouterCookieAdopter<App>({ cookie }), `theme=dark; ${pair}; other=1`);
      expect(adopted?.values).toEqual({ userId: 'u2' });
    });

    it('adopts from the options form exactly as from the Cookie, and expires it with its Path and Domain', async () => {
      const { storage } = oldApp(['s1'], { path: '/app', domain: 'app.test', secure: true });
      const pair = await committed(storage, { userId: 'u3' });
      const adopter = new ReactRouterCookieAdopter<App>({
        cookie: { name: '__session', secrets: ['s1'], path: '/app', domain: 'app.test', secure: true, httpOnly: true },
      });
      const adopted = await adopt(adopter, pair);
      expect(adopted?.values).toEqual({ userId: 'u3' });
      const [line] = adopted!.expireCookies;
      expect(line).toMatch(/^__session=;/);
      expect(line).toMatch(/; Path=\/app(;|$)/);
      expect(line).toMatch(/; Domain=app\.test(;|$)/);
      expect(line).toMatch(/; Secure(;|$)/);
      expect(line).toMatch(/; Expires=Thu, 01 Jan 1970 00:00:00 GMT/);
    });

    it('expires a Cookie with its own Path, Domain and Partitioned, whatever they are', async () => {
      const { cookie, storage } = oldApp(['s1'], { path: '/shop', domain: 'shop.test', secure: true, partitioned: true });
      const pair = await committed(storage, { userId: 'u4' });
      const adopted = await adopt(new ReactRouterCookieAdopter<App>({ cookie }), pair);
      expect(adopted?.expireCookies).toEqual([await storage.destroySession(await storage.getSession(null))]);
      expect(adopted?.expireCookies[0]).toMatch(/; Path=\/shop;.*Partitioned/);
    });

    it('opens a cookie signed with any of the secrets (rotation), the newest first', async () => {
      const pair = await committed(oldApp(['s1']).storage, { userId: 'u5' });
      const rotated = new ReactRouterCookieAdopter<App>({ cookie: createCookie('__session', { secrets: ['s2', 's1'] }) });
      expect((await adopt(rotated, pair))?.values).toEqual({ userId: 'u5' });
      const dropped = new ReactRouterCookieAdopter<App>({ cookie: createCookie('__session', { secrets: ['s2'] }) });
      expect(await adopt(dropped, pair)).toBeUndefined();
    });

    it('adopts nothing without a Cookie header, without the cookie, or with it empty', async () => {
      const adopter = new ReactRouterCookieAdopter<App>({ cookie: oldApp().cookie });
      expect(await adopt(adopter)).toBeUndefined();
      expect(await adopt(adopter, 'theme=dark')).toBeUndefined();
      expect(await adopt(adopter, '__session=')).toBeUndefined();
    });

    it('refuses a cookie signed with a foreign secret', async () => {
      const pair = await committed(oldApp(['not-ours']).storage, { userId: 'admin' });
      expect(await adopt(new ReactRouterCookieAdopter<App>({ cookie: oldApp().cookie }), pair)).toBeUndefined();
    });

    it('refuses an unsigned value, as an unsigned React Router cookie writes it', async () => {
      const unsigned = createCookieSessionStorage({ cookie: createCookie('__session') });
      const pair = await committed(unsigned, { userId: 'admin' });
      expect(await adopt(new ReactRouterCookieAdopter<App>({ cookie: oldApp().cookie }), pair)).toBeUndefined();
    });

    it('refuses a changed payload under the old signature', async () => {
      const { cookie, storage } = oldApp();
      const pair = await committed(storage, { userId: 'u6' });
      const [payload, signature] = pair.slice('__session='.length).split('.') as [string, string];
      const forged = Buffer.from(Buffer.from(payload, 'base64').toString().replace('u6', 'u7')).toString('base64');
      expect(forged).not.toBe(payload);
      expect(await adopt(new ReactRouterCookieAdopter<App>({ cookie }), `__session=${forged}.${signature}`)).toBeUndefined();
    });

    it('adopts nothing from a signed value that is not a data object', async () => {
      const cookie = oldApp().cookie;
      const adopter = new ReactRouterCookieAdopter<App>({ cookie });
      for (const value of [5, 'userId', ['u1'], null]) {
        const pair = (await cookie.serialize(value)).split(';')[0]!;
        expect(await adopt(adopter, pair)).toBeUndefined();
      }
    });

    it('keeps the plain value of a key that is also a flash, as React Router\'s session.get answers', async () => {
      const { cookie, storage } = oldApp();
      const pair = await committed(storage, { notice: 'plain' }, { notice: 'flashed' });
      expect((await storage.getSession(pair)).get('notice')).toBe('plain');
      expect((await adopt(new ReactRouterCookieAdopter<App>({ cookie }), pair))?.values).toEqual({ notice: 'plain' });
    });

    it('keeps a __proto__ key a key: the values\' prototype is untouched', async () => {
      const { cookie } = oldApp();
      const pair = (await cookie.serialize(JSON.parse('{"userId":"u8","__proto__":{"admin":true}}'))).split(';')[0]!;
      const adopted = await adopt(new ReactRouterCookieAdopter<App>({ cookie }), pair);
      expect(Object.getPrototypeOf(adopted!.values)).toBe(Object.prototype);
      expect((adopted!.values as { admin?: unknown }).admin).toBeUndefined();
      expect(adopted!.values.userId).toBe('u8');
    });

    it('gives map the data as React Router keeps it, flash keys included, and adopts nothing when it answers undefined', async () => {
      const { cookie, storage } = oldApp();
      const seen: Record<string, unknown>[] = [];
      const adopter = new ReactRouterCookieAdopter<App>({
        cookie,
        map: (data) => {
          seen.push(data);
          return typeof data.userId === 'string' ? { userId: data.userId } : undefined;
        },
      });
      const user = await committed(storage, { userId: 'u9', theme: 'dark' }, { notice: 'hi' });
      expect((await adopt(adopter, user))?.values).toEqual({ userId: 'u9' });
      expect(seen[0]).toEqual({ userId: 'u9', theme: 'dark', __flash_notice__: 'hi' });
      const anonymous = await committed(storage, { theme: 'dark' });
      expect(await adopt(adopter, anonymous)).toBeUndefined();
    });

    it('adopts until `until`, however old the cookie: React Router puts no date in the value', async () => {
      const { cookie, storage } = oldApp(['s1'], { maxAge: 60 });
      const pair = await committed(storage, { userId: 'u10' });
      const until = new Date(NOW + 365 * 24 * 3600 * 1000);
      const adopter = new ReactRouterCookieAdopter<App>({ cookie, until });
      expect(await cookie.parse(pair)).toEqual({ userId: 'u10' }); // React Router itself: still valid
      expect((await adopt(adopter, pair, until.getTime() - 1))?.values).toEqual({ userId: 'u10' });
      expect(await adopt(adopter, pair, until.getTime())).toBeUndefined();
    });

    it('rejects when the cookie cannot be read (the request then fails with SessionStoreError)', async () => {
      const broken: Cookie = {
        name: '__session',
        isSigned: true,
        expires: undefined,
        parse: () => Promise.reject(new Error('crypto down')),
        serialize: () => Promise.resolve('__session=; Path=/'),
      };
      await expect(adopt(new ReactRouterCookieAdopter<App>({ cookie: broken }), '__session=x.y')).rejects.toThrow(Error);
    });
  });

  describe('tampering (fast-check)', () => {
    /** An edit of the cookie's value as the browser sends it. */
    type Edit = { kind: 'replace' | 'insert' | 'delete'; at: number; char?: string };
    const edit: fc.Arbitrary<Edit> = fc.oneof(
      fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), char: fc.constantFrom(...'ABCDEFabcdef0123456789+/=.%-_') }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), char: fc.constantFrom(...'Aa0+/=.%') }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
    );

    function apply(value: string, change: Edit): string {
      const at = change.at % (value.length + (change.kind === 'insert' ? 1 : 0));
      switch (change.kind) {
        case 'replace':
          return value.slice(0, at) + change.char! + value.slice(at + 1);
        case 'insert':
          return value.slice(0, at) + change.char! + value.slice(at);
        default:
          return value.slice(0, at) + value.slice(at + 1);
      }
    }

    /** A value as the `cookie` package decodes it for React Router. */
    function decoded(value: string): string {
      try {
        return decodeURIComponent(value);
      } catch {
        return value;
      }
    }

    it('never adopts an edited value with other data; an edit of the payload is never adopted at all', async () => {
      const { cookie, storage } = oldApp();
      const adopter = new ReactRouterCookieAdopter<App>({ cookie });
      const pair = await committed(storage, { userId: 'u1', theme: 'dark' }, { notice: 'hi' });
      const value = pair.slice('__session='.length);
      let refused = 0;
      await fc.assert(
        fc.asyncProperty(edit, async (change) => {
          const edited = apply(value, change);
          fc.pre(edited !== value);
          const adopted = await adopt(adopter, `__session=${edited}`);
          if (adopted === undefined) {
            refused += 1;
            return;
          }
          // Only an edit that leaves the signed payload and the signature's bytes as they
          // were can open: base64's spare low bits in the signature's last character, or
          // a percent-escape written in the other case (%2f for %2F).
          const opened = decoded(edited);
          expect(opened.slice(0, opened.lastIndexOf('.'))).toBe(decoded(value).slice(0, decoded(value).lastIndexOf('.')));
          expect(adopted.values).toEqual({ userId: 'u1', theme: 'dark', notice: 'hi' });
        }),
        { numRuns: 300 },
      );
      expect(refused).toBeGreaterThan(250);
    });

    it('never adopts a value signed with any other secret, nor the same data unsigned', async () => {
      const adopter = new ReactRouterCookieAdopter<App>({ cookie: oldApp(['s1']).cookie });
      await fc.assert(
        fc.asyncProperty(
          fc.string({ minLength: 1 }).filter((secret) => secret !== 's1'),
          fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4, size: 'xsmall' }),
          async (secret, data) => {
            const signed = (await createCookie('__session', { secrets: [secret] }).serialize(data)).split(';')[0]!;
            expect(await adopt(adopter, signed)).toBeUndefined();
            const unsigned = (await createCookie('__session').serialize(data)).split(';')[0]!;
            expect(await adopt(adopter, unsigned)).toBeUndefined();
          },
        ),
        { numRuns: 100 },
      );
    });

    it('adopts any data object React Router signed, flashes renamed', async () => {
      const { cookie, storage } = oldApp();
      const adopter = new ReactRouterCookieAdopter<App>({ cookie });
      const key = fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !k.startsWith('__flash_') && k !== '__proto__');
      // Small enough that React Router's 4096-byte limit never refuses to commit it.
      const small = fc.dictionary(key, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4, size: 'xsmall' });
      await fc.assert(
        fc.asyncProperty(small, small, async (values, flashes) => {
          const pair = await committed(storage, values, flashes);
          const adopted = await adopt(adopter, pair);
          // JSON drops what it cannot write (-0 becomes 0): compare with the JSON round trip.
          expect(adopted?.values).toEqual(JSON.parse(JSON.stringify({ ...flashes, ...values })));
        }),
        { numRuns: 100 },
      );
    });
  });
});
