import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createElement as h } from 'react';
import {
  type ActionFunctionArgs,
  createContext,
  createRequestHandler,
  data,
  type HeadersFunction,
  isRouteErrorResponse,
  type LoaderFunctionArgs,
  Outlet,
  redirect,
  RouterContextProvider,
  useLoaderData,
  useRouteError,
} from 'react-router';
import {
  Context,
  createCookieSessions,
  CookieTransport,
  DEFAULT_COOKIE_NAME,
  EncryptingStoreDecorator,
  HeaderTransport,
  importRawKey,
  MemorySessionStore,
  type Session,
  SessionCookieTooLargeError,
  SessionError,
  SessionManager,
  SessionNotLoadedError,
  type SessionStore,
  SessionStoreError,
} from 'kit-session';
import { getSession, sessionMiddleware } from 'kit-session/react-router';
import { RedisSessionStore } from 'kit-session/redis';
import { CookieJar } from '../support/cookieJar.js';
import { serverBuild, type RouteDefinition } from '../support/reactRouterBuild.js';
import { deleteRedisKeys } from '../support/redisCluster.js';
import { describeWith, REDIS_URL, uniqueName } from '../support/services.js';
import { CountingCookieStore } from '../support/countingStores.js';
import { expectNoSessionHeaders, headerTokens, sessionCookies } from './scenarios.js';

// What `react-router typegen` declares for an app with `future.v8_middleware`: loaders'
// and actions' `context` is then a RouterContextProvider.
declare module 'react-router' {
  interface Future {
    v8_middleware: true;
  }
}

// Every request goes through React Router's own request handler (createRequestHandler)
// with a server build written by hand: a root route and nested routes whose loaders
// run in parallel, page and resource routes with actions, rendered by React's SSR.

/** The test app's session values. */
interface Shop {
  visits: number;
  shopViews: number;
  cartViews: number;
  user: string;
  votes: number;
  theme: string;
  lost: string;
  big: string;
  late: string;
}

const KEYS = ['visits', 'shopViews', 'cartViews', 'user', 'votes', 'theme', 'lost', 'big', 'late'] as const;
const ORIGIN = 'https://app.test';
const sessionContext = createContext<Session<Shop>>();

/** Loaders in flight now, and the most seen at once: proof that nested loaders overlap. */
const inFlight = { now: 0, max: 0 };

/** Runs a loader's work after a pause during which the other loaders of the request start. */
async function overlapping<R>(work: () => R): Promise<R> {
  inFlight.now += 1;
  inFlight.max = Math.max(inFlight.max, inFlight.now);
  try {
    await new Promise((resolve) => setTimeout(resolve, 20));
    return work();
  } finally {
    inFlight.now -= 1;
  }
}

/** Holds every caller until `parties` of them have arrived: requests that load before any saves. */
class Barrier {
  readonly #parties: number;
  readonly #waiting: (() => void)[] = [];

  constructor(parties: number) {
    this.#parties = parties;
  }

  arrive(): Promise<void> {
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      if (this.#waiting.length === this.#parties) {
        this.#waiting.forEach((release) => release());
      }
    });
  }
}

/** When set, the cart's and the theme's loaders wait for each other. */
let gate: Barrier | undefined;

function count(session: Session<Shop>, key: 'visits' | 'shopViews' | 'cartViews'): number {
  const next = (session.get(key) ?? 0) + 1;
  session.set(key, next);
  return next;
}

function text(id: string, value: unknown) {
  return h('p', { id }, String(value));
}

/**
 * The routes: `/` (root) > `/shop` > `/shop/cart`, each level's loader counting its own
 * value; `/theme` (sets a value and a cookie of its own); `/login` (page action, throws
 * a redirect); `/logout` (resource route, returns one); `/vote` (action throws a 400);
 * `/fail` (loader throws) and `/api/fail` (a resource route's loader throws); `/big` (too much for a cookie); `/later` (changes the session
 * from a promise settled after the response); `/again` (lists the middleware a second time).
 */
