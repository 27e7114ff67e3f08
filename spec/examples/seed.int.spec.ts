import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { parseSetCookie, type SetCookie } from 'cookie';
import { createElement as h } from 'react';
import { createRequestHandler, Outlet } from 'react-router';
import { Context, createSessionManager } from 'kit-session';
import { createEncryptSessionStoreMiddleware, importRawKey } from 'kit-session/encrypt';
import { createSessionRequestFunction, createSessionResponseFunction } from 'kit-session/http';
import { createCookieSessionStore } from 'kit-session/storage/cookie';
import { createLoader, type Endpoint, myDecoder } from '../../examples/seed/kit.js';
import { CookieJar } from '../support/cookieJar.js';
import { serverBuild } from '../support/reactRouterBuild.js';
import { startExample, stopChild } from './processes.js';

// examples/seed: the seed's loadSession / saveSession around React Router loaders and
// actions made by the example's createLoader. The compiled example runs as a child
// process and serves React Router's createRequestHandler; the test sends document
// requests and single-fetch `.data` requests to it, as a browser with a cookie jar.

const COOKIE_NAME = '__Host-Session';

/** The session cookies a response sets, parsed. */
function sessionCookies(response: Response): SetCookie[] {
  return response.headers
    .getSetCookie()
    .map((line) => parseSetCookie(line))
    .filter((cookie) => cookie.name === COOKIE_NAME);
}

/** The one session cookie a response sets; fails when it sets none or more than one. */
function theSessionCookie(response: Response): SetCookie {
  const cookies = sessionCookies(response);
  expect(cookies).toHaveLength(1);
  return cookies[0]!;
}

/** The number the home page shows as its counter. */
function counterShown(html: string): number | undefined {
  const match = /<span class="counter">(\d+)<\/span>/.exec(html);
  return match === null ? undefined : Number(match[1]);
}

const post = (form: Record<string, string> = {}): RequestInit => ({ method: 'POST', body: new URLSearchParams(form) });

