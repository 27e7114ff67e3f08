import {
  MemorySessionStore,
  SessionError,
  SessionManager,
  SessionStoreError,
} from 'kit-session';
import type { Session } from 'kit-session';
import { withSession } from 'kit-session/fetch';
import { CookieJar } from '../support/cookieJar.js';
import {
  APP_COOKIE,
  APP_VARY,
  type AppSession,
  brokenStore,
  describeAdapterScenarios,
  describeLazyScenarios,
  describeHeaderScenarios,
  errorPage,
  headerTokens,
  makeManager,
  ROUTE_TABLE,
  routes,
  serveFetch,
  sessionCookies,
  type TestServer,
} from './scenarios.js';

/** The runtime's own Response class, before @hono/node-server swaps in its lighter one. */
const WebResponse = globalThis.Response;

/** The scenario app as one Fetch handler, with the app's own error page around it. */
function scenarioApp(manager: SessionManager<AppSession>): (request: Request) => Promise<Response> {
  const handle = withSession(manager, async (request, session) => {
    const { pathname } = new URL(request.url);
    const route = ROUTE_TABLE.find((r) => r.path === pathname && r.method === request.method);
    if (route === undefined) {
      return new Response('not found', { status: 404 });
    }
    const body = await routes[route.name](session);
    if (route.name === 'count') {
      const headers = new Headers({ 'content-type': 'text/plain', vary: APP_VARY });
      headers.append('set-cookie', APP_COOKIE);
      return new Response(body, { headers });
    }
    return new Response(body, { headers: { 'content-type': 'text/plain' } });
  });
  return async (request) => {
    try {
      return await handle(request);
    } catch (error) {
      const page = errorPage(error);
      return new Response(page.body, { status: page.status });
    }
  };
}

describe('kit-session/fetch', () => {
  describe('withSession', () => {
    describeAdapterScenarios((manager) => serveFetch(scenarioApp(manager)));
    describeLazyScenarios((manager) => serveFetch(scenarioApp(manager)));
    describeHeaderScenarios((manager) => serveFetch(scenarioApp(manager)));

    describe('with a handler of its own', () => {
      let server: TestServer | undefined;
      afterEach(async () => {
        await server?.close();
        server = undefined;
      });

      it('adds the cookie to a response whose headers are immutable (Response.redirect)', async () => {
        const manager = await makeManager('memory');
        server = await serveFetch(
          withSession(manager, async (_request, session) => {
            session.set('userId', 'u-7');
            return Response.redirect('http://127.0.0.1/next', 303);
          }),
        );
        const jar = new CookieJar();
        const response = await jar.fetch(`${server.url}/`);
        expect(response.status).toBe(303);
        expect(response.headers.get('location')).toBe('http://127.0.0.1/next');
        expect(sessionCookies(response)).toHaveLength(1);
      });

      it('replaces public with private in Cache-Control and keeps the other directives', async () => {
        const manager = await makeManager('memory');
        server = await serveFetch(
          withSession(manager, async (_request, session) => {
            session.set('visits', 1);
            return new Response('x', { headers: { 'cache-control': 'public, max-age=60', vary: 'Cookie' } });
          }),
        );
        const response = await fetch(`${server.url}/`);
        expect(headerTokens(response, 'cache-control')).toEqual(['max-age=60', 'private']);
        expect(headerTokens(response, 'vary')).toEqual(['cookie']);
      });

      it('saves nothing when the handler throws, and rejects with its error', async () => {
        const store = new MemorySessionStore<AppSession>();
        const manager = new SessionManager<AppSession>(store);
        const failure = new Error('handler failed');
        const handle = withSession(manager, async (_request, session) => {
          session.set('userId', 'u-1');
          throw failure;
        });
        await expect(async () => handle(new Request('http://127.0.0.1/'))).rejects.toBe(failure);
        expect(store.size).toBe(0);
      });

      it('copies a Web Response whose headers are immutable to add the cookie', async () => {
        const manager = await makeManager('memory');
        const redirect = WebResponse.redirect('http://127.0.0.1/next', 302);
        expect(() => redirect.headers.set('x-probe', '1')).toThrow(); // immutable headers
        const handle = withSession(manager, async (_request, session) => {
          session.set('visits', 1);
          return redirect;
        });
        const response = await handle(new Request('http://127.0.0.1/'));
        expect(response).not.toBe(redirect);
        expect(response.status).toBe(302);
        expect(response.headers.get('location')).toBe('http://127.0.0.1/next');
        expect(sessionCookies(response)).toHaveLength(1);
        expect(redirect.headers.getSetCookie()).toEqual([]);
      });

      it('returns the handler\'s own response when the session wrote nothing', async () => {
        const manager = await makeManager('memory');
        const original = new Response('same');
        const handle = withSession(manager, async () => original);
        expect(await handle(new Request('http://127.0.0.1/'))).toBe(original);
      });

      it('throws SessionError when the session changes after the handler returned', async () => {
        const manager = await makeManager('memory');
        let kept: Session<AppSession> | undefined;
        const handle = withSession(manager, async (_request, session) => {
          kept = session;
          return new Response('x');
        });
        await handle(new Request('http://127.0.0.1/'));
        expect(() => kept!.set('visits', 2)).toThrow(SessionError);
        try {
          kept!.destroy();
        } catch (error) {
          expect(error).toBeInstanceOf(SessionError);
          expect((error as SessionError).code).toBe('ERR_SESSION_HEADERS_SENT');
        }
        expect.assertions(3);
      });

      it('passes the runtime\'s further arguments to the handler', async () => {
        const manager = await makeManager('memory');
        const handle = withSession(manager, async (_request, _session, env: { greeting: string }) => {
          return new Response(env.greeting);
        });
        const response = await handle(new Request('http://127.0.0.1/'), { greeting: 'hello' });
        expect(await response.text()).toBe('hello');
      });

      it('rejects with SessionStoreError when the store fails to load', async () => {
        const manager = new SessionManager<AppSession>(brokenStore());
        const handle = withSession(manager, async () => new Response('x'));
        const request = new Request('http://127.0.0.1/', { headers: { cookie: '__Host-session=abc' } });
        await expect(async () => handle(request)).rejects.toBeInstanceOf(SessionStoreError);
      });
    });

    it('refuses a handler that is not a function', async () => {
      const manager = await makeManager('memory');
      expect(() => withSession(manager, undefined as never)).toThrow(TypeError);
    });
  });
});
