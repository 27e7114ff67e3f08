import expressSession from 'express-session';
import fc from 'fast-check';
import { createHmac, randomBytes } from 'node:crypto';
import { DEFAULT_COOKIE_NAME, MemorySessionStore, SessionManager } from 'kit-session';
import {
  ExpressSessionAdopter,
  type ExpressSessionStoreLike,
} from 'kit-session/adopt/express-session';

// MemoryStore checks cookie.expires by the real clock: the records expire in a day from now.
// express-session's own signing module (untyped): the cookie values it writes.
const { sign } = require('cookie-signature') as { sign(value: string, secret: string): string };

const NOW = Date.now();
const LATER = new Date(NOW + 86_400_000).toISOString();

/** express-session's cookie value for a sid: `s:` + cookie-signature's `sign`. */
function signed(sid: string, secret: string): string {
  return `s:${sign(sid, secret)}`;
}

function request(cookie?: string): Request {
  return new Request('https://app.test/', cookie === undefined ? {} : { headers: { cookie } });
}

/**
 * express-session's real MemoryStore, with its calls counted: `gets` lists every sid
 * handed to `get`, `destroys` every sid handed to `destroy`.
 */
class CountingStore implements ExpressSessionStoreLike {
  readonly inner = new expressSession.MemoryStore();
  readonly gets: string[] = [];
  readonly destroys: string[] = [];
  readonly sets: string[] = [];

  get(sid: string, callback: (error: unknown, session?: unknown) => void): void {
    this.gets.push(sid);
    this.inner.get(sid, callback);
  }

  destroy(sid: string, callback?: (error?: unknown) => void): void {
    this.destroys.push(sid);
    this.inner.destroy(sid, callback);
  }

  set(sid: string, session: never, callback?: (error?: unknown) => void): void {
    this.sets.push(sid);
    this.inner.set(sid, session, callback);
  }

  /** The record as the store holds it now. */
  read(sid: string): Promise<Record<string, unknown> | undefined> {
    return new Promise((resolve, reject) =>
      this.inner.get(sid, (error: unknown, data?: unknown) => (error ? reject(error) : resolve((data ?? undefined) as Record<string, unknown> | undefined))),
    );
  }

  put(sid: string, data: Record<string, unknown>): Promise<void> {
    return new Promise((resolve, reject) =>
      this.inner.set(sid, data as never, (error?: unknown) => (error ? reject(error) : resolve())),
    );
  }

  has(sid: string): Promise<boolean> {
    return new Promise((resolve, reject) =>
      this.inner.get(sid, (error: unknown, data?: unknown) => (error ? reject(error) : resolve(data !== undefined && data !== null))),
    );
  }
}

const record = (values: Record<string, unknown>, expires: string | null = LATER) => ({
  cookie: { originalMaxAge: 3_600_000, expires, httpOnly: true, path: '/' },
  ...values,
});

