import fc from 'fast-check';
import { parseSetCookie } from 'cookie';
import { sealData, unsealData } from 'iron-session';
import { Context, MemorySessionStore, SessionManager, SessionStoreError, type RequestLike } from 'kit-session';
import { IronSessionAdopter } from 'kit-session/adopt/iron-session';

// Seals are made by iron-session's own sealData (the real package, as an iron-session app
// would seal them) and opened by the adopter directly; the iron-session.int spec does the
// same over HTTP with real servers.

type Values = Record<string, unknown>;

const NAME = 'myapp_session';
const PASSWORD = 'complex_password_at_least_32_characters_long';
const OTHER_PASSWORD = 'another_password_of_at_least_32_characters!';
const DATA = { userId: 'u1', roles: ['admin', 'editor'], csrf: 'c5rf-t0ken', profile: { name: 'Ada', age: 36 } };
const SKEW = 60_000;

function request(cookie: string | undefined): RequestLike {
  return new Request('https://app.test/', cookie === undefined ? {} : { headers: { cookie } });
}

function adopterOf(options: Partial<ConstructorParameters<typeof IronSessionAdopter<Values>>[0]> = {}): IronSessionAdopter<Values> {
  return new IronSessionAdopter<Values>({ cookieName: NAME, password: PASSWORD, ...options });
}

/** The expiry sealed in an iron seal (milliseconds), for boundary tests. */
function expiryOf(seal: string): number {
  return Number(seal.split('~')[0]!.split('*')[5]);
}

/** Fakes `Date` only (iron-webcrypto reads Date.now()); timers and ticks stay real. */
function fakeDateAt(now: number): void {
  jest.useFakeTimers({
    now,
    doNotFake: [
      'hrtime',
      'nextTick',
      'performance',
      'queueMicrotask',
      'requestAnimationFrame',
      'cancelAnimationFrame',
      'requestIdleCallback',
      'cancelIdleCallback',
      'setImmediate',
      'clearImmediate',
      'setInterval',
      'clearInterval',
      'setTimeout',
      'clearTimeout',
    ],
  });
}

