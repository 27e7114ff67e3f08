// The demo in a real browser: headless Chromium from Debian's `chromium` package, driven
// by playwright-core. The demo runs compiled, as a child process, and the browser goes to
// http://localhost:<port>/, where browsers accept a Secure (and so a __Host-) cookie
// without TLS.
//
// Chromium is found at CHROMIUM_PATH, else /usr/bin/chromium (spec/support/chromium.ts);
// .ci/run installs Debian's when it is missing. Without it, these tests are skipped with
// the reason printed, and under CI=true they fail.

import type { BrowserContext, BrowserContextOptions, Cookie, Page, Response } from 'playwright-core';
import { describeInChromium, type ChromiumHandle } from '../support/chromium.js';
import { USER_AGENTS } from '../support/userAgents.js';
import { startDemo, type RunningDemo } from '../examples/processes.js';

const COOKIE_NAME = '__Host-session';
/** The demo's idle timeout, which its cookie's Max-Age follows. */
const IDLE_TIMEOUT_S = 30 * 60;

// Two cores, shared with other test files: be generous.
jest.setTimeout(120_000);

/** The demo's address with the host browsers treat as secure by name: localhost. */
function localhostUrl(demo: RunningDemo): string {
  const url = new URL(demo.url);
  url.hostname = 'localhost';
  return url.origin;
}

/** Starts the demo for a describe block, and stops it after. */
function useDemo(env: Record<string, string> = {}): { readonly url: string } {
  let demo: RunningDemo | undefined;
  const handle = {
    get url(): string {
      return localhostUrl(demo!);
    },
  };
  beforeAll(async () => {
    demo = await startDemo(env);
  }, 60_000);
  afterAll(async () => {
    expect(await demo?.stop()).toBe(0);
  });
  return handle;
}

/** A fresh browser context (its own cookie jar) per test, closed after it. */
function useContext(chromium: ChromiumHandle): { readonly context: BrowserContext; readonly page: Page } {
  let context: BrowserContext | undefined;
  let page: Page | undefined;
  beforeEach(async () => {
    context = await chromium.browser.newContext();
    page = await context.newPage();
  });
  afterEach(async () => {
    await context?.close();
  });
  return {
    get context() {
      return context!;
    },
    get page() {
      return page!;
    },
  };
}

/**
 * Clicks a form's button and waits for the page the browser ends up on (after the
 * redirect that follows a successful POST, or the error page itself).
 *
 * @returns The response of the page shown.
 */
async function submit(page: Page, button: string): Promise<Response> {
  const [response] = await Promise.all([
    page.waitForResponse(
      (candidate) =>
        candidate.request().isNavigationRequest() &&
        candidate.request().frame() === page.mainFrame() &&
        !(candidate.status() >= 300 && candidate.status() < 400),
    ),
    page.waitForEvent('load'),
    page.getByRole('button', { name: button, exact: true }).click(),
  ]);
  return response;
}

/** Opens a page and checks it answered 200. */
async function open(page: Page, url: string): Promise<void> {
  const response = await page.goto(url);
  expect(response?.status()).toBe(200);
}

/** Reloads and checks it answered 200. */
async function reload(page: Page): Promise<void> {
  const response = await page.reload();
  expect(response?.status()).toBe(200);
}

/** What the home page shows. */
async function readHome(page: Page): Promise<{ visits: number; user: string | undefined; flashes: string[] }> {
  expect(await page.locator('h1').textContent()).toBe('kit-session demo');
  const user = page.locator('.user');
  return {
    visits: Number(await page.locator('.visits').textContent()),
    user: (await user.count()) === 0 ? undefined : ((await user.textContent()) ?? undefined),
    flashes: await page.locator('.flash').allTextContents(),
  };
}

/** Logs in through the form, as a person would (ticking "Keep me logged in" when asked), and checks the name is shown. */
async function logIn(page: Page, url: string, name: string, { remember = false }: { remember?: boolean } = {}): Promise<void> {
  await open(page, `${url}/`);
  await page.getByLabel('Your name').fill(name);
  if (remember) {
    await page.getByLabel('Keep me logged in when the browser closes').check();
  }
  expect((await submit(page, 'Log in')).status()).toBe(200);
  expect((await readHome(page)).user).toBe(name);
}

