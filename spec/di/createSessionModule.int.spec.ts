import { Container } from 'inversify';
import { Context, CookieTransport, EncryptingStoreDecorator, HeaderTransport, importRawKey, MemorySessionStore, SessionManager, SessionRequestHook, SessionResponseHook, type SessionStore } from 'kit-session';
import { createSessionModule, SESSION_INNER_STORE, SESSION_MANAGER, SESSION_REQUEST_HOOK, SESSION_RESPONSE_HOOK, SESSION_STORE } from 'kit-session/di';
import { randomBytes } from 'node:crypto';
import { FakeClock } from '../support/FakeClock.js';
import { cookiePair, request } from '../support/http.js';

interface AppSession {
  userId: string;
}

async function keys() {
  return [await importRawKey(randomBytes(32).toString('base64'))];
}

describe(createSessionModule, () => {
  it('with keys, binds a singleton manager over the encrypted cookie store, and both hooks', async () => {
    const container = new Container();
    container.load(createSessionModule({ keys: await keys() }));
    const manager = container.get<SessionManager<AppSession>>(SESSION_MANAGER);
    expect(manager).toBeInstanceOf(SessionManager);
    expect(container.get(SESSION_MANAGER)).toBe(manager);
    expect(container.get(SESSION_STORE)).toBeInstanceOf(EncryptingStoreDecorator);
    const requestHook = container.get<SessionRequestHook>(SESSION_REQUEST_HOOK);
    const responseHook = container.get<SessionResponseHook>(SESSION_RESPONSE_HOOK);

    const context = await requestHook.handle(Context.background, request());
    manager.setValue(context, 'userId', 'ada');
    const headers = new Headers();
    await responseHook.handle(context, headers);
    expect(headers.get('set-cookie')).toMatch(/^__Host-session=/);

    const next = await requestHook.handle(Context.background, request(cookiePair(headers)));
    expect(manager.getValue(next, 'userId')).toBe('ada');
  });

  it('passes manager options and the clock through, and binds the cookie name as the seal label', async () => {
    const clock = new FakeClock();
    const sharedKeys = await keys();
    const container = new Container();
    container.load(createSessionModule({ keys: sharedKeys, clock, manager: { cookie: { name: '__Host-app' }, lifetime: '2m' } }));
    const manager = container.get<SessionManager<AppSession>>(SESSION_MANAGER);
    expect(manager.name).toBe('__Host-app');

    const context = await manager.extractSession(Context.background, request());
    manager.setValue(context, 'userId', 'ada');
    const headers = new Headers();
    await manager.injectSession(context, headers);
    expect(headers.get('set-cookie')).toContain('Max-Age=120;');

    // A manager with the same keys but the default cookie name cannot open it.
    const other = new Container();
    other.load(createSessionModule({ keys: sharedKeys, clock, manager: { cookie: { name: '__Host-session' } } }));
    const otherManager = other.get<SessionManager<AppSession>>(SESSION_MANAGER);
    const value = cookiePair(headers)!.split('=')[1];
    const foreign = await otherManager.extractSession(Context.background, request(`__Host-session=${value}`));
    expect(otherManager.getStatus(foreign)).toBe('new');

    clock.advance(119_999);
    const live = await manager.extractSession(Context.background, request(cookiePair(headers)));
    expect(manager.getStatus(live)).toBe('unmodified');
    clock.advance(1);
    const expired = await manager.extractSession(Context.background, request(cookiePair(headers)));
    expect(manager.getStatus(expired)).toBe('new');
  });

  it('passes transports through: the hooks serve a browser by cookie and a native client by header', async () => {
    const container = new Container();
    container.load(createSessionModule({ keys: await keys(), manager: { transport: [new CookieTransport(), new HeaderTransport()] } }));
    const manager = container.get<SessionManager<AppSession>>(SESSION_MANAGER);
    const requestHook = container.get<SessionRequestHook>(SESSION_REQUEST_HOOK);
    const responseHook = container.get<SessionResponseHook>(SESSION_RESPONSE_HOOK);
    const bearer = (token?: string) =>
      new Request('http://localhost/', { headers: { authorization: token === undefined ? 'Bearer' : `Bearer ${token}` } });

    const context = await requestHook.handle(Context.background, bearer());
    manager.setValue(context, 'userId', 'ada');
    const headers = new Headers();
    await responseHook.handle(context, headers);
    const token = headers.get('session-token');
    expect(token).toMatch(/^[\w-]{40,}$/);
    expect(headers.get('set-cookie')).toBeNull();
    expect(headers.get('cache-control')).toBe('no-store');
    expect(manager.getValue(await requestHook.handle(Context.background, bearer(token!)), 'userId')).toBe('ada');
    // The header token is no cookie.
    const asCookie = await requestHook.handle(Context.background, request(`__Host-session=${token}`));
    expect(manager.getStatus(asCookie)).toBe('new');
  });

  it('without keys, uses the store the app binds', async () => {
    const container = new Container();
    const store = new MemorySessionStore<AppSession>();
    container.bind<SessionStore<AppSession>>(SESSION_STORE).toConstantValue(store);
    container.load(createSessionModule());
    const manager = container.get<SessionManager<AppSession>>(SESSION_MANAGER);
    const context = await manager.extractSession(Context.background, request());
    manager.setValue(context, 'userId', 'ada');
    await manager.injectSession(context, new Headers());
    expect(store.size).toBe(1);
  });

  it("with innerStore 'app', encrypts around the store the app binds", async () => {
    const container = new Container();
    const inner = new MemorySessionStore<AppSession>();
    container.bind<SessionStore<AppSession>>(SESSION_INNER_STORE).toConstantValue(inner);
    container.load(createSessionModule({ keys: await keys(), innerStore: 'app', encryptValues: true }));
    const manager = container.get<SessionManager<AppSession>>(SESSION_MANAGER);
    const context = await manager.extractSession(Context.background, request());
    manager.setValue(context, 'userId', 'ada-lovelace');
    const headers = new Headers();
    await manager.injectSession(context, headers);
    expect(inner.size).toBe(1);
    expect(container.get(SESSION_STORE)).toBeInstanceOf(EncryptingStoreDecorator);
    const next = await manager.extractSession(Context.background, request(cookiePair(headers)));
    expect(manager.getValue(next, 'userId')).toBe('ada-lovelace');
  });

  it('rejects bad options when the module is made, not on the first request', async () => {
    expect(() => createSessionModule({ manager: { cookie: { secure: false } } })).toThrow(TypeError);
    expect(() => createSessionModule({ innerStore: 'app' })).toThrow(TypeError);
    expect(() => createSessionModule({ keys: [], innerStore: 'nowhere' as 'app' })).toThrow(TypeError);
    expect(() => createSessionModule({ store: 'redis' } as never)).toThrow(/"store"/);
    expect(() => createSessionModule({ manager: { cookie: { expires: 60 } } } as never)).toThrow(/"expires"/);
  });

  it('the injectable classes are bound to the exported Symbol.for identifiers', () => {
    expect(SESSION_MANAGER).toBe(Symbol.for('kit-session.SessionManager'));
    expect(SESSION_STORE).toBe(Symbol.for('kit-session.SessionStore'));
  });
});
