import { DEFAULT_COOKIE_NAME } from 'kit-session';
import { CookieJar } from '../support/cookieJar.js';
import { TokenClient } from '../support/transportClients.js';
import { startExample, stopChild, type RunningExample } from './processes.js';

const json = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

describe('examples/header-transport', () => {
  let example: RunningExample;
  const url = (path: string): string => `${example.url}${path}`;

  beforeAll(async () => {
    example = await startExample('header-transport');
  });
  afterAll(async () => {
    await stopChild(example.child);
  });

  it('logs a native client in by header, serves it by Bearer token and logs it out, with no cookie', async () => {
    const app = new TokenClient();
    const login = await app.fetch(url('/login'), json({ name: 'Ada' }));
    expect(login.status).toBe(200);
    expect(await login.json()).toEqual({ user: 'Ada' });
    expect(app.token).toMatch(/^[\w-]{40,}$/);
    expect(login.headers.get('session-token-max-age')).toBe(String(24 * 60 * 60));
    expect(login.headers.get('cache-control')).toBe('no-store');
    expect(login.headers.getSetCookie()).toEqual([]);
    expect(login.headers.get('vary')).toBeNull();

    for (const visits of [1, 2]) {
      const me = await app.fetch(url('/me'));
      expect(await me.json()).toEqual({ user: 'Ada', visits });
      expect(me.headers.getSetCookie()).toEqual([]);
    }

    const token = app.token;
    const logout = await app.fetch(url('/logout'), { method: 'POST' });
    expect(await logout.json()).toEqual({ user: null });
    expect(logout.headers.get('session-token')).toBe('');
    expect(logout.headers.get('session-token-max-age')).toBe('0');
    expect(app.token).toBeUndefined();
    // The server-side store ended it: the old token is nobody now.
    expect(await (await new TokenClient(token).fetch(url('/me'))).json()).toEqual({ user: null, visits: 1 });
  });

  it('logs a browser in by cookie beside it, and neither token opens through the other transport', async () => {
    const browser = new CookieJar();
    const login = await browser.fetch(url('/login'), json({ name: 'Grace' }));
    expect(await login.json()).toEqual({ user: 'Grace' });
    expect(login.headers.get('session-token')).toBeNull();
    const cookie = browser.get(DEFAULT_COOKIE_NAME);
    expect(cookie).toBeDefined();

    const app = new TokenClient();
    await app.fetch(url('/login'), json({ name: 'Ada' }));

    // The browser's cookie as a Bearer token, and the app's token as a cookie: nobody.
    expect(await (await new TokenClient(cookie).fetch(url('/me'))).json()).toEqual({ user: null, visits: 1 });
    const planted = new CookieJar();
    planted.set(DEFAULT_COOKIE_NAME, app.token!);
    expect(await (await planted.fetch(url('/me'))).json()).toEqual({ user: null, visits: 1 });

    expect(await (await browser.fetch(url('/me'))).json()).toEqual({ user: 'Grace', visits: 1 });
    expect(await (await app.fetch(url('/me'))).json()).toEqual({ user: 'Ada', visits: 1 });
  });

  it('refuses a cross-site POST that comes with the cookie, and not a Bearer request from the same client', async () => {
    const browser = new CookieJar();
    await browser.fetch(url('/login'), json({ name: 'Grace' }));
    const forged = await browser.fetch(url('/logout'), { method: 'POST', headers: { origin: 'https://evil.test' } });
    expect(forged.status).toBe(403);
    expect(forged.headers.getSetCookie()).toEqual([]);
    expect(await (await browser.fetch(url('/me'))).json()).toEqual({ user: 'Grace', visits: 1 });
    // Same origin: allowed.
    const own = await browser.fetch(url('/logout'), { method: 'POST', headers: { origin: example.url } });
    expect(own.status).toBe(200);

    // A Bearer request needs no such check: no other site can make a browser send one.
    const app = new TokenClient();
    await app.fetch(url('/login'), json({ name: 'Ada' }));
    const withOrigin = await app.fetch(url('/logout'), { method: 'POST', headers: { origin: 'https://app.test' } });
    expect(withOrigin.status).toBe(200);
    expect(app.token).toBeUndefined();
  });

  it('prints nothing but its URL', () => {
    const { stdout, stderr } = example.output();
    expect(stderr).toBe('');
    expect(stdout.trim()).toMatch(/^listening on http:\/\/127\.0\.0\.1:\d+$/);
  });

  // A browser adds stored HTTP-authentication credentials to Authorization by itself:
  // the origin check is skipped only for a session that comes by a Bearer token.
  it.each([
    ['Basic credentials (a site behind HTTP authentication)', 'Basic dXNlcjpwYXNz'],
    ['Negotiate credentials (an intranet with integrated sign-in)', 'Negotiate YIIBhwYGKwYBBQUCoIIBezCCAXeg'],
  ])('refuses a cross-site POST that comes by cookie with %s the browser added itself', async (_label, authorization) => {
    const browser = new CookieJar();
    await browser.fetch(url('/login'), json({ name: 'Grace' }));
    const forged = await browser.fetch(url('/logout'), {
      method: 'POST',
      headers: { origin: 'https://evil.test', authorization },
    });
    expect(forged.status).toBe(403);
    // The user is still logged in.
    expect(await (await browser.fetch(url('/me'))).json()).toEqual({ user: 'Grace', visits: 1 });
  });
});
