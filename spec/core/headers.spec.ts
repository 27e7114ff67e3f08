import { mergeHeader, PendingHeaders, webHeaderTarget } from '../../lib/core/headers.js';

describe(mergeHeader, () => {
  describe('Cache-Control', () => {
    it.each<[string, string[], string, string]>([
      ['adds private to nothing', [], 'private', 'private'],
      ['adds private beside max-age', ['max-age=60'], 'private', 'max-age=60, private'],
      ['keeps private where no-store is', ['no-store'], 'private', 'no-store'],
      ['drops public for private', ['public, max-age=60'], 'private', 'max-age=60, private'],
      ['adds no-store to nothing', [], 'no-store', 'no-store'],
      ['adds no-store where only private is (a header token)', ['private, max-age=60'], 'no-store', 'private, max-age=60, no-store'],
      ['drops public for no-store', ['public'], 'no-store', 'no-store'],
      ['adds no-store once', ['No-Store'], 'no-store', 'No-Store'],
    ])('%s', (_label, current, value, merged) => {
      expect(mergeHeader('cache-control', current, value)).toBe(merged);
    });
  });

  it("replaces a transport's own header: a later save's token, never both", () => {
    expect(mergeHeader('session-token', ['first'], 'second')).toBe('second');
    expect(mergeHeader('session-token', ['first'], '')).toBe('');
    expect(mergeHeader('session-token-max-age', ['3600'], '0')).toBe('0');
  });
});

describe(PendingHeaders, () => {
  it('applies two saves of a header token to a Web Headers as the last one alone', () => {
    const headers = new Headers({ 'cache-control': 'private' });
    const first = new PendingHeaders();
    first.append('session-token', 'first');
    first.append('session-token-max-age', '3600');
    first.append('cache-control', 'no-store');
    const second = new PendingHeaders();
    second.append('Session-Token', '');
    second.append('session-token-max-age', '0');
    second.append('cache-control', 'no-store');
    const target = webHeaderTarget(headers);
    first.applyTo(target);
    second.applyTo(target);
    expect(headers.get('session-token')).toBe('');
    expect(headers.get('session-token-max-age')).toBe('0');
    expect(headers.get('cache-control')).toBe('private, no-store');
  });
});