/** Follows a link of the page, as a person would, and checks it answered 200. */
async function follow(page: Page, link: string): Promise<void> {
  const [response] = await Promise.all([
    page.waitForEvent('response', (candidate) => candidate.request().isNavigationRequest()),
    page.waitForEvent('load'),
    page.getByRole('link', { name: link, exact: true }).click(),
  ]);
  expect(response.status()).toBe(200);
}

/** The devices "Your sessions" lists, in its order: their names ("Firefox on Windows"), and which one is marked as this device. */
async function readDevices(page: Page): Promise<{ name: string; current: boolean }[]> {
  expect(await page.locator('h1').textContent()).toBe('Your sessions');
  const devices = [];
  for (const item of await page.locator('li.device').all()) {
    devices.push({
      name: (await item.locator('.device-name').textContent()) ?? '',
      current: (await item.locator('.this-device').count()) === 1,
    });
  }
  return devices;
}

/**
 * Two browser contexts (two devices, each its own cookie jar) with the user agents of
 * a laptop (Firefox on Windows) and a phone (Safari on iPhone), both logged in under
 * one name; `phone` sets the second one's screen.
 */
async function twoDevices(chromium: ChromiumHandle, url: string, name: string, phone: BrowserContextOptions = {}) {
  const contexts = [
    await chromium.browser.newContext({ userAgent: USER_AGENTS.laptop.userAgent }),
    await chromium.browser.newContext({ ...phone, userAgent: USER_AGENTS.phone.userAgent }),
  ] as const;
  const [a, b] = [await contexts[0].newPage(), await contexts[1].newPage()];
  await logIn(a, url, name);
  await logIn(b, url, name);
  return { a, b, contexts, close: () => Promise.all(contexts.map((context) => context.close())) };
}

/** The session cookie the context holds, if any. */
async function sessionCookie(context: BrowserContext, url: string): Promise<Cookie | undefined> {
  return (await context.cookies(url)).find((cookie) => cookie.name === COOKIE_NAME);
}

/** A base64url character other than the one given. */
const otherChar = (char: string): string => (char === 'A' ? 'B' : 'A');

const uniqueName = (label: string): string => `${label} ${Math.random().toString(36).slice(2, 10)}`;

/** A phone's screen, 390 × 844 CSS pixels (iPhone 12 to 15), with touch and the page's viewport meta obeyed. */
const PHONE: BrowserContextOptions = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true };

/**
 * Checks that the page fits a phone's width: nothing scrolls sideways (a mobile browser
 * would widen its layout viewport to what overflows, so that width must stay the
 * screen's too), and every button and text field is at least 44 px tall, a finger's size.
 */
async function expectFitsPhone(page: Page): Promise<void> {
  const fit = await page.evaluate(() => ({
    path: location.pathname,
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    small: [...document.querySelectorAll('button, input:not([type="checkbox"])')]
      .filter((element) => element.getBoundingClientRect().height < 44)
      .map((element) => element.outerHTML),
  }));
  expect(fit).toEqual({ path: fit.path, scrollWidth: expect.any(Number), innerWidth: 390, small: [] });
  expect(fit.scrollWidth).toBeLessThanOrEqual(fit.innerWidth);
}

/** A name with no place to break a line: wider than a phone unless the page wraps it. */
const unbrokenName = (): string => `Ada${'W'.repeat(60)}${Math.random().toString(36).slice(2, 10)}`;

