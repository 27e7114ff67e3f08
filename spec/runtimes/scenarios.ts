import { parseSetCookie } from 'cookie';
import { randomBytes } from 'node:crypto';
import {
  type CryptoPath,
  createCookieSessions,
  DEFAULT_COOKIE_NAME,
  importRawKey,
  type SessionManager,
} from 'kit-session';
import type { AppSession } from '../../examples/runtimes/app.js';
import { startExample, stopChild, type RunningExample } from '../examples/processes.js';
import { CookieJar } from '../support/cookieJar.js';
import { roundTrip } from '../support/http.js';
import { describeWith, type Runtime } from '../support/services.js';

/** How a runtime runs examples/runtimes, and what it must report. */
export interface RuntimeUnderTest {
  /** Which runtime: the probe that skips (or, under CI=true, fails) when its binary does not run. */
  readonly runtime: Runtime;
  /** The describe block's name. */
  readonly name: string;
  /** The compiled entry point under examples/, e.g. `'runtimes/bun'`. */
  readonly entry: string;
  /** The program and arguments that run the entry point (the file's path follows them). */
  readonly command: readonly [string, ...string[]];
  /** Extra environment variables. */
  readonly env?: Record<string, string>;
  /** What `GET /runtime` answers: the runtime with its version, and the AES-GCM path `crypto: 'auto'` took. */
  readonly reports: { readonly runtime: string; readonly crypto: 'node:crypto' | 'webcrypto' };
}

/** Node's side of the cross-runtime checks: the same key, and the AES-GCM path asked for. */
function nodeManager(key: string, crypto: CryptoPath): Promise<SessionManager<AppSession>> {
  return importRawKey(key).then((imported) => createCookieSessions<AppSession>({ keys: [imported], crypto }));
}

/** The session cookie's `Set-Cookie` line in a response, if any. */
function sessionSetCookie(response: Response): string | undefined {
  return response.headers.getSetCookie().find((line) => parseSetCookie(line).name === DEFAULT_COOKIE_NAME);
}

async function json(response: Response): Promise<Record<string, unknown>> {
  expect(response.headers.get('content-type')).toBe('application/json');
  return (await response.json()) as Record<string, unknown>;
}

/**
 * Registers the runtime tests: the app of examples/runtimes served by the runtime on a
 * free loopback port, driven over HTTP with a cookie jar, and its cookies opened on
 * Node and Node's opened on it.
 *
 * @param target - The runtime and how to start it.
 */