function routesFor(manager: SessionManager<Shop>): RouteDefinition[] {
  const middleware = [sessionMiddleware(manager, sessionContext)];
  const page = (id: string) => () => text(id, 'page');
  return [
    {
      id: 'root',
      path: '',
      module: {
        middleware,
        loader: ({ context }: LoaderFunctionArgs) =>
          overlapping(() => {
            const session = context.get(sessionContext);
            return { visits: count(session, 'visits'), user: session.get('user') ?? 'nobody' };
          }),
        default: function Root() {
          const { visits, user } = useLoaderData() as { visits: number; user: string };
          return h('html', null, h('body', null, text('visits', visits), text('user', user), h(Outlet)));
        },
        ErrorBoundary: function RootError() {
          const error = useRouteError();
          return h('html', null, h('body', null, text('error', isRouteErrorResponse(error) ? error.status : 'error')));
        },
      },
    },
    {
      id: 'routes/shop',
      parentId: 'root',
      path: 'shop',
      module: {
        loader: ({ context }: LoaderFunctionArgs) =>
          overlapping(() => ({ shopViews: count(context.get(sessionContext), 'shopViews') })),
        default: function Shop() {
          const { shopViews } = useLoaderData() as { shopViews: number };
          return h('section', null, text('shopViews', shopViews), h(Outlet));
        },
      },
    },
    {
      id: 'routes/shop.cart',
      parentId: 'routes/shop',
      path: 'cart',
      module: {
        loader: async ({ context }: LoaderFunctionArgs) => {
          await gate?.arrive();
          return overlapping(() => ({ cartViews: count(context.get(sessionContext), 'cartViews') }));
        },
        default: function Cart() {
          const { cartViews } = useLoaderData() as { cartViews: number };
          return text('cartViews', cartViews);
        },
      },
    },
    {
      id: 'routes/theme',
      parentId: 'root',
      path: 'theme',
      module: {
        loader: async ({ request, context }: LoaderFunctionArgs) => {
          await gate?.arrive();
          const theme = new URL(request.url).searchParams.get('color') ?? 'light';
          context.get(sessionContext).set('theme', theme);
          const headers = new Headers({ Vary: 'Accept' });
          headers.append('Set-Cookie', `theme=${theme}; Path=/`);
          return data({ theme }, { headers });
        },
        headers: (({ loaderHeaders }) => loaderHeaders) satisfies HeadersFunction,
        default: page('theme'),
      },
    },
    {
      id: 'routes/login',
      parentId: 'root',
      path: 'login',
      module: {
        action: async ({ request, context }: ActionFunctionArgs) => {
          const session = getSession(context, sessionContext);
          session.renew();
          session.set('user', String((await request.formData()).get('name')));
          throw redirect('/shop/cart');
        },
        default: page('login'),
      },
    },
    {
      id: 'routes/logout',
      parentId: 'root',
      path: 'logout',
      module: {
        action: ({ context }: ActionFunctionArgs) => {
          context.get(sessionContext).destroy();
          return redirect('/');
        },
      },
    },
    {
      id: 'routes/vote',
      parentId: 'root',
      path: 'vote',
      module: {
        action: ({ context }: ActionFunctionArgs) => {
          const session = context.get(sessionContext);
          session.set('votes', (session.get('votes') ?? 0) + 1);
          throw data({ reason: 'the poll is closed' }, { status: 400 });
        },
        default: page('vote'),
      },
    },
    {
      id: 'routes/fail',
      parentId: 'root',
      path: 'fail',
      module: {
        loader: ({ context }: LoaderFunctionArgs) => {
          context.get(sessionContext).set('lost', 'never saved');
          throw new Error('the loader failed');
        },
        default: page('fail'),
      },
    },
    {
      id: 'routes/api.fail',
      parentId: 'root',
      path: 'api/fail',
      module: {
        loader: ({ context }: LoaderFunctionArgs) => {
          context.get(sessionContext).set('lost', 'never saved');
          throw new Error('the resource route failed');
        },
      },
    },
    {
      id: 'routes/big',
      parentId: 'root',
      path: 'big',
      module: {
        loader: ({ context }: LoaderFunctionArgs) => {
          context.get(sessionContext).set('big', 'x'.repeat(5000));
          return null;
        },
        default: page('big'),
      },
    },
    {
      id: 'routes/later',
      parentId: 'root',
      path: 'later',
      module: {
        loader: ({ context }: LoaderFunctionArgs) => {
          const session = context.get(sessionContext);
          const late = new Promise<string>((resolve) =>
            setTimeout(() => {
              try {
                session.set('late', 'yes');
                resolve('changed');
              } catch (error) {
                resolve(error instanceof SessionError ? error.code : 'another error');
              }
            }, 50),
          );
          return { late };
        },
        default: page('later'),
      },
    },
    {
      // A health check: a resource route that never touches the session.
      id: 'routes/api.health',
      parentId: 'root',
      path: 'api/health',
      module: {
        loader: () => Response.json({ ok: true }),
      },
    },
    {
      id: 'routes/again',
      parentId: 'root',
      path: 'again',
      module: {
        middleware,
        loader: ({ context }: LoaderFunctionArgs) => ({ user: context.get(sessionContext).get('user') ?? 'nobody' }),
        default: page('again'),
      },
    },
  ];
}

