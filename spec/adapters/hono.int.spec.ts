import { Hono } from 'hono';
import { MemorySessionStore, SessionError, SessionManager, SessionStoreError } from 'kit-session';
import type { Session } from 'kit-session';
import { session, type SessionVariables } from 'kit-session/hono';
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
  ROUTE_TABLE,
  routes,
  serveFetch,
  sessionCookies,
  type TestServer,
} from './scenarios.js';

type AppEnv = { Variables: SessionVariables<AppSession> };

function start(app: Hono<AppEnv>): Promise<TestServer> {
  return serveFetch(app.fetch);
}

/** An app with the app's own error page, and a record of what reached it. */
function newApp(errors: unknown[] = []): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.onError((error, c) => {
    errors.push(error);
    const page = errorPage(error);
    return c.text(page.body, page.status as 413 | 500);
  });
  return app;
}

/** The scenario app on Hono: routes return their response, the middleware saves. */
function scenarioApp(manager: SessionManager<AppSession>): Hono<AppEnv> {
  const app = newApp();
  app.use(session(manager));
  for (const route of ROUTE_TABLE) {
    app.on(route.method, route.path, async (c) => {
      const body = await routes[route.name](c.get('session'));
      if (route.name === 'count') {
        c.header('Vary', APP_VARY);
        c.header('Set-Cookie', APP_COOKIE, { append: true });
      }
      return c.text(body);
    });
  }
  return app;
}

describe('kit-session/hono', () => {
  describe('session', () => {
    describeAdapterScenarios((manager) => start(scenarioApp(manager)));
    describeLazyScenarios((manager) => start(scenarioApp(manager)));
    describeHeaderScenarios((manager) => start(scenarioApp(manager)));

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

      async function serve(build: (app: Hono<AppEnv>) => void): Promise<TestServer> {
        const app = newApp(errors);
        app.use(session(manager));
        build(app);
        server = await start(app);
        return server;
      }

      it('adds the cookie to a response whose headers are immutable (Response.redirect)', async () => {
        const { url } = await serve((app) => {
          app.post('/login', (c) => {
            const s = c.get('session');
            s.renew();
            s.set('userId', 'u-5');
            return Response.redirect(new URL('/home', c.req.url), 303);
          });
        });
        const response = await new CookieJar().fetch(`${url}/login`, { method: 'POST' });
        expect(response.status).toBe(303);
        expect(response.headers.get('location')).toBe(`${url}/home`);
        expect(sessionCookies(response)).toHaveLength(1);
      });

      it('adds the session\'s headers to the route\'s own response, without a copy', async () => {
        let built: Response | undefined;
        let sent: Response | undefined;
        const app = newApp(errors);
        app.use(async (c, next) => {
          await next();
          sent = c.res;
        });
        app.use(session(manager));
        app.get('/', (c) => {
          c.get('session').set('visits', 1);
          built = c.text('ok');
          return built;
        });
        server = await start(app);
        const response = await fetch(server.url);
        expect(await response.text()).toBe('ok');
        expect(sessionCookies(response)).toHaveLength(1);
        expect(sent).toBe(built);
      });

      it('keeps the app\'s headers when the route sets them on c.res after building it', async () => {
        const { url } = await serve((app) => {
          app.use(async (c, next) => {
            await next();
            c.res.headers.append('set-cookie', 'late=1; Path=/');
          });
          app.get('/', (c) => {
            c.get('session').set('visits', 1);
            return c.text('ok');
          });
        });
        const response = await fetch(url);
        expect(response.headers.getSetCookie()).toEqual(expect.arrayContaining(['late=1; Path=/']));
        expect(sessionCookies(response)).toHaveLength(1);
      });

      it('puts the session under another variable when told', async () => {
        const app = new Hono<{ Variables: SessionVariables<AppSession, 'visitor'> }>();
        app.use(session(manager, { variable: 'visitor' }));
        app.get('/', (c) => {
          const s = c.get('visitor');
          s.set('visits', 3);
          return c.text(String(s.get('visits')));
        });
        server = await serveFetch(app.fetch);
        const response = await fetch(server.url);
        expect(await response.text()).toBe('3');
        expect(sessionCookies(response)).toHaveLength(1);
      });

      it('saves nothing when the route throws', async () => {
        const { url } = await serve((app) => {
          app.get('/', (c) => {
            c.get('session').set('userId', 'u-1');
            throw new Error('route failed');
          });
        });
        const response = await fetch(url);
        expect(response.status).toBe(500);
        expect(response.headers.getSetCookie()).toEqual([]);
        expect(store.size).toBe(0);
      });

      it('throws SessionError from a change made after the response was saved', async () => {
        let kept: Session<AppSession> | undefined;
        const { url } = await serve((app) => {
          app.get('/', (c) => {
            kept = c.get('session');
            return c.text('done');
          });
        });
        await (await fetch(url)).text();
        expect(() => kept!.pop('flash')).toThrow(SessionError);
      });

      it('sends SessionStoreError to app.onError when the store fails to load', async () => {
        manager = new SessionManager<AppSession>(brokenStore());
        const { url } = await serve((app) => {
          app.get('/', (c) => c.text('unreachable'));
        });
        const response = await fetch(url, { headers: { cookie: '__Host-session=abc' } });
        expect(response.status).toBe(500);
        expect(errors[0]).toBeInstanceOf(SessionStoreError);
      });
    });

    it('refuses an empty variable name', () => {
      const manager = new SessionManager<AppSession>(new MemorySessionStore<AppSession>());
      expect(() => session(manager, { variable: '' })).toThrow(TypeError);
    });
  });
});
