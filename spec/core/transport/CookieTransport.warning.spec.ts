import { CookieTransport } from 'kit-session';
import { INSECURE_COOKIE, warningsDuring } from '../../support/warnings.js';

// The plain-http warning is skipped only for a request carrying a cookie of exactly the
// transport's name: one that did shows the browser keeps it.

const NOW = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;

describe(CookieTransport, () => {
  describe('.write, a Secure cookie answering plain http for a host other than localhost', () => {
    const expiry = { expireTime: NOW + HOUR, now: NOW, persistent: undefined };

    // Another cookie whose name or value holds the transport's name must not silence it.
    it.each<[string, string, string]>([
      ['a cookie "sidebar" beside a transport named "sid"', 'sid', 'sidebar=open'],
      ['a cookie "sessionid" beside a transport named "session"', 'session', 'sessionid=abc; theme=dark'],
      ['a cookie whose value names the session cookie', '__Host-session', 'consent=__Host-session'],
    ])('warns for a request that carries no cookie of its name, only %s', async (_label, name, cookie) => {
      const transport = new CookieTransport({ name });
      const warnings = await warningsDuring(INSECURE_COOKIE, () => {
        transport.write('t', expiry, new Request('http://myapp.test/', { headers: { cookie } }));
      });
      expect(warnings).toHaveLength(1);
    });
  });
});