/** The test app behind React Router's request handler, and a browser's view of it. */
interface App {
  /** What reached entry.server's handleError. */
  readonly errors: unknown[];
  /** Sends a request with the jar's cookies and keeps the cookies of the response. */
  send(jar: CookieJar, path: string, init?: RequestInit): Promise<Response>;
  /** The session the jar's cookie loads now, as the next request would see it. */
  peek(jar: CookieJar): Promise<Partial<Shop>>;
}

function appFor(manager: SessionManager<Shop>, options: { middleware?: boolean } = {}): App {
  const errors: unknown[] = [];
  const handle = createRequestHandler(
    serverBuild(routesFor(manager), { ...options, onError: (error) => errors.push(error) }),
  );
  return {
    errors,
    async send(jar, path, init = {}) {
      const headers = new Headers(init.headers);
      if (jar.header() !== '') {
        headers.set('cookie', jar.header());
      }
      const response = await handle(new Request(`${ORIGIN}${path}`, { ...init, headers }));
      jar.store(response);
      return response;
    },
    async peek(jar) {
      const request = new Request(ORIGIN, { headers: { cookie: jar.header() } });
      const session = manager.session(await manager.extractSession(Context.background, request));
      return Object.fromEntries(KEYS.flatMap((key) => (session.get(key) === undefined ? [] : [[key, session.get(key)]])));
    },
  };
}

/** The numbers a rendered page shows, by element id. */
function shown(html: string): Record<string, string> {
  return Object.fromEntries([...html.matchAll(/<p id="(\w+)">([^<]*)<\/p>/g)].map((match) => [match[1]!, match[2]!]));
}

const post = (body?: Record<string, string>): RequestInit => ({
  method: 'POST',
  ...(body === undefined ? {} : { body: new URLSearchParams(body) }),
});

async function cookieManager(): Promise<SessionManager<Shop>> {
  return createCookieSessions<Shop>({ keys: [await importRawKey(randomBytes(32).toString('base64'))] });
}

/** A manager for one test, and what to clean up after it. */
interface Opened {
  readonly manager: SessionManager<Shop>;
  readonly close?: () => Promise<void>;
}

/**
 * The behaviour every store must show behind React Router.
 *
 * @param open - A manager on a fresh store.
 * @param serverSide - Whether the store keeps sessions on the server (then concurrent
 *   requests of one session keep each other's changes).
 */
