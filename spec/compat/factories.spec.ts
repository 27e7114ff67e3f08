import { parseSetCookie } from 'cookie';
import { Context, createSessionManager, MemorySessionStore, SessionManager } from 'kit-session';
import { createEncryptSessionStoreMiddleware, EncryptingStoreDecorator, importRawKey } from 'kit-session/encrypt';
import { createSessionRequestFunction, createSessionResponseFunction } from 'kit-session/http';
import { CookieSessionStore, createCookieSessionStore } from 'kit-session/storage/cookie';
import { randomBytes } from 'node:crypto';

// The seed's factories are a few lines over the classes: each gives the class itself.

describe("the seed's factories", () => {
  it('createCookieSessionStore gives a CookieSessionStore, which a manager refuses alone', () => {
    const store = createCookieSessionStore<{ userId?: string }>();
    expect(store).toBeInstanceOf(CookieSessionStore);
    expect(() => createSessionManager({ storage: store })).toThrow(TypeError);
  });

  it('createEncryptSessionStoreMiddleware wraps a store in EncryptingStoreDecorator, with one key or several', async () => {
    const key = await importRawKey(randomBytes(32).toString('base64'));
    const old = await importRawKey(randomBytes(32).toString('base64'));
    const oldStore = createEncryptSessionStoreMiddleware(old)(createCookieSessionStore());
    const store = createEncryptSessionStoreMiddleware([key, old], { encryptValues: true })(createCookieSessionStore());
    expect(store).toBeInstanceOf(EncryptingStoreDecorator);
    const expireTime = Date.now() + 60_000;
    const token = await oldStore.setSession('', { values: { user: 'ada' }, expireTime, deadline: expireTime });
    expect(await store.getSession(token)).toMatchObject({ values: { user: 'ada' } });
  });

  it('createSessionManager takes { name, cookie, storage } and refuses options without a storage', () => {
    const storage = new MemorySessionStore();
    const manager = createSessionManager({ name: 'app', cookie: { name: 'sid', secure: false }, storage });
    expect(manager).toBeInstanceOf(SessionManager);
    expect([manager.name, manager.contextKey.name]).toEqual(['sid', 'app']);
    expect(() => createSessionManager({ name: 'app' })).toThrow(TypeError);
  });

  it('createSessionRequestFunction and createSessionResponseFunction load and save through the manager', async () => {
    const manager = createSessionManager<{ n: number }>({ storage: new MemorySessionStore() });
    const load = createSessionRequestFunction(manager);
    const save = createSessionResponseFunction(manager);
    const context = await load(Context.background, new Request('https://app.test/'));
    manager.setValue(context, 'n', 7);
    const headers = new Headers();
    expect(await save(context, headers)).toBe(context);
    const cookie = parseSetCookie(headers.getSetCookie()[0]!);
    const again = await load(Context.background, new Request('https://app.test/', { headers: { cookie: `${cookie.name}=${cookie.value}` } }));
    expect(manager.getValue(again, 'n')).toBe(7);
  });
});
