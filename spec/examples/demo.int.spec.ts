import { randomBytes } from 'node:crypto';
import { parseSetCookie, runExample, startDemo, type RunningDemo } from './processes.js';

/** A browser with one cookie jar, driving the demo over real HTTP. */
class Browser {
  /** The session cookie as sent back (`name=value`), if any. */
  cookie: string | undefined;
  readonly #url: string;

  constructor(url: string) {
    this.#url = url;
  }

  /** Sends a request, keeps the cookie the answer sets, and follows no redirect. */
  async request(method: string, path: string, init: { form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Response> {
    const response = await fetch(`${this.#url}${path}`, {
      method,
      redirect: 'manual',
      headers: { ...(this.cookie === undefined ? {} : { cookie: this.cookie }), ...init.headers },
      ...(init.form === undefined ? {} : { body: new URLSearchParams(init.form) }),
    });
    for (const line of response.headers.getSetCookie()) {
      const { name, value, attributes } = parseSetCookie(line);
      this.cookie = value === '' || attributes.get('max-age') === '0' ? undefined : `${name}=${value}`;
    }
    return response;
  }

  /** Loads the home page and reads what it shows. */
  async home(): Promise<HomePage> {
    const response = await this.request('GET', '/');
    expect(response.status).toBe(200);
    return readHome(await response.text());
  }

  /** Posts a form the way the page's own form does, and checks for the redirect home. */
  async post(path: string, form: Record<string, string> = {}): Promise<Response> {
    const response = await this.request('POST', path, { form, headers: { origin: this.#url } });
    if (response.status === 303) {
      expect(response.headers.get('location')).toBe('/');
    }
    return response;
  }
}

interface HomePage {
  readonly html: string;
  readonly visits: number;
  readonly user: string | undefined;
  readonly flash: string | undefined;
}

function readHome(html: string): HomePage {
  const visits = /class="visits">(\d+)</.exec(html);
  return {
    html,
    visits: Number(visits?.[1]),
    user: /class="user">([^<]*)</.exec(html)?.[1],
    flash: /class="flash"[^>]*>([^<]*)</.exec(html)?.[1],
  };
}

const newKey = (): string => randomBytes(32).toString('base64');

describe('examples/demo', () => {
  describe('without SESSION_KEY', () => {
    let demo: RunningDemo;
    let browser: Browser;

    beforeAll(async () => {
      demo = await startDemo();
    });
    afterAll(async () => {
      // SIGTERM closes the server and exits cleanly.
      expect(await demo.stop()).toBe(0);
    });
    beforeEach(() => {
      browser = new Browser(demo.url);
    });

    it('prints its URL and warns that sessions will not survive a restart', () => {
      const { stdout, stderr } = demo.output();
      expect(stdout).toMatch(/^kit-session demo listening on http:\/\/127\.0\.0\.1:\d+\/$/m);
      expect(stderr).toMatch(/^warning: SESSION_KEY is not set/m);
      expect(stderr).toMatch(/openssl rand -base64 32/);
    });

    it('serves an HTML page whose every input has a label, without scripts', async () => {
      const response = await browser.request('GET', '/');
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      const html = await response.text();
      const inputs = [...html.matchAll(/<input\b[^>]*>/g)].map(([input]) => input);
      expect(inputs.length).toBeGreaterThan(0);
      for (const input of inputs) {
        const id = /\bid="([^"]+)"/.exec(input)?.[1];
        expect(id).toBeDefined();
        expect(html).toContain(`<label for="${id}">`);
      }
      expect(html).not.toMatch(/<script/i);
      expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    });

    it('counts visits across requests that carry the cookie', async () => {
      expect((await browser.home()).visits).toBe(1);
      const response = await browser.request('GET', '/');
      const cookie = parseSetCookie(response.headers.getSetCookie()[0]!);
      expect(cookie.name).toBe('__Host-session');
      expect([...cookie.attributes.keys()]).toEqual(expect.arrayContaining(['httponly', 'secure', 'samesite']));
      expect(readHome(await response.text()).visits).toBe(2);
      expect((await browser.home()).visits).toBe(3);

      // The same server, without the cookie: a new session.
      expect((await new Browser(demo.url).home()).visits).toBe(1);
    });

    it('logs in under any name, renews the token, and shows the welcome exactly once', async () => {
      await browser.home();
      const before = browser.cookie;
      const response = await browser.post('/login', { name: 'Ada' });
      expect(response.status).toBe(303);
      expect(browser.cookie).toBeDefined();
      expect(browser.cookie).not.toBe(before);

      const first = await browser.home();
      expect(first.user).toBe('Ada');
      expect(first.flash).toMatch(/^Welcome, Ada!/);
      expect(first.visits).toBe(2);

      const second = await browser.home();
      expect(second.user).toBe('Ada');
      expect(second.flash).toBeUndefined();
      expect(second.visits).toBe(3);
    });

    it('escapes the name it shows', async () => {
      await browser.post('/login', { name: '<script>alert("x")</script> & co' });
      const page = await browser.home();
      expect(page.html).not.toContain('<script>');
      expect(page.user).toBe('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; co');
    });

    it('asks for a name when none is given', async () => {
      expect((await browser.post('/login', { name: '   ' })).status).toBe(303);
      const page = await browser.home();
      expect(page.user).toBeUndefined();
      expect(page.flash).toBe('Please enter a name to log in.');
    });

    it('logs out: the cookie is replaced, the name is gone, the goodbye shows once and the count starts over', async () => {
      await browser.home();
      await browser.post('/login', { name: 'Grace' });
      expect((await browser.home()).user).toBe('Grace');

      expect((await browser.post('/logout')).status).toBe(303);
      const after = await browser.home();
      expect(after.user).toBeUndefined();
      expect(after.flash).toBe('You have logged out.');
      expect(after.visits).toBe(1);
      expect(after.html).toContain('action="/login"');
      expect((await browser.home()).flash).toBeUndefined();
    });

    it('answers a value too large for the cookie with an error page and keeps the session as it was', async () => {
      await browser.post('/login', { name: 'Ada' });
      await browser.home();
      const cookie = browser.cookie;

      const response = await browser.post('/login', { name: 'x'.repeat(5000) });
      expect(response.status).toBe(413);
      expect(response.headers.getSetCookie()).toEqual([]);
      expect(await response.text()).toContain('Too much for one cookie');
      expect(browser.cookie).toBe(cookie);

      const page = await browser.home();
      expect(page.user).toBe('Ada');
      expect(page.visits).toBe(2);
    });

    it('answers unknown pages, wrong methods, foreign forms and non-form bodies with error pages', async () => {
      expect((await browser.request('GET', '/nowhere')).status).toBe(404);
      const wrongMethod = await browser.request('PUT', '/');
      expect(wrongMethod.status).toBe(405);
      expect(wrongMethod.headers.get('allow')).toBe('GET');
      const foreign = await browser.request('POST', '/login', {
        form: { name: 'Mallory' },
        headers: { origin: 'http://evil.example' },
      });
      expect(foreign.status).toBe(403);
      const json = await browser.request('POST', '/login', {
        headers: { origin: demo.url, 'content-type': 'application/json' },
      });
      expect(json.status).toBe(415);
      // Still serving, and nobody got logged in.
      expect((await browser.home()).user).toBeUndefined();
    });

    it('treats a tampered or foreign cookie as a new session', async () => {
      await browser.post('/login', { name: 'Ada' });
      const value = browser.cookie!.split('=')[1]!;
      browser.cookie = `__Host-session=${value.slice(0, -4)}AAAA`;
      expect((await browser.home()).user).toBeUndefined();
      browser.cookie = '__Host-session=not-a-seal';
      expect((await browser.home()).visits).toBe(1);
    });
  });

  describe('with SESSION_KEY', () => {
    const key = newKey();
    let cookie: string;

    beforeAll(async () => {
      const demo = await startDemo({ SESSION_KEY: key });
      try {
        expect(demo.output().stderr).toBe('');
        const browser = new Browser(demo.url);
        await browser.post('/login', { name: 'Ada' });
        expect((await browser.home()).user).toBe('Ada');
        cookie = browser.cookie!;
      } finally {
        await demo.stop();
      }
    });

    async function homeWith(env: Record<string, string>): Promise<HomePage> {
      const demo = await startDemo(env);
      try {
        const browser = new Browser(demo.url);
        browser.cookie = cookie;
        return await browser.home();
      } finally {
        await demo.stop();
      }
    }

    it('a restart with the same key accepts the cookie of the run before', async () => {
      expect((await homeWith({ SESSION_KEY: key })).user).toBe('Ada');
    });

    it('a new key listed before the old one still opens it (key rotation)', async () => {
      expect((await homeWith({ SESSION_KEY: `${newKey()},${key}` })).user).toBe('Ada');
    });

    it('another key does not open it: a new session', async () => {
      const page = await homeWith({ SESSION_KEY: newKey() });
      expect(page.user).toBeUndefined();
      expect(page.visits).toBe(1);
    });

    it('refuses to start with a key that is not 16, 24 or 32 bytes, without printing it', async () => {
      const badKey = randomBytes(20).toString('base64');
      const run = await runExample('demo', { SESSION_KEY: badKey, PORT: '0' });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^demo: .*16, 24 or 32 bytes/m);
      expect(run.stderr + run.stdout).not.toContain(badKey);
    });
  });
});
