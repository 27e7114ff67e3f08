import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RedisServerProcess } from '../support/redisCluster.js';
import { describeWith } from '../support/services.js';
import { parseSetCookie } from 'cookie';
import { USER_AGENTS } from '../support/userAgents.js';
import { runExample, startDemo, type RunningDemo } from './processes.js';

/** A browser with one cookie jar, driving the demo over real HTTP. */
class Browser {
  /** The session cookie as sent back (`name=value`), if any. */
  cookie: string | undefined;
  readonly #url: string;
  readonly #userAgent: string | undefined;

  /**
   * @param url - The demo's base URL.
   * @param userAgent - The User-Agent it sends, to tell devices apart on "Your sessions".
   */
  constructor(url: string, userAgent?: string) {
    this.#url = url;
    this.#userAgent = userAgent;
  }

  /** Sends a request, keeps the cookie the answer sets, and follows no redirect. */
  async request(method: string, path: string, init: { form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Response> {
    const response = await fetch(`${this.#url}${path}`, {
      method,
      redirect: 'manual',
      headers: {
        ...(this.cookie === undefined ? {} : { cookie: this.cookie }),
        ...(this.#userAgent === undefined ? {} : { 'user-agent': this.#userAgent }),
        ...init.headers,
      },
      ...(init.form === undefined ? {} : { body: new URLSearchParams(init.form) }),
    });
    for (const line of response.headers.getSetCookie()) {
      const { name, value, maxAge } = parseSetCookie(line);
      this.cookie = value === '' || maxAge === 0 ? undefined : `${name}=${value}`;
    }
    return response;
  }

  /** Loads the home page and reads what it shows. */
  async home(): Promise<HomePage> {
    const response = await this.request('GET', '/');
    expect(response.status).toBe(200);
    return readHome(await response.text());
  }

  /** Loads the big-value page and reads what it shows. */
  async big(): Promise<BigPage> {
    const response = await this.request('GET', '/big');
    expect(response.status).toBe(200);
    return readBig(await response.text());
  }

  /** Loads "Your sessions" and reads what it shows. */
  async sessions(): Promise<SessionsPage> {
    const response = await this.request('GET', '/sessions');
    expect(response.status).toBe(200);
    return readSessions(await response.text());
  }

  /**
   * Posts a form the way the page's own form does, and checks that a redirect goes
   * where the page's forms lead: home, or back to the big-value or sessions page.
   */
  async post(path: string, form: Record<string, string> = {}): Promise<Response> {
    const response = await this.request('POST', path, { form, headers: { origin: this.#url } });
    if (response.status === 303) {
      const back = ['/big', '/sessions'].find((page) => path.startsWith(page));
      // A route that finds nobody logged in sends the visitor home instead.
      expect([back ?? '/', '/']).toContain(response.headers.get('location'));
    }
    return response;
  }
}

/** A device as "Your sessions" lists it. */
interface Device {
  /** The device's name, "Firefox on Windows". */
  readonly name: string;
  /** The whole User-Agent, from the name's title. */
  readonly userAgent: string | undefined;
  readonly current: boolean;
  /** The handle its "End this session" button posts; `undefined` for this device. */
  readonly handle: string | undefined;
  readonly createdAt: number;
}

interface SessionsPage {
  readonly html: string;
  readonly user: string | undefined;
  readonly flash: string | undefined;
  /** The devices listed, `undefined` when the page has no list. */
  readonly devices: Device[] | undefined;
  /** Whether it offers "End all other sessions". */
  readonly endOthers: boolean;
}

interface HomePage {
  readonly html: string;
  readonly visits: number;
  readonly user: string | undefined;
  readonly flash: string | undefined;
  /** When the session ends if no other request comes, as the page says. */
  readonly expires: number;
  /** The session's end at the latest, as the page says. */
  readonly deadline: number;
  /** The length of the big value the page reports, if any. */
  readonly bigBytes: number | undefined;
}

interface BigPage {
  readonly html: string;
  readonly flash: string | undefined;
  readonly bigBytes: number | undefined;
  readonly cookieBytes: number | undefined;
}

const numberIn = (html: string, className: string): number | undefined => {
  const found = new RegExp(`class="${className}">(\\d+)<`).exec(html)?.[1];
  return found === undefined ? undefined : Number(found);
};
const timeIn = (html: string, className: string): number =>
  Date.parse(new RegExp(`<time class="${className}" datetime="([^"]+)"`).exec(html)?.[1] ?? '');
const flashIn = (html: string): string | undefined => /class="flash"[^>]*>([^<]*)</.exec(html)?.[1];

function readHome(html: string): HomePage {
  return {
    html,
    visits: Number(numberIn(html, 'visits')),
    user: /class="user">([^<]*)</.exec(html)?.[1],
    flash: flashIn(html),
    expires: timeIn(html, 'expires'),
    deadline: timeIn(html, 'deadline'),
    bigBytes: numberIn(html, 'big-bytes'),
  };
}

function readSessions(html: string): SessionsPage {
  const list = /<ul class="devices">([\s\S]*?)<\/ul>/.exec(html)?.[1];
  const devices = list?.split('<li ').slice(1).map((item) => ({
    name: /class="device-name"[^>]*>([^<]*)</.exec(item)?.[1] ?? '',
    userAgent: /class="device-name"[^>]*? title="([^"]*)"/.exec(item)?.[1],
    current: item.startsWith('class="device current"') && item.includes('<span class="this-device">This device</span>'),
    handle: /name="handle" value="([^"]+)"/.exec(item)?.[1],
    createdAt: timeIn(item, 'created'),
  }));
  return {
    html,
    user: /class="user">([^<]*)</.exec(html)?.[1],
    flash: flashIn(html),
    devices,
    endOthers: html.includes('action="/sessions/end-others"'),
  };
}

function readBig(html: string): BigPage {
  return { html, flash: flashIn(html), bigBytes: numberIn(html, 'big-bytes'), cookieBytes: numberIn(html, 'cookie-bytes') };
}

/** Checks that every input of a page has a label, and that the page runs no script. */
function expectLabelledInputs(html: string): void {
  const inputs = [...html.matchAll(/<input\b[^>]*>/g)].map(([input]) => input);
  expect(inputs.length).toBeGreaterThan(0);
  for (const input of inputs) {
    const id = /\bid="([^"]+)"/.exec(input)?.[1];
    expect(id).toBeDefined();
    expect(html).toContain(`<label for="${id}">`);
  }
  expect(html).not.toMatch(/<script/i);
}