function describeNestedRoutes(open: () => Promise<Opened>, serverSide: boolean): void {
  let opened: Opened;
  let app: App;
  let jar: CookieJar;

  beforeEach(async () => {
    opened = await open();
    app = appFor(opened.manager);
    jar = new CookieJar();
    inFlight.max = 0;
  });
  afterEach(async () => {
    gate = undefined;
    await opened.close?.();
  });

  it('runs the three nested loaders in parallel on one session: every change kept, one Set-Cookie per response', async () => {
    for (const expected of ['1', '2', '3']) {
      const response = await app.send(jar, '/shop/cart');
      expect(response.status).toBe(200);
      expect(sessionCookies(response)).toHaveLength(1);
      expect(shown(await response.text())).toMatchObject({ visits: expected, shopViews: expected, cartViews: expected });
    }
    expect(inFlight.max).toBe(3);
    expect(await app.peek(jar)).toEqual({ visits: 3, shopViews: 3, cartViews: 3 });
    expect(app.errors).toEqual([]);
  });

  it('treats a .data request (single fetch) as a document request: same loaders, same saves, one Set-Cookie', async () => {
    const page = await app.send(jar, '/shop/cart');
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const dataRequest = await app.send(jar, '/shop/cart.data');
    expect(dataRequest.status).toBe(200);
    expect(dataRequest.headers.get('content-type')).toMatch(/^text\/x-script/);
    expect(sessionCookies(dataRequest)).toHaveLength(1);
    expect(headerTokens(dataRequest, 'vary')).toContain('cookie');
    expect(headerTokens(dataRequest, 'cache-control')).toContain('private');
    await dataRequest.text();
    expect(inFlight.max).toBe(3);
    expect(await app.peek(jar)).toEqual({ visits: 2, shopViews: 2, cartViews: 2 });

    // A revalidation of some routes only (?_routes=) runs and saves those alone.
    const some = await app.send(jar, '/shop/cart.data?_routes=routes/shop.cart');
    expect(sessionCookies(some)).toHaveLength(1);
    await some.text();
    expect(await app.peek(jar)).toEqual({ visits: 2, shopViews: 2, cartViews: 3 });
  });

  it("keeps the app's own Set-Cookie and Vary beside the session's", async () => {
    const response = await app.send(jar, '/theme?color=dark');
    expect(response.status).toBe(200);
    expect(response.headers.getSetCookie()).toEqual(expect.arrayContaining(['theme=dark; Path=/']));
    expect(sessionCookies(response)).toHaveLength(1);
    expect(headerTokens(response, 'vary')).toEqual(expect.arrayContaining(['accept', 'cookie']));
    expect(await app.peek(jar)).toEqual({ visits: 1, theme: 'dark' });
  });

  it('keeps the session of a page action that throws a redirect: document POST (302) and .data POST (202)', async () => {
    await app.send(jar, '/');
    const before = jar.get(DEFAULT_COOKIE_NAME);
    const login = await app.send(jar, '/login', post({ name: 'Ada' }));
    expect(login.status).toBe(302);
    expect(login.headers.get('location')).toBe('/shop/cart');
    expect(sessionCookies(login)).toHaveLength(1);
    expect(jar.get(DEFAULT_COOKIE_NAME)).not.toBe(before); // renewed
    expect(await app.peek(jar)).toEqual({ visits: 1, user: 'Ada' });

    const other = new CookieJar();
    const viaData = await app.send(other, '/login.data', post({ name: 'Grace' }));
    expect(viaData.status).toBe(202); // single fetch's redirect, answered in the body
    expect(sessionCookies(viaData)).toHaveLength(1);
    expect(await viaData.text()).toContain('/shop/cart');
    expect(await app.peek(other)).toEqual({ user: 'Grace' });
  });

  it('expires the cookie from a resource route action that returns a redirect (logout)', async () => {
    await app.send(jar, '/login', post({ name: 'Ada' }));
    const before = jar.clone();
    const logout = await app.send(jar, '/logout', post());
    expect(logout.status).toBe(302);
    const [cookie, ...more] = sessionCookies(logout);
    expect(more).toEqual([]);
    expect(cookie).toMatch(/; Max-Age=0/i);
    expect(await app.peek(jar)).toEqual({});
    if (serverSide) {
      // A copy of the cookie taken before the logout opens nothing any more.
      expect(await app.peek(before)).toEqual({});
    }
  });

  it('keeps the change of an action that throws a data response (400), with its cookie', async () => {
    const response = await app.send(jar, '/vote', post());
    expect(response.status).toBe(400);
    expect(shown(await response.text())).toMatchObject({ error: '400' });
    expect(sessionCookies(response)).toHaveLength(1);
    expect(await app.peek(jar)).toMatchObject({ votes: 1 });
  });

  it('saves nothing when a loader throws: the 500 answer carries no cookie, and no change is kept', async () => {
    await app.send(jar, '/');
    for (const path of ['/fail', '/fail.data', '/api/fail']) {
      const response = await app.send(jar, path);
      expect(response.status).toBe(500);
      expect(sessionCookies(response)).toEqual([]);
      await response.text();
    }
    expect(await app.peek(jar)).toEqual({ visits: 1 });
    expect(app.errors).toEqual([
      expect.objectContaining({ message: 'the loader failed' }),
      expect.anything(),
      expect.objectContaining({ message: 'the resource route failed' }),
    ]);
  });

  it('loads and saves once when a child route lists the middleware again', async () => {
    const extract = jest.spyOn(opened.manager, 'extractSession');
    const defer = jest.spyOn(opened.manager, 'deferSession');
    const inject = jest.spyOn(opened.manager, 'injectSession');
    const response = await app.send(jar, '/again');
    expect(response.status).toBe(200);
    expect(sessionCookies(response)).toHaveLength(1);
    // Loaded before the handler (extractSession) or handed over for its first touch (deferSession): once.
    expect(extract.mock.calls.length + defer.mock.calls.length).toBe(1);
    expect(inject).toHaveBeenCalledTimes(1);
  });

  it('refuses a change from a promise that settles after the save (SessionHeadersSentError)', async () => {
    const response = await app.send(jar, '/later.data');
    expect(sessionCookies(response)).toHaveLength(1); // the root loader's visit
    expect(await response.text()).toContain('ERR_SESSION_HEADERS_SENT');
    expect(await app.peek(jar)).toEqual({ visits: 1 });
  });

  it(
    serverSide
      ? 'keeps both changes of two concurrent requests of one session (different values)'
      : 'across two concurrent requests, each cookie holds only its own change: the one the browser keeps last wins',
    async () => {
      await app.send(jar, '/');
      const [cart, theme] = [jar.clone(), jar.clone()];
      gate = new Barrier(2); // both requests load the session before either saves
      const responses = await Promise.all([
        app.send(cart, '/shop/cart.data?_routes=routes/shop.cart'),
        app.send(theme, '/theme.data?_routes=routes/theme&color=dark'),
      ]);
      await Promise.all(responses.map((response) => response.text()));
      for (const response of responses) {
        expect(sessionCookies(response)).toHaveLength(1);
      }
      if (serverSide) {
        const both = { visits: 1, cartViews: 1, theme: 'dark' };
        expect(await app.peek(cart)).toEqual(both);
        expect(await app.peek(theme)).toEqual(both);
      } else {
        expect(await app.peek(cart)).toEqual({ visits: 1, cartViews: 1 });
        expect(await app.peek(theme)).toEqual({ visits: 1, theme: 'dark' });
      }
    },
  );
}