describe(ExpressSessionAdopter, () => {
  let store: CountingStore;
  let sid: string;

  beforeEach(async () => {
    store = new CountingStore();
    sid = randomBytes(24).toString('base64url');
    await store.put(sid, record({ userId: 'u1', cart: ['pen', 'ink'] }));
  });

  describe('constructor', () => {
    const valid = () => ({ secret: 'keyboard cat', store: new CountingStore() });

    it("takes express-session's own store types as they are (no cast)", () => {
      const memory: ExpressSessionStoreLike = new expressSession.MemoryStore();
      const base: ExpressSessionStoreLike = memory as expressSession.Store;
      expect(new ExpressSessionAdopter({ secret: 'k', store: base }).source).toBe('express-session');
    });

    it('reads connect.sid by default, under the source express-session', () => {
      const adopter = new ExpressSessionAdopter(valid());
      expect(adopter.source).toBe('express-session');
      expect(adopter.cookieName).toBe('connect.sid');
      expect(adopter.cookieNames).toEqual(['connect.sid']);
      expect(new ExpressSessionAdopter({ ...valid(), name: 'app.sid' }).cookieNames).toEqual(['app.sid']);
    });

    it.each<[string, Record<string, unknown>]>([
      ['no secret', { secret: undefined }],
      ['an empty secret', { secret: '' }],
      ['an empty list of secrets', { secret: [] }],
      ['a list holding an empty secret', { secret: ['good', ''] }],
      ['a list holding a non-string', { secret: ['good', 42] }],
      ['a number as the secret', { secret: 42 }],
      ['a Buffer as the secret', { secret: Buffer.from('key') }],
      ['no store', { store: undefined }],
      ['a store without destroy', { store: { get: () => {} } }],
      ['a store without get', { store: { destroy: () => {} } }],
      ['an oldRecord of another word', { oldRecord: 'drop' }],
      ['an empty name', { name: '' }],
      ['a path without a leading slash', { path: 'app' }],
      ['a map that is not a function', { map: 'userId' }],
      ['an until that is not a date', { until: 'soon' }],
    ])('throws a TypeError for %s', (_case, change) => {
      expect(() => new ExpressSessionAdopter({ ...valid(), ...change } as never)).toThrow(TypeError);
    });

    it('throws a TypeError without options', () => {
      expect(() => new ExpressSessionAdopter(undefined as never)).toThrow(TypeError);
    });

    it('its TypeErrors never hold the secret given', () => {
      for (const secret of [['sekrit-value-123', ''], ['sekrit-value-123', 7]]) {
        try {
          new ExpressSessionAdopter({ secret, store: new CountingStore() } as never);
          throw new Error('no TypeError');
        } catch (error) {
          expect(error).toBeInstanceOf(TypeError);
          expect(String((error as Error).message)).not.toContain('sekrit');
        }
      }
    });

    it('a manager refuses it when the manager writes a cookie of the same name', () => {
      expect(
        () =>
          new SessionManager(new MemorySessionStore(), {
            adopt: new ExpressSessionAdopter({ secret: 'k', store: new CountingStore(), name: DEFAULT_COOKIE_NAME }),
          }),
      ).toThrow(TypeError);
    });
  });

  describe('.adopt', () => {
    it("carries the record's values without express-session's cookie bookkeeping", async () => {
      const adopter = new ExpressSessionAdopter({ secret: 'new', store });
      const adopted = await adopter.adopt(request(`connect.sid=${signed(sid, 'new')}`), NOW);
      expect(adopted?.values).toEqual({ userId: 'u1', cart: ['pen', 'ink'] });
      expect(adopted?.values).not.toHaveProperty('cookie');
      expect(store.gets).toEqual([sid]);
    });

    it('adopts sessions signed by any secret of the list (rotation), and reads the percent-encoded cookie as express-session does', async () => {
      const adopter = new ExpressSessionAdopter({ secret: ['new', 'old', 'older'], store });
      for (const secret of ['new', 'old', 'older']) {
        const value = signed(sid, secret);
        expect((await adopter.adopt(request(`connect.sid=${value}`), NOW))?.values).toMatchObject({ userId: 'u1' });
        expect((await adopter.adopt(request(`a=b; connect.sid=${encodeURIComponent(value)}`), NOW))?.values).toMatchObject({
          userId: 'u1',
        });
      }
    });

    it('expires the old cookie with the same name, Path and Domain', async () => {
      const adopter = new ExpressSessionAdopter({ secret: 'k', store, name: 'app.sid', path: '/shop', domain: 'app.test' });
      const adopted = await adopter.adopt(request(`app.sid=${signed(sid, 'k')}`), NOW);
      expect(adopted?.expireCookies).toHaveLength(1);
      const line = adopted!.expireCookies[0]!;
      expect(line).toMatch(/^app\.sid=;/);
      expect(line).toMatch(/; Max-Age=0/i);
      expect(line).toMatch(/; Path=\/shop/i);
      expect(line).toMatch(/; Domain=app\.test/i);
      expect(line).toMatch(/; Expires=Thu, 01 Jan 1970 00:00:00 GMT/i);
    });

    it.each<[string, (sid: string) => string]>([
      ['an unsigned s:sid', (id) => `s:${id}`],
      ['a raw sid without s:', (id) => id],
      ['a raw signed value without s:', (id) => sign(id, 'k')],
      ['a sid signed with a foreign secret', (id) => signed(id, 'foreign')],
      ['a tampered signature', (id) => {
        const value = signed(id, 'k');
        const last = value.at(-1) === 'A' ? 'B' : 'A';
        return value.slice(0, -1) + last;
      }],
      ['a truncated signature', (id) => signed(id, 'k').slice(0, -1)],
      ['a signature with the = padding kept', (id) => `s:${id}.${createHmac('sha256', 'k').update(id).digest('base64')}`],
      ['another sid under the old signature', (id) => {
        const [, mac] = signed(id, 'k').split('.');
        return `s:${id.slice(0, -1)}${id.at(-1) === 'x' ? 'y' : 'x'}.${mac}`;
      }],
      ['a sid with no signature after the dot', (id) => `s:${id}.`],
      ['a signature alone', (id) => `s:.${signed(id, 'k').split('.')[1]}`],
    ])('refuses %s, and never hands its sid to the store', async (_case, forge) => {
      const adopter = new ExpressSessionAdopter({ secret: 'k', store });
      expect(await adopter.adopt(request(`connect.sid=${forge(sid)}`), NOW)).toBeUndefined();
      expect(store.gets).toEqual([]);
    });

    it('adopts nothing without the cookie, or from another cookie of the same value', async () => {
      const adopter = new ExpressSessionAdopter({ secret: 'k', store });
      expect(await adopter.adopt(request(), NOW)).toBeUndefined();
      expect(await adopter.adopt(request(`other.sid=${signed(sid, 'k')}`), NOW)).toBeUndefined();
      expect(await adopter.adopt(request('connect.sid='), NOW)).toBeUndefined();
      expect(store.gets).toEqual([]);
    });

    it('refuses a signed sid whose record is gone', async () => {
      const adopter = new ExpressSessionAdopter({ secret: 'k', store });
      const ghost = randomBytes(24).toString('base64url');
      expect(await adopter.adopt(request(`connect.sid=${signed(ghost, 'k')}`), NOW)).toBeUndefined();
      expect(store.gets).toEqual([ghost]);
    });

    it("refuses a record whose cookie.expires is at or before the manager's clock, or is not a date", async () => {
      const adopter = new ExpressSessionAdopter({ secret: 'k', store });
      const at = Date.now() + 3_600_000; // in the future for MemoryStore's own check
      const cookie = `connect.sid=${signed(sid, 'k')}`;
      await store.put(sid, record({ userId: 'u1' }, new Date(at).toISOString()));
      expect(await adopter.adopt(request(cookie), at - 1)).toBeDefined();
      expect(await adopter.adopt(request(cookie), at)).toBeUndefined();
      expect(await adopter.adopt(request(cookie), at + 1)).toBeUndefined();
      await store.put(sid, record({ userId: 'u1' }, 'not a date'));
      expect(await adopter.adopt(request(cookie), NOW)).toBeUndefined();
      // A browser-session cookie (no expires) lives as long as its record.
      await store.put(sid, record({ userId: 'u1' }, null));
      expect((await adopter.adopt(request(cookie), at * 2))?.values).toEqual({ userId: 'u1' });
    });

    it("a map turns passport's user into the new session's values; answering undefined adopts nothing", async () => {
      await store.put(sid, record({ passport: { user: 'u7' }, cart: ['pen'] }));
      const other = randomBytes(24).toString('base64url');
      await store.put(other, record({ cart: ['ink'] }));
      const adopter = new ExpressSessionAdopter<{ userId: string; cart: string[] }>({
        secret: 'k',
        store,
        map: (data) => {
          const user = (data.passport as { user?: string } | undefined)?.user;
          return user === undefined ? undefined : { userId: user, cart: data.cart as string[] };
        },
      });
      expect((await adopter.adopt(request(`connect.sid=${signed(sid, 'k')}`), NOW))?.values).toEqual({ userId: 'u7', cart: ['pen'] });
      expect(await adopter.adopt(request(`connect.sid=${signed(other, 'k')}`), NOW)).toBeUndefined();
    });

    it('without a map, keeps passport as it is', async () => {
      await store.put(sid, record({ passport: { user: 'u7' } }));
      const adopter = new ExpressSessionAdopter({ secret: 'k', store });
      expect((await adopter.adopt(request(`connect.sid=${signed(sid, 'k')}`), NOW))?.values).toEqual({ passport: { user: 'u7' } });
    });

    it('adopts nothing from the until cut-off on', async () => {
      const adopter = new ExpressSessionAdopter({ secret: 'k', store, until: new Date(NOW) });
      const cookie = `connect.sid=${signed(sid, 'k')}`;
      expect(await adopter.adopt(request(cookie), NOW - 1)).toBeDefined();
      expect(await adopter.adopt(request(cookie), NOW)).toBeUndefined();
    });

    it('property: no mutation of a valid cookie value is adopted unless it equals the original', async () => {
      const adopter = new ExpressSessionAdopter({ secret: ['k', 'old'], store });
      const original = signed(sid, 'old');
      const alphabet = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_.:s'.split(''));
      const mutation = fc.oneof(
        fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), char: alphabet }),
        fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), char: alphabet }),
        fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), char: alphabet }),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), async (mutations) => {
          let value = original;
          for (const { kind, at, char } of mutations) {
            const i = at % (value.length + 1);
            value =
              kind === 'replace' ? value.slice(0, i) + char + value.slice(i + 1)
              : kind === 'insert' ? value.slice(0, i) + char + value.slice(i)
              : value.slice(0, i) + value.slice(i + 1);
          }
          const adopted = await adopter.adopt(request(`connect.sid=${encodeURIComponent(value)}`), NOW);
          expect(adopted === undefined).toBe(value !== original);
        }),
        { numRuns: 500 },
      );
    });
  });

  describe('when the old store fails', () => {
    const failing = (get: ExpressSessionStoreLike['get']): ExpressSessionStoreLike => ({
      get,
      destroy: (_sid, callback) => callback?.(),
      set: (_sid, _session, callback) => callback?.(),
    });
    const cookie = () => `connect.sid=${signed(sid, 'k')}`;

    it('rejects when get calls back with an error', async () => {
      const adopter = new ExpressSessionAdopter({ secret: 'k', store: failing((_sid, callback) => setImmediate(() => callback(new Error('down')))) });
      await expect(adopter.adopt(request(cookie()), NOW)).rejects.toThrow(Error);
    });

    it('rejects when get throws, or returns a rejected promise without calling back', async () => {
      const throwing = new ExpressSessionAdopter({ secret: 'k', store: failing(() => { throw new Error('down'); }) });
      await expect(throwing.adopt(request(cookie()), NOW)).rejects.toThrow(Error);
      const rejecting = new ExpressSessionAdopter({ secret: 'k', store: failing(() => Promise.reject(new Error('down'))) });
      await expect(rejecting.adopt(request(cookie()), NOW)).rejects.toThrow(Error);
    });

    it("reads an ENOENT error as no session, as express-session does (file stores)", async () => {
      const enoent = Object.assign(new Error('no file'), { code: 'ENOENT' });
      const adopter = new ExpressSessionAdopter({ secret: 'k', store: failing((_sid, callback) => callback(enoent)) });
      expect(await adopter.adopt(request(cookie()), NOW)).toBeUndefined();
    });
  });

  describe('retire', () => {
    it("with 'expire' (the default), writes the old record back to expire after the grace, which the adopter then refuses", async () => {
      for (const [grace, ms] of [[undefined, 30_000], ['5s', 5000]] as const) {
        const adopter = new ExpressSessionAdopter({ secret: 'k', store, ...(grace === undefined ? {} : { grace }) });
        const adopted = await adopter.adopt(request(`connect.sid=${signed(sid, 'k')}`), NOW);
        await adopted!.retire!(false);
        expect(store.destroys).toEqual([]);
        const shortened = await store.read(sid);
        // The values as they were; the cookie's expiry the grace from the adoption.
        expect(shortened).toMatchObject({ userId: 'u1', cart: ['pen', 'ink'], cookie: { path: '/', originalMaxAge: ms } });
        expect(Date.parse((shortened!.cookie as { expires: string }).expires)).toBe(NOW + ms);
        // Another request of the same browser within the grace is adopted too; none after it.
        expect((await adopter.adopt(request(`connect.sid=${signed(sid, 'k')}`), NOW + ms - 1))?.values).toEqual({ userId: 'u1', cart: ['pen', 'ink'] });
        expect(await adopter.adopt(request(`connect.sid=${signed(sid, 'k')}`), NOW + ms)).toBeUndefined();
        await store.put(sid, record({ userId: 'u1', cart: ['pen', 'ink'] }));
      }
      expect(store.sets).toEqual([sid, sid]);
    });

    it("with 'expire', a log-out in the adopting request deletes the old record", async () => {
      const adopter = new ExpressSessionAdopter({ secret: 'k', store });
      const adopted = await adopter.adopt(request(`connect.sid=${signed(sid, 'k')}`), NOW);
      await adopted!.retire!(true);
      expect(store.sets).toEqual([]);
      expect(store.destroys).toEqual([sid]);
      expect(await store.has(sid)).toBe(false);
    });

    it("refuses 'expire' over a store without set, a grace under a second, and a grace without 'expire'", () => {
      const { set: _set, ...withoutSet } = { get: store.get.bind(store), destroy: store.destroy.bind(store), set: store.set.bind(store) };
      expect(() => new ExpressSessionAdopter({ secret: 'k', store: withoutSet })).toThrow(TypeError);
      expect(() => new ExpressSessionAdopter({ secret: 'k', store: withoutSet, oldRecord: 'keep' })).not.toThrow();
      expect(() => new ExpressSessionAdopter({ secret: 'k', store, grace: 999 })).toThrow(TypeError);
      expect(() => new ExpressSessionAdopter({ secret: 'k', store, oldRecord: 'delete', grace: '5s' })).toThrow(TypeError);
    });

    it("with 'keep', keeps the old record after a save, and deletes it after a log-out", async () => {
      const adopter = new ExpressSessionAdopter({ secret: 'k', store, oldRecord: 'keep' });
      const adopted = await adopter.adopt(request(`connect.sid=${signed(sid, 'k')}`), NOW);
      await adopted!.retire!(false);
      expect(store.destroys).toEqual([]);
      expect(await store.has(sid)).toBe(true);
      await adopted!.retire!(true);
      expect(store.destroys).toEqual([sid]);
      expect(await store.has(sid)).toBe(false);
    });

    it("with 'delete', deletes the old record after a save", async () => {
      // (and writes nothing back)
      expect(store.sets).toEqual([]);
      const adopter = new ExpressSessionAdopter({ secret: 'k', store, oldRecord: 'delete' });
      const adopted = await adopter.adopt(request(`connect.sid=${signed(sid, 'k')}`), NOW);
      await adopted!.retire!(false);
      expect(store.destroys).toEqual([sid]);
      expect(await store.has(sid)).toBe(false);
    });

    it('rejects when destroy fails', async () => {
      const broken: ExpressSessionStoreLike = {
        get: (id, callback) => store.get(id, callback),
        destroy: (_sid, callback) => callback?.(new Error('down')),
      };
      const adopter = new ExpressSessionAdopter({ secret: 'k', store: broken, oldRecord: 'delete' });
      const adopted = await adopter.adopt(request(`connect.sid=${signed(sid, 'k')}`), NOW);
      await expect(Promise.resolve(adopted!.retire!(false))).rejects.toThrow(Error);
    });
  });
});