/** A GET / to the demo on 127.0.0.1 with the Host header given; resolves to its Set-Cookie lines. */
function getWithHost(port: number, host: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    httpRequest({ host: '127.0.0.1', port, path: '/', headers: { host } }, (response) => {
      response.resume().on('end', () => resolve(response.headers['set-cookie'] ?? []));
    })
      .on('error', reject)
      .end();
  });
}

/** Reads a value until it passes the check (a child's output arrives a little later), at most 5 s. */
async function eventually<V>(read: () => V, check: (value: V) => boolean): Promise<V> {
  const until = Date.now() + 5000;
  let value = read();
  while (!check(value) && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    value = read();
  }
  return value;
}

const MINUTE = 60_000;
const IDLE_TIMEOUT = 30 * MINUTE;
const LIFETIME = 24 * 60 * MINUTE;

/**
 * Checks the expiry a page shows against the demo's settings (half an hour idle, a day
 * at most), read between two instants that bracket the request.
 */
function expectTimes(page: HomePage, before: number, after: number): void {
  // The demo reads this machine's clock too; a second of slack either way.
  expect(page.expires).toBeGreaterThanOrEqual(before + IDLE_TIMEOUT - 1000);
  expect(page.expires).toBeLessThanOrEqual(after + IDLE_TIMEOUT + 1000);
  expect(page.deadline).toBeLessThanOrEqual(after + LIFETIME + 1000);
  expect(page.deadline).toBeGreaterThan(page.expires);
}