describe(IronSessionAdopter, () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  describe('constructor', () => {
    it('names its source and its cookie', () => {
      const adopter = adopterOf();
      expect(adopter.source).toBe('iron-session');
      expect(adopter.cookieNames).toEqual([NAME]);
      expect(adopter.ttl).toBe(1_209_600);
    });

    it.each([
      ['a short password', { password: 'x'.repeat(31) }],
      ['a short password in the map', { password: { 2: PASSWORD, 1: 'short-but-secret' } }],
      ['an empty map', { password: {} }],
      ['a number', { password: 42 }],
      ['a list', { password: [PASSWORD] }],
      ['a map holding a number', { password: { 1: 12345678901234567890123456789012345 } }],
      ['no password', { password: undefined }],
    ])('refuses %s with a TypeError that does not hold the password', (_, options) => {
      let thrown: unknown;
      try {
        adopterOf(options as never);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(TypeError);
      expect((thrown as Error).message).toMatch(/\bpassword\b/);
      expect((thrown as Error).message).not.toContain('short-but-secret');
      expect((thrown as Error).message).not.toContain('x'.repeat(31));
    });

    it.each([
      ['cookieName', { cookieName: '' }],
      ['cookieName', { cookieName: 7 }],
      ['ttl', { ttl: -1 }],
      ['ttl', { ttl: Number.NaN }],
      ['ttl', { ttl: Number.POSITIVE_INFINITY }],
      ['ttl', { ttl: '3600' }],
      ['path', { path: 'app' }],
      ['domain', { domain: '' }],
      ['map', { map: 'userId' }],
      ['until', { until: 'tomorrow' }],
      ['unknown', { cookieOptions: { secure: false } }],
    ])('refuses a bad %s (%j) with a TypeError', (_, options) => {
      expect(() => adopterOf(options as never)).toThrow(TypeError);
    });

    it('refuses a missing options object with a TypeError', () => {
      expect(() => new IronSessionAdopter(undefined as never)).toThrow(TypeError);
      expect(() => new IronSessionAdopter(null as never)).toThrow(TypeError);
    });

    it('accepts ttl 0 (no expiry) and a map of passwords', () => {
      expect(adopterOf({ ttl: 0, password: { 1: PASSWORD, 2: OTHER_PASSWORD } }).ttl).toBe(0);
    });

    it("is refused by a manager whose cookie has the old cookie's name", () => {
      expect(
        () => new SessionManager<Values>(new MemorySessionStore(), { cookie: { name: NAME, secure: false }, adopt: adopterOf() }),
      ).toThrow(TypeError);
    });
  });

  describe('.adopt', () => {
    let seal: string;

    beforeAll(async () => {
      seal = await sealData(DATA, { password: PASSWORD, ttl: 3600 });
    });

    it("carries an iron-session seal's data over, and expires the old cookie", async () => {
      const adopted = await adopterOf().adopt(request(`other=1; ${NAME}=${seal}; theme=dark`), Date.now());
      expect(adopted?.values).toEqual(DATA);
      expect(adopted?.retire).toBeUndefined();
      expect(adopted?.expireCookies).toHaveLength(1);
      const expired = parseSetCookie(adopted!.expireCookies[0]!);
      expect(expired).toMatchObject({ name: NAME, value: '', path: '/', maxAge: 0, httpOnly: true });
      expect(expired.domain).toBeUndefined();
    });

    it("expires the old cookie with the old cookie's Path and Domain, Secure for a __Host- name", async () => {
      const adopted = await adopterOf({ path: '/app', domain: 'example.com' }).adopt(request(`${NAME}=${seal}`), Date.now());
      expect(parseSetCookie(adopted!.expireCookies[0]!)).toMatchObject({ name: NAME, path: '/app', domain: 'example.com', maxAge: 0 });
      const hostSeal = await adopterOf({ cookieName: '__Host-iron' }).adopt(request(`__Host-iron=${seal}`), Date.now());
      expect(parseSetCookie(hostSeal!.expireCookies[0]!)).toMatchObject({ name: '__Host-iron', secure: true, maxAge: 0 });
    });

    it('adopts nothing without the cookie, or with an empty one', async () => {
      const adopter = adopterOf();
      expect(await adopter.adopt(request(undefined), Date.now())).toBeUndefined();
      expect(await adopter.adopt(request(`other=${seal}`), Date.now())).toBeUndefined();
      expect(await adopter.adopt(request(`${NAME}=`), Date.now())).toBeUndefined();
    });

    it('reads the value as iron-session does: quotes removed, percent-decoded, the first of two cookies', async () => {
      const adopter = adopterOf();
      expect((await adopter.adopt(request(`${NAME}="${seal}"`), Date.now()))?.values).toEqual(DATA);
      expect((await adopter.adopt(request(`${NAME}=${seal.replaceAll('*', '%2A')}`), Date.now()))?.values).toEqual(DATA);
      expect((await adopter.adopt(request(`${NAME}=${seal}; ${NAME}=garbage`), Date.now()))?.values).toEqual(DATA);
      expect(await adopter.adopt(request(`${NAME}=garbage; ${NAME}=${seal}`), Date.now())).toBeUndefined();
    });

    it('adopts nothing for a session that holds no data (a fresh or destroyed iron-session)', async () => {
      const empty = await sealData({}, { password: PASSWORD });
      expect(await adopterOf().adopt(request(`${NAME}=${empty}`), Date.now())).toBeUndefined();
    });

    it('adopts nothing for a seal holding something other than an object', async () => {
      for (const data of ['a string', 42, ['u1'], null]) {
        const odd = await sealData(data as never, { password: PASSWORD });
        expect(await adopterOf().adopt(request(`${NAME}=${odd}`), Date.now())).toBeUndefined();
      }
    });

    it('opens the format before ~2 as iron-session does: the data under `persistent`', async () => {
      const v2 = await sealData({ persistent: { userId: 'u9' }, stray: true }, { password: PASSWORD });
      const v1 = v2.slice(0, v2.lastIndexOf('~'));
      expect((await adopterOf().adopt(request(`${NAME}=${v1}`), Date.now()))?.values).toEqual({ userId: 'u9' });
      expect(await unsealData(v1, { password: PASSWORD })).toEqual({ userId: 'u9' });
    });

    it('adopts nothing for a seal made with another password', async () => {
      const foreign = await sealData(DATA, { password: OTHER_PASSWORD });
      expect(await adopterOf().adopt(request(`${NAME}=${foreign}`), Date.now())).toBeUndefined();
      // …also when the foreign app used the same password id.
      const sameId = await sealData(DATA, { password: { 1: OTHER_PASSWORD } });
      expect(await adopterOf({ password: { 1: PASSWORD } }).adopt(request(`${NAME}=${sameId}`), Date.now())).toBeUndefined();
    });

    it('opens seals of every password of a rotation map, each by the id it names', async () => {
      const oldSeal = await sealData(DATA, { password: { 1: PASSWORD } });
      const newSeal = await sealData({ userId: 'u2' }, { password: { 1: PASSWORD, 2: OTHER_PASSWORD } });
      expect(newSeal.split('*')[1]).toBe('2');
      const rotated = adopterOf({ password: { 2: OTHER_PASSWORD, 1: PASSWORD } });
      expect((await rotated.adopt(request(`${NAME}=${oldSeal}`), Date.now()))?.values).toEqual(DATA);
      expect((await rotated.adopt(request(`${NAME}=${newSeal}`), Date.now()))?.values).toEqual({ userId: 'u2' });
      // The map without the old id no longer opens the old seal.
      expect(await adopterOf({ password: { 2: OTHER_PASSWORD } }).adopt(request(`${NAME}=${oldSeal}`), Date.now())).toBeUndefined();
      // A single password is iron-session's id 1.
      expect((await adopterOf({ password: PASSWORD }).adopt(request(`${NAME}=${oldSeal}`), Date.now()))?.values).toEqual(DATA);
    });

    it('adopts nothing, and throws nothing, for a seal naming a password id the map inherits from Object', async () => {
      const parts = seal.split('*');
      for (const id of ['constructor', '__proto__', 'toString', 'hasOwnProperty', '']) {
        const forged = [parts[0], id, ...parts.slice(2)].join('*');
        expect(await adopterOf().adopt(request(`${NAME}=${forged}`), Date.now())).toBeUndefined();
      }
    });

    describe('expiry', () => {
      let sealedAt: number;
      let short: string;

      beforeAll(async () => {
        sealedAt = Date.now();
        short = await sealData(DATA, { password: PASSWORD, ttl: 120 });
      });

      it("refuses a seal past its expiry by the manager's clock (iron's 60 s skew), even while Date.now() says it is alive", async () => {
        const expiry = expiryOf(short);
        expect(expiry).toBeGreaterThanOrEqual(sealedAt + 120_000);
        const adopter = adopterOf({ ttl: 120 });
        expect((await adopter.adopt(request(`${NAME}=${short}`), expiry + SKEW - 1))?.values).toEqual(DATA);
        expect(await adopter.adopt(request(`${NAME}=${short}`), expiry + SKEW)).toBeUndefined();
        expect(await adopter.adopt(request(`${NAME}=${short}`), expiry + 30 * 24 * 3600_000)).toBeUndefined();
      });

      it("refuses a seal past its expiry by Date.now() (iron-webcrypto's own check), even while the manager's clock says it is alive", async () => {
        const expiry = expiryOf(short);
        const adopter = adopterOf({ ttl: 120 });
        fakeDateAt(expiry + SKEW - 1);
        expect((await adopter.adopt(request(`${NAME}=${short}`), sealedAt))?.values).toEqual(DATA);
        jest.setSystemTime(expiry + SKEW);
        expect(await adopter.adopt(request(`${NAME}=${short}`), sealedAt)).toBeUndefined();
        // iron-session itself answers {} for it: the adopter does what the old app did.
        expect(await unsealData(short, { password: PASSWORD, ttl: 120 })).toEqual({});
      });

      it("takes the seal's own expiry, whatever ttl the adopter is given (as iron-session does)", async () => {
        const expiry = expiryOf(short);
        const longTtl = adopterOf({ ttl: 14 * 24 * 3600 });
        expect(await longTtl.adopt(request(`${NAME}=${short}`), expiry + SKEW)).toBeUndefined();
        const shortTtl = adopterOf({ ttl: 1 });
        expect((await shortTtl.adopt(request(`${NAME}=${seal}`), Date.now()))?.values).toEqual(DATA);
      });

      it('adopts a seal made with ttl 0 (no expiry) at any time, as iron-session opens it', async () => {
        const forever = await sealData(DATA, { password: PASSWORD, ttl: 0 });
        expect(forever.split('~')[0]!.split('*')[5]).toBe('');
        const farAhead = Date.now() + 10 * 365 * 24 * 3600_000;
        fakeDateAt(farAhead);
        expect((await adopterOf({ ttl: 0 }).adopt(request(`${NAME}=${forever}`), farAhead))?.values).toEqual(DATA);
      });

      it('adopts nothing from `until` on', async () => {
        const until = Date.now() + 1000;
        const adopter = adopterOf({ until: new Date(until) });
        expect((await adopter.adopt(request(`${NAME}=${seal}`), until - 1))?.values).toEqual(DATA);
        expect(await adopter.adopt(request(`${NAME}=${seal}`), until)).toBeUndefined();
      });
    });

    describe('map', () => {
      it("gives the new session the map's answer", async () => {
        const seen: unknown[] = [];
        const adopter = adopterOf({
          map: (data) => {
            seen.push(data);
            return { user: data.userId, admin: (data.roles as string[]).includes('admin') };
          },
        });
        const adopted = await adopter.adopt(request(`${NAME}=${seal}`), Date.now());
        expect(seen).toEqual([DATA]);
        expect(adopted?.values).toEqual({ user: 'u1', admin: true });
      });

      it('adopts nothing when the map answers undefined, and is not called for a seal that fails', async () => {
        const map = jest.fn(() => undefined);
        const adopter = adopterOf({ map });
        expect(await adopter.adopt(request(`${NAME}=${seal}`), Date.now())).toBeUndefined();
        expect(map).toHaveBeenCalledTimes(1);
        expect(await adopter.adopt(request(`${NAME}=${seal.slice(0, -3)}`), Date.now())).toBeUndefined();
        expect(map).toHaveBeenCalledTimes(1);
      });
    });

    describe('tampering (fast-check)', () => {
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_*~.%" ';
      /** A mutation of a string: a character replaced, inserted or deleted, a cut, or two of its fields swapped. */
      const mutation = fc.oneof(
        fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), char: fc.constantFrom(...alphabet) }),
        fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), char: fc.constantFrom(...alphabet) }),
        fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
        fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
        fc.record({ kind: fc.constant('swap' as const), a: fc.nat(7), b: fc.nat(7) }),
      );
      type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

      function mutate(value: string, steps: readonly Mutation[]): string {
        let out = value;
        for (const step of steps) {
          const at = out.length === 0 ? 0 : ('at' in step ? step.at : 0) % out.length;
          switch (step.kind) {
            case 'replace':
              out = out.slice(0, at) + step.char + out.slice(at + 1);
              break;
            case 'insert':
              out = out.slice(0, at) + step.char + out.slice(at);
              break;
            case 'delete':
              out = out.slice(0, at) + out.slice(at + step.length);
              break;
            case 'truncate':
              out = out.slice(0, at);
              break;
            case 'swap': {
              const fields = out.split('*');
              if (step.a < fields.length && step.b < fields.length) {
                [fields[step.a], fields[step.b]] = [fields[step.b]!, fields[step.a]!];
              }
              out = fields.join('*');
              break;
            }
          }
        }
        return out;
      }

      /** What iron-session itself opens: its data, or {} (also when it throws, as its app would fail). */
      async function ironOpens(value: string): Promise<unknown> {
        try {
          return await unsealData(value, { password: PASSWORD });
        } catch {
          return {};
        }
      }

      it('no mutation of the sealed part (before ~2) is ever adopted', async () => {
        const adopter = adopterOf();
        const sealed = seal.slice(0, seal.lastIndexOf('~'));
        await fc.assert(
          fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (steps) => {
            const tampered = mutate(sealed, steps);
            fc.pre(tampered !== sealed);
            const value = `${tampered}~2`;
            expect(await adopter.adopt(request(`${NAME}=${encodeURIComponent(value)}`), Date.now())).toBeUndefined();
            expect(await ironOpens(value)).toEqual({});
          }),
          { numRuns: 300 },
        );
      });

      it('any mutation of the whole cookie is adopted only when iron-session opens it, and then with the sealed data unchanged', async () => {
        const adopter = adopterOf();
        await fc.assert(
          fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (steps) => {
            const tampered = mutate(seal, steps);
            const adopted = await adopter.adopt(request(`${NAME}=${encodeURIComponent(tampered)}`), Date.now());
            const opened = await ironOpens(tampered);
            if (adopted === undefined) {
              expect(Object.keys(opened as object)).toHaveLength(0);
            } else {
              // Only iron-session's lenient reading of the version suffix (`~02`, `~2~x`) lets a change through.
              expect(adopted.values).toEqual(DATA);
              expect(opened).toEqual(DATA);
              expect(tampered.startsWith(seal.slice(0, seal.lastIndexOf('~')))).toBe(true);
            }
          }),
          { numRuns: 300 },
        );
      });

      it('never throws, whatever the cookie holds', async () => {
        const adopter = adopterOf();
        await fc.assert(
          fc.asyncProperty(fc.string({ maxLength: 300 }), async (value) => {
            const header = `${NAME}=${encodeURIComponent(value)}`;
            await expect(Promise.resolve(adopter.adopt(request(header), Date.now()))).resolves.toBeUndefined();
          }),
          { numRuns: 300 },
        );
        const fields = await adopter.adopt(request(`${NAME}=${'Fe26.2*1*a*b*c*99x*d*e'}`), Date.now());
        expect(fields).toBeUndefined();
      });
    });
  });

  describe('through a SessionManager', () => {
    it('an adopted session gets a new id, is saved, and expires the old cookie; a broken seal gets a fresh session', async () => {
      const seal = await sealData(DATA, { password: PASSWORD });
      const store = new MemorySessionStore<Values>();
      const manager = new SessionManager<Values>(store, { cookie: { name: 'kit', secure: false }, adopt: adopterOf() });

      const context = await manager.extractSession(Context.background, request(`${NAME}=${seal}`));
      expect(manager.getValue(context, 'userId')).toBe('u1');
      expect(manager.getStatus(context)).toBe('modified');
      const headers = new Headers();
      await manager.injectSession(context, headers);
      const lines = headers.getSetCookie().map((line) => parseSetCookie(line));
      expect(lines.map(({ name }) => name).sort()).toEqual(['kit', NAME]);
      expect(lines.find(({ name }) => name === NAME)).toMatchObject({ value: '', maxAge: 0 });

      const broken = await manager.extractSession(Context.background, request(`${NAME}=${seal.slice(0, -5)}~2`));
      expect(manager.getStatus(broken)).toBe('new');
      expect(manager.getValue(broken, 'userId')).toBeUndefined();
      const brokenHeaders = new Headers();
      await manager.injectSession(broken, brokenHeaders);
      expect(brokenHeaders.getSetCookie()).toEqual([]);
    });

    it('a map that throws fails the request with SessionStoreError', async () => {
      const seal = await sealData(DATA, { password: PASSWORD });
      const adopt = adopterOf({
        map: () => {
          throw new Error('mapping failed');
        },
      });
      const manager = new SessionManager<Values>(new MemorySessionStore(), { cookie: { name: 'kit', secure: false }, adopt });
      await expect(manager.extractSession(Context.background, request(`${NAME}=${seal}`))).rejects.toBeInstanceOf(SessionStoreError);
    });
  });
});
