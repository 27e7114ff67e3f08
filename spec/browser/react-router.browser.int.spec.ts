// The React Router example (examples/react-router) in a real browser: headless Chromium
// driven by playwright-core, the compiled example running as a child process, reached at
// http://localhost:<port>/ (where browsers accept a Secure, __Host- cookie without TLS).
// Its pages are rendered by React Router on the server and use plain HTML forms, so the
// browser runs no script: every step is a document request, as with JavaScript off.
//
// Chromium is found at CHROMIUM_PATH, else /usr/bin/chromium (spec/support/chromium.ts);
// .ci/run installs Debian's when it is missing. Without it, these tests are skipped with
// the reason printed, and under CI=true they fail.

import type { ChildProcess } from 'node:child_process';
import type { BrowserContext, Cookie, Page, Response } from 'playwright-core';
import { describeInChromium, type ChromiumHandle } from '../support/chromium.js';
import { startExample, stopChild } from '../examples/processes.js';

const COOKIE_NAME = '__Host-session';

// Two cores, shared with other test files: be generous.
jest.setTimeout(120_000);

/** Starts the example for a describe block, and stops it after; its URL on localhost. */
function useExample(env: Record<string, string> = {}): { readonly url: string; output(): string } {
  let child: ChildProcess | undefined;
  let url = '';
  let output = (): string => '';
  beforeAll(async () => {
    const example = await startExample('react-router/server', env);
    child = example.child;
    const address = new URL(example.url);
    address.hostname = 'localhost';
    url = address.origin;
    output = () => {
      const { stdout, stderr } = example.output();
      return stdout + stderr;
    };
  }, 60_000);
  afterAll(async () => {
    if (child !== undefined) {
      expect(await stopChild(child)).toBe(0);
    }
  });
  return {
    get url() {
      return url;
    },
    output: () => output(),
  };
}

/**
 * A fresh browser context with JavaScript off (plain HTML forms need none) per test, and
 * the responses to its page loads (redirects included).
 */
