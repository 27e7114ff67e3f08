import express, { type ErrorRequestHandler, type Express } from 'express';
import { createServer } from 'node:http';
import {
  MemorySessionStore,
  SessionError,
  SessionManager,
  SessionNotLoadedError,
  SessionStoreError,
} from 'kit-session';
import { getSession, session, type ExpressSessionOptions } from 'kit-session/express';
import { CookieJar } from '../support/cookieJar.js';
import {
  APP_COOKIE,
  APP_VARY,
  type AppSession,
  brokenStore,
  describeAdapterScenarios,
  errorPage,
  listen,
  ROUTE_TABLE,
  routes,
  sessionCookies,
  type TestServer,
} from './scenarios.js';

/** The app's error middleware: the error page when the head is still free. */
const appErrorHandler: ErrorRequestHandler = (error, _req, res, next) => {
  if (res.headersSent) {
    next(error);
    return;
  }
  const page = errorPage(error);
  res.status(page.status).type('text/plain').send(page.body);
};

/** The scenario app on Express 5: each route commits, then sends. */
function scenarioApp(manager: SessionManager<AppSession>, options?: ExpressSessionOptions): Express {
  const app = express();
  app.set('env', 'test');
  app.set('etag', false);
  app.use(session(manager, options));
  for (const route of ROUTE_TABLE) {
    const method = route.method === 'GET' ? 'get' : 'post';
    app[method](route.path, async (req, res) => {
      const s = getSession(req, manager);
      const body = routes[route.name](s);
      if (route.name === 'count') {
        res.vary(APP_VARY);
        res.append('Set-Cookie', APP_COOKIE);
      }
      await s.commit();
      res.type('text/plain').send(body);
    });
  }
  app.use(appErrorHandler);
  return app;
}

function start(app: Express): Promise<TestServer> {
  // app.listen would listen on every interface; listen on loopback only.
  return listen(createServer(app));
}

