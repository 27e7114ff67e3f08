import Fastify, { type FastifyInstance } from 'fastify';
import {
  MemorySessionStore,
  SessionError,
  SessionManager,
  SessionNotLoadedError,
  SessionStoreError,
} from 'kit-session';
import type { Session } from 'kit-session';
import { getSession, sessionPlugin } from 'kit-session/fastify';
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
  ROUTE_TABLE,
  routes,
  sessionCookies,
  type TestServer,
} from './scenarios.js';

async function start(app: FastifyInstance): Promise<TestServer> {
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { url, close: () => app.close() };
}

/** The app's error handler, and a record of what reached it. */
function withErrorPage(app: FastifyInstance, errors: unknown[] = []): FastifyInstance {
  app.setErrorHandler((error, _request, reply) => {
    errors.push(error);
    const page = errorPage(error);
    return reply.code(page.status).type('text/plain').send(page.body);
  });
  return app;
}

/** The scenario app on Fastify 5: routes return their body, the plugin saves. */
async function scenarioApp(manager: SessionManager<AppSession>): Promise<FastifyInstance> {
  const app = withErrorPage(Fastify());
  await app.register(sessionPlugin, { manager });
  for (const route of ROUTE_TABLE) {
    app.route({
      method: route.method,
      url: route.path,
      handler: async (request, reply) => {
        const body = await routes[route.name](getSession(request, manager));
        if (route.name === 'count') {
          reply.header('vary', APP_VARY);
          reply.header('set-cookie', APP_COOKIE);
        }
        return reply.type('text/plain').send(body);
      },
    });
  }
  return app;
}

describe('kit-session/fastify', () => {
  describe('sessionPlugin', () => {
    describeAdapterScenarios(async (manager) => start(await scenarioApp(manager)));
    describeLazyScenarios(async (manager) => start(await scenarioApp(manager)));
    describeHeaderScenarios(async (manager) => start(await scenarioApp(manager)));

    describe('with routes of its own', () => {
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

      async function serve(build: (app: FastifyInstance) => void): Promise<TestServer> {
        const app = withErrorPage(Fastify(), errors);
        await app.register(sessionPlugin, { manager });
        build(app);
        server = await start(app);
        return server;
      }

      it('covers routes registered in child contexts (the plugin is not encapsulated)', async () => {
        const { url } = await serve((app) => {
          void app.register(async (child) => {
            child.get('/child', async (request) => {
              const session = getSession(request, manager);
              session.set('visits', 7);
              return { visits: session.get('visits') };
            });
          });
        });
        const jar = new CookieJar();
        const response = await jar.fetch(`${url}/child`);
        expect(await response.json()).toEqual({ visits: 7 });
        expect(sessionCookies(response)).toHaveLength(1);
      });

      it('carries the cookie on a redirect and keeps the Cache-Control the app set', async () => {
        const { url } = await serve((app) => {
          app.post('/login', async (request, reply) => {
            const session = getSession(request, manager);
            session.renew();
            session.set('userId', 'u-3');
            return reply.header('cache-control', 'no-store').redirect('/home', 303);
          });
        });
        const response = await new CookieJar().fetch(`${url}/login`, { method: 'POST' });
        expect(response.status).toBe(303);
        expect(sessionCookies(response)).toHaveLength(1);
        expect(headerTokens(response, 'cache-control')).toEqual(['no-store']);
      });

      it('saves nothing when the route throws', async () => {
        const { url } = await serve((app) => {
          app.get('/', async (request) => {
            getSession(request, manager).set('userId', 'u-1');
            throw new Error('route failed');
          });
        });
        const response = await fetch(url);
        expect(response.status).toBe(500);
        expect(response.headers.getSetCookie()).toEqual([]);
        expect(store.size).toBe(0);
      });

      it('throws SessionError from a change made after the reply was sent', async () => {
        let kept: Session<AppSession> | undefined;
        const { url } = await serve((app) => {
          app.get('/', async (request) => {
            kept = getSession(request, manager);
            return 'done';
          });
        });
        await (await fetch(url)).text();
        expect(() => kept!.set('visits', 1)).toThrow(SessionError);
        expect(store.size).toBe(0);
      });

      it('throws SessionNotLoadedError from getSession when the plugin does not cover the route', async () => {
        const app = withErrorPage(Fastify(), errors);
        app.get('/', async (request) => getSession(request, manager).get('visits') ?? 0);
        server = await start(app);
        const response = await fetch(server.url);
        expect(response.status).toBe(500);
        expect(errors[0]).toBeInstanceOf(SessionNotLoadedError);
      });

      it('keeps no request in a WeakMap: a weak map filled per request made minor GCs pause for milliseconds (the p99 tail)', async () => {
        const requests: object[] = [];
        const { url } = await serve((app) => {
          app.get('/', async (request) => {
            requests.push(request, request.raw);
            const session = getSession(request, manager);
            session.set('visits', (session.get('visits') ?? 0) + 1);
            return { visits: session.get('visits') };
          });
        });
        const keys: unknown[] = [];
        const set = WeakMap.prototype.set;
        const spy = jest.spyOn(WeakMap.prototype, 'set').mockImplementation(function (this: WeakMap<object, unknown>, key, value) {
          keys.push(key);
          return set.call(this, key, value);
        });
        try {
          const jar = new CookieJar();
          await (await jar.fetch(url)).text();
          const response = await jar.fetch(url);
          expect(await response.json()).toEqual({ visits: 2 });
        } finally {
          spy.mockRestore();
        }
        expect(requests).toHaveLength(4);
        expect(keys.filter((key) => requests.includes(key as object)).length).toBe(0);
      });

      it('gives each of two plugins, with two managers, its own session on the same request', async () => {
        const other = new SessionManager<AppSession>(new MemorySessionStore<AppSession>(), { cookie: { name: '__Host-other' } });
        const { url } = await serve((app) => {
          void app.register(sessionPlugin, { manager: other });
          app.get('/', async (request) => {
            getSession(request, manager).set('userId', 'u-1');
            getSession(request, other).set('userId', 'u-2');
            return [getSession(request, manager).get('userId'), getSession(request, other).get('userId')];
          });
        });
        const response = await fetch(url);
        expect(await response.json()).toEqual(['u-1', 'u-2']);
        expect(sessionCookies(response)).toHaveLength(1);
        expect(response.headers.getSetCookie().filter((cookie) => cookie.startsWith('__Host-other='))).toHaveLength(1);
      });

      it('sends SessionStoreError to the error handler when the store fails to load', async () => {
        manager = new SessionManager<AppSession>(brokenStore());
        const { url } = await serve((app) => {
          app.get('/', async () => 'unreachable');
        });
        const response = await fetch(url, { headers: { cookie: '__Host-session=abc' } });
        expect(response.status).toBe(500);
        expect(errors[0]).toBeInstanceOf(SessionStoreError);
      });
    });

    it('refuses to register without a manager', async () => {
      const app = Fastify();
      await expect(async () => app.register(sessionPlugin, {} as never)).rejects.toBeInstanceOf(TypeError);
      await app.close();
    });
  });
});