describe('examples/seed (the seed’s createLoader with React Router)', () => {
  let child: ChildProcess | undefined;
  let url = '';
  let output = (): string => '';

  beforeAll(async () => {
    const example = await startExample('seed/server', {
      SESSION_SECRET_KEY_BASE64: randomBytes(32).toString('base64'),
    });
    child = example.child;
    url = example.url;
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

  it('document requests: 401 and a flash, the flash once, log in (new cookie), a counter, log out', async () => {
    const jar = new CookieJar();

    // Not logged in: the seed's endpoint answers 401 and leaves a flash message.
    const first = await jar.fetch(`${url}/`);
    expect(first.status).toBe(401);
    expect(first.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await first.text()).toContain('Please log in');
    expect(theSessionCookie(first)).toMatchObject({
      name: COOKIE_NAME,
      path: '/',
      httpOnly: true,
      secure: true,
      sameSite: 'lax',
      maxAge: 604_800,
    });

    // The log-in page shows the flash once (popping it changes the session).
    const login = await jar.fetch(`${url}/login`);
    expect(login.status).toBe(200);
    expect(await login.text()).toMatch(/<p class="flash" role="status">Please log in<\/p>/);
    theSessionCookie(login);
    const again = await jar.fetch(`${url}/login`);
    expect(await again.text()).not.toContain('class="flash"');
    expect(again.headers.getSetCookie()).toEqual([]); // nothing changed, nothing written

    // Log in: the action redirects home, and the redirect carries a new cookie.
    const before = jar.get(COOKIE_NAME);
    const loggedIn = await jar.fetch(`${url}/login`, post({ name: 'Ada' }));
    expect(loggedIn.status).toBe(302);
    expect(loggedIn.headers.get('location')).toBe('/');
    expect(theSessionCookie(loggedIn).value).not.toBe(before);
    expect(jar.get(COOKIE_NAME)).not.toBe(before);

    // Logged in, the seed's endpoint counts each visit, in the cookie.
    for (const expected of [1, 2, 3]) {
      const home = await jar.fetch(`${url}/`);
      expect(home.status).toBe(200);
      theSessionCookie(home);
      const html = await home.text();
      expect(html).toContain('<span class="user">Ada</span>');
      expect(counterShown(html)).toBe(expected);
    }

    // Log out: the redirect expires the cookie; the next visit is not logged in.
    const loggedOut = await jar.fetch(`${url}/logout`, post());
    expect(loggedOut.status).toBe(302);
    expect(loggedOut.headers.get('location')).toBe('/login');
    expect(theSessionCookie(loggedOut)).toMatchObject({ value: '', maxAge: 0 });
    expect(jar.get(COOKIE_NAME)).toBeUndefined();
    const after = await jar.fetch(`${url}/`);
    expect(after.status).toBe(401);
    expect(await after.text()).toContain('Please log in');
    theSessionCookie(after);
  });

  it('.data requests (single fetch): the same flow, redirects answered as 202 with the cookie', async () => {
    const jar = new CookieJar();

    const first = await jar.fetch(`${url}/_root.data`);
    expect(first.status).toBe(401);
    expect(first.headers.get('content-type')).toMatch(/^text\/x-script/);
    expect(await first.text()).toContain('"Unauthorized"');
    theSessionCookie(first);

    const flash = await jar.fetch(`${url}/login.data`);
    expect(flash.status).toBe(200);
    expect(await flash.text()).toContain('"Please log in"');
    theSessionCookie(flash);
    const noFlash = await jar.fetch(`${url}/login.data`);
    expect(await noFlash.text()).not.toContain('Please log in');
    expect(noFlash.headers.getSetCookie()).toEqual([]);

    const before = jar.get(COOKIE_NAME);
    const loggedIn = await jar.fetch(`${url}/login.data`, post({ name: 'Grace' }));
    expect(loggedIn.status).toBe(202); // single fetch's redirect, told in the body
    expect(await loggedIn.text()).toMatch(/"redirect","\/"/);
    expect(theSessionCookie(loggedIn).value).not.toBe(before);

    for (const expected of [1, 2]) {
      const home = await jar.fetch(`${url}/_root.data`);
      expect(home.status).toBe(200);
      theSessionCookie(home);
      const body = await home.text();
      expect(body).toContain('"Grace"');
      expect(body).toContain(`"counter",${expected}`);
    }
    // A document request sees what the .data requests counted.
    expect(counterShown(await (await jar.fetch(`${url}/`)).text())).toBe(3);

    const loggedOut = await jar.fetch(`${url}/logout.data`, post());
    expect(loggedOut.status).toBe(202);
    expect(await loggedOut.text()).toMatch(/"redirect","\/login"/);
    expect(theSessionCookie(loggedOut)).toMatchObject({ value: '', maxAge: 0 });
    expect(jar.get(COOKIE_NAME)).toBeUndefined();
    expect((await jar.fetch(`${url}/_root.data`)).status).toBe(401);
  });

  it('never sets more than one session cookie, and logs no error', async () => {
    const jar = new CookieJar();
    const responses = [
      await jar.fetch(`${url}/`),
      await jar.fetch(`${url}/login`),
      await jar.fetch(`${url}/login`, post({ name: 'Ada' })),
      await jar.fetch(`${url}/`),
      await jar.fetch(`${url}/_root.data`),
      await jar.fetch(`${url}/logout`, post()),
      await jar.fetch(`${url}/login.data`),
    ];
    for (const response of responses) {
      expect(sessionCookies(response).length).toBeLessThanOrEqual(1);
      await response.text();
    }
    expect(output()).not.toMatch(/Error|Warning/);
  });
});

describe('the limit of the seed’s createLoader shape', () => {
  it('with a root loader and a child loader each made by createLoader, a response carries two cookies: one change is lost', async () => {
    // The manager as examples/seed/app/session.ts builds it, on a key of this test.
    const storage = createEncryptSessionStoreMiddleware(await importRawKey(randomBytes(32).toString('base64')), {
      encryptValues: true,
    })(createCookieSessionStore());
    const sessionManager = createSessionManager({ name: 'myAppSession', cookie: { name: COOKIE_NAME, maxAge: 3600 }, storage });
    const around = {
      decodeRequest: myDecoder,
      beforeFunctions: [createSessionRequestFunction(sessionManager)],
      afterFunctions: [createSessionResponseFunction(sessionManager)],
    };
    const counting = (key: string): Endpoint<URL, { count: number }> => async ({ context }) => {
      const count = (sessionManager.getValue<number>(context, key) ?? 0) + 1;
      sessionManager.setValue(context, key, count);
      return { success: true, context, response: { count } };
    };
    const handle = createRequestHandler(
      serverBuild(
        [
          { id: 'root', path: '', module: { loader: createLoader({ ...around, endpoint: counting('visits') }), default: () => h(Outlet) } },
          {
            id: 'routes/child',
            parentId: 'root',
            path: 'child',
            module: { loader: createLoader({ ...around, endpoint: counting('childViews') }), default: () => h('p', null, 'child') },
          },
        ],
        { middleware: false },
      ),
    );
    const valuesOf = async (cookie: SetCookie) => {
      const request = new Request('https://app.test/', { headers: { cookie: `${cookie.name}=${cookie.value}` } });
      const context = await sessionManager.extractSession(Context.background, request);
      return sessionManager.session(context).values;
    };

    const response = await handle(new Request('https://app.test/child'));
    expect(response.status).toBe(200);
    await response.text();
    // Each loader loaded the (empty) session of the request and saved its own copy.
    const cookies = sessionCookies(response);
    expect(cookies).toHaveLength(2);
    const saved = await Promise.all(cookies.map(valuesOf));
    expect(saved).toEqual(expect.arrayContaining([{ visits: 1 }, { childViews: 1 }]));
    // A browser keeps the last cookie of a name: the other loader's change is gone.
    expect(Object.keys(saved.at(-1)!)).toHaveLength(1);
  });
});