describe('kit-session/express', () => {
  describe('session', () => {
    describeAdapterScenarios((manager) => start(scenarioApp(manager)));

    describe('with routes of its own', () => {
      let server: TestServer | undefined;
      let store: MemorySessionStore<AppSession>;
      let manager: SessionManager<AppSession>;
      let unsaved: SessionError[];
      let errors: unknown[];

      beforeEach(() => {
        store = new MemorySessionStore<AppSession>();
        manager = new SessionManager<AppSession>(store);
        unsaved = [];
        errors = [];
      });
      afterEach(async () => {
        await server?.close();
        server = undefined;
      });

      async function serve(build: (app: Express) => void): Promise<TestServer> {
        const app = express();
        app.set('env', 'test');
        app.use(session(manager, { onUnsavedChanges: (error) => unsaved.push(error) }));
        build(app);
        app.use(((error, req, res, next) => {
          errors.push(error);
          appErrorHandler(error, req, res, next);
        }) satisfies ErrorRequestHandler);
        server = await start(app);
        return server;
      }

      it('carries the cookie on a redirect sent after commit()', async () => {
        const { url } = await serve((app) => {
          app.post('/login', async (req, res) => {
            const s = getSession(req, manager);
            s.renew();
            s.set('userId', 'u-9');
            await s.commit();
            res.redirect(303, '/home');
          });
        });
        const jar = new CookieJar();
        const response = await jar.fetch(`${url}/login`, { method: 'POST' });
        expect(response.status).toBe(303);
        expect(response.headers.get('location')).toBe('/home');
        expect(sessionCookies(response)).toHaveLength(1);
        expect(unsaved).toEqual([]);
      });

      it('reports changes that were never committed through onUnsavedChanges', async () => {
        const { url } = await serve((app) => {
          app.get('/', (req, res) => {
            getSession(req, manager).set('visits', 1);
            res.send('forgot to commit');
          });
        });
        const response = await fetch(url);
        expect(await response.text()).toBe('forgot to commit');
        expect(response.headers.getSetCookie()).toEqual([]);
        await new Promise((resolve) => setImmediate(resolve));
        expect(unsaved).toHaveLength(1);
        expect(unsaved[0]).toBeInstanceOf(SessionError);
        expect(unsaved[0]!.code).toBe('ERR_SESSION_HEADERS_SENT');
      });

      it('emits a process warning for changes never committed, by default', async () => {
        let warned: (options: unknown) => void = () => undefined;
        const warning = new Promise<unknown>((resolve) => {
          warned = resolve;
        });
        // Jest's sandboxed `process` does not relay 'warning' events: watch the call.
        const emitWarning = jest.spyOn(process, 'emitWarning').mockImplementation((_message, options) => {
          warned(options);
        });
        try {
          const app = express();
          app.use(session(manager));
          app.get('/', (req, res) => {
            getSession(req, manager).set('visits', 1);
            res.send('forgot to commit');
          });
          server = await start(app);
          await (await fetch(server.url)).text();
          expect(await warning).toEqual({ type: 'SessionHeadersSentError', code: 'ERR_SESSION_HEADERS_SENT' });
        } finally {
          emitWarning.mockRestore();
        }
      });

      it('does not report a failed request (5xx) as unsaved changes', async () => {
        const { url } = await serve((app) => {
          app.get('/', (req) => {
            getSession(req, manager).set('visits', 1);
            throw new Error('route failed');
          });
        });
        const response = await fetch(url);
        expect(response.status).toBe(500);
        expect(response.headers.getSetCookie()).toEqual([]);
        await new Promise((resolve) => setImmediate(resolve));
        expect(unsaved).toEqual([]);
        expect(store.size).toBe(0);
      });

      it('throws SessionError from a change made after the response was sent', async () => {
        let late: unknown;
        const { url } = await serve((app) => {
          app.get('/', (req, res) => {
            res.send('sent');
            try {
              getSession(req, manager).set('visits', 1);
            } catch (error) {
              late = error;
            }
          });
        });
        await (await fetch(url)).text();
        expect(late).toBeInstanceOf(SessionError);
        expect((late as SessionError).code).toBe('ERR_SESSION_HEADERS_SENT');
        expect(store.size).toBe(0);
      });

      it('rejects commit() with SessionError when the head went out during the save', async () => {
        let saving: Promise<void> | undefined;
        const { url } = await serve((app) => {
          app.get('/', (req, res) => {
            const s = getSession(req, manager);
            s.set('visits', 1);
            saving = s.commit();
            saving.catch(() => undefined);
            res.send('did not wait');
          });
        });
        const response = await fetch(url);
        expect(response.headers.getSetCookie()).toEqual([]);
        await expect(saving).rejects.toBeInstanceOf(SessionError);
      });

      it('throws SessionNotLoadedError from getSession when the middleware did not run', async () => {
        const app = express();
        app.set('env', 'test');
        app.get('/', (req, res) => {
          getSession(req, manager);
          res.send('unreachable');
        });
        app.use(((error, _req, res, _next) => {
          errors.push(error);
          res.status(500).send('no session');
        }) satisfies ErrorRequestHandler);
        server = await start(app);
        const response = await fetch(server.url);
        expect(response.status).toBe(500);
        expect(errors[0]).toBeInstanceOf(SessionNotLoadedError);
      });

      it('passes SessionStoreError to the error path when the store fails to load', async () => {
        manager = new SessionManager<AppSession>(brokenStore());
        const { url } = await serve((app) => {
          app.get('/', (_req, res) => {
            res.send('unreachable');
          });
        });
        const response = await fetch(url, { headers: { cookie: '__Host-session=abc' } });
        expect(response.status).toBe(500);
        expect(errors[0]).toBeInstanceOf(SessionStoreError);
      });
    });

    it('refuses an onUnsavedChanges that is not a function', () => {
      const manager = new SessionManager<AppSession>(new MemorySessionStore<AppSession>());
      expect(() => session(manager, { onUnsavedChanges: 'log' as never })).toThrow(TypeError);
    });
  });
});