describeInChromium('the demo in Chromium', (chromium) => {
  describe('on the encrypted cookie store (the default)', () => {
    const demo = useDemo();
    const tab = useContext(chromium);

    it('logs in through the form, JavaScript off; the __Host- cookie is accepted on http://localhost with its attributes', async () => {
      // Plain HTML forms: nothing needs a script.
      const context = await chromium.browser.newContext({ javaScriptEnabled: false });
      let cookie: Cookie | undefined;
      try {
        const page = await context.newPage();
        await logIn(page, demo.url, 'Ada', { remember: true });
        expect((await readHome(page)).flashes).toEqual([expect.stringMatching(/^Welcome, Ada!/)]);
        cookie = await sessionCookie(context, demo.url);
      } finally {
        await context.close();
      }
      expect(cookie).toMatchObject({
        name: COOKIE_NAME,
        domain: 'localhost',
        path: '/',
        httpOnly: true,
        secure: true,
        sameSite: 'Lax',
      });
      // Persistent, for as long as the session may stay idle.
      const left = cookie!.expires - Date.now() / 1000;
      expect(left).toBeGreaterThan(IDLE_TIMEOUT_S - 120);
      expect(left).toBeLessThanOrEqual(IDLE_TIMEOUT_S + 5);
    });

    it('without "Keep me logged in", keeps a browser-session cookie (expires -1), through reloads that send it again', async () => {
      const { page, context } = tab;
      await open(page, `${demo.url}/`);
      // Before any log-in: the default, a persistent cookie.
      expect((await sessionCookie(context, demo.url))!.expires).toBeGreaterThan(Date.now() / 1000);
      await logIn(page, demo.url, 'Ada');
      const loggedIn = (await sessionCookie(context, demo.url))!;
      expect(loggedIn.expires).toBe(-1);
      await reload(page);
      const reloaded = (await sessionCookie(context, demo.url))!;
      expect(reloaded.value).not.toBe(loggedIn.value); // the visit count was saved again
      expect(reloaded.expires).toBe(-1);
      expect((await readHome(page)).user).toBe('Ada');
    });

    it('keeps counting across reloads', async () => {
      const { page } = tab;
      await open(page, `${demo.url}/`);
      expect((await readHome(page)).visits).toBe(1);
      await reload(page);
      expect((await readHome(page)).visits).toBe(2);
      await reload(page);
      expect((await readHome(page)).visits).toBe(3);
    });

    it('continues the counter in a new browser context restored from the saved cookies', async () => {
      const { page, context } = tab;
      await logIn(page, demo.url, 'Ada');
      await reload(page);
      expect((await readHome(page)).visits).toBe(3);

      const restored = await chromium.browser.newContext({ storageState: await context.storageState() });
      try {
        const other = await restored.newPage();
        await open(other, `${demo.url}/`);
        const home = await readHome(other);
        expect(home.visits).toBe(4);
        expect(home.user).toBe('Ada');
      } finally {
        await restored.close();
      }
    });

    it('shows a flash message exactly once', async () => {
      const { page } = tab;
      await logIn(page, demo.url, 'Ada');
      const first = await readHome(page);
      expect(first.flashes).toHaveLength(1);
      expect(first.flashes[0]).toMatch(/^Welcome, Ada!/);
      expect(await page.getByRole('status').count()).toBe(1);

      await reload(page);
      expect((await readHome(page)).flashes).toEqual([]);
      await open(page, `${demo.url}/big`);
      await open(page, `${demo.url}/`);
      expect((await readHome(page)).flashes).toEqual([]);
    });

    it('logs out: the name is gone, the goodbye shows once, the count starts over', async () => {
      const { page, context } = tab;
      await logIn(page, demo.url, 'Grace');
      const before = (await sessionCookie(context, demo.url))!.value;

      expect((await submit(page, 'Log out')).status()).toBe(200);
      const after = await readHome(page);
      expect(after.user).toBeUndefined();
      expect(after.flashes).toEqual(['You have logged out.']);
      expect(after.visits).toBe(1);
      expect(await page.getByLabel('Your name').count()).toBe(1);
      expect((await sessionCookie(context, demo.url))?.value).not.toBe(before);

      await reload(page);
      const later = await readHome(page);
      expect(later.user).toBeUndefined();
      expect(later.flashes).toEqual([]);
      expect(later.visits).toBe(2);
    });

    it('hides the session cookie from document.cookie', async () => {
      const { page, context } = tab;
      await logIn(page, demo.url, 'Ada');
      expect(await sessionCookie(context, demo.url)).toBeDefined();
      // document.cookie works on this page: a script's own cookie shows up in it.
      const seen = await page.evaluate(() => {
        document.cookie = 'probe=1; path=/';
        return document.cookie;
      });
      expect(seen).toContain('probe=1');
      expect(seen).not.toContain(COOKIE_NAME);
    });

    it('treats a cookie edited through the DevTools protocol as a fresh session, not an error', async () => {
      const { page, context } = tab;
      await logIn(page, demo.url, 'Ada');
      await reload(page);
      expect((await readHome(page)).visits).toBe(3);

      const cookie = (await sessionCookie(context, demo.url))!;
      const at = Math.floor(cookie.value.length / 2);
      const edited = cookie.value.slice(0, at) + otherChar(cookie.value[at]!) + cookie.value.slice(at + 1);
      const devtools = await context.newCDPSession(page);
      // Same name and attributes, host-only (a url, no domain), as __Host- requires.
      await devtools.send('Network.setCookie', {
        name: COOKIE_NAME,
        value: edited,
        url: `${demo.url}/`,
        path: '/',
        secure: true,
        httpOnly: true,
        sameSite: 'Lax',
        expires: cookie.expires,
      });
      await devtools.detach();
      expect((await sessionCookie(context, demo.url))?.value).toBe(edited);

      const response = await page.reload();
      expect(response?.status()).toBe(200);
      expect(await page.locator('.error').count()).toBe(0);
      const home = await readHome(page);
      expect(home.visits).toBe(1);
      expect(home.user).toBeUndefined();
      // The fresh session replaced the edited cookie.
      const replaced = (await sessionCookie(context, demo.url))!.value;
      expect(replaced).not.toBe(edited);
      expect(replaced).not.toBe(cookie.value);
    });

    it('deletes your data at once right after logging in: a fresh log-in is enough', async () => {
      const { page } = tab;
      await logIn(page, demo.url, 'Ada');
      await reload(page);
      expect((await readHome(page)).visits).toBe(3);
      expect((await submit(page, 'Delete my data')).status()).toBe(200);
      const home = await readHome(page);
      expect(home.flashes).toEqual([expect.stringMatching(/^Your data is deleted/)]);
      expect(home.visits).toBe(1);
      expect(home.user).toBe('Ada');
    });

    it('"Your sessions" explains that cookies can be neither listed nor ended', async () => {
      const { page } = tab;
      await logIn(page, demo.url, 'Ada');
      await follow(page, 'Your sessions');
      expect(await readDevices(page)).toEqual([]);
      expect(await page.getByRole('button', { name: 'End all other sessions' }).count()).toBe(0);
      expect(await page.locator('body').textContent()).toContain('it can neither list your devices nor end them');
    });

    it('answers a session too large for a cookie with the app\'s 413 page; the session is not lost', async () => {
      const { page, context } = tab;
      await logIn(page, demo.url, 'Ada');
      const before = (await sessionCookie(context, demo.url))!.value;

      await open(page, `${demo.url}/big`);
      await page.getByLabel(/^Size of the value to store/).fill('5000');
      const response = await submit(page, 'Store it');
      expect(response.status()).toBe(413);
      expect(response.request().method()).toBe('POST');
      expect(await page.locator('h1').textContent()).toBe('Too much for one cookie');
      expect(await page.getByRole('alert').textContent()).toContain('SessionCookieTooLargeError');
      expect((await sessionCookie(context, demo.url))?.value).toBe(before);

      // Back home: still logged in, the count goes on where it was (2 after logging in).
      await Promise.all([page.waitForEvent('load'), page.getByRole('link', { name: 'Back to the demo' }).click()]);
      const home = await readHome(page);
      expect(home.user).toBe('Ada');
      expect(home.visits).toBe(3);
    });
    it('at phone width, every page fits: home before and after logging in (a name with no place to break), "Your sessions", the big-value page, its 413, a 404', async () => {
      const phone = await chromium.browser.newContext(PHONE);
      try {
        const page = await phone.newPage();
        await open(page, `${demo.url}/`);
        await expectFitsPhone(page);
        await logIn(page, demo.url, unbrokenName(), { remember: true });
        await expectFitsPhone(page);
        await follow(page, 'Your sessions');
        await expectFitsPhone(page);
        await open(page, `${demo.url}/big`);
        await expectFitsPhone(page);
        expect((await submit(page, 'Store it')).status()).toBe(413);
        await expectFitsPhone(page);
        expect((await page.goto(`${demo.url}/nowhere`))?.status()).toBe(404);
        await expectFitsPhone(page);
      } finally {
        await phone.close();
      }
    });
  });

  describe('"Delete my data" with an older log-in (FRESH_LOGIN_SECONDS=0.05)', () => {
    const demo = useDemo({ FRESH_LOGIN_SECONDS: '0.05' });
    const tab = useContext(chromium);

    it('asks for the name again; once it is re-entered, the data is deleted', async () => {
      const { page, context } = tab;
      await logIn(page, demo.url, 'Ada');
      await open(page, `${demo.url}/big`);
      await page.getByLabel(/^Size of the value to store/).fill('100');
      expect((await submit(page, 'Store it')).status()).toBe(200);
      await open(page, `${demo.url}/`);
      // The demo reads the wall clock, which no test can set: wait out the 50 ms.
      await page.waitForTimeout(100);

      expect((await submit(page, 'Delete my data')).status()).toBe(200);
      expect(await page.locator('h1').textContent()).toBe('Confirm it is you');
      await open(page, `${demo.url}/big`);
      expect(await page.locator('.big-bytes').textContent()).toBe('100');
      await open(page, `${demo.url}/`);

      expect((await submit(page, 'Delete my data')).status()).toBe(200);
      const before = (await sessionCookie(context, demo.url))!.value;
      await page.getByLabel('Your name').fill('Ada');
      expect((await submit(page, 'Delete my data')).status()).toBe(200);
      const home = await readHome(page);
      expect(home.flashes).toEqual([expect.stringMatching(/^Your data is deleted/)]);
      expect(home.user).toBe('Ada');
      expect(home.visits).toBe(1);
      expect(await page.locator('.big-bytes').count()).toBe(0);
      // Logged in again: a new token.
      expect((await sessionCookie(context, demo.url))!.value).not.toBe(before);
    });
    it('at phone width, the page that asks for the name again fits, and so does its 403', async () => {
      const phone = await chromium.browser.newContext(PHONE);
      try {
        const page = await phone.newPage();
        await logIn(page, demo.url, unbrokenName());
        await page.waitForTimeout(100);
        expect((await submit(page, 'Delete my data')).status()).toBe(200);
        expect(await page.locator('h1').textContent()).toBe('Confirm it is you');
        await expectFitsPhone(page);
        await page.getByLabel('Your name').fill('Someone else');
        expect((await submit(page, 'Delete my data')).status()).toBe(403);
        await expectFitsPhone(page);
      } finally {
        await phone.close();
      }
    });
  });

  describe('"Your sessions" on the memory store (SESSION_STORE=memory)', () => {
    const demo = useDemo({ SESSION_STORE: 'memory' });

    it('names both devices of the name, this one first and marked; ends the other, then all others; the device asking goes on', async () => {
      const { laptop, phone } = USER_AGENTS;
      const name = uniqueName('Ada');
      const { a, b, close } = await twoDevices(chromium, demo.url, name);
      try {
        await follow(a, 'Your sessions');
        expect(await readDevices(a)).toEqual([
          { name: laptop.name, current: true },
          { name: phone.name, current: false },
        ]);
        expect(await a.locator('.this-device').textContent()).toBe('This device');
        // The whole User-Agent is in the name's title.
        expect(await a.locator('li.device .device-name').first().getAttribute('title')).toBe(laptop.userAgent);
        // Only the other device has a button, and it is the phone's; "End all other sessions" is set apart.
        const other = a.locator('li.device', { hasText: phone.name });
        expect(await other.getByRole('button', { name: 'End this session' }).count()).toBe(1);
        expect(await a.getByRole('button', { name: 'End this session' }).count()).toBe(1);
        expect(await a.getByRole('button', { name: 'End all other sessions' }).count()).toBe(1);

        // The laptop ends the phone's session: the phone's next page is logged out.
        expect((await submit(a, 'End this session')).status()).toBe(200);
        expect(await a.locator('.flash').textContent()).toBe('That session has ended: its browser is logged out.');
        expect(await readDevices(a)).toEqual([{ name: laptop.name, current: true }]);
        expect(await a.getByRole('button', { name: 'End all other sessions' }).count()).toBe(0);
        await reload(b);
        expect((await readHome(b)).user).toBeUndefined();

        // The phone logs in again; the laptop ends all others.
        await logIn(b, demo.url, name);
        await reload(a);
        expect(await readDevices(a)).toHaveLength(2);
        expect((await submit(a, 'End all other sessions')).status()).toBe(200);
        expect(await a.locator('.flash').textContent()).toBe('Ended 1 other session; this one goes on.');
        expect(await readDevices(a)).toEqual([{ name: laptop.name, current: true }]);
        await reload(b);
        expect((await readHome(b)).user).toBeUndefined();
        await open(a, `${demo.url}/`);
        expect((await readHome(a)).user).toBe(name);
      } finally {
        await close();
      }
    });

    it('at phone width, the home, "Your sessions" and big-value pages fit, and each device reads as "… on …"', async () => {
      const { a, b, close } = await twoDevices(chromium, demo.url, unbrokenName(), PHONE);
      try {
        await expectFitsPhone(b);
        await follow(b, 'Your sessions');
        await expectFitsPhone(b);
        const names = (await readDevices(b)).map((device) => device.name);
        expect(names).toEqual([USER_AGENTS.phone.name, USER_AGENTS.laptop.name]);
        for (const name of names) {
          expect(name).toMatch(/^\S.* on \S+$/);
        }
        await open(b, `${demo.url}/big`);
        await b.getByLabel(/^Size of the value to store/).fill('50000');
        expect((await submit(b, 'Store it')).status()).toBe(200);
        await expectFitsPhone(b);
        await open(a, `${demo.url}/sessions`);
        expect((await readDevices(a)).map((device) => device.name)).toEqual([USER_AGENTS.laptop.name, USER_AGENTS.phone.name]);
      } finally {
        await close();
      }
    });
  });

  describe('"Your sessions" on revocable cookies (SESSION_STORE=revocable)', () => {
    const demo = useDemo({ SESSION_STORE: 'revocable' });

    it('lists no devices; "End all other sessions" revokes the other device\'s sealed cookie, and the device asking goes on', async () => {
      const name = uniqueName('Ada');
      const { a, b, contexts, close } = await twoDevices(chromium, demo.url, name);
      try {
        await follow(a, 'Your sessions');
        expect(await readDevices(a)).toEqual([]);
        expect(await a.locator('body').textContent()).toContain('the server keeps no list of them');
        const cookieB = (await sessionCookie(contexts[1], demo.url))!.value;

        expect((await submit(a, 'End all other sessions')).status()).toBe(200);
        expect(await a.locator('.flash').textContent()).toBe('Your other sessions are revoked; this one goes on.');

        // B still holds the same sealed cookie, which opens nothing now.
        expect((await sessionCookie(contexts[1], demo.url))!.value).toBe(cookieB);
        await reload(b);
        const home = await readHome(b);
        expect(home.user).toBeUndefined();
        expect(home.visits).toBe(1);
        await open(a, `${demo.url}/`);
        expect((await readHome(a)).user).toBe(name);
      } finally {
        await close();
      }
    });
    it('at phone width, "Your sessions" fits', async () => {
      const phone = await chromium.browser.newContext(PHONE);
      try {
        const page = await phone.newPage();
        await logIn(page, demo.url, unbrokenName());
        await follow(page, 'Your sessions');
        expect(await page.getByRole('button', { name: 'End all other sessions' }).count()).toBe(1);
        await expectFitsPhone(page);
      } finally {
        await phone.close();
      }
    });
  });

  describe('on the memory store (SESSION_STORE=memory)', () => {
    const demo = useDemo({ SESSION_STORE: 'memory' });
    const tab = useContext(chromium);

    it('logs out everywhere across two browser contexts of one user, and not the other user', async () => {
      const name = uniqueName('Ada');
      const laptop = tab.page;
      const phoneContext = await chromium.browser.newContext();
      const bobContext = await chromium.browser.newContext();
      try {
        const phone = await phoneContext.newPage();
        const bob = await bobContext.newPage();
        await logIn(laptop, demo.url, name);
        await logIn(phone, demo.url, name);
        await logIn(bob, demo.url, 'Bob');
        const phoneSaved = await phoneContext.storageState();

        expect((await submit(laptop, 'Log out everywhere')).status()).toBe(200);
        const after = await readHome(laptop);
        expect(after.user).toBeUndefined();
        expect(after.flashes).toEqual(['You have logged out everywhere: 2 sessions ended.']);

        await reload(phone);
        const phoneHome = await readHome(phone);
        expect(phoneHome.user).toBeUndefined();
        expect(phoneHome.visits).toBe(1);
        expect(phoneHome.flashes).toEqual([]);

        // Unlike a cookie session, a copy of the phone's cookie saved before opens nothing.
        const restored = await chromium.browser.newContext({ storageState: phoneSaved });
        try {
          const copy = await restored.newPage();
          await open(copy, `${demo.url}/`);
          expect((await readHome(copy)).user).toBeUndefined();
        } finally {
          await restored.close();
        }

        await reload(bob);
        const bobHome = await readHome(bob);
        expect(bobHome.user).toBe('Bob');
        expect(bobHome.visits).toBe(3);
      } finally {
        await phoneContext.close();
        await bobContext.close();
      }
    });

    it('stores a value too large for a cookie, the cookie holding only an id', async () => {
      const { page, context } = tab;
      await logIn(page, demo.url, uniqueName('Ada'));
      await open(page, `${demo.url}/big`);
      await page.getByLabel(/^Size of the value to store/).fill('50000');
      expect((await submit(page, 'Store it')).status()).toBe(200);
      expect(await page.locator('.big-bytes').textContent()).toBe('50000');
      expect((await sessionCookie(context, demo.url))!.value.length).toBeLessThan(200);
    });
  });
});