let redis: Redis | undefined;
afterAll(async () => {
  await redis?.quit();
});

describe('kit-session/react-router', () => {
  describe('sessionMiddleware, through createRequestHandler', () => {
    describe('on the encrypted cookie store', () => {
      describeNestedRoutes(async () => ({ manager: await cookieManager() }), false);
    });

    describe('on MemorySessionStore', () => {
      describeNestedRoutes(async () => ({ manager: new SessionManager<Shop>(new MemorySessionStore<Shop>()) }), true);
    });

    describeWith('redis', 'on RedisSessionStore', () => {
      describeNestedRoutes(async () => {
        redis ??= new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
        const client = redis;
        const prefix = `${uniqueName('kit-session-rr')}:`;
        return {
          manager: new SessionManager<Shop>(new RedisSessionStore<Shop>(client, { prefix })),
          close: () => deleteRedisKeys(client, prefix),
        };
      }, true);
    });

    describe('sessions loaded on first touch', () => {
      it('an untouched request (a resource route) with a cookie opens nothing and sends nothing; touched ones load as before', async () => {
        const store = new CountingCookieStore<Shop>([await importRawKey(randomBytes(32).toString('base64'))]);
        const app = appFor(new SessionManager<Shop>(store));
        const jar = new CookieJar();
        expect((await app.send(jar, '/theme?color=dark')).status).toBe(200);
        // The first load of a found session shows the store answers at once.
        expect((await app.send(jar, '/theme?color=blue')).status).toBe(200);
        store.reset();
        const untouched = await app.send(jar, '/api/health');
        expect(untouched.status).toBe(200);
        expect(await untouched.json()).toEqual({ ok: true });
        expectNoSessionHeaders(untouched);
        expect(store.total).toBe(0);
        const touched = await app.send(jar, '/theme?color=red');
        expect(sessionCookies(touched)).toHaveLength(1);
        expect(store.calls).toMatchObject({ getSession: 1, setSession: 1 });
        expect(await app.peek(jar)).toMatchObject({ theme: 'red' });
        expect(app.errors).toEqual([]);
      });
    });

    describe('with a cookie and a header transport (a native client)', () => {
      it('logs in by header, loads nested routes with its Bearer token (one token header), and logs out', async () => {
        const keys = [await importRawKey(randomBytes(32).toString('base64'))];
        const manager = new SessionManager<Shop>(new EncryptingStoreDecorator(new MemorySessionStore<Shop>(), { keys }), {
          transport: [new CookieTransport(), new HeaderTransport()],
        });
        const app = appFor(manager);
        const noCookies = new CookieJar();
        let token: string | undefined;
        const send = async (path: string, init: RequestInit = {}): Promise<Response> => {
          const headers = { authorization: token === undefined ? 'Bearer' : `Bearer ${token}` };
          const response = await app.send(noCookies, path, { ...init, headers });
          const given = response.headers.get('session-token');
          if (given !== null) {
            token = given === '' ? undefined : given;
          }
          return response;
        };
        const expectTokenOnly = (response: Response): void => {
          expect(response.headers.get('session-token')).toMatch(/^[\w-]*$/);
          expect(response.headers.get('session-token-max-age')).toMatch(/^\d+$/);
          expect(headerTokens(response, 'cache-control')).toContain('no-store');
          expect(response.headers.getSetCookie()).toEqual([]);
          expect(headerTokens(response, 'vary')).not.toContain('cookie');
        };

        const login = await send('/login', post({ name: 'Ada' }));
        expect(login.status).toBe(302);
        expectTokenOnly(login);
        const first = token;
        expect(first).toBeDefined();

        // Three loaders change the session in parallel: one save, one token.
        const cart = await send('/shop/cart');
        expect(cart.status).toBe(200);
        expectTokenOnly(cart);
        expect(shown(await cart.text())).toMatchObject({ visits: '1', shopViews: '1', cartViews: '1' });
        expect(await (await send('/again')).text()).toContain('Ada');

        const logout = await send('/logout', post());
        expect(logout.status).toBe(302);
        expectTokenOnly(logout);
        expect(logout.headers.get('session-token')).toBe('');
        expect(logout.headers.get('session-token-max-age')).toBe('0');
        expect(token).toBeUndefined();
        token = first;
        expect(await (await send('/again')).text()).not.toContain('Ada');
        expect(app.errors).toEqual([]);
        expect(noCookies.header()).toBe('');
      });
    });

    describe('when the session cannot be loaded or saved', () => {
      it('a session too large for a cookie: the root ErrorBoundary (500) without a cookie, the error to handleError', async () => {
        const app = appFor(await cookieManager());
        const jar = new CookieJar();
        await app.send(jar, '/');
        const response = await app.send(jar, '/big');
        expect(response.status).toBe(500);
        expect(shown(await response.text())).toEqual({ error: 'error' });
        expect(response.headers.getSetCookie()).toEqual([]);
        expect(app.errors).toEqual([expect.any(SessionCookieTooLargeError)]);
        // The browser keeps its earlier cookie: the session is as it was.
        expect(await app.peek(jar)).toEqual({ visits: 1 });
      });

      it('a store that is down: SessionStoreError to handleError, a 500 without a cookie, document and .data', async () => {
        const down: SessionStore<Shop> = {
          getSession: () => Promise.reject(new Error('down')),
          setSession: () => Promise.reject(new Error('down')),
          deleteSession: () => Promise.reject(new Error('down')),
        };
        const app = appFor(new SessionManager<Shop>(down));
        const jar = new CookieJar();
        jar.set(DEFAULT_COOKIE_NAME, 'a-token-to-look-up');
        for (const path of ['/shop/cart', '/shop/cart.data']) {
          const response = await app.send(jar, path);
          expect(response.status).toBe(500);
          expect(response.headers.getSetCookie()).toEqual([]);
          await response.text();
        }
        expect(app.errors).toEqual([expect.any(SessionStoreError), expect.any(SessionStoreError)]);
      });

      it('without future.v8_middleware, React Router runs no middleware: getSession throws SessionNotLoadedError', async () => {
        const app = appFor(new SessionManager<Shop>(new MemorySessionStore<Shop>()), { middleware: false });
        const response = await app.send(new CookieJar(), '/login', post({ name: 'Ada' }));
        expect(response.status).toBe(500);
        expect(response.headers.getSetCookie()).toEqual([]);
        expect(app.errors).toEqual([expect.any(SessionNotLoadedError)]);
      });
    });

    it('throws TypeError when the context key is missing', () => {
      const manager = new SessionManager<Shop>(new MemorySessionStore<Shop>());
      expect(() => sessionMiddleware(manager, undefined as never)).toThrow(TypeError);
    });
  });

  describe('getSession', () => {
    it('returns the session the middleware put in the context', async () => {
      const manager = new SessionManager<Shop>(new MemorySessionStore<Shop>());
      const context = new RouterContextProvider();
      let seen: Session<Shop> | undefined;
      await sessionMiddleware(manager, sessionContext)(
        { request: new Request(ORIGIN), url: new URL(ORIGIN), pattern: '/', params: {}, context },
        async () => {
          seen = getSession(context, sessionContext);
          return new Response('ok');
        },
      );
      expect(seen).toBeDefined();
      expect(seen).toBe(context.get(sessionContext));
    });

    it.each([
      ['a provider the middleware did not fill', () => new RouterContextProvider()],
      ['the plain object React Router passes without the flag', () => ({})],
      ['no context at all', () => undefined],
    ])('throws SessionNotLoadedError for %s', (_name, makeContext) => {
      expect(() => getSession(makeContext() as never, sessionContext)).toThrow(SessionNotLoadedError);
    });
  });
});
