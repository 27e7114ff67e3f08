import { insecureOrigin } from '../../../lib/core/transport/insecureOrigin.js';

/** A request as the check reads it: a URL and headers. */
const at = (url: string | undefined, headers: Record<string, string> = {}) => ({ url, headers: new Headers(headers) });

describe(insecureOrigin, () => {
  it.each([
    'http://myapp.test/',
    'http://myapp.test:8080/login?next=/',
    'http://example.com/',
    'http://192.168.1.20:3000/',
    'http://10.0.0.1/',
    'http://128.0.0.1/',
    'http://[2001:db8::1]/',
    'http://localhost.example.com/',
    'http://notlocalhost/',
    'http://127.0.0.1.nip.io/',
  ])('is true for %s over plain http, no proxy header', (url) => {
    expect(insecureOrigin(at(url))).toBe(true);
  });

  it.each([
    ['https', 'https://myapp.test/'],
    ['localhost', 'http://localhost:3000/'],
    ['LOCALHOST, in capitals', 'http://LOCALHOST/'],
    ['a *.localhost name', 'http://app.localhost:3000/'],
    ['a nested *.localhost name', 'http://a.b.localhost/'],
    ['IPv4 loopback 127.0.0.1', 'http://127.0.0.1:3000/'],
    ['IPv4 loopback elsewhere in 127/8', 'http://127.1.2.3/'],
    ['IPv6 loopback', 'http://[::1]:3000/'],
    ['IPv6 loopback written out', 'http://[0:0:0:0:0:0:0:1]/'],
  ])('is false for %s (%s)', (_label, url) => {
    expect(insecureOrigin(at(url))).toBe(false);
  });

  it.each([
    ['X-Forwarded-Proto: https', { 'x-forwarded-proto': 'https' }],
    ['X-Forwarded-Proto: http (its presence alone: a proxy is in front)', { 'x-forwarded-proto': 'http' }],
    ['Forwarded: proto=https', { forwarded: 'for=192.0.2.60;proto=https' }],
    ['Forwarded without proto', { forwarded: 'for=192.0.2.60' }],
  ])('is false behind a proxy header, %s', (_label, headers) => {
    expect(insecureOrigin(at('http://myapp.test/', headers))).toBe(false);
  });

  it('never takes a forwarded header for https on its own: without one, plain http warns', () => {
    expect(insecureOrigin(at('http://myapp.test/', { 'x-forwarded-host': 'myapp.test' }))).toBe(true);
  });

  it.each([
    ['no url', undefined],
    ['a path alone (no scheme known)', '/login'],
    ['an empty url', ''],
  ])('is false with %s', (_label, url) => {
    expect(insecureOrigin(at(url))).toBe(false);
  });
});
