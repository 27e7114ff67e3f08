import { parseSetCookie } from 'cookie';
import { Context, CookieSessionStore, EncryptingStoreDecorator, importRawKey, MemorySessionStore, SessionManager, type SessionManagerOptions } from 'kit-session';
import { randomBytes } from 'node:crypto';

describe('SessionManager options', () => {
  const store = new MemorySessionStore();
  const build = (options: SessionManagerOptions) => () => new SessionManager(store, options);

  describe('when the manager is built', () => {
    it.each<[string, SessionManagerOptions]>([
      ['a __Host- name without Secure', { cookie: { name: '__Host-s', secure: false } }],
      ['a __Host- name with a Domain', { cookie: { name: '__Host-s', domain: 'example.com' } }],
      ['a __Host- name with a Path other than /', { cookie: { name: '__Host-s', path: '/app' } }],
      ['the default (__Host-) name without Secure', { cookie: { secure: false } }],
      ['a __Secure- name without Secure', { cookie: { name: '__Secure-s', secure: false } }],
      ['SameSite=None without Secure', { cookie: { name: 's', sameSite: 'none', secure: false } }],
      ['Partitioned without Secure', { cookie: { name: 's', partitioned: true, secure: false } }],
      ['an unknown SameSite', { cookie: { name: 's', sameSite: 'sideways' as 'lax' } }],
      ['an empty name', { cookie: { name: '' } }],
      ['a name with a space', { cookie: { name: 'my session' } }],
      ['a name with =', { cookie: { name: 'a=b' } }],
      ['a path with a semicolon', { cookie: { name: 's', path: '/a;b' } }],
      ['a zero lifetime', { lifetime: 0 }],
      ['a negative idle timeout', { idleTimeout: -1 }],
      ['an infinite lifetime', { lifetime: Infinity }],
      ['a NaN maxCookieSize', { maxCookieSize: Number.NaN }],
      ['an empty ownerKey', { ownerKey: '' }],
      ['a lower-case __host- name without Secure', { cookie: { name: '__host-s', secure: false } }],
      ['a mixed-case __HOST- name with a Domain', { cookie: { name: '__HOST-s', domain: 'example.com' } }],
      ['a lower-case __secure- name without Secure', { cookie: { name: '__secure-s', secure: false } }],
      ['an idleTouchInterval as long as the idleTimeout', { idleTimeout: 90_000, idleTouchInterval: 90_000 }],
      ['an idleTouchInterval without an idleTimeout', { idleTouchInterval: 1000 }],
      ['an idle timeout longer than the lifetime', { lifetime: 60_000, idleTimeout: 60_001 }],
      ['an idle timeout longer than the lifetime, in units', { lifetime: '1h', idleTimeout: '61m' }],
      ['an unknown option (cookie.expires)', { cookie: { expires: 3600 } } as never],
      ['both lifetime and cookie.maxAge', { lifetime: 3_600_000, cookie: { maxAge: 3600 } }],
      ['a cookie.maxAge that is not a positive number of seconds', { cookie: { maxAge: 0 } }],
      ['an empty context name', { name: '' }],
      ['an unknown option (a misspelt idleTimeout)', { idleTimout: 60_000 } as never],
      ['cookie options that are not an object', { cookie: 'sid' } as never],
    ])('rejects %s with TypeError', (_label, options) => {
      expect(build(options)).toThrow(TypeError);
    });

    it.each<[string, SessionManagerOptions]>([
      ['the defaults', {}],
      ['a __Secure- name with a Domain and Path', { cookie: { name: '__Secure-s', domain: 'example.com', path: '/app' } }],
      ['a plain name without Secure', { cookie: { name: 'sid', secure: false } }],
      ['SameSite=None with Secure', { cookie: { name: 's', sameSite: 'none' } }],
      ['an idle timeout as long as the lifetime', { lifetime: 300_000, idleTimeout: '5m' }],
    ])('accepts %s', (_label, options) => {
      expect(build(options)()).toBeInstanceOf(SessionManager);
    });
  });

  describe('durations: a number is milliseconds, a string names its unit', () => {
    const now = Date.UTC(2026, 0, 1);
    const clock = { now: () => now };

    /** The deadline and idle expiry of a new session under these options, in ms from now. */
    async function timesOf(options: SessionManagerOptions): Promise<{ deadline: number; expires: number }> {
      const manager = new SessionManager<{ n: number }>(new MemorySessionStore<{ n: number }>({}, clock), options, clock);
      const session = manager.session(await manager.extractSession(Context.background, new Request('https://app.test/')));
      return { deadline: session.deadline.getTime() - now, expires: session.expiresAt.getTime() - now };
    }

    it.each<[SessionManagerOptions, number, number]>([
      [{ lifetime: '8h', idleTimeout: '30m' }, 8 * 3_600_000, 30 * 60_000],
      [{ lifetime: 8 * 3_600_000, idleTimeout: 30 * 60_000 }, 8 * 3_600_000, 30 * 60_000],
      [{ lifetime: '7d' }, 7 * 86_400_000, 7 * 86_400_000],
      [{ lifetime: '1.5h', idleTimeout: '90s' }, 5_400_000, 90_000],
      [{ lifetime: '60000ms' }, 60_000, 60_000],
      [{ lifetime: 60_000 }, 60_000, 60_000],
      [{ cookie: { maxAge: 604_800 } }, 604_800_000, 604_800_000],
    ])('reads %p as the same durations in milliseconds', async (options, deadline, expires) => {
      expect(await timesOf(options)).toEqual({ deadline, expires });
    });

    it.each<[string, SessionManagerOptions, string]>([
      ['an hour given as seconds to lifetime', { lifetime: 3600 }, 'lifetime'],
      ['a millisecond under a minute', { lifetime: 59_999 }, 'lifetime'],
      ['half an hour given as seconds to idleTimeout', { idleTimeout: 1800 }, 'idleTimeout'],
      ['half a day given as seconds to renewalInterval', { renewalInterval: 43_200 }, 'renewalInterval'],
      ['30 seconds given as seconds to renewalGrace', { renewalGrace: 30 }, 'renewalGrace'],
    ])('refuses %s with a TypeError that names the option and says numbers are milliseconds', (_case, options, name) => {
      expect(build(options)).toThrow(TypeError);
      expect(build(options)).toThrow(new RegExp(`^${name} .*milliseconds`));
    });

    it.each<[string, SessionManagerOptions]>([
      ['a lifetime under a minute, with its unit', { lifetime: '30s' }],
      ['an idleTimeout under a minute, with its unit', { idleTimeout: '59s' }],
      ['a renewalGrace under a second, with its unit', { renewalGrace: '500ms' }],
      ['a duration without its unit', { lifetime: '3600' as never }],
      ['a unit spelt out', { lifetime: '8 hours' as never }],
      ['a space before the unit', { lifetime: '8 h' as never }],
      ['an unknown unit', { lifetime: '2w' as never }],
      ['a negative duration', { lifetime: '-1h' as never }],
      ['an exponent', { lifetime: '1e3s' as never }],
      ['an empty string', { idleTimeout: '' as never }],
      ['null', { lifetime: null as never }],
      ['a cookie.maxAge given in milliseconds', { cookie: { maxAge: 86_400_000 } }],
      ['a cookie.maxAge past the 400 days a browser keeps a cookie', { cookie: { maxAge: 400 * 86_400 + 1 } }],
      ['a cookie.maxAge under a minute', { cookie: { maxAge: 59 } }],
      ['a cookie.maxAge as a string', { cookie: { maxAge: '1h' as never } }],
    ])('refuses %s with TypeError', (_case, options) => {
      expect(build(options)).toThrow(TypeError);
    });

    it('says seconds for cookie.maxAge, the one option counted in seconds', () => {
      expect(build({ cookie: { maxAge: 86_400_000 } })).toThrow(/^cookie\.maxAge .*seconds/);
      expect(build({ cookie: { maxAge: 30 } })).toThrow(/^cookie\.maxAge .*seconds/);
    });

    it.each<[string, SessionManagerOptions]>([
      ['renewalGrace 0 (off)', { renewalGrace: 0 }],
      ['renewalGrace of a second', { renewalGrace: 1000 }],
      ['renewalGrace with its unit', { renewalGrace: '45s' }],
      ['a short idleTouchInterval with its unit', { idleTimeout: '2m', idleTouchInterval: '500ms' }],
      ['renewalInterval with its unit', { renewalInterval: '15m' }],
      ['cookie.maxAge of 400 days', { cookie: { maxAge: 400 * 86_400 } }],
      ['cookie.maxAge of a minute', { cookie: { maxAge: 60 } }],
    ])('accepts %s', (_case, options) => {
      expect(build(options)()).toBeInstanceOf(SessionManager);
    });

    it('types a duration string by its unit: one without a known unit does not compile', () => {
      // @ts-expect-error a unit is needed
      const noUnit: SessionManagerOptions = { lifetime: '3600' };
      // @ts-expect-error units are abbreviated
      const spelt: SessionManagerOptions = { idleTimeout: '30 minutes' };
      // @ts-expect-error cookie.maxAge is a number of seconds
      const maxAge: SessionManagerOptions = { cookie: { maxAge: '1h' } };
      expect([noUnit, spelt, maxAge].every((options) => typeof options === 'object')).toBe(true);
    });
  });

  it('names the unknown option in its TypeError', () => {
    expect(build({ cookie: { expires: 3600 } } as never)).toThrow(/"expires"/);
    expect(build({ idleTimout: 1 } as never)).toThrow(/"idleTimout"/);
  });

  it('takes cookie.maxAge in seconds, as the lifetime', async () => {
    const clock = { now: () => Date.UTC(2026, 0, 1) };
    const manager = new SessionManager<{ n: number }>(new MemorySessionStore<{ n: number }>({}, clock), { cookie: { maxAge: 3600 } }, clock);
    const context = await manager.extractSession(Context.background, new Request('https://app.test/'));
    expect(manager.getDeadline(context).getTime()).toBe(clock.now() + 3_600_000);
    manager.setValue(context, 'n', 1);
    const headers = new Headers();
    await manager.injectSession(context, headers);
    expect(parseSetCookie(headers.getSetCookie()[0]!).maxAge).toBe(3600);
  });

  it('holds the session under the context key `name`, which need not be the cookie name', async () => {
    const manager = new SessionManager(store, { name: 'myAppSession', cookie: { name: '__Host-Session' } });
    expect(manager.contextKey.name).toBe('myAppSession');
    expect(manager.name).toBe('__Host-Session');
    const context = await manager.extractSession(Context.background, new Request('https://app.test/'));
    expect(context.value(manager.contextKey)).toBe(manager.session(context));
  });

  it('accepts the store again as options.storage, and refuses another one there', () => {
    expect(new SessionManager(store, { storage: store })).toBeInstanceOf(SessionManager);
    expect(() => new SessionManager(store, { storage: new MemorySessionStore() })).toThrow(TypeError);
  });

  it('speaks of bytes for maxCookieSize and of milliseconds for durations', () => {
    expect(build({ maxCookieSize: 0 })).toThrow(/bytes/);
    expect(build({ maxCookieSize: 0 })).not.toThrow(/milliseconds/);
    expect(build({ lifetime: -1 })).toThrow(/milliseconds/);
  });

  it.each([
    ['the seed\'s options object instead of a store', { name: 'session', cookie: {}, storage: {} }],
    ['null', null],
    ['a store without deleteSession', { getSession: async () => undefined, setSession: async () => '' }],
  ])('refuses %s as the store with TypeError when built', (_label, notAStore) => {
    expect(() => new SessionManager(notAStore as never)).toThrow(TypeError);
  });

  it('refuses a decorator around something that is not a store, and unknown decorator options', async () => {
    const keys = [await importRawKey(randomBytes(32).toString('base64'))];
    expect(() => new EncryptingStoreDecorator({} as never, { keys })).toThrow(TypeError);
    expect(() => new EncryptingStoreDecorator(new CookieSessionStore(), { keys, encryptvalues: true } as never)).toThrow(
      /"encryptvalues"/,
    );
    expect(() => new CookieSessionStore({ allowPlainText: true } as never)).toThrow(TypeError);
  });

  it('names the manager after its cookie', () => {
    expect(new SessionManager(store).name).toBe('__Host-session');
    expect(new SessionManager(store, { cookie: { name: 'sid', secure: false } }).name).toBe('sid');
  });

  it('refuses a bare CookieSessionStore, which would let the client read and forge its session', () => {
    expect(() => new SessionManager(new CookieSessionStore())).toThrow(TypeError);
    expect(new SessionManager(new CookieSessionStore({ allowPlaintext: true }))).toBeInstanceOf(SessionManager);
  });

  it('accepts a CookieSessionStore wrapped in encryption', async () => {
    const keys = [await importRawKey(randomBytes(32).toString('base64'))];
    expect(new SessionManager(new EncryptingStoreDecorator(new CookieSessionStore(), { keys }))).toBeInstanceOf(
      SessionManager,
    );
  });

  it('refuses an EncryptingStoreDecorator bound to another cookie name', async () => {
    const keys = [await importRawKey(randomBytes(32).toString('base64'))];
    const store = new EncryptingStoreDecorator(new CookieSessionStore(), { keys, cookieName: '__Host-a' });
    expect(() => new SessionManager(store)).toThrow(TypeError);
    expect(new SessionManager(store, { cookie: { name: '__Host-a' } }).name).toBe('__Host-a');
  });

  it('tells a decorator given no cookie name its own, which then seals under that name', async () => {
    const keys = [await importRawKey(randomBytes(32).toString('base64'))];
    const store = new EncryptingStoreDecorator(new CookieSessionStore(), { keys });
    const manager = new SessionManager(store, { cookie: { name: '__Host-app' } });
    expect(store.cookieName).toBe('__Host-app');
    const context = await manager.extractSession(Context.background, new Request('https://app.test/'));
    manager.setValue(context, 'user', 'ada');
    const headers = new Headers();
    await manager.injectSession(context, headers);
    const cookie = parseSetCookie(headers.getSetCookie()[0]!);
    expect(cookie.name).toBe('__Host-app');
    const again = await manager.extractSession(
      Context.background,
      new Request('https://app.test/', { headers: { cookie: `__Host-app=${cookie.value}` } }),
    );
    expect(manager.getValue(again, 'user')).toBe('ada');
    // The same seal does not open under another name.
    const other = new EncryptingStoreDecorator(new CookieSessionStore(), { keys, cookieName: '__Host-b' });
    expect(await other.getSession(cookie.value!)).toBeUndefined();
  });

  it('shares one decorator between two managers of different cookie names, each sealing under its own name', async () => {
    const keys = [await importRawKey(randomBytes(32).toString('base64'))];
    const store = new EncryptingStoreDecorator(new CookieSessionStore(), { keys });
    const a = new SessionManager(store, { cookie: { name: '__Host-a' } });
    const b = new SessionManager(store, { cookie: { name: '__Host-b' } });
    expect(store.cookieName).toBe('__Host-a');
    const context = await a.extractSession(Context.background, new Request('https://app.test/'));
    a.setValue(context, 'user', 'ada');
    const headers = new Headers();
    await a.injectSession(context, headers);
    const { value } = parseSetCookie(headers.getSetCookie()[0]!);
    const asA = await a.extractSession(Context.background, new Request('https://app.test/', { headers: { cookie: `__Host-a=${value}` } }));
    expect(a.getValue(asA, 'user')).toBe('ada');
    // a's cookie, sent under b's name, opens nothing: b seals and opens under '__Host-b'.
    const asB = await b.extractSession(Context.background, new Request('https://app.test/', { headers: { cookie: `__Host-b=${value}` } }));
    expect(b.getStatus(asB)).toBe('new');
    expect(new SessionManager(store, { cookie: { name: '__Host-a' } }).name).toBe('__Host-a');
  });

  it('refuses ownerKey with a store that keeps no owner index', () => {
    expect(() => new SessionManager(new CookieSessionStore({ allowPlaintext: true }), { ownerKey: 'userId' })).toThrow(
      TypeError,
    );
    expect(new SessionManager(store, { ownerKey: 'userId' })).toBeInstanceOf(SessionManager);
  });
});