export function describeRuntime(target: RuntimeUnderTest): void {
  describeWith(target.runtime, target.name, () => {
    const key = randomBytes(32).toString('base64');
    let server: RunningExample | undefined;
    let url = '';

    beforeAll(async () => {
      server = await startExample(target.entry, { ...target.env, SESSION_KEY: key, PORT: '0' }, target.command);
      url = server.url;
    }, 30_000);

    afterAll(async () => {
      if (server !== undefined) {
        await stopChild(server.child);
      }
    });

    afterEach(() => {
      const { stderr } = server?.output() ?? { stderr: '' };
      expect(stderr).not.toMatch(/error|warn/i);
    });

    it(`reports ${target.reports.runtime}, with crypto: 'auto' on ${target.reports.crypto}`, async () => {
      expect(await json(await fetch(`${url}/runtime`))).toEqual(target.reports);
    });

    it('counts visits with the cookie; another browser starts from one', async () => {
      const jar = new CookieJar();
      for (const visits of [1, 2, 3]) {
        const response = await jar.fetch(`${url}/`);
        expect(response.status).toBe(200);
        expect(await json(response)).toEqual({ visits });
        const setCookie = parseSetCookie(sessionSetCookie(response) ?? '');
        expect(setCookie).toMatchObject({ name: DEFAULT_COOKIE_NAME, httpOnly: true, secure: true, sameSite: 'lax', path: '/' });
        expect(response.headers.get('vary')).toMatch(/cookie/i);
        expect(response.headers.get('cache-control')).toMatch(/private/);
      }
      expect(await json(await new CookieJar().fetch(`${url}/`))).toEqual({ visits: 1 });
    });

    it('logs in with renew (a new cookie, the values kept), shows the flash once, logs out', async () => {
      const jar = new CookieJar();
      await jar.fetch(`${url}/`);
      const anonymous = jar.get(DEFAULT_COOKIE_NAME);
      expect(anonymous).toBeDefined();

      const login = await jar.fetch(`${url}/login`, { method: 'POST', body: new URLSearchParams({ name: 'ada' }) });
      expect(await json(login)).toEqual({ userId: 'ada' });
      expect(jar.get(DEFAULT_COOKIE_NAME)).toBeDefined();
      expect(jar.get(DEFAULT_COOKIE_NAME)).not.toBe(anonymous);
      expect(await json(await jar.fetch(`${url}/session`))).toEqual({ userId: 'ada', visits: 1, status: 'unmodified' });

      // The flash message: shown once, then gone for good.
      expect(await json(await jar.fetch(`${url}/flash`))).toEqual({ flash: 'welcome' });
      expect(await json(await jar.fetch(`${url}/flash`))).toEqual({ flash: null });
      expect(await json(await jar.fetch(`${url}/session`))).toEqual({ userId: 'ada', visits: 1, status: 'unmodified' });

      const logout = await jar.fetch(`${url}/logout`, { method: 'POST' });
      expect(await json(logout)).toEqual({ userId: null });
      const expired = parseSetCookie(sessionSetCookie(logout) ?? '');
      expect(expired).toMatchObject({ name: DEFAULT_COOKIE_NAME, value: '', maxAge: 0 });
      expect(jar.get(DEFAULT_COOKIE_NAME)).toBeUndefined();

      // The next request is a fresh session.
      expect(await json(await jar.fetch(`${url}/session`))).toEqual({ userId: null, visits: 0, status: 'new' });
      expect(await json(await jar.fetch(`${url}/`))).toEqual({ visits: 1 });
    });

    it('a tampered cookie is a fresh session', async () => {
      const jar = new CookieJar();
      await jar.fetch(`${url}/`);
      const sealed = jar.get(DEFAULT_COOKIE_NAME)!;
      const flipped = sealed.slice(0, -2) + (sealed.at(-2) === 'A' ? 'B' : 'A') + sealed.at(-1)!;
      jar.set(DEFAULT_COOKIE_NAME, flipped);
      expect(await json(await jar.fetch(`${url}/session`))).toEqual({ userId: null, visits: 0, status: 'new' });
    });

    describe('one cookie format with Node', () => {
      it.each(['auto', 'webcrypto'] as const)(
        'a cookie sealed on Node (crypto: %p) with the same key opens here',
        async (crypto) => {
          const node = await nodeManager(key, crypto);
          const { cookie } = await roundTrip(node, undefined, (context) => {
            node.setValue(context, 'userId', 'grace');
            node.setValue(context, 'visits', 41);
          });
          const jar = new CookieJar();
          jar.set(DEFAULT_COOKIE_NAME, parseSetCookie(cookie!).value!);
          expect(await json(await jar.fetch(`${url}/session`))).toEqual({ userId: 'grace', visits: 41, status: 'unmodified' });
          expect(await json(await jar.fetch(`${url}/`))).toEqual({ visits: 42 });

          // A key this runtime does not hold: a fresh session, not an error.
          const stranger = await nodeManager(randomBytes(32).toString('base64'), crypto);
          const foreign = await roundTrip(stranger, undefined, (context) => stranger.setValue(context, 'userId', 'eve'));
          const other = new CookieJar();
          other.set(DEFAULT_COOKIE_NAME, parseSetCookie(foreign.cookie!).value!);
          expect(await json(await other.fetch(`${url}/session`))).toEqual({ userId: null, visits: 0, status: 'new' });
        },
      );

      it.each(['auto', 'webcrypto'] as const)('a cookie sealed here opens on Node (crypto: %p)', async (crypto) => {
        const jar = new CookieJar();
        await jar.fetch(`${url}/`);
        await jar.fetch(`${url}/`);
        await jar.fetch(`${url}/login`, { method: 'POST', body: new URLSearchParams({ name: 'linus' }) });
        const sealed = jar.get(DEFAULT_COOKIE_NAME)!;

        const node = await nodeManager(key, crypto);
        const { context, headers } = await roundTrip(node, `${DEFAULT_COOKIE_NAME}=${sealed}`);
        expect(node.getStatus(context)).toBe('unmodified');
        expect(node.getValue(context, 'userId')).toBe('linus');
        expect(node.getValue(context, 'visits')).toBe(2);
        expect(node.getValue(context, 'flash')).toBe('welcome');
        expect(headers.getSetCookie()).toEqual([]);
      });
    });
  });
}
