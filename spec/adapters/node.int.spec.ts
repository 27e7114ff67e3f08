import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import {
  MemorySessionStore,
  SessionError,
  SessionManager,
  SessionNotLoadedError,
  SessionStoreError,
} from 'kit-session';
import { withSession, type NodeErrorHandler, type NodeSessionHandler } from 'kit-session/node';
import { CookieJar } from '../support/cookieJar.js';
import { cookiePair } from '../support/http.js';
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
  listen,
  ROUTE_TABLE,
  routes,
  sessionCookies,
  type TestServer,
} from './scenarios.js';

/** The app's error path: the error page when the head is still free. */
const appOnError: NodeErrorHandler = (error, _req, res) => {
  if (!res.headersSent) {
    const page = errorPage(error);
    res.writeHead(page.status, { 'content-type': 'text/plain' }).end(page.body);
  }
};

/** The scenario app on plain node:http, its handler returning the body. */
function scenarioApp(manager: SessionManager<AppSession>): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return withSession(
    manager,
    async (req, res, session) => {
      const route = ROUTE_TABLE.find((r) => r.path === req.url && r.method === req.method);
      if (route === undefined) {
        res.statusCode = 404;
        return 'not found';
      }
      res.setHeader('content-type', 'text/plain');
      if (route.name === 'count') {
        res.setHeader('vary', APP_VARY);
        res.setHeader('set-cookie', [APP_COOKIE]);
      }
      return await routes[route.name](session);
    },
    { onError: appOnError },
  );
}

describe('kit-session/node', () => {
  describe('withSession', () => {
    describeAdapterScenarios((manager) => listen(createServer(scenarioApp(manager))));
    describeLazyScenarios((manager) => listen(createServer(scenarioApp(manager))));
    describeHeaderScenarios((manager) => listen(createServer(scenarioApp(manager))));

    describe('with a handler of its own', () => {
      let server: TestServer | undefined;
      let store: MemorySessionStore<AppSession>;
      let manager: SessionManager<AppSession>;
      let errors: unknown[];

      beforeEach(() => {
        store = new MemorySessionStore<AppSession>();
        manager = new SessionManager<AppSession>(store);
        errors = [];
      });
      afterEach(async () => {
        await server?.close();
        server = undefined;
      });

      async function serve(handler: NodeSessionHandler<AppSession>): Promise<TestServer> {
        server = await listen(
          createServer(
            withSession(manager, handler, {
              onError: (error, req, res) => {
                errors.push(error);
                appOnError(error, req, res);
              },
            }),
          ),
        );
        return server;
      }

      it('saves on commit() before a handler that writes the head itself', async () => {
        const { url } = await serve(async (_req, res, session) => {
          session.set('visits', 41);
          await session.commit();
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('streamed ');
          res.end('body');
        });
        const jar = new CookieJar();
        const response = await jar.fetch(url);
        expect(await response.text()).toBe('streamed body');
        expect(sessionCookies(response)).toHaveLength(1);
        expect(store.size).toBe(1);
        expect(errors).toEqual([]);
      });

      it('keeps one session cookie when commit() runs twice with changes between', async () => {
        const { url } = await serve(async (_req, _res, session) => {
          session.set('visits', 1);
          await session.commit();
          session.set('visits', 2);
          await session.commit();
          return 'ok';
        });
        const jar = new CookieJar();
        const response = await jar.fetch(url);
        expect(sessionCookies(response)).toHaveLength(1);
        expect(headerTokens(response, 'vary')).toEqual(['cookie']);
        expect(headerTokens(response, 'cache-control')).toEqual(['private']);
        expect(errors).toEqual([]);
      });

      it('reports a session changed but never committed before the handler wrote the head', async () => {
        const { url } = await serve(async (_req, res, session) => {
          session.set('visits', 1);
          res.end('written without commit');
        });
        const response = await fetch(url);
        expect(await response.text()).toBe('written without commit');
        expect(response.headers.getSetCookie()).toEqual([]);
        expect(errors).toHaveLength(1);
        expect(errors[0]).toBeInstanceOf(SessionError);
        expect((errors[0] as SessionError).code).toBe('ERR_SESSION_HEADERS_SENT');
      });

      it('throws SessionError from a change made after the head went out', async () => {
        const { url } = await serve(async (_req, res, session) => {
          res.end('early');
          session.set('visits', 1);
        });
        await (await fetch(url)).text();
        expect(errors).toHaveLength(1);
        expect(errors[0]).toBeInstanceOf(SessionError);
        expect((errors[0] as SessionError).code).toBe('ERR_SESSION_HEADERS_SENT');
        expect(store.size).toBe(0);
      });

      it('saves nothing when the handler throws, and sends the error to onError', async () => {
        const failure = new Error('handler failed');
        const { url } = await serve(async (_req, _res, session) => {
          session.set('userId', 'u-1');
          throw failure;
        });
        const response = await fetch(url);
        expect(response.status).toBe(500);
        expect(response.headers.getSetCookie()).toEqual([]);
        expect(errors).toEqual([failure]);
        expect(store.size).toBe(0);
      });

      it('sends SessionStoreError to onError when the store fails to load', async () => {
        manager = new SessionManager<AppSession>(brokenStore());
        const { url } = await serve(() => 'unreachable');
        const response = await fetch(url, { headers: { cookie: '__Host-session=abc' } });
        expect(response.status).toBe(500);
        expect(errors).toHaveLength(1);
        expect(errors[0]).toBeInstanceOf(SessionStoreError);
      });

      it('answers 500 with none of the handler\'s headers by default', async () => {
        const logged = jest.spyOn(console, 'error').mockImplementation(() => undefined);
        try {
          server = await listen(
            createServer(
              withSession(manager, async (_req, res) => {
                res.setHeader('x-partial', 'yes');
                throw new SessionNotLoadedError('for the test');
              }),
            ),
          );
          const response = await fetch(server.url);
          expect(response.status).toBe(500);
          expect(response.headers.get('x-partial')).toBeNull();
          expect(logged).toHaveBeenCalledWith(expect.any(SessionNotLoadedError));
        } finally {
          logged.mockRestore();
        }
      });
    });

    it('the default 500 keeps the cookie a commit already wrote: a renewal is not lost', async () => {
      const logged = jest.spyOn(console, 'error').mockImplementation(() => undefined);
      const store = new MemorySessionStore<AppSession>();
      const manager = new SessionManager<AppSession>(store);
      const server = await listen(
        createServer(
          withSession(manager, async (req, res, session) => {
            if (req.url === '/login') {
              session.renew();
              session.set('userId', 'ada');
              await session.commit();
              throw new Error('after the commit');
            }
            return JSON.stringify({ user: session.get('userId') ?? null });
          }),
        ),
      );
      try {
        const response = await fetch(`${server.url}/login`);
        expect(response.status).toBe(500);
        const cookie = cookiePair(response.headers);
        expect(cookie).toMatch(/^__Host-session=/);
        const next = await fetch(server.url, { headers: { cookie: cookie! } });
        expect(await next.json()).toEqual({ user: 'ada' });
      } finally {
        logged.mockRestore();
        await server.close();
      }
    });

    it('refuses a handler or onError that is not a function', () => {
      const manager = new SessionManager<AppSession>(new MemorySessionStore<AppSession>());
      expect(() => withSession(manager, 'nope' as never)).toThrow(TypeError);
      expect(() => withSession(manager, () => 'x', { onError: 42 as never })).toThrow(TypeError);
    });
  });
});
