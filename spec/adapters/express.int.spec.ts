import express, { type ErrorRequestHandler, type Express, type Response as ExpressResponse } from 'express';
import { Redis } from 'ioredis';
import { createServer, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  Context,
  DEFAULT_COOKIE_NAME,
  MemorySessionStore,
  SessionCookieTooLargeError,
  SessionError,
  SessionHeadersSentError,
  SessionManager,
  SessionNotLoadedError,
  SessionStoreError,
  type SessionStore,
} from 'kit-session';
import { getSession, session } from 'kit-session/express';
import { RedisSessionStore } from 'kit-session/redis';
import { CookieJar } from '../support/cookieJar.js';
import { FakeClock } from '../support/FakeClock.js';
import { deleteRedisKeys } from '../support/redisCluster.js';
import { describeWith, REDIS_URL, uniqueName } from '../support/services.js';
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
  makeManager,
  ROUTE_TABLE,
  routes,
  sessionCookies,
  type StoreKind,
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

/**
 * The scenario app on Express 5: each route answers with `res.send`, and the session is
 * saved by itself; with `commit`, each route commits first, as apps that handle a store
 * failure themselves do.
 */
function scenarioApp(manager: SessionManager<AppSession>, { commit }: { commit: boolean }): Express {
  const app = express();
  app.set('env', 'test');
  app.set('etag', false);
  app.use(session(manager));
  for (const route of ROUTE_TABLE) {
    const method = route.method === 'GET' ? 'get' : 'post';
    app[method](route.path, async (req, res) => {
      const s = getSession(req, manager);
      const body = await routes[route.name](s);
      if (route.name === 'count') {
        res.vary(APP_VARY);
        res.append('Set-Cookie', APP_COOKIE);
      }
      if (commit) {
        await s.commit();
      }
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

/** A turn of the event loop: lets a pending save move on. */
function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** One way a route answers, and what the client must get. */
interface Answer {
  readonly name: string;
  readonly path: string;
  readonly status: number;
  readonly body: string;
  answer(res: ExpressResponse): void | Promise<void>;
}

/** Every way of answering the issue names, each on its own path. */
const ANSWERS: readonly Answer[] = [
  { name: 'res.send', path: '/send', status: 200, body: 'sent', answer: (res) => void res.send('sent') },
  { name: 'res.json', path: '/json', status: 200, body: '{"ok":true}', answer: (res) => void res.json({ ok: true }) },
  {
    name: 'res.redirect',
    path: '/redirect',
    status: 303,
    body: 'See Other. Redirecting to /next',
    answer: (res) => res.redirect(303, '/next'),
  },
  {
    name: 'res.end',
    path: '/end',
    status: 201,
    body: 'ended',
    answer: (res) => {
      res.statusCode = 201;
      res.setHeader('content-type', 'text/plain');
      res.end('ended');
    },
  },
  { name: 'res.sendStatus', path: '/send-status', status: 202, body: 'Accepted', answer: (res) => void res.sendStatus(202) },
  {
    name: 'res.write, then res.end (a stream)',
    path: '/write',
    status: 200,
    body: 'one two three',
    answer: async (res) => {
      res.type('text/plain');
      res.write('one ');
      await tick();
      res.write('two ');
      await tick();
      res.end('three');
    },
  },
  {
    name: 'a stream piped into res',
    path: '/pipe',
    status: 200,
    body: 'one two three',
    answer: (res) => {
      res.type('text/plain');
      Readable.from(['one ', 'two ', 'three']).pipe(res);
    },
  },
];

/**
 * An app whose routes change the session and answer, each in its own way (see
 * {@link ANSWERS}), with no call to save it; `GET /peek` reads the visits. Each route
 * sets a header of its own first, `X-Route`, which an abandoned response must not carry.
 */
function answersApp(manager: SessionManager<AppSession>, errors: unknown[] = []): Express {
  const app = express();
  app.set('env', 'test');
  app.use(session(manager));
  for (const { path, answer } of ANSWERS) {
    app.get(path, async (req, res) => {
      const s = getSession(req, manager);
      s.set('visits', (s.get('visits') ?? 0) + 1);
      res.set('X-Route', 'answered');
      await answer(res);
    });
  }
  app.get('/peek', (req, res) => {
    res.type('text/plain').send(`visits=${getSession(req, manager).get('visits') ?? 0}`);
  });
  app.use(((error, req, res, next) => {
    errors.push(error);
    appErrorHandler(error, req, res, next);
  }) satisfies ErrorRequestHandler);
  return app;
}

/** A store that loads nothing and cannot save: the store went down after the load. */
function savesFail(): SessionStore<AppSession> {
  return { ...brokenStore(), getSession: () => Promise.resolve(undefined) };
}

/** The memory store, with saves that can be made to fail, slowed down, and counted. */
class TestStore extends MemorySessionStore<AppSession> {
  /** When set, every save rejects. */
  down = false;
  /** Saves so far. */
  saves = 0;
  /** When set, each save waits for it. */
  gate: Promise<void> | undefined;
  /** Called when a save starts. */
  onSave: () => void = () => undefined;

  override async setSession(...args: Parameters<MemorySessionStore<AppSession>['setSession']>): Promise<string> {
    await this.#before();
    return super.setSession(...args);
  }

  override async patchSession(
    ...args: Parameters<MemorySessionStore<AppSession>['patchSession']>
  ): Promise<string | undefined> {
    await this.#before();
    return super.patchSession(...args);
  }

  async #before(): Promise<void> {
    this.saves += 1;
    this.onSave();
    await this.gate;
    if (this.down) {
      throw new Error('down');
    }
  }
}

/**
 * Registers the answering tests over one store: each way of answering saves the
 * session by itself, with its cookie in the same response.
 */
function describeAnswers(setup: () => Promise<{ manager: SessionManager<AppSession>; close?: () => Promise<void> }>): void {
  let server: TestServer;
  let close: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    const made = await setup();
    close = made.close;
    server = await start(answersApp(made.manager));
  });
  afterAll(async () => {
    await server?.close();
    await close?.();
  });

  it.each(ANSWERS)('saves a change answered with $name, with its cookie in that response', async ({ path, status, body }) => {
    const jar = new CookieJar();
    // A new session, then the same one loaded and changed again.
    for (const visits of [1, 2]) {
      const response = await jar.fetch(`${server.url}${path}`);
      expect(response.status).toBe(status);
      expect(await response.text()).toBe(body);
      expect(sessionCookies(response)).toHaveLength(1);
      expect(headerTokens(response, 'cache-control')).toContain('private');
      expect(headerTokens(response, 'vary')).toContain('cookie');
      if (status === 303) {
        expect(response.headers.get('location')).toBe('/next');
      }
      const peek = await jar.fetch(`${server.url}/peek`);
      expect(await peek.text()).toBe(`visits=${visits}`);
      expect(peek.headers.getSetCookie()).toEqual([]);
    }
  });
}

describe('kit-session/express', () => {
  describe('session', () => {
    describe('saving by itself (routes answer with res.send)', () => {
      describeAdapterScenarios((manager) => start(scenarioApp(manager, { commit: false })));
      describeLazyScenarios((manager) => start(scenarioApp(manager, { commit: false })));
      describeHeaderScenarios((manager) => start(scenarioApp(manager, { commit: false })));
    });

    describe('with an explicit commit() before res.send', () => {
      describeAdapterScenarios((manager) => start(scenarioApp(manager, { commit: true })));
      describeLazyScenarios((manager) => start(scenarioApp(manager, { commit: true })));
    });

    describe.each<StoreKind>(['encrypted cookie', 'memory'])('each way of answering, on the %s store', (kind) => {
      describeAnswers(async () => ({ manager: await makeManager(kind) }));
    });

    describeWith('redis', 'each way of answering, on the Redis store', () => {
      describeAnswers(async () => {
        const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
        client.on('error', () => undefined);
        const prefix = `${uniqueName('express')}:`;
        return {
          manager: new SessionManager<AppSession>(new RedisSessionStore<AppSession>(client, { prefix })),
          close: async () => {
            await deleteRedisKeys(client, prefix);
            client.disconnect();
          },
        };
      });
    });

    describe('when the save fails', () => {
      let server: TestServer;
      let errors: unknown[];

      beforeAll(async () => {
        errors = [];
        server = await start(answersApp(new SessionManager<AppSession>(savesFail()), errors));
      });
      afterAll(async () => {
        await server.close();
      });
      beforeEach(() => {
        errors.length = 0;
      });

      it.each(ANSWERS)(
        "drops the response answered with $name: the app's error handler answers, with no cookie and none of the route's headers",
        async ({ path }) => {
          const response = await fetch(`${server.url}${path}`, { redirect: 'manual' });
          expect(response.status).toBe(500);
          // The error page alone: not a byte of the route's own body before or after it.
          expect(await response.text()).toBe('server error');
          expect(response.headers.getSetCookie()).toEqual([]);
          expect(response.headers.get('x-route')).toBeNull();
          expect(response.headers.get('location')).toBeNull();
          expect(errors).toHaveLength(1);
          expect(errors[0]).toBeInstanceOf(SessionStoreError);
          // The connection is still fine: the next request is answered.
          expect((await fetch(`${server.url}/peek`)).status).toBe(200);
        },
      );
    });

    describe('with routes of its own', () => {
      let server: TestServer | undefined;
      let store: TestStore;
      let manager: SessionManager<AppSession>;
      let errors: unknown[];

      beforeEach(() => {
        store = new TestStore();
        manager = new SessionManager<AppSession>(store);
        errors = [];
      });
      afterEach(async () => {
        await server?.close();
        server = undefined;
      });

      async function serve(build: (app: Express) => void): Promise<TestServer> {
        const app = express();
        app.set('env', 'test');
        app.use(session(manager));
        build(app);
        app.get('/peek', (req, res) => {
          res.type('text/plain').send(`visits=${getSession(req, manager).get('visits') ?? 0}`);
        });
        app.use(((error, req, res, next) => {
          errors.push(error);
          appErrorHandler(error, req, res, next);
        }) satisfies ErrorRequestHandler);
        server = await start(app);
        return server;
      }

      it('holds the response until a slow save is done, then sends it with the cookie', async () => {
        let open: () => void = () => undefined;
        store.gate = new Promise((resolve) => {
          open = resolve;
        });
        const saving = new Promise<void>((resolve) => {
          store.onSave = resolve;
        });
        let sentAsTheAppSees: boolean | undefined;
        const { url } = await serve((app) => {
          app.get('/', (req, res) => {
            getSession(req, manager).set('visits', 1);
            res.send('saved');
            sentAsTheAppSees = res.headersSent;
          });
        });
        let answered = false;
        const pending = fetch(url).then((response) => {
          answered = true;
          return response;
        });
        await saving;
        await tick();
        await tick();
        expect(answered).toBe(false);
        expect(sentAsTheAppSees).toBe(true);
        open();
        const response = await pending;
        expect(await response.text()).toBe('saved');
        expect(sessionCookies(response)).toHaveLength(1);
        expect(store.size).toBe(1);
      });

      it('keeps the cookie of an earlier successful commit when the last save fails', async () => {
        const { url } = await serve((app) => {
          app.get('/login', async (req, res) => {
            const s = getSession(req, manager);
            s.set('userId', 'u-1');
            await s.commit();
            store.down = true;
            s.set('visits', 1);
            res.set('X-Route', 'answered').send('logged in');
          });
        });
        const jar = new CookieJar();
        const response = await jar.fetch(`${url}/login`);
        expect(response.status).toBe(500);
        expect(await response.text()).toBe('server error');
        expect(response.headers.get('x-route')).toBeNull();
        expect(sessionCookies(response)).toHaveLength(1);
        expect(errors[0]).toBeInstanceOf(SessionStoreError);
        store.down = false;
        const loaded = await manager.extractSession(
          Context.background,
          new Request(url, { headers: { cookie: `${DEFAULT_COOKIE_NAME}=${jar.get(DEFAULT_COOKIE_NAME)}` } }),
        );
        expect(manager.getValue(loaded, 'userId')).toBe('u-1');
        expect(manager.getValue(loaded, 'visits')).toBeUndefined();
      });

      it('sends a session too large for a cookie to the error handler, which answers with no cookie', async () => {
        manager = await makeManager('encrypted cookie');
        const { url } = await serve((app) => {
          app.get('/', (req, res) => {
            getSession(req, manager).set('big', 'x'.repeat(5000));
            res.json({ saved: true });
          });
        });
        const response = await fetch(url);
        expect(response.status).toBe(413);
        expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
        expect(await response.text()).toBe('session too large');
        expect(response.headers.getSetCookie()).toEqual([]);
        expect(errors[0]).toBeInstanceOf(SessionCookieTooLargeError);
      });

      it.each([
        ['throws', (): never => {
          throw new Error('route failed');
        }],
        ['rejects', async (): Promise<never> => {
          await tick();
          throw new Error('route failed');
        }],
      ])('saves nothing when the route %s after changing the session', async (_how, fail) => {
        const { url } = await serve((app) => {
          app.get('/count', (req, res) => {
            const s = getSession(req, manager);
            s.set('visits', (s.get('visits') ?? 0) + 1);
            res.send('counted');
          });
          app.get('/fail', async (req) => {
            const s = getSession(req, manager);
            s.set('visits', 100);
            await fail();
          });
        });
        const jar = new CookieJar();
        await jar.fetch(`${url}/count`);
        const saves = store.saves;
        const response = await jar.fetch(`${url}/fail`);
        expect(response.status).toBe(500);
        expect(await response.text()).toBe('server error');
        expect(response.headers.getSetCookie()).toEqual([]);
        expect(store.saves).toBe(saves);
        expect(await (await jar.fetch(`${url}/peek`)).text()).toBe('visits=1');
      });

      it('saves nothing more after an explicit commit: res.send goes out at once', async () => {
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
        expect(store.saves).toBe(1);
      });

      it('lets a route that commits handle a store failure itself: its own answer goes out, and nothing more is saved', async () => {
        store.down = true;
        const { url } = await serve((app) => {
          app.get('/', async (req, res) => {
            const s = getSession(req, manager);
            s.set('visits', 1);
            try {
              await s.commit();
              res.send('saved');
            } catch (error) {
              res.status(error instanceof SessionStoreError ? 503 : 500).send('try again later');
            }
          });
        });
        const response = await fetch(url);
        expect(response.status).toBe(503);
        expect(await response.text()).toBe('try again later');
        expect(response.headers.getSetCookie()).toEqual([]);
        expect(errors).toEqual([]);
        expect(store.saves).toBe(1);
      });

      it('saves a commit() that was not awaited before res.send, and sends its cookie', async () => {
        let saving: Promise<void> | undefined;
        const { url } = await serve((app) => {
          app.get('/', (req, res) => {
            const s = getSession(req, manager);
            s.set('visits', 1);
            saving = s.commit();
            res.send('did not wait');
          });
        });
        const jar = new CookieJar();
        const response = await jar.fetch(url);
        expect(await response.text()).toBe('did not wait');
        expect(sessionCookies(response)).toHaveLength(1);
        expect(await saving).toBeUndefined();
        expect(await (await jar.fetch(`${url}/peek`)).text()).toBe('visits=1');
      });

      it('merges the headers given to writeHead with the session\'s: both cookies, and no public cache', async () => {
        const { url } = await serve((app) => {
          app.get('/', (req, res) => {
            getSession(req, manager).set('visits', 1);
            res.writeHead(200, { 'Set-Cookie': APP_COOKIE, 'Cache-Control': 'public, max-age=60', 'Content-Type': 'text/plain' });
            res.end('headed');
          });
        });
        const response = await fetch(url);
        expect(await response.text()).toBe('headed');
        expect(response.headers.getSetCookie()).toContain(APP_COOKIE);
        expect(sessionCookies(response)).toHaveLength(1);
        expect(headerTokens(response, 'cache-control')).toEqual(['max-age=60', 'private']);
      });

      it.each(['before', 'after'])(
        'works with middleware registered %s it that wraps res.write and res.end, as compression does',
        async (order) => {
          // Upper-cases every chunk on its way out, through whatever res.write and
          // res.end were when it ran.
          const shout: express.RequestHandler = (_req, res, next) => {
            const write = res.write;
            const end = res.end;
            const loud = (chunk: unknown): unknown => (typeof chunk === 'string' ? chunk.toUpperCase() : chunk);
            res.write = function (this: ExpressResponse, chunk: unknown, ...rest: unknown[]) {
              return (write as (...args: unknown[]) => boolean).call(this, loud(chunk), ...rest);
            } as typeof res.write;
            res.end = function (this: ExpressResponse, chunk?: unknown, ...rest: unknown[]) {
              return (end as (...args: unknown[]) => ExpressResponse).call(this, loud(chunk), ...rest);
            } as typeof res.end;
            next();
          };
          const app = express();
          app.set('env', 'test');
          if (order === 'before') {
            app.use(shout);
          }
          app.use(session(manager));
          if (order === 'after') {
            app.use(shout);
          }
          app.get('/count', (req, res) => {
            const s = getSession(req, manager);
            s.set('visits', (s.get('visits') ?? 0) + 1);
            res.type('text/plain');
            res.write('visits ');
            res.end(String(s.get('visits')));
          });
          app.get('/peek', (req, res) => {
            res.type('text/plain').end(`visits ${getSession(req, manager).get('visits') ?? 0}`);
          });
          server = await start(app);
          const jar = new CookieJar();
          const counted = await jar.fetch(`${server.url}/count`);
          expect(await counted.text()).toBe('VISITS 1');
          expect(sessionCookies(counted)).toHaveLength(1);
          const peek = await jar.fetch(`${server.url}/peek`);
          expect(await peek.text()).toBe('VISITS 1');
          expect(peek.headers.getSetCookie()).toEqual([]);
        },
      );

      it('survives a client that goes away while the save holds its response', async () => {
        let open: () => void = () => undefined;
        store.gate = new Promise((resolve) => {
          open = resolve;
        });
        const saving = new Promise<void>((resolve) => {
          store.onSave = resolve;
        });
        let finished: Promise<unknown> | undefined;
        const { url } = await serve((app) => {
          app.get('/', (req, res) => {
            finished = new Promise((resolve) => res.once('close', resolve));
            getSession(req, manager).set('visits', 1);
            res.send('nobody reads this');
          });
        });
        const abort = new AbortController();
        const gone = fetch(url, { signal: abort.signal }).catch((error: unknown) => error);
        await saving;
        abort.abort();
        await gone;
        await finished;
        open();
        await tick();
        // The change was saved all the same, and the server goes on answering.
        expect(store.size).toBe(1);
        const response = await fetch(`${url}/peek`);
        expect(await response.text()).toBe('visits=0');
      });

      it('costs an unchanged session nothing: the response goes out at once, through its own methods', async () => {
        const seen: boolean[] = [];
        const { url } = await serve((app) => {
          app.get('/', (req, res) => {
            getSession(req, manager).get('visits');
            res.send('read only');
            seen.push(res.end === ServerResponse.prototype.end, res.write === ServerResponse.prototype.write);
          });
        });
        const response = await fetch(url);
        expect(await response.text()).toBe('read only');
        expect(response.headers.getSetCookie()).toEqual([]);
        expect(seen).toEqual([true, true]);
        expect(store.saves).toBe(0);
      });

      it('moves an unchanged session\'s idle expiry by itself once the touch interval has passed', async () => {
        const clock = new FakeClock();
        manager = new SessionManager<AppSession>(new MemorySessionStore<AppSession>({}, clock), {
          idleTimeout: 30 * 60_000,
        }, clock);
        const { url } = await serve((app) => {
          app.get('/count', (req, res) => {
            getSession(req, manager).set('visits', 1);
            res.send('counted');
          });
        });
        const jar = new CookieJar();
        await jar.fetch(`${url}/count`);
        expect((await jar.fetch(`${url}/peek`)).headers.getSetCookie()).toEqual([]);
        clock.advance(5 * 60_000);
        const touched = await jar.fetch(`${url}/peek`);
        expect(await touched.text()).toBe('visits=1');
        expect(sessionCookies(touched)).toHaveLength(1);
      });

      it('throws SessionHeadersSentError from a change made after the response was sent', async () => {
        const late: unknown[] = [];
        const { url } = await serve((app) => {
          app.get('/unchanged', (req, res) => {
            res.send('sent');
            try {
              getSession(req, manager).set('visits', 1);
            } catch (error) {
              late.push(error);
            }
          });
          app.get('/changed', (req, res) => {
            const s = getSession(req, manager);
            s.set('visits', 1);
            res.send('sent');
            // The save is under way: this change could not reach the browser.
            try {
              s.set('visits', 2);
            } catch (error) {
              late.push(error);
            }
          });
        });
        await (await fetch(`${url}/unchanged`)).text();
        expect(store.size).toBe(0);
        const jar = new CookieJar();
        await (await jar.fetch(`${url}/changed`)).text();
        expect(await (await jar.fetch(`${url}/peek`)).text()).toBe('visits=1');
        expect(late).toHaveLength(2);
        for (const error of late) {
          expect(error).toBeInstanceOf(SessionHeadersSentError);
          expect((error as SessionError).code).toBe('ERR_SESSION_HEADERS_SENT');
        }
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
  });
});