/** A name no other test (or concurrent run) logs in under, for "log out everywhere". */
const uniqueName = (label: string): string => `${label} ${randomBytes(4).toString('hex')}`;

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

    it('serves HTML pages whose every input has a label, without scripts', async () => {
      for (const path of ['/', '/big']) {
        const response = await browser.request('GET', path);
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
        expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
        expectLabelledInputs(await response.text());
      }
    });

    it('says it runs on the encrypted cookie store', async () => {
      expect(demo.output().stdout).toMatch(/^SESSION_STORE=cookie: sessions are kept in an encrypted cookie/m);
      expect((await browser.home()).html).toContain('<footer>Sessions are kept in an encrypted cookie');
    });

    it('shows when the session ends: half an hour after the last visit, a day after it began at the latest', async () => {
      const before = Date.now();
      const response = await browser.request('GET', '/');
      const first = readHome(await response.text());
      expectTimes(first, before, Date.now());
      expect(first.deadline).toBeGreaterThanOrEqual(before + LIFETIME - 1000);
      // The cookie lives as long as the session does.
      expect(parseSetCookie(response.headers.getSetCookie()[0]!).maxAge).toBe(IDLE_TIMEOUT / 1000);

      const between = Date.now();
      const second = await browser.home();
      // Counted from this visit: each visit moves the idle expiry on, never the deadline.
      expectTimes(second, between, Date.now());
      expect(second.expires).toBeGreaterThanOrEqual(first.expires);
      expect(second.deadline).toBe(first.deadline);
    });

    it('offers no "log out everywhere", and refuses it: a cookie cannot be taken back', async () => {
      await browser.post('/login', { name: 'Ada' });
      const page = await browser.home();
      expect(page.user).toBe('Ada');
      expect(page.html).toContain('action="/logout"');
      expect(page.html).not.toContain('action="/logout-everywhere"');

      const response = await browser.post('/logout-everywhere');
      expect(response.status).toBe(409);
      expect(response.headers.getSetCookie()).toEqual([]);
      expect((await browser.home()).user).toBe('Ada');
    });

    it('on "Your sessions", says cookies can be neither listed nor ended, and refuses both with 409', async () => {
      await browser.post('/login', { name: 'Ada' });
      expect((await browser.home()).html).toContain('href="/sessions"');
      const page = await browser.sessions();
      expect(page.user).toBe('Ada');
      expect(page.devices).toBeUndefined();
      expect(page.endOthers).toBe(false);
      expect(page.html).toContain('SESSION_STORE=revocable');

      for (const path of ['/sessions/end-others', '/sessions/end']) {
        const response = await browser.post(path, { handle: 'x' });
        expect(response.status).toBe(409);
        expect(response.headers.getSetCookie()).toEqual([]);
      }
      expect((await browser.home()).user).toBe('Ada');
    });

    it('sends a visitor who is not logged in from "Your sessions" back home, saying why', async () => {
      const response = await browser.request('GET', '/sessions');
      expect(response.status).toBe(303);
      expect(response.headers.get('location')).toBe('/');
      expect((await browser.home()).flash).toBe('Log in to see your sessions.');
    });

    it('deletes your data at once within two minutes of logging in: the count starts over, the value is gone', async () => {
      await browser.post('/login', { name: 'Ada' });
      await browser.post('/big', { size: '100' });
      await browser.home();
      expect((await browser.home()).visits).toBe(2);

      expect((await browser.post('/delete-data')).status).toBe(303);
      const page = await browser.home();
      expect(page.flash).toMatch(/^Your data is deleted/);
      expect(page.visits).toBe(1);
      expect(page.bigBytes).toBeUndefined();
      expect(page.user).toBe('Ada');
      expect(page.html).toContain('a log-in from the last 2 minutes');
    });

    it('stores a small value from the big-value page, then removes it', async () => {
      await browser.post('/login', { name: 'Ada' });
      expect((await browser.big()).bigBytes).toBeUndefined();

      expect((await browser.post('/big', { size: '100' })).status).toBe(303);
      const sent = browser.cookie!;
      const stored = await browser.big();
      expect(stored.bigBytes).toBe(100);
      expect(stored.flash).toBe('Stored a value of 100 bytes in your session.');
      // The whole session rides in the cookie: its size is what the page reports.
      expect(stored.cookieBytes).toBe(sent.length);
      expect((await browser.home()).bigBytes).toBe(100);

      expect((await browser.post('/big/remove')).status).toBe(303);
      expect((await browser.big()).bigBytes).toBeUndefined();
      expect((await browser.home()).user).toBe('Ada');
    });

    it('answers a value too large for a cookie from the big-value page with a 413 page; the session stays as it was', async () => {
      await browser.post('/login', { name: 'Ada' });
      await browser.post('/big', { size: '100' });
      await browser.home();
      const cookie = browser.cookie;

      const response = await browser.post('/big', { size: '5000' });
      expect(response.status).toBe(413);
      expect(response.headers.getSetCookie()).toEqual([]);
      const html = await response.text();
      expect(html).toContain('Too much for one cookie');
      expect(html).toContain('SessionCookieTooLargeError');
      expect(browser.cookie).toBe(cookie);

      const big = await browser.big();
      expect(big.bigBytes).toBe(100);
      // The "stored" message of the refused request was never saved either.
      expect(big.flash).toBeUndefined();
      const page = await browser.home();
      expect(page.user).toBe('Ada');
      expect(page.visits).toBe(2);
    });

    it('asks again for a size out of range or not a number', async () => {
      for (const size of ['0', '-5', '1.5', 'lots', '', '100001']) {
        expect((await browser.post('/big', { size })).status).toBe(303);
        const page = await browser.big();
        expect(page.flash).toBe('Please choose a size from 1 to 100000 bytes.');
        expect(page.bigBytes).toBeUndefined();
      }
    });

    it('counts visits across requests that carry the cookie', async () => {
      expect((await browser.home()).visits).toBe(1);
      const response = await browser.request('GET', '/');
      const cookie = parseSetCookie(response.headers.getSetCookie()[0]!);
      expect(cookie.name).toBe('__Host-session');
      expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: expect.any(String) });
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

    it('"Keep me logged in": unticked, every later cookie ends with the browser; ticked, each outlives it for the idle timeout', async () => {
      const maxAges = async (browser: Browser, form: Record<string, string>) => {
        const login = await browser.post('/login', form);
        const visit = await browser.request('GET', '/');
        return [login, visit].map((response) => {
          const setCookie = parseSetCookie(response.headers.getSetCookie()[0]!);
          expect(setCookie.expires).toBeUndefined();
          return setCookie.maxAge;
        });
      };
      expect(await maxAges(new Browser(demo.url), { name: 'Ada' })).toEqual([undefined, undefined]);
      expect(await maxAges(new Browser(demo.url), { name: 'Ada', remember: 'on' })).toEqual([IDLE_TIMEOUT / 1000, IDLE_TIMEOUT / 1000]);
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

  describe('reached over plain http under another host name', () => {
    it('prints one KIT_SESSION_INSECURE_COOKIE warning that names the fix, however many answers set the cookie', async () => {
      const demo = await startDemo();
      try {
        const { port } = new URL(demo.url);
        // As through a name in /etc/hosts that points at 127.0.0.1: Host is not localhost.
        for (let visit = 0; visit < 3; visit++) {
          const setCookie = await getWithHost(Number(port), 'myapp.test');
          expect(setCookie[0]).toMatch(/^__Host-session=.*; Secure/);
        }
        const local = await getWithHost(Number(port), 'localhost');
        expect(local).toHaveLength(1);
        const stderr = await eventually(() => demo.output().stderr, (text) => text.includes('KIT_SESSION_INSECURE_COOKIE'));
        expect(stderr.match(/KIT_SESSION_INSECURE_COOKIE/g)).toHaveLength(1);
        expect(stderr).toMatch(/__Host-session/);
        expect(stderr).toMatch(/https/);
        expect(stderr).toMatch(/http:\/\/localhost/);
      } finally {
        expect(await demo.stop()).toBe(0);
      }
    });
  });

  describe('start-up checks', () => {
    it('refuses an unknown SESSION_STORE', async () => {
      const run = await runExample('demo', { SESSION_STORE: 'mongodb', PORT: '0' });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^demo: SESSION_STORE must be one of cookie, revocable, memory, redis, postgres, mysql, sqlite$/m);
    });

    it('refuses a FRESH_LOGIN_SECONDS that is not a number above 0', async () => {
      for (const value of ['0', '-1', 'soon']) {
        const run = await runExample('demo', { FRESH_LOGIN_SECONDS: value, PORT: '0' });
        expect(run.code).toBe(1);
        expect(run.stderr).toMatch(/^demo: FRESH_LOGIN_SECONDS must be a number of seconds above 0$/m);
      }
    });

    it('refuses to start when Redis does not answer, naming the URL without its password', async () => {
      const run = await runExample('demo', { SESSION_STORE: 'redis', REDIS_URL: 'redis://:hunter2@127.0.0.1:1', PORT: '0' });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^demo: cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1 \(ECONNREFUSED\)$/m);
      expect(run.stderr + run.stdout).not.toContain('hunter2');
      expect(run.stdout).not.toContain('listening');
    });

    it('refuses to start when PostgreSQL does not answer, naming the URL without its password', async () => {
      const run = await runExample('demo', {
        SESSION_STORE: 'postgres',
        DATABASE_URL: 'postgres://demo:hunter2@127.0.0.1:1/test',
        PORT: '0',
      });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^demo: cannot use PostgreSQL at postgres:\/\/demo:\*\*\*@127\.0\.0\.1:1\/test \(ECONNREFUSED\)$/m);
      expect(run.stderr + run.stdout).not.toContain('hunter2');
      expect(run.stdout).not.toContain('listening');
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
      expect(run.stderr).toMatch(/^demo: SESSION_KEY.*16, 24 or 32 .*bytes/m);
      expect(run.stderr + run.stdout).not.toContain(badKey);
    });
  });

  describe('with FRESH_LOGIN_SECONDS=0.05: "Delete my data" asks for the name again', () => {
    let demo: RunningDemo;
    let browser: Browser;

    beforeAll(async () => {
      demo = await startDemo({ FRESH_LOGIN_SECONDS: '0.05' });
    });
    afterAll(async () => {
      expect(await demo.stop()).toBe(0);
    });

    /** Logs in, stores a value, and lets the log-in grow older than 50 ms. */
    async function staleLogIn(): Promise<void> {
      browser = new Browser(demo.url);
      await browser.post('/login', { name: 'Ada' });
      await browser.post('/big', { size: '100' });
      await browser.home();
      expect((await browser.home()).visits).toBe(2);
      // The demo reads the wall clock, which no test can set: wait out the 50 ms.
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    it('with an older log-in, asks for the name and deletes nothing', async () => {
      await staleLogIn();
      const cookie = browser.cookie;
      const response = await browser.post('/delete-data');
      expect(response.status).toBe(200);
      expect(response.headers.getSetCookie()).toEqual([]);
      const html = await response.text();
      expect(html).toContain('<h1>Confirm it is you</h1>');
      expect(html).toContain('a log-in from the last 0.05 seconds');
      expectLabelledInputs(html);
      expect(browser.cookie).toBe(cookie);
      const page = await browser.home();
      expect(page.bigBytes).toBe(100);
      expect(page.visits).toBe(3);
    });

    it('another name than the logged-in one is refused with 403, and nothing is deleted', async () => {
      await staleLogIn();
      const response = await browser.post('/delete-data', { name: 'Mallory' });
      expect(response.status).toBe(403);
      expect(await response.text()).toContain('That is not the name you logged in with.');
      expect((await browser.home()).bigBytes).toBe(100);
    });

    it('the logged-in name logs in again (a new token) and deletes the data', async () => {
      await staleLogIn();
      const before = browser.cookie;
      const response = await browser.post('/delete-data', { name: ' Ada ' });
      expect(response.status).toBe(303);
      expect(response.headers.get('location')).toBe('/');
      expect(browser.cookie).not.toBe(before);
      const page = await browser.home();
      expect(page.flash).toMatch(/^Your data is deleted/);
      expect(page.user).toBe('Ada');
      expect(page.visits).toBe(1);
      expect(page.bigBytes).toBeUndefined();
      // On the cookie store, a copy of the cookie from before the new log-in still opens
      // the old session, data and all: a cookie cannot be taken back.
      const copy = new Browser(demo.url);
      copy.cookie = before;
      expect((await copy.home()).bigBytes).toBe(100);
    });
  });

  describe('SESSION_STORE=revocable', () => {
    let demo: RunningDemo;

    beforeAll(async () => {
      demo = await startDemo({ SESSION_STORE: 'revocable' });
    });
    afterAll(async () => {
      expect(await demo.stop()).toBe(0);
    });

    async function loggedIn(name: string, userAgent?: string): Promise<Browser> {
      const browser = new Browser(demo.url, userAgent);
      expect((await browser.post('/login', { name })).status).toBe(303);
      expect((await browser.home()).user).toBe(name);
      return browser;
    }

    it('says it runs on revocable cookies', async () => {
      expect(demo.output().stdout).toMatch(/^SESSION_STORE=revocable: sessions are kept in an encrypted cookie \(AES-GCM\), revocable by name/m);
    });

    it('"Your sessions" has no list but "End all other sessions", and refuses to end one session by handle', async () => {
      const browser = await loggedIn(uniqueName('Ada'));
      const page = await browser.sessions();
      expect(page.devices).toBeUndefined();
      expect(page.endOthers).toBe(true);
      expect(page.html).toContain('the server keeps no list of them');
      expect((await browser.post('/sessions/end', { handle: 'x' })).status).toBe(409);
    });

    it('"End all other sessions" revokes the other cookies of the name, even a copy of this one from before; this one and other names go on', async () => {
      const name = uniqueName('Ada');
      const laptop = await loggedIn(name, 'Laptop');
      const phone = await loggedIn(name, 'Phone');
      const bob = await loggedIn(uniqueName('Bob'));
      const laptopBefore = laptop.cookie;

      expect((await laptop.post('/sessions/end-others')).status).toBe(303);
      // Sealed again with the new generation.
      expect(laptop.cookie).not.toBe(laptopBefore);
      expect((await laptop.sessions()).flash).toBe('Your other sessions are revoked; this one goes on.');
      expect((await laptop.home()).user).toBe(name);

      const phonePage = await phone.home();
      expect(phonePage.user).toBeUndefined();
      expect(phonePage.visits).toBe(1);
      const copy = new Browser(demo.url);
      copy.cookie = laptopBefore;
      expect((await copy.home()).user).toBeUndefined();
      expect((await bob.home()).user).toBeDefined();
    });

    it('"Log out everywhere" revokes every cookie of the name, this one included', async () => {
      const name = uniqueName('Ada');
      const laptop = await loggedIn(name);
      const phone = await loggedIn(name);
      const laptopBefore = laptop.cookie;
      expect((await laptop.post('/logout-everywhere')).status).toBe(303);
      const after = await laptop.home();
      expect(after.user).toBeUndefined();
      expect(after.flash).toBe('You have logged out everywhere: every cookie of yours was revoked.');
      expect((await phone.home()).user).toBeUndefined();
      const copy = new Browser(demo.url);
      copy.cookie = laptopBefore;
      expect((await copy.home()).user).toBeUndefined();
    });

    it('logging in again after a revocation works', async () => {
      const name = uniqueName('Ada');
      const laptop = await loggedIn(name);
      const phone = await loggedIn(name);
      await laptop.post('/sessions/end-others');
      expect((await phone.home()).user).toBeUndefined();
      await phone.post('/login', { name });
      expect((await phone.home()).user).toBe(name);
      expect((await laptop.home()).user).toBe(name);
    });
  });

  describeServerSide('memory');
  describeServerSide('redis');
  describeServerSide('postgres');
  describeServerSide('mysql');
  describeServerSide('sqlite');

  describeWith('redis-binaries', 'SESSION_STORE=redis, while Redis is away', () => {
    let redis: RedisServerProcess;
    let demo: RunningDemo;

    beforeAll(async () => {
      redis = await RedisServerProcess.start();
      demo = await startDemo({ SESSION_STORE: 'redis', REDIS_URL: `redis://127.0.0.1:${redis.port}` });
    }, 60_000);
    afterAll(async () => {
      expect(await demo?.stop()).toBe(0);
      await redis?.destroy();
    });

    it('answers 503 with Retry-After and no cookie, then serves the same session once Redis is back', async () => {
      const browser = new Browser(demo.url);
      await browser.post('/login', { name: 'Ada' });
      expect((await browser.home()).user).toBe('Ada');
      const cookie = browser.cookie;

      // Saved to disk and reloaded on start, so the session outlives the outage.
      await redis.stop({ save: true });
      for (const [method, path] of [['GET', '/'], ['POST', '/logout']] as const) {
        const response = method === 'GET' ? await browser.request(method, path) : await browser.post(path);
        expect(response.status).toBe(503);
        expect(response.headers.get('retry-after')).toBe('5');
        expect(response.headers.getSetCookie()).toEqual([]);
        expect(await response.text()).toContain('role="alert"');
      }
      expect(browser.cookie).toBe(cookie);

      await redis.start();
      // ioredis reconnects on its own, after a back-off.
      const deadline = Date.now() + 20_000;
      let response = await browser.request('GET', '/');
      while (response.status === 503 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        response = await browser.request('GET', '/');
      }
      expect(response.status).toBe(200);
      expect(readHome(await response.text()).user).toBe('Ada');
      expect(demo.output().stderr).toMatch(/^demo: Redis connection error \(ECONNREFUSED\)$/m);
      expect(demo.output().stderr).toMatch(/^demo: 503 SessionStoreError \(ERR_SESSION_STORE\)$/m);
    }, 60_000);
  });
});

