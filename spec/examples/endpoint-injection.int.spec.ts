import { parseSetCookie } from 'cookie';
import { parseTranscript, runExample, type Exchange, type ExampleRun } from './processes.js';

describe('examples/endpoint-injection', () => {
  let run: ExampleRun;
  let exchanges: Exchange[];

  beforeAll(async () => {
    run = await runExample('endpoint-injection');
    exchanges = parseTranscript(run.stdout);
  });

  it('runs to the end and exits 0 without complaint', () => {
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(exchanges).toHaveLength(9);
  });

  it('stores nothing and sends no cookie until something is set', () => {
    expect(exchanges[0]).toMatchObject({ request: 'GET /', status: 200, body: { user: null, cart: [], flash: null } });
    expect(exchanges[0]!.setCookies).toEqual([]);
  });

  it('keeps the cart across the login and shows the flash message exactly once', () => {
    expect(exchanges[1]!.body).toEqual({ cart: ['tea'] });
    expect(exchanges[2]).toMatchObject({ request: 'POST /login name=Grace', body: { user: 'Grace' } });
    expect(exchanges[3]!.body).toEqual({ user: 'Grace', cart: ['tea'], flash: 'Welcome, Grace!' });
    expect(exchanges[4]!.body).toEqual({ user: 'Grace', cart: ['tea'], flash: null });
  });

  it('puts a server-side id in the cookie', () => {
    const cookie = parseSetCookie(exchanges[1]!.setCookies[0]!);
    expect(cookie.name).toBe('__Host-session');
    // 256 random bits as base64url.
    expect(cookie.value).toBe('<id, 43 chars>');
  });

  it('after renewToken, the cookie from before the login sees the session as it was, read-only, never the log-in', () => {
    expect(exchanges[5]!.request).toBe('GET / (the cookie from before the login)');
    expect(exchanges[5]!.body).toEqual({ user: null, cart: ['tea'], flash: null });
  });

  it('after logout, a new session carries only the goodbye, and a copy of the old cookie is revoked', () => {
    expect(exchanges[6]!.body).toEqual({ user: null });
    expect(exchanges[7]!.body).toEqual({ user: null, cart: [], flash: 'Goodbye!' });
    expect(exchanges[8]!.request).toBe('GET / (a copy of the cookie from before the logout)');
    expect(exchanges[8]!.body).toEqual({ user: null, cart: [], flash: null });
  });
});
