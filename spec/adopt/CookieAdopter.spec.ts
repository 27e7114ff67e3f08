import { parseSetCookie } from 'cookie';
import { CookieAdopter, type CookieAdopterOptions, type OpenedSession } from '../../lib/adopt/CookieAdopter.js';
import { request } from '../support/http.js';

type Values = Record<string, unknown>;

/** Opens values `ok:<json>` by a rule of its own; anything else fails its checks. */
class JsonCookieAdopter extends CookieAdopter<Values, unknown> {
  readonly source = 'json';
  readonly opened: string[] = [];

  constructor(name: string, options?: CookieAdopterOptions<Values, unknown>, readonly later = false) {
    super(name, options);
  }

  protected open(value: string): OpenedSession<unknown> | undefined | Promise<OpenedSession<unknown> | undefined> {
    this.opened.push(value);
    const opened = value.startsWith('ok:') ? { data: JSON.parse(value.slice(3)) as unknown } : undefined;
    return this.later ? Promise.resolve(opened) : opened;
  }
}

const NOW = Date.UTC(2026, 11, 7);

describe(CookieAdopter, () => {
  it('opens the named cookie, percent-decoded, and carries its data over as values', async () => {
    for (const later of [false, true]) {
      const adopter = new JsonCookieAdopter('old', {}, later);
      const adopted = await adopter.adopt(request(`other=1; old=${encodeURIComponent('ok:{"userId":"u1"}')}`), NOW);
      expect(adopted?.values).toEqual({ userId: 'u1' });
      expect(adopted?.retire).toBeUndefined();
      expect(adopter.opened).toEqual(['ok:{"userId":"u1"}']);
    }
  });

  it('adopts nothing without the cookie, with an empty one, or when its value fails the checks', async () => {
    const adopter = new JsonCookieAdopter('old');
    expect(await adopter.adopt(request(), NOW)).toBeUndefined();
    expect(await adopter.adopt(request('other=ok:{}'), NOW)).toBeUndefined();
    expect(await adopter.adopt(request('old='), NOW)).toBeUndefined();
    expect(await adopter.adopt(request('old=forged'), NOW)).toBeUndefined();
    expect(adopter.opened).toEqual(['forged']);
  });

  it('expires the old cookie with its path and domain, Secure for a __Host- or __Secure- name', async () => {
    const plain = await new JsonCookieAdopter('old', { path: '/app', domain: 'example.com' }).adopt(request('old=ok:{}'), NOW);
    const line = parseSetCookie(plain!.expireCookies[0]!);
    expect(line).toMatchObject({ name: 'old', value: '', path: '/app', domain: 'example.com', maxAge: 0, httpOnly: true });
    expect(line.secure).toBeUndefined();
    expect(line.expires?.getTime()).toBe(0);
    for (const name of ['__Host-old', '__Secure-old']) {
      const adopted = await new JsonCookieAdopter(name).adopt(request(`${name}=ok:{}`), NOW);
      expect(parseSetCookie(adopted!.expireCookies[0]!)).toMatchObject({ name, path: '/', secure: true });
    }
  });

  it('adopts nothing from the cut-off on', async () => {
    for (const until of [NOW, new Date(NOW)]) {
      const adopter = new JsonCookieAdopter('old', { until });
      expect(await adopter.adopt(request('old=ok:{"a":1}'), NOW - 1)).toBeDefined();
      expect(await adopter.adopt(request('old=ok:{"a":1}'), NOW)).toBeUndefined();
    }
  });

  it('maps the data through map; undefined adopts nothing; a non-object is a TypeError', async () => {
    const mapped = new JsonCookieAdopter('old', { map: (data) => ({ userId: (data as { user: string }).user }) });
    expect((await mapped.adopt(request('old=ok:{"user":"u1","x":2}'), NOW))?.values).toEqual({ userId: 'u1' });
    const anonymous = new JsonCookieAdopter('old', { map: () => undefined });
    expect(await anonymous.adopt(request('old=ok:{"user":"u1"}'), NOW)).toBeUndefined();
    const wrong = new JsonCookieAdopter('old', { map: () => 'u1' as never });
    expect(() => wrong.adopt(request('old=ok:{}'), NOW)).toThrow(TypeError);
  });

  it('carries over nothing from data that is not an object', async () => {
    const adopter = new JsonCookieAdopter('old');
    for (const data of ['1', '"text"', '[1]', 'null']) {
      expect(await adopter.adopt(request(`old=ok:${data}`), NOW)).toBeUndefined();
    }
  });

  it.each([
    ['an empty name', () => new JsonCookieAdopter('')],
    ['a relative path', () => new JsonCookieAdopter('old', { path: 'app' })],
    ['an empty domain', () => new JsonCookieAdopter('old', { domain: '' })],
    ['a map that is no function', () => new JsonCookieAdopter('old', { map: {} as never })],
    ['an invalid until', () => new JsonCookieAdopter('old', { until: new Date(Number.NaN) })],
  ])('refuses %s with a TypeError', (_what, build) => {
    expect(build).toThrow(TypeError);
  });
});