/**
 * The tests of a server-side store: the cookie holds a sealed id, so logout ends a
 * session for real, "log out everywhere" works, and a session holds more than a cookie.
 *
 * Redis and PostgreSQL go through `describeWith`: skipped with the reason printed when
 * their server does not answer, failing instead under CI=true.
 *
 * @param kind - The SESSION_STORE value.
 */
function describeServerSide(kind: 'memory' | 'redis' | 'postgres' | 'mysql' | 'sqlite'): void {
  // SQLite: a file of this run's own in the temporary folder, shared by the demos a test
  // starts (as several processes on one machine would share it).
  const storeEnv: Record<string, string> =
    kind === 'sqlite'
      ? { SESSION_STORE: kind, SQLITE_PATH: path.join(tmpdir(), `kit-session-demo-${process.pid}-${Date.now()}.sqlite`) }
      : { SESSION_STORE: kind };
  if (storeEnv.SQLITE_PATH !== undefined) {
    const file = storeEnv.SQLITE_PATH;
    afterAll(() => {
      for (const suffix of ['', '-wal', '-shm']) {
        rmSync(`${file}${suffix}`, { force: true });
      }
    });
  }
  const body = (): void => {
    let demo: RunningDemo;

    beforeAll(async () => {
      demo = await startDemo(storeEnv);
    });
    afterAll(async () => {
      // SIGTERM closes the server and the store's connections, and exits cleanly.
      expect(await demo.stop()).toBe(0);
    });

    /** Logs a new browser in under a name and checks that it worked. */
    async function loggedIn(name: string, userAgent?: string): Promise<Browser> {
      const browser = new Browser(demo.url, userAgent);
      await browser.home();
      expect((await browser.post('/login', { name })).status).toBe(303);
      expect((await browser.home()).user).toBe(name);
      return browser;
    }

    it('says where sessions are kept, and prints nothing but the key warning', async () => {
      const { stdout, stderr } = demo.output();
      expect(stdout).toMatch(new RegExp(`^SESSION_STORE=${kind}: sessions are kept in .*only an encrypted id`, 'm'));
      expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(/^warning: SESSION_KEY is not set/)]);
      const page = await new Browser(demo.url).home();
      expect(page.html).toContain('(the cookie holds only an encrypted id)');
    });

    it('counts visits, logs in with a new token, shows the flash once and the expiry', async () => {
      const browser = new Browser(demo.url);
      const before = Date.now();
      const first = await browser.home();
      expect(first.visits).toBe(1);
      expectTimes(first, before, Date.now());
      const anonymous = browser.cookie;
      await browser.post('/login', { name: 'Ada' });
      expect(browser.cookie).not.toBe(anonymous);
      const page = await browser.home();
      expect(page.visits).toBe(2);
      expect(page.flash).toMatch(/^Welcome, Ada!/);
      expect(page.deadline).toBe(first.deadline);
      expect((await browser.home()).flash).toBeUndefined();
      // The token before the login was retired on the server: within the renewal grace a
      // request still carrying it sees the session as it was, read-only (its visit is not
      // saved and it gets no cookie), never the log-in.
      const stale = new Browser(demo.url);
      stale.cookie = anonymous;
      expect(await stale.home()).toMatchObject({ visits: 2 });
      expect(stale.cookie).toBe(anonymous);
      expect((await stale.home()).visits).toBe(2);
      expect((await browser.home()).visits).toBe(4);
    });

    it('offers "log out everywhere" only to a logged-in visitor', async () => {
      const browser = new Browser(demo.url);
      expect((await browser.home()).html).not.toContain('action="/logout-everywhere"');
      await browser.post('/login', { name: uniqueName('Ada') });
      expect((await browser.home()).html).toContain('action="/logout-everywhere"');
    });

    it('logs out everywhere: both devices of one user end, the other user and an anonymous visitor stay', async () => {
      const ada = uniqueName('Ada');
      const bob = uniqueName('Bob');
      const laptop = await loggedIn(ada);
      const phone = await loggedIn(ada);
      const bobs = await loggedIn(bob);
      const anonymous = new Browser(demo.url);
      await anonymous.home();
      await anonymous.home();
      const laptopCopy = laptop.cookie;

      expect((await laptop.post('/logout-everywhere')).status).toBe(303);
      const after = await laptop.home();
      expect(after.user).toBeUndefined();
      expect(after.flash).toBe('You have logged out everywhere: 2 sessions ended.');
      expect(after.visits).toBe(1);

      const phonePage = await phone.home();
      expect(phonePage.user).toBeUndefined();
      expect(phonePage.visits).toBe(1);
      expect(phonePage.flash).toBeUndefined();
      // A copy of the laptop's cookie taken before opens nothing either.
      const copy = new Browser(demo.url);
      copy.cookie = laptopCopy;
      expect((await copy.home()).user).toBeUndefined();

      const bobPage = await bobs.home();
      expect(bobPage.user).toBe(bob);
      expect(bobPage.visits).toBe(3);
      expect((await anonymous.home()).visits).toBe(3);
    });

    it('"Your sessions" names each device of the name ("Firefox on Windows"), this one marked and first, no other name\'s', async () => {
      const { laptop: laptopAgent, phone: phoneAgent, desktop } = USER_AGENTS;
      const name = uniqueName('Ada');
      const laptop = await loggedIn(name, laptopAgent.userAgent);
      await loggedIn(name, 'curl/8.8.0');
      const phone = await loggedIn(name, phoneAgent.userAgent);
      await loggedIn(uniqueName('Bob'), desktop.userAgent);

      const page = await phone.sessions();
      expect(page.user).toBe(name);
      expect(page.endOthers).toBe(true);
      expect(page.devices![0]).toMatchObject({ name: phoneAgent.name, current: true });
      const byName = [...page.devices!].sort((a, b) => a.name.localeCompare(b.name));
      expect(byName).toEqual([
        { name: laptopAgent.name, userAgent: laptopAgent.userAgent, current: false, handle: expect.stringMatching(/^[\w-]{43}$/), createdAt: expect.any(Number) },
        { name: phoneAgent.name, userAgent: phoneAgent.userAgent, current: true, handle: undefined, createdAt: expect.any(Number) },
        { name: 'Unknown browser', userAgent: 'curl/8.8.0', current: false, handle: expect.stringMatching(/^[\w-]{43}$/), createdAt: expect.any(Number) },
      ]);
      for (const device of byName) {
        expect(Date.now() - device.createdAt).toBeLessThan(60_000);
      }
      expect(page.html).not.toMatch(/<script/i);
      const fromLaptop = await laptop.sessions();
      expect(fromLaptop.devices).toHaveLength(3);
      expect(fromLaptop.devices![0]).toMatchObject({ name: laptopAgent.name, current: true });
      expect(fromLaptop.devices!.slice(1).map((device) => [device.name, device.current])).toEqual(
        expect.arrayContaining([[phoneAgent.name, false], ['Unknown browser', false]]),
      );
    });

    it('"End this session" logs the other device out at its next page; a handle of another name ends nothing', async () => {
      const { laptop: laptopAgent, phone: phoneAgent, desktop } = USER_AGENTS;
      const name = uniqueName('Ada');
      const laptop = await loggedIn(name, laptopAgent.userAgent);
      const phone = await loggedIn(name, phoneAgent.userAgent);
      const bob = await loggedIn(uniqueName('Bob'), desktop.userAgent);
      const phoneHandle = (await laptop.sessions()).devices!.find((device) => device.name === phoneAgent.name)!.handle!;

      // Bob cannot end Ada's phone with its handle.
      expect((await bob.post('/sessions/end', { handle: phoneHandle })).status).toBe(303);
      expect((await bob.sessions()).flash).toBe('That session had already ended.');
      expect((await phone.home()).user).toBe(name);

      expect((await laptop.post('/sessions/end', { handle: phoneHandle })).status).toBe(303);
      const after = await laptop.sessions();
      expect(after.flash).toBe('That session has ended: its browser is logged out.');
      expect(after.devices?.map((device) => device.name)).toEqual([laptopAgent.name]);
      expect((await phone.home()).user).toBeUndefined();
      expect((await laptop.home()).user).toBe(name);
      expect((await bob.home()).user).toBeDefined();
    });

    it('"End all other sessions" ends the other devices of the name, not this one, not another name; then it is not offered', async () => {
      const { laptop: laptopAgent, phone: phoneAgent, tablet: tabletAgent, desktop } = USER_AGENTS;
      const name = uniqueName('Ada');
      const laptop = await loggedIn(name, laptopAgent.userAgent);
      const phone = await loggedIn(name, phoneAgent.userAgent);
      const tablet = await loggedIn(name, tabletAgent.userAgent);
      const bob = await loggedIn(uniqueName('Bob'), desktop.userAgent);

      expect((await laptop.post('/sessions/end-others')).status).toBe(303);
      const after = await laptop.sessions();
      expect(after.flash).toBe('Ended 2 other sessions; this one goes on.');
      expect(after.devices).toEqual([expect.objectContaining({ name: laptopAgent.name, current: true })]);
      expect(after.endOthers).toBe(false);
      expect(after.html).toContain('You are logged in nowhere else.');
      expect((await phone.home()).user).toBeUndefined();
      expect((await tablet.home()).user).toBeUndefined();
      expect((await laptop.home()).user).toBe(name);
      expect((await bob.home()).user).toBeDefined();
    });

    it('logs out for real: a copy of the cookie taken before logout opens a fresh session', async () => {
      const browser = await loggedIn(uniqueName('Grace'));
      const copy = browser.cookie;
      await browser.post('/logout');
      expect((await browser.home()).flash).toBe('You have logged out.');
      const thief = new Browser(demo.url);
      thief.cookie = copy;
      const page = await thief.home();
      expect(page.user).toBeUndefined();
      expect(page.visits).toBe(1);
    });

    it('stores a value far larger than a cookie holds; the cookie stays small', async () => {
      const name = uniqueName('Ada');
      const browser = await loggedIn(name);
      const response = await browser.post('/big', { size: '50000' });
      expect(response.status).toBe(303);
      for (const line of response.headers.getSetCookie()) {
        expect(line.length).toBeLessThan(300);
      }
      const sent = browser.cookie!;
      const big = await browser.big();
      expect(big.bigBytes).toBe(50_000);
      expect(big.flash).toBe('Stored a value of 50000 bytes in your session.');
      expect(big.cookieBytes).toBe(sent.length);
      expect(big.cookieBytes).toBeLessThan(200);
      expect(big.html).toContain('only their encrypted id');
      const page = await browser.home();
      expect(page.user).toBe(name);
      expect(page.bigBytes).toBe(50_000);
    });

    if (kind === 'memory') {
      it('forgets every session when the demo restarts, even with the same key', async () => {
        const key = randomBytes(32).toString('base64');
        const first = await startDemo({ ...storeEnv, SESSION_KEY: key });
        const browser = new Browser(first.url);
        try {
          await browser.post('/login', { name: 'Ada' });
          expect((await browser.home()).user).toBe('Ada');
        } finally {
          expect(await first.stop()).toBe(0);
        }
        const second = await startDemo({ ...storeEnv, SESSION_KEY: key });
        try {
          const again = new Browser(second.url);
          again.cookie = browser.cookie;
          expect((await again.home()).user).toBeUndefined();
        } finally {
          expect(await second.stop()).toBe(0);
        }
      });
    } else {
      it('keeps sessions across a restart with the same key: they live in the store', async () => {
        const key = randomBytes(32).toString('base64');
        const name = uniqueName('Ada');
        const first = await startDemo({ ...storeEnv, SESSION_KEY: key });
        const browser = new Browser(first.url);
        try {
          await browser.post('/login', { name });
          await browser.post('/big', { size: '20000' });
          expect((await browser.home()).user).toBe(name);
        } finally {
          expect(await first.stop()).toBe(0);
        }
        const second = await startDemo({ ...storeEnv, SESSION_KEY: key });
        try {
          const again = new Browser(second.url);
          again.cookie = browser.cookie;
          const page = await again.home();
          expect(page.user).toBe(name);
          expect(page.bigBytes).toBe(20_000);
        } finally {
          expect(await second.stop()).toBe(0);
        }
      });
    }
  };
  const name = `SESSION_STORE=${kind}`;
  if (kind === 'memory' || kind === 'sqlite') {
    describe(name, body);
  } else {
    describeWith(kind, name, body);
  }
}
