import { parseSetCookie } from 'cookie';
import { Context, createCookieSessions, EncryptionKey, importKeyFromEnv, importRawKey, SessionManager } from 'kit-session';
import { randomBytes } from 'node:crypto';
import { FakeClock } from './support/FakeClock.js';

async function roundTrip(manager: SessionManager<{ user: string }>, cookieName: string) {
  const context = await manager.extractSession(Context.background, new Request('https://app.test/'));
  manager.session(context).set('user', 'ada');
  const headers = new Headers();
  await manager.injectSession(context, headers);
  const cookie = parseSetCookie(headers.getSetCookie()[0]!);
  const again = await manager.extractSession(
    Context.background,
    new Request('https://app.test/', { headers: { cookie: `${cookieName}=${cookie.value}` } }),
  );
  return { cookie, user: manager.session(again).get('user') };
}

describe(createCookieSessions, () => {
  it('makes a manager on the encrypted cookie store: the values come back, and the cookie does not show them', async () => {
    const keys = [await importRawKey(randomBytes(32).toString('base64'))];
    const manager = createCookieSessions<{ user: string }>({ keys });
    const { cookie, user } = await roundTrip(manager, '__Host-session');
    expect(cookie.name).toBe('__Host-session');
    expect(cookie.httpOnly).toBe(true);
    expect(Buffer.from(cookie.value!, 'base64url').includes('ada')).toBe(false);
    expect(user).toBe('ada');
  });

  it("takes the manager's options: the cookie name is bound into the seal, the lifetime and clock apply", async () => {
    const keys = [await importRawKey(randomBytes(32).toString('base64'))];
    const clock = new FakeClock();
    const manager = createCookieSessions<{ user: string }>({ keys, cookie: { name: '__Host-app' }, lifetime: 60_000, clock });
    const { cookie, user } = await roundTrip(manager, '__Host-app');
    expect(cookie.name).toBe('__Host-app');
    expect(cookie.maxAge).toBe(60);
    expect(user).toBe('ada');
    clock.advance(60_000);
    const late = await manager.extractSession(
      Context.background,
      new Request('https://app.test/', { headers: { cookie: `__Host-app=${cookie.value}` } }),
    );
    expect(manager.session(late).status).toBe('new');
  });

  it('refuses missing keys and unknown options with a TypeError', async () => {
    const keys = [await importRawKey(randomBytes(32).toString('base64'))];
    expect(() => createCookieSessions({ keys: [] })).toThrow(TypeError);
    expect(() => createCookieSessions(undefined as never)).toThrow(TypeError);
    expect(() => createCookieSessions({ keys, maxAge: 60 } as never)).toThrow(TypeError);
  });
});

describe(importKeyFromEnv, () => {
  it('imports the key a variable holds', async () => {
    const key = await importKeyFromEnv('APP_KEY', { APP_KEY: randomBytes(32).toString('base64') });
    expect(key).toBeInstanceOf(EncryptionKey);
    expect(key.bits).toBe(256);
  });

  it.each([
    ['unset', {}],
    ['empty', { APP_KEY: ' ' }],
    ['not base64', { APP_KEY: 'not a key!' }],
    ['the wrong length', { APP_KEY: randomBytes(20).toString('base64') }],
    ['a list (importKeysFromEnv reads one)', { APP_KEY: `${randomBytes(32).toString('base64')},${randomBytes(32).toString('base64')}` }],
  ])('names the variable, and never its value, when it is %s', async (_case, env: Record<string, string>) => {
    const failure = await importKeyFromEnv('APP_KEY', env).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(TypeError);
    expect((failure as Error).message).toContain('APP_KEY');
    if (env.APP_KEY !== undefined && env.APP_KEY.trim() !== '') {
      expect((failure as Error).message).not.toContain(env.APP_KEY);
    }
  });

  it('reads process.env unless told otherwise', async () => {
    process.env.KIT_SESSION_TEST_KEY = randomBytes(16).toString('base64');
    try {
      await expect(importKeyFromEnv('KIT_SESSION_TEST_KEY')).resolves.toMatchObject({ bits: 128 });
    } finally {
      delete process.env.KIT_SESSION_TEST_KEY;
    }
  });
});
