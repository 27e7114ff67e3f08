// Chunked cookies (`cookie.chunking`) in a real browser: headless Chromium from Debian's
// `chromium` package, driven by playwright-core, against a node:http server in this
// process, reached at http://localhost:<port>/ (where browsers accept a Secure, and so a
// __Host-, cookie without TLS). Two tabs are two pages of one browser context: they share
// its cookie jar, which is the jar under test.
//
// Chromium is found at CHROMIUM_PATH, else /usr/bin/chromium (spec/support/chromium.ts).
// Without it, these tests are skipped with the reason printed, and under CI=true they fail.

import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BrowserContext, Cookie, Page } from 'playwright-core';
import { createCookieSessions, importRawKey } from 'kit-session';
import { withSession } from 'kit-session/node';
import { describeInChromium } from '../support/chromium.js';

const NAME = '__Host-session';

// Two cores, shared with other test files: be generous.
jest.setTimeout(120_000);

interface Values {
  userId?: string;
  big?: string;
}

/** What a page shows of the session: who, and the size and digest of its large value. */
interface Shown {
  readonly status: string;
  readonly userId: string | null;
  readonly length: number;
  readonly digest: string | null;
}

const digestOf = (text: string): string => createHash('sha256').update(text).digest('base64url');

/**
 * The app: `/login` starts a session, `/grow?bytes=N` puts N random bytes (as base64url)
 * into it, `/shrink` puts a few, `/logout` ends it; every page answers what the session
 * holds, as JSON.
 */
async function startApp(): Promise<{ server: Server; url: string }> {
  const manager = createCookieSessions<Values>({
    keys: [await importRawKey(randomBytes(32).toString('base64'))],
    cookie: { chunking: true },
  });
  const server = createServer(
    withSession(manager, (req, res, session) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      switch (url.pathname) {
        case '/login':
          session.set('userId', 'ada');
          break;
        case '/grow':
          session.set('big', randomBytes(Number(url.searchParams.get('bytes'))).toString('base64url'));
          break;
        case '/shrink':
          session.set('big', randomBytes(300).toString('base64url'));
          break;
        case '/logout':
          session.destroy();
          break;
        default:
      }
      const big = session.get('big');
      const shown: Shown = {
        status: session.status,
        userId: session.get('userId') ?? null,
        length: big?.length ?? 0,
        digest: big === undefined ? null : digestOf(big),
      };
      res.setHeader('content-type', 'application/json');
      return JSON.stringify(shown);
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://localhost:${(server.address() as AddressInfo).port}` };
}

describeInChromium('cookie.chunking in Chromium', (chromium) => {
  let server: Server;
  let url: string;
  let context: BrowserContext;
  let tabA: Page;
  let tabB: Page;

  beforeAll(async () => {
    ({ server, url } = await startApp());
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(async () => {
    context = await chromium.browser.newContext();
    [tabA, tabB] = [await context.newPage(), await context.newPage()];
  });

  afterEach(async () => {
    await context.close();
  });

  /** Opens a path in a tab and gives what the page shows. */
  async function open(tab: Page, path: string): Promise<Shown> {
    const response = await tab.goto(`${url}${path}`);
    expect(response?.status()).toBe(200);
    return (await response!.json()) as Shown;
  }

  /** The session's cookies in the browser's jar: `name` and every `name.k`, by name. */
  async function jar(): Promise<Cookie[]> {
    return (await context.cookies(url))
      .filter((cookie) => cookie.name === NAME || cookie.name.startsWith(`${NAME}.`))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  it('a 10 KB session survives two tabs, a shrink and a log-out, with no stale chunk left', async () => {
    await open(tabA, '/login');
    expect((await jar()).map((cookie) => cookie.name)).toEqual([NAME]);

    // Tab A grows the session past 10 KB of cookies: three, each kept by Chromium.
    const grown = await open(tabA, '/grow?bytes=6500');
    expect(grown.length).toBeGreaterThan(8600);
    const big = await jar();
    expect(big.map((cookie) => cookie.name)).toEqual([NAME, `${NAME}.1`, `${NAME}.2`]);
    const bytes = big.reduce((sum, cookie) => sum + cookie.name.length + 1 + cookie.value.length, 0);
    expect(bytes).toBeGreaterThan(10 * 1024);
    for (const cookie of big) {
      expect(cookie).toMatchObject({ secure: true, httpOnly: true, sameSite: 'Lax', path: '/' });
    }

    // Tab B, same jar, reads it whole.
    expect(await open(tabB, '/')).toEqual({ ...grown, status: 'unmodified' });

    // Tab B shrinks it below 4 KB: the jar holds one cookie, the chunks are gone.
    const shrunk = await open(tabB, '/shrink');
    expect(shrunk.length).toBe(400);
    expect((await jar()).map((cookie) => cookie.name)).toEqual([NAME]);
    expect((await jar())[0]!.value.length).toBeLessThan(4096);

    // Tab A sees the shrunk session.
    expect(await open(tabA, '/')).toEqual({ ...shrunk, status: 'unmodified', userId: 'ada' });

    // Grows again in tab A, tab B sees it; tab B logs out: no cookie of the session left.
    const again = await open(tabA, '/grow?bytes=6500');
    expect((await jar()).map((cookie) => cookie.name)).toEqual([NAME, `${NAME}.1`, `${NAME}.2`]);
    expect(again.digest).not.toBe(grown.digest);
    expect(await open(tabB, '/')).toEqual({ ...again, status: 'unmodified' });
    await open(tabB, '/logout');
    expect(await jar()).toEqual([]);
    expect(await open(tabA, '/')).toEqual({ status: 'new', userId: null, length: 0, digest: null });
  });

  it('grows from one cookie to three and shrinks to two: the jar always holds exactly the last set', async () => {
    await open(tabA, '/login');
    await open(tabA, '/grow?bytes=2000');
    expect((await jar()).map((cookie) => cookie.name)).toEqual([NAME]);
    await open(tabB, '/grow?bytes=4000');
    expect((await jar()).map((cookie) => cookie.name)).toEqual([NAME, `${NAME}.1`]);
    await open(tabA, '/grow?bytes=6500');
    expect((await jar()).map((cookie) => cookie.name)).toEqual([NAME, `${NAME}.1`, `${NAME}.2`]);
    const two = await open(tabB, '/grow?bytes=4000');
    expect((await jar()).map((cookie) => cookie.name)).toEqual([NAME, `${NAME}.1`]);
    expect(await open(tabA, '/')).toEqual({ ...two, status: 'unmodified' });
  });

  it("a chunk of one tab's set put beside another's set opens a fresh session", async () => {
    await open(tabA, '/login');
    await open(tabA, '/grow?bytes=6500');
    const first = await jar();
    await open(tabB, '/grow?bytes=6500');
    const second = await jar();
    // An old middle chunk back in the jar, as a late response of another tab would leave it.
    await context.addCookies([{ ...first[1]!, expires: second[1]!.expires }]);
    expect(await open(tabA, '/')).toMatchObject({ status: 'new', userId: null });
  });
});
