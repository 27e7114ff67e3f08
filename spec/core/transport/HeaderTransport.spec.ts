import { HeaderTransport, SessionError, SessionTokenTooLargeError, type HeaderTransportOptions } from 'kit-session';

/** A request carrying the given headers. */
function request(headers: Record<string, string> = {}): Request {
  return new Request('https://api.test/', { headers });
}

/** A request whose header carries exactly this value (a Web Request would trim it). */
function raw(name: string, value: string) {
  return { headers: { get: (asked: string) => (asked.toLowerCase() === name ? value : null) } };
}

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 0, 1);

describe(HeaderTransport, () => {
  describe('constructor', () => {
    it.each<[string, unknown]>([
      ['an unknown option', { headr: 'x-token' }],
      ['options that are not an object', 'authorization'],
      ['an empty header name', { header: '' }],
      ['a header name with a space', { header: 'x token' }],
      ['a header name with a colon', { header: 'x-token:' }],
      ['a header that is not a string', { header: 42 }],
      ['the Cookie header', { header: 'Cookie' }],
      ['the Set-Cookie header', { header: 'set-cookie' }],
      ['an empty response header', { responseHeader: '' }],
      ['a response header with a newline', { responseHeader: 'x-token\n' }],
      ['Set-Cookie as the response header', { responseHeader: 'Set-Cookie' }],
      ['Vary as the response header', { responseHeader: 'vary' }],
      ['Cache-Control as the response header', { responseHeader: 'cache-control' }],
      ['an accepts that is not a function', { accepts: true }],
      ['a zero maxSize', { maxSize: 0 }],
      ['a negative maxSize', { maxSize: -1 }],
      ['a NaN maxSize', { maxSize: Number.NaN }],
      ['a maxSize given as text', { maxSize: '8192' }],
    ])('rejects %s with TypeError', (_label, options) => {
      expect(() => new HeaderTransport(options as HeaderTransportOptions)).toThrow(TypeError);
    });

    it('is named after its request header, in lower case: the name a seal binds', () => {
      expect(new HeaderTransport().name).toBe('header:authorization');
      expect(new HeaderTransport({ header: 'X-Session-Token' }).name).toBe('header:x-session-token');
    });
  });

  describe('.read, with Authorization (the default)', () => {
    const transport = new HeaderTransport();

    it.each([
      ['Bearer abc.DEF-_~+/=', 'abc.DEF-_~+/='],
      ['bearer abc', 'abc'],
      ['BEARER abc', 'abc'],
      ['BeArEr abc', 'abc'],
      ['Bearer    abc', 'abc'],
      ['Bearer\tabc', 'abc'],
      ['  Bearer abc  ', 'abc'],
      ['Bearer abc\t', 'abc'],
    ])('reads %j as the token %j', (value, token) => {
      expect(transport.read(raw('authorization', value))).toBe(token);
    });

    it.each([
      ['no header at all', null],
      ['an empty header', ''],
      ['the scheme without a token', 'Bearer'],
      ['the scheme and spaces', 'Bearer   '],
      ['another scheme', 'Basic dXNlcjpwYXNz'],
      ['a scheme that only starts with Bearer', 'Bearerabc'],
      ['the token without a scheme', 'abc'],
      ['two tokens', 'Bearer abc def'],
      ['a token with a non-ASCII character', 'Bearer abc\u00e9'],
      ['a token with a control character', 'Bearer abc\u0001def'],
      ['two credentials joined by a comma', 'Bearer abc, Bearer def'],
    ])('reads nothing from %s', (_label, value) => {
      const carrier = value === null ? request() : raw('authorization', value);
      expect(transport.read(carrier)).toBeUndefined();
    });

    it('reads a token of maxSize characters, and nothing from one character more', () => {
      const small = new HeaderTransport({ maxSize: 100 });
      expect(small.read(raw('authorization', `Bearer ${'a'.repeat(100)}`))).toBe('a'.repeat(100));
      expect(small.read(raw('authorization', `Bearer ${'a'.repeat(101)}`))).toBeUndefined();
      // The default: 8192.
      expect(transport.read(raw('authorization', `Bearer ${'a'.repeat(8192)}`))).toHaveLength(8192);
      expect(transport.read(raw('authorization', `Bearer ${'a'.repeat(8193)}`))).toBeUndefined();
      expect(transport.read(raw('authorization', `Bearer ${'a'.repeat(100_000)}`))).toBeUndefined();
    });

    it('reads through a Web Request, whatever the case of the header name', () => {
      expect(transport.read(request({ Authorization: 'Bearer t0k3n' }))).toBe('t0k3n');
    });

    it('ignores the Cookie header', () => {
      expect(transport.read(request({ cookie: '__Host-session=abc' }))).toBeUndefined();
    });
  });

  describe('.read, with a named header', () => {
    const transport = new HeaderTransport({ header: 'X-Session-Token' });

    it("reads the header's whole value, trimmed", () => {
      expect(transport.read(request({ 'x-session-token': 'abc' }))).toBe('abc');
      expect(transport.read(raw('x-session-token', '  abc  '))).toBe('abc');
      // No scheme is parsed: a Bearer value is no token here.
      expect(transport.read(raw('x-session-token', 'Bearer abc'))).toBeUndefined();
    });

    it('reads nothing from an absent, empty or malformed header, nor from Authorization', () => {
      expect(transport.read(request())).toBeUndefined();
      expect(transport.read(raw('x-session-token', ''))).toBeUndefined();
      expect(transport.read(raw('x-session-token', 'a b'))).toBeUndefined();
      // node:http joins a header sent twice with ", ": ambiguous, so nothing.
      expect(transport.read(raw('x-session-token', 'abc, def'))).toBeUndefined();
      expect(transport.read(request({ authorization: 'Bearer abc' }))).toBeUndefined();
    });

    it('reads nothing from a token longer than maxSize', () => {
      const small = new HeaderTransport({ header: 'x-session-token', maxSize: 10 });
      expect(small.read(raw('x-session-token', 'a'.repeat(10)))).toBe('a'.repeat(10));
      expect(small.read(raw('x-session-token', 'a'.repeat(11)))).toBeUndefined();
    });
  });

  describe('.accepts', () => {
    it('by default, takes the requests that carry the Bearer scheme, with or without a token', () => {
      const transport = new HeaderTransport();
      expect(transport.accepts(raw('authorization', 'Bearer'))).toBe(true);
      expect(transport.accepts(raw('authorization', 'bearer '))).toBe(true);
      expect(transport.accepts(raw('authorization', 'Bearer abc'))).toBe(true);
      expect(transport.accepts(request())).toBe(false);
      expect(transport.accepts(raw('authorization', 'Basic dXNlcjpwYXNz'))).toBe(false);
      expect(transport.accepts(raw('authorization', 'Bearer-ish abc'))).toBe(false);
      expect(transport.accepts(request({ cookie: 'a=b' }))).toBe(false);
    });

    it('with a named header, takes the requests that carry it, even empty', () => {
      const transport = new HeaderTransport({ header: 'x-session-token' });
      expect(transport.accepts(raw('x-session-token', ''))).toBe(true);
      expect(transport.accepts(request())).toBe(false);
      expect(transport.accepts(request({ authorization: 'Bearer' }))).toBe(false);
    });

    it("with the app's rule, takes what it returns true for, and nothing else", () => {
      const transport = new HeaderTransport({
        accepts: (req) => (req.headers.get('x-client') === 'app' ? true : ('yes' as unknown as boolean)),
      });
      expect(transport.accepts(request({ 'x-client': 'app' }))).toBe(true);
      // A truthy value that is not `true` is not a yes; the header alone is not either.
      expect(transport.accepts(request({ 'x-client': 'web' }))).toBe(false);
      expect(transport.accepts(request({ authorization: 'Bearer' }))).toBe(false);
    });
  });

  describe('.write', () => {
    it('gives the token, the seconds until it ends and Cache-Control: no-store, and no cookie', () => {
      const out = new HeaderTransport().write('t0k3n', { expireTime: NOW + HOUR, now: NOW, persistent: undefined });
      expect(out).toEqual([
        ['session-token', 't0k3n'],
        ['session-token-max-age', '3600'],
        ['cache-control', 'no-store'],
      ]);
      expect(out.map(([name]) => name)).not.toContain('set-cookie');
      expect(out.map(([name]) => name)).not.toContain('vary');
    });

    it('rounds the max-age up, never below 0, and gives it whatever the persistence', () => {
      const transport = new HeaderTransport();
      const maxAge = (expireTime: number, persistent?: boolean) =>
        transport.write('t', { expireTime, now: NOW, persistent })[1];
      expect(maxAge(NOW + 1500)).toEqual(['session-token-max-age', '2']);
      expect(maxAge(NOW - 1000)).toEqual(['session-token-max-age', '0']);
      expect(maxAge(NOW + HOUR, false)).toEqual(['session-token-max-age', '3600']);
    });

    it('uses the response header it was given, in lower case', () => {
      const out = new HeaderTransport({ responseHeader: 'X-New-Token' }).write('t', { expireTime: NOW + 60_000, now: NOW, persistent: true });
      expect(out.slice(0, 2)).toEqual([
        ['x-new-token', 't'],
        ['x-new-token-max-age', '60'],
      ]);
    });

    it('throws SessionTokenTooLargeError (its code, the sizes) for a token longer than maxSize', () => {
      const transport = new HeaderTransport({ maxSize: 100 });
      const expiry = { expireTime: NOW + HOUR, now: NOW, persistent: undefined };
      expect(transport.write('a'.repeat(100), expiry)[0]).toEqual(['session-token', 'a'.repeat(100)]);
      const secret = 's'.repeat(101);
      let thrown: unknown;
      try {
        transport.write(secret, expiry);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(SessionTokenTooLargeError);
      expect(thrown).toBeInstanceOf(SessionError);
      expect(thrown).toMatchObject({ code: 'ERR_SESSION_TOKEN_TOO_LARGE', size: 101, limit: 100 });
      // The error never holds the token.
      expect(String((thrown as Error).message)).not.toContain('sss');
    });
  });

  describe('.clear', () => {
    it('says plainly that the session ended: an empty token, max-age 0, no-store', () => {
      expect(new HeaderTransport({ responseHeader: 'x-token' }).clear()).toEqual([
        ['x-token', ''],
        ['x-token-max-age', '0'],
        ['cache-control', 'no-store'],
      ]);
    });
  });

  describe('.checkTokenLength', () => {
    it('passes up to maxSize and throws SessionTokenTooLargeError above it', () => {
      const transport = new HeaderTransport({ maxSize: 50 });
      expect(() => transport.checkTokenLength(50)).not.toThrow();
      expect(() => transport.checkTokenLength(51)).toThrow(SessionTokenTooLargeError);
      expect(() => new HeaderTransport().checkTokenLength(8192)).not.toThrow();
      expect(() => new HeaderTransport().checkTokenLength(8193)).toThrow(
        expect.objectContaining({ code: 'ERR_SESSION_TOKEN_TOO_LARGE' }),
      );
    });
  });
});