function useTab(chromium: ChromiumHandle): { readonly context: BrowserContext; readonly page: Page; readonly responses: Response[] } {
  let context: BrowserContext | undefined;
  let page: Page | undefined;
  let responses: Response[] = [];
  beforeEach(async () => {
    context = await chromium.browser.newContext({ javaScriptEnabled: false });
    page = await context.newPage();
    responses = [];
    page.on('response', (response) => {
      if (response.request().isNavigationRequest()) {
        responses.push(response);
      }
    });
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
    get responses() {
      return responses;
    },
  };
}

/** What the home page shows. */
async function readHome(page: Page): Promise<{ visits: number; homeViews: number; user?: string; flash?: string }> {
  expect(await page.locator('h1').textContent()).toBe('kit-session with React Router');
  const optional = async (selector: string): Promise<string | undefined> => {
    const element = page.locator(selector);
    return (await element.count()) === 0 ? undefined : ((await element.textContent()) ?? undefined);
  };
  const user = await optional('.user');
  const flash = await optional('.flash');
  return {
    visits: Number(await page.locator('.visits').textContent()),
    homeViews: Number(await page.locator('.home-views').textContent()),
    ...(user === undefined ? {} : { user }),
    ...(flash === undefined ? {} : { flash }),
  };
}

async function open(page: Page, url: string): Promise<void> {
  const response = await page.goto(url);
  expect(response?.status()).toBe(200);
}

async function reload(page: Page): Promise<void> {
  const response = await page.reload();
  expect(response?.status()).toBe(200);
}

/** Clicks a form's button and waits for the page the redirect leads to. */
async function submit(page: Page, button: string): Promise<void> {
  const [response] = await Promise.all([
    page.waitForResponse(
      (candidate) =>
        candidate.request().isNavigationRequest() && !(candidate.status() >= 300 && candidate.status() < 400),
    ),
    page.waitForEvent('load'),
    page.getByRole('button', { name: button, exact: true }).click(),
  ]);
  expect(response.status()).toBe(200);
}

async function logIn(page: Page, url: string, name: string): Promise<void> {
  await open(page, `${url}/`);
  await page.getByLabel('Your name').fill(name);
  await submit(page, 'Log in');
}

async function sessionCookie(context: BrowserContext, url: string): Promise<Cookie | undefined> {
  return (await context.cookies(url)).find((cookie) => cookie.name === COOKIE_NAME);
}

/** How many session Set-Cookie headers each response carried. */
async function sessionCookiesPerResponse(responses: readonly Response[]): Promise<number[]> {
  return Promise.all(
    responses.map(async (response) =>
      (await response.headersArray()).filter(
        ({ name, value }) => name.toLowerCase() === 'set-cookie' && value.startsWith(`${COOKIE_NAME}=`),
      ).length,
    ),
  );
}

describeInChromium('the React Router example in Chromium', (chromium) => {
  describe('on the encrypted cookie store (the default)', () => {
    const example = useExample();
    const tab = useTab(chromium);

    it('counts in the root loader and the home loader, which run in parallel, with one cookie per response', async () => {
      const { page, responses } = tab;
      await open(page, `${example.url}/`);
      expect(await readHome(page)).toEqual({ visits: 1, homeViews: 1 });
      await reload(page);
      expect(await readHome(page)).toEqual({ visits: 2, homeViews: 2 });
      await reload(page);
      expect(await readHome(page)).toEqual({ visits: 3, homeViews: 3 });
      expect(await sessionCookiesPerResponse(responses)).toEqual([1, 1, 1]);
    });

    it('logs in through the form: the action renews the session and redirects, the flash shows once', async () => {
      const { page, context, responses } = tab;
      await open(page, `${example.url}/`);
      const anonymous = (await sessionCookie(context, example.url))!.value;

      await page.getByLabel('Your name').fill('Ada');
      await submit(page, 'Log in');
      expect(await readHome(page)).toEqual({ visits: 2, homeViews: 2, user: 'Ada', flash: 'Welcome, Ada!' });
      const cookie = await sessionCookie(context, example.url);
      expect(cookie).toMatchObject({ name: COOKIE_NAME, path: '/', httpOnly: true, secure: true, sameSite: 'Lax' });
      expect(cookie!.value).not.toBe(anonymous);
      // GET /, POST /login (its 302 carries the cookie), GET /: one session cookie each.
      expect(responses.map((response) => response.status())).toEqual([200, 302, 200]);
      expect(await sessionCookiesPerResponse(responses)).toEqual([1, 1, 1]);

      await reload(page);
      expect(await readHome(page)).toEqual({ visits: 3, homeViews: 3, user: 'Ada' });
    });

    it('logs out through the form: the name is gone, the goodbye shows once, the count starts over', async () => {
      const { page, context } = tab;
      await logIn(page, example.url, 'Grace');
      expect((await readHome(page)).user).toBe('Grace');
      const before = (await sessionCookie(context, example.url))!.value;

      await submit(page, 'Log out');
      expect(await readHome(page)).toEqual({ visits: 1, homeViews: 1, flash: 'You have logged out.' });
      expect(await page.getByLabel('Your name').count()).toBe(1);
      expect((await sessionCookie(context, example.url))?.value).not.toBe(before);

      await reload(page);
      expect(await readHome(page)).toEqual({ visits: 2, homeViews: 2 });
      expect(example.output()).not.toMatch(/Error|Warning/);
    });
  });

  describe('on the memory store (SESSION_STORE=memory)', () => {
    const example = useExample({ SESSION_STORE: 'memory' });
    const tab = useTab(chromium);

    it('logs in and out; a copy of the cookie saved before the logout opens nothing afterwards', async () => {
      const { page, context } = tab;
      await logIn(page, example.url, 'Ada');
      expect(await readHome(page)).toEqual({ visits: 2, homeViews: 2, user: 'Ada', flash: 'Welcome, Ada!' });
      // Only an id in the cookie.
      expect((await sessionCookie(context, example.url))!.value.length).toBeLessThan(100);
      const saved = await context.storageState();

      await submit(page, 'Log out');
      expect(await readHome(page)).toEqual({ visits: 1, homeViews: 1, flash: 'You have logged out.' });

      const restored = await chromium.browser.newContext({ storageState: saved, javaScriptEnabled: false });
      try {
        const copy = await restored.newPage();
        await open(copy, `${example.url}/`);
        expect(await readHome(copy)).toEqual({ visits: 1, homeViews: 1 });
      } finally {
        await restored.close();
      }
    });
  });
});
