import { parseSetCookie } from 'cookie';
import { parseTranscript, runExample, type Exchange, type ExampleRun } from './processes.js';

describe('examples/container-module', () => {
  let run: ExampleRun;
  let exchanges: Exchange[];

  beforeAll(async () => {
    run = await runExample('container-module');
    exchanges = parseTranscript(run.stdout);
  });

  it('runs to the end and exits 0 without complaint', () => {
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(exchanges.map((exchange) => exchange.request)).toEqual([
      'GET /count',
      'GET /count',
      'POST /login name=Ada',
      'GET /count',
      'POST /logout',
      'GET /count',
    ]);
  });

  it('counts across requests through the cookie, keeps the login, and starts over after logout', () => {
    expect(exchanges.map((exchange) => [exchange.status, exchange.body])).toEqual([
      [200, { visits: 1, user: null }],
      [200, { visits: 2, user: null }],
      [200, { user: 'Ada' }],
      [200, { visits: 3, user: 'Ada' }],
      [200, { user: null }],
      [200, { visits: 1, user: null }],
    ]);
  });

  it('sends the default secure cookie, with Vary: Cookie and Cache-Control: private', () => {
    const [first] = exchanges;
    expect(first!.setCookies).toHaveLength(1);
    const cookie = parseSetCookie(first!.setCookies[0]!);
    expect(cookie.name).toBe('__Host-session');
    expect(cookie.value).toMatch(/^<sealed, \d+ chars>$/);
    expect(cookie).toEqual({
      name: '__Host-session',
      value: expect.stringMatching(/^<sealed, \d+ chars>$/),
      maxAge: 86400,
      path: '/',
      httpOnly: true,
      secure: true,
      sameSite: 'lax',
    });
    expect(first!.headers).toMatchObject({ vary: 'Cookie', 'cache-control': 'private' });
  });

  it('expires the cookie on logout', () => {
    const logout = exchanges[4]!;
    expect(logout.setCookies).toHaveLength(1);
    const cookie = parseSetCookie(logout.setCookies[0]!);
    expect(cookie.value).toBe('');
    expect(cookie.maxAge).toBe(0);
  });
});
