import { parseSetCookie } from 'cookie';
import { parseTranscript, runExample, type Exchange, type ExampleRun } from './processes.js';

describe('examples/manual-instantiation', () => {
  let run: ExampleRun;
  let exchanges: Exchange[];

  beforeAll(async () => {
    run = await runExample('manual-instantiation');
    exchanges = parseTranscript(run.stdout);
  });

  it('runs to the end and exits 0 without complaint', () => {
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(exchanges).toHaveLength(7);
  });

  it('uses the cookie options and the idle timeout it was built with', () => {
    const cookie = parseSetCookie(exchanges[0]!.setCookies[0]!);
    expect(cookie.name).toBe('__Host-app');
    expect(cookie.value).toMatch(/^<sealed, \d+ chars>$/);
    expect(cookie.sameSite).toBe('strict');
    // The idle timeout (30 minutes) ends the session before the lifetime (8 hours).
    expect(cookie.maxAge).toBe(1800);
  });

  it('counts and logs in through the sealed cookie', () => {
    expect(exchanges.slice(0, 3).map((exchange) => exchange.body)).toEqual([
      { visits: 1, user: null },
      { user: 'Linus' },
      { visits: 2, user: 'Linus' },
    ]);
  });

  it('treats a tampered cookie as a fresh session, not an error', () => {
    expect(exchanges[3]!.request).toBe('GET / (a tampered cookie)');
    expect(exchanges[3]!.status).toBe(200);
    expect(exchanges[3]!.body).toEqual({ visits: 1, user: null });
  });

  it('expires the cookie on logout', () => {
    const cookie = parseSetCookie(exchanges[4]!.setCookies[0]!);
    expect(cookie.value).toBe('');
    expect(cookie.maxAge).toBe(0);
    expect(exchanges[5]!.body).toEqual({ visits: 1, user: null });
  });

  it('cannot revoke a copy of the cookie taken before logout (a stateless store)', () => {
    expect(exchanges[6]!.request).toBe('GET / (a copy of the cookie from before the logout)');
    expect(exchanges[6]!.body).toEqual({ visits: 3, user: 'Linus' });
  });
});
