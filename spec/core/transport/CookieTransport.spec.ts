import { parseSetCookie } from 'cookie';
import { CookieTransport, MemorySessionStore, SessionManager, type CookieTransportOptions } from 'kit-session';
import { INSECURE_COOKIE, warningsDuring } from '../../support/warnings.js';

const NOW = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;

describe(CookieTransport, () => {
  describe('cookie name prefixes', () => {
    it.each<[string, CookieTransportOptions]>([
      // __Http-: Secure and HttpOnly.
      ['__Http- without Secure', { name: '__Http-s', secure: false }],
      ['__Http- without HttpOnly', { name: '__Http-s', httpOnly: false }],
      ['__http- (lower case) without HttpOnly', { name: '__http-s', httpOnly: false }],
      ['__HTTP- (upper case) without Secure', { name: '__HTTP-s', secure: false }],
      // __Host-Http-: the __Host- rules and HttpOnly.
      ['__Host-Http- without Secure', { name: '__Host-Http-s', secure: false }],
      ['__Host-Http- without HttpOnly', { name: '__Host-Http-s', httpOnly: false }],
      ['__Host-Http- with a Domain', { name: '__Host-Http-s', domain: 'example.com' }],
      ['__Host-Http- with a Path other than /', { name: '__Host-Http-s', path: '/app' }],
      ['__host-http- (lower case) without HttpOnly', { name: '__host-http-s', httpOnly: false }],
      ['__HOST-HTTP- (upper case) with a Domain', { name: '__HOST-HTTP-s', domain: 'example.com' }],
      ['__Host-hTtP- (mixed case) with a Path other than /', { name: '__Host-hTtP-s', path: '/app' }],
      // The older prefixes, for completeness.
      ['__Host- without Secure', { name: '__Host-s', secure: false }],
      ['__Host- with a Domain', { name: '__Host-s', domain: 'example.com' }],
      ['__Host- with a Path other than /', { name: '__Host-s', path: '/app' }],
      ['__Secure- without Secure', { name: '__Secure-s', secure: false }],
      ['__SECURE- (upper case) without Secure', { name: '__SECURE-s', secure: false }],
    ])('refuses %s with TypeError', (_label, options) => {
      expect(() => new CookieTransport(options)).toThrow(TypeError);
    });

    it.each<[string, CookieTransportOptions]>([
      ['__Http- with the defaults', { name: '__Http-s' }],
      ['__Http- with a Domain and a Path (only Secure and HttpOnly are its rules)', { name: '__Http-s', domain: 'example.com', path: '/app' }],
      ['__Host-Http- with the defaults', { name: '__Host-Http-s' }],
      ['__Host- without HttpOnly (not one of its rules)', { name: '__Host-s', httpOnly: false }],
      ['__Secure- without HttpOnly', { name: '__Secure-s', httpOnly: false }],
      ['a name that only starts like a prefix (__Https-)', { name: '__Https-s', secure: false, httpOnly: false }],
      ['a name that only starts like a prefix (__Hostname)', { name: '__Hostname', secure: false }],
      ['a single underscore (_Host-)', { name: '_Host-s', secure: false }],
    ])('accepts %s', (_label, options) => {
      expect(new CookieTransport(options).name).toBe(options.name);
    });

    it('checks the same rules when the manager builds its cookie from `cookie`', () => {
      const store = new MemorySessionStore();
      expect(() => new SessionManager(store, { cookie: { name: '__Host-Http-s', httpOnly: false } })).toThrow(TypeError);
      expect(() => new SessionManager(store, { cookie: { name: '__Http-s', secure: false } })).toThrow(TypeError);
      expect(new SessionManager(store, { cookie: { name: '__Host-Http-s' } }).name).toBe('__Host-Http-s');
    });

    it('writes a __Host-Http- cookie with the attributes its prefix needs', () => {
      const [[, line]] = new CookieTransport({ name: '__Host-Http-s' }).write('t', { expireTime: NOW + HOUR, now: NOW, persistent: undefined }, undefined) as [[string, string]];
      expect(parseSetCookie(line)).toMatchObject({ name: '__Host-Http-s', secure: true, httpOnly: true, path: '/' });
      expect(parseSetCookie(line).domain).toBeUndefined();
    });
  });

  describe('.write, persistence', () => {
    const setCookie = (transport: CookieTransport, persistent: boolean | undefined) => {
      const headers = transport.write('t', { expireTime: NOW + HOUR, now: NOW, persistent }, undefined);
      return parseSetCookie(headers.find(([name]) => name === 'set-cookie')![1]);
    };

    it.each<[string, boolean | undefined, boolean | undefined, number | undefined]>([
      ['the default, no choice', undefined, undefined, 3600],
      ['the default, the session chose false', undefined, false, undefined],
      ['persistent: false, no choice', false, undefined, undefined],
      ['persistent: false, the session chose true', false, true, 3600],
      ['persistent: true, the session chose false', true, false, undefined],
    ])('%s: Max-Age %s', (_label, option, choice, maxAge) => {
      const transport = new CookieTransport(option === undefined ? {} : { persistent: option });
      const cookie = setCookie(transport, choice);
      expect(cookie.maxAge).toBe(maxAge);
      // Never Expires: a browser-session cookie has neither.
      expect(cookie.expires).toBeUndefined();
    });
  });

  describe('.write, a Secure cookie answering plain http for a host other than localhost', () => {
    const expiry = { expireTime: NOW + HOUR, now: NOW, persistent: undefined };
    const plain = (host: string, headers: Record<string, string> = {}) => new Request(`http://${host}/`, { headers });

    it('warns once per transport, naming the cookie, never the token; and still sends the cookie', async () => {
      const transport = new CookieTransport();
      const token = 'a-token-that-must-not-show';
      let written: readonly (readonly [string, string])[] = [];
      const warnings = await warningsDuring(INSECURE_COOKIE, () => {
        written = transport.write(token, expiry, plain('myapp.test'));
        transport.write(token, expiry, plain('myapp.test'));
        transport.write(token, expiry, plain('other.test'));
      });
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({ name: 'KitSessionWarning', code: INSECURE_COOKIE });
      expect(warnings[0]!.message).toContain('__Host-session');
      expect(warnings[0]!.message).not.toContain(token);
      expect(written.some(([name, value]) => name === 'set-cookie' && value.startsWith('__Host-session=a-token'))).toBe(true);

      // Another transport (another manager) warns once of its own.
      const other = new CookieTransport({ name: '__Host-other' });
      const again = await warningsDuring(INSECURE_COOKIE, () => {
        other.write(token, expiry, plain('myapp.test'));
        other.write(token, expiry, plain('myapp.test'));
      });
      expect(again).toHaveLength(1);
    });

    it.each<[string, Request | undefined]>([
      ['https', new Request('https://myapp.test/')],
      ['localhost', plain('localhost:3000')],
      ['127.0.0.1', plain('127.0.0.1:3000')],
      ['[::1]', plain('[::1]:3000')],
      ['X-Forwarded-Proto from a proxy', plain('myapp.test', { 'x-forwarded-proto': 'https' })],
      ['no request', undefined],
    ])('does not warn for %s', async (_label, request) => {
      const transport = new CookieTransport();
      const warnings = await warningsDuring(INSECURE_COOKIE, () => {
        transport.write('t', expiry, request);
      });
      expect(warnings).toEqual([]);
    });

    it('says nothing while requests carry the cookie (the browser keeps it), and warns at the first that does not', async () => {
      const transport = new CookieTransport();
      const carrying = await warningsDuring(INSECURE_COOKIE, () => {
        transport.write('t', expiry, plain('myapp.test', { cookie: '__Host-session=old' }));
      });
      expect(carrying).toEqual([]);
      const without = await warningsDuring(INSECURE_COOKIE, () => {
        transport.write('t', expiry, plain('myapp.test', { cookie: 'other=1' }));
      });
      expect(without).toHaveLength(1);
    });

    it('does not warn for a cookie that is not Secure', async () => {
      const transport = new CookieTransport({ name: 'sid', secure: false });
      const warnings = await warningsDuring(INSECURE_COOKIE, () => {
        transport.write('t', expiry, plain('myapp.test'));
      });
      expect(warnings).toEqual([]);
    });

    it('does not warn when it expires the cookie', async () => {
      const transport = new CookieTransport();
      const warnings = await warningsDuring(INSECURE_COOKIE, () => {
        transport.clear();
      });
      expect(warnings).toEqual([]);
    });
  });
});
