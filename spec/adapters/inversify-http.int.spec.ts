import 'reflect-metadata';
import { createServer } from 'node:http';
import {
  CatchError,
  Controller,
  createCustomParameterDecorator,
  Get,
  InternalServerErrorHttpResponse,
  Post,
  Response,
  UnauthorizedHttpResponse,
} from '@inversifyjs/http-core';
import { InversifyExpressHttpAdapter, type ExpressErrorFilter } from '@inversifyjs/http-express';
import type express from 'express';
import { Container, type Newable } from 'inversify';
import {
  DEFAULT_COOKIE_NAME,
  MemorySessionStore,
  SessionError,
  SessionManager,
  SessionNotLoadedError,
  SessionStoreError,
  type Session,
} from 'kit-session';
import { SESSION_MANAGER } from 'kit-session/di';
import { SessionInterceptor, SessionParam } from 'kit-session/inversify-http';
import { CookieJar } from '../support/cookieJar.js';
import { startExample, stopChild, type RunningExample } from '../examples/processes.js';
import {
  APP_COOKIE,
  APP_VARY,
  type AppSession,
  brokenStore,
  describeAdapterScenarios,
  describeHeaderScenarios,
  describeLazyScenarios,
  errorPage,
  listen,
  routes,
  sessionCookies,
  type TestServer,
} from './scenarios.js';

/**
 * Express's own response, without switching the method to a native handler (as
 * `@Response()` does): the scenario routes add headers of their own through it and still
 * return their body.
 */
const ExpressResponse = createCustomParameterDecorator<express.Request, express.Response, express.Response>(
  (_request, response) => response,
);

/** What reached the app's error filter in the current test. */
let errors: unknown[] = [];

/** The app's error filter, for every error: the error page. */
@CatchError()
class ErrorPage implements ExpressErrorFilter {
  catch(error: unknown, _request: express.Request, response: express.Response): void {
    errors.push(error);
    const page = errorPage(error);
    response.status(page.status).type('text/plain').send(page.body);
  }
}

/** The scenario app's routes (see `routes` in scenarios.ts), as a controller. */
@Controller()
class ScenarioController {
  @Get('/count')
  count(@SessionParam() session: Session<AppSession>, @ExpressResponse res: express.Response): string {
    res.vary(APP_VARY);
    res.append('Set-Cookie', APP_COOKIE);
    return routes.count(session);
  }

  @Get('/peek')
  peek(@SessionParam() session: Session<AppSession>): string {
    return routes.peek(session);
  }

  @Post('/login')
  login(@SessionParam() session: Session<AppSession>): string {
    return routes.login(session);
  }

  @Get('/me')
  me(@SessionParam() session: Session<AppSession>): string {
    return routes.me(session);
  }

  @Post('/logout')
  logout(@SessionParam() session: Session<AppSession>): string {
    return routes.logout(session);
  }

  @Get('/big')
  big(@SessionParam() session: Session<AppSession>): string {
    return routes.big(session);
  }

  @Post('/twice')
  twice(@SessionParam() session: Session<AppSession>): Promise<string> {
    return routes.twice(session);
  }

  @Get('/small')
  small(@SessionParam() session: Session<AppSession>): string {
    return routes.small(session);
  }

  @Get('/health')
  health(@SessionParam() session: Session<AppSession>): string {
    return routes.health(session);
  }

  @Get('/loaded')
  loaded(@SessionParam() session: Session<AppSession>): Promise<string> {
    return routes.loaded(session);
  }
}

/** Routes that fail, answer with errors, or write the response themselves. */
@Controller('/more')
class MoreController {
  @Get('/throw')
  throws(@SessionParam() session: Session<AppSession>): string {
    session.set('visits', 99);
    throw new Error('boom');
  }

  @Get('/unauthorized')
  unauthorized(@SessionParam() session: Session<AppSession>): string {
    session.set('flash', 'log in first');
    throw new UnauthorizedHttpResponse({ error: 'log in first' });
  }

  @Get('/returns-500')
  returns500(@SessionParam() session: Session<AppSession>): InternalServerErrorHttpResponse {
    session.set('visits', 99);
    return new InternalServerErrorHttpResponse({ error: 'sorry' });
  }

  @Get('/native')
  async native(@SessionParam() session: Session<AppSession>, @Response() res: express.Response): Promise<void> {
    session.set('visits', (session.get('visits') ?? 0) + 1);
    await session.commit();
    res.type('text/plain').send(`visits=${session.get('visits')}`);
  }
}

/** A route whose controller is served without the interceptor. */
@Controller('/bare')
class BareController {
  @Get('/')
  bare(@SessionParam() session: Session<AppSession>): string {
    return routes.peek(session);
  }
}

/** Two sessions, each under its manager's name. */
@Controller('/two')
class TwoSessionsController {
  @Get('/')
  both(
    @SessionParam('__Host-session') user: Session<AppSession>,
    @SessionParam('__Host-admin') admin: Session<AppSession>,
  ): string {
    user.set('visits', (user.get('visits') ?? 0) + 1);
    admin.set('visits', (admin.get('visits') ?? 0) + 10);
    return `user=${user.get('visits')} admin=${admin.get('visits')}`;
  }

  @Get('/unnamed')
  unnamed(@SessionParam() session: Session<AppSession>): string {
    return routes.peek(session);
  }
}

interface AppOptions {
  /** The controllers to serve. */
  readonly controllers: readonly Newable<object>[];
  /** Interceptors built by hand, each with the identifier to bind it under; by default the manager's, resolved by the container. */
  readonly interceptors?: readonly (readonly [symbol, SessionInterceptor<AppSession>])[];
}

/**
 * Serves controllers through `@inversifyjs/http-express` on 127.0.0.1, with the manager
 * bound as `SESSION_MANAGER` and the interceptor resolved by the container.
 */
async function serve(manager: SessionManager<AppSession> | undefined, options: AppOptions): Promise<TestServer> {
  const container = new Container();
  if (manager !== undefined) {
    container.bind(SESSION_MANAGER).toConstantValue(manager);
    container.bind(SessionInterceptor).toSelf().inSingletonScope();
  }
  container.bind(ErrorPage).toSelf().inSingletonScope();
  for (const controller of options.controllers) {
    container.bind(controller).toSelf().inSingletonScope();
  }
  const adapter = new InversifyExpressHttpAdapter(container, { logger: false });
  adapter.useGlobalFilters(ErrorPage);
  if (options.interceptors !== undefined) {
    for (const [identifier, interceptor] of options.interceptors) {
      container.bind(identifier).toConstantValue(interceptor);
      adapter.useGlobalInterceptors(identifier);
    }
  } else if (manager !== undefined) {
    adapter.useGlobalInterceptors(SessionInterceptor);
  }
  return listen(createServer(await adapter.build()));
}

describe('kit-session/inversify-http', () => {
  beforeEach(() => {
    errors = [];
  });

  describe('SessionInterceptor', () => {
    describeAdapterScenarios((manager) => serve(manager, { controllers: [ScenarioController] }));
    describeHeaderScenarios((manager) => serve(manager, { controllers: [ScenarioController] }));
    describeLazyScenarios((manager) => serve(manager, { controllers: [ScenarioController] }));

    describe('with routes of its own', () => {
      let server: TestServer | undefined;
      let manager: SessionManager<AppSession>;
      const url = (path: string): string => `${server!.url}${path}`;

      beforeEach(() => {
        manager = new SessionManager<AppSession>(new MemorySessionStore<AppSession>());
      });
      afterEach(async () => {
        await server?.close();
        server = undefined;
      });

      it('saves nothing when the method throws, and the error reaches the error filter', async () => {
        server = await serve(manager, { controllers: [ScenarioController, MoreController] });
        const jar = new CookieJar();
        await jar.fetch(url('/count'));
        const before = jar.get(DEFAULT_COOKIE_NAME);
        const response = await jar.fetch(url('/more/throw'));
        expect(response.status).toBe(500);
        expect(await response.text()).toBe('server error');
        expect(response.headers.getSetCookie()).toEqual([]);
        expect(errors).toHaveLength(1);
        expect(errors[0]).toBeInstanceOf(Error);
        expect(errors[0]).not.toBeInstanceOf(SessionError);
        expect(jar.get(DEFAULT_COOKIE_NAME)).toBe(before);
        expect(await (await jar.fetch(url('/peek'))).text()).toBe('visits=1');
      });

      it('saves nothing when the method returns a 5xx response', async () => {
        server = await serve(manager, { controllers: [ScenarioController, MoreController] });
        const jar = new CookieJar();
        await jar.fetch(url('/count'));
        const response = await jar.fetch(url('/more/returns-500'));
        expect(response.status).toBe(500);
        expect(await response.json()).toEqual({ error: 'sorry' });
        expect(response.headers.getSetCookie()).toEqual([]);
        expect(await (await jar.fetch(url('/peek'))).text()).toBe('visits=1');
      });

      it('saves the changes of a thrown ErrorHttpResponse under 500: it is an answer', async () => {
        server = await serve(manager, { controllers: [ScenarioController, MoreController] });
        const jar = new CookieJar();
        const response = await jar.fetch(url('/more/unauthorized'));
        expect(response.status).toBe(401);
        expect(await response.json()).toEqual({ error: 'log in first' });
        expect(sessionCookies(response)).toHaveLength(1);
        expect(await (await jar.fetch(url('/me'))).json()).toEqual({ userId: null, flash: 'log in first' });
      });

      it('with @Response(), saves what the method committed before writing the response', async () => {
        server = await serve(manager, { controllers: [MoreController] });
        const jar = new CookieJar();
        const first = await jar.fetch(url('/more/native'));
        expect(await first.text()).toBe('visits=1');
        expect(sessionCookies(first)).toHaveLength(1);
        expect(await (await jar.fetch(url('/more/native'))).text()).toBe('visits=2');
      });

      it('when the store fails on save, answers through the error filter with no cookie', async () => {
        manager = new SessionManager<AppSession>(brokenStore());
        server = await serve(manager, { controllers: [ScenarioController] });
        const response = await fetch(url('/count'));
        expect(response.status).toBe(500);
        expect(await response.text()).toBe('server error');
        expect(sessionCookies(response)).toEqual([]);
        expect(errors).toHaveLength(1);
        expect(errors[0]).toBeInstanceOf(SessionStoreError);
        expect((errors[0] as SessionError).code).toBe('ERR_SESSION_STORE');
      });

      it('when the store fails on load, answers through the error filter before the method runs', async () => {
        manager = new SessionManager<AppSession>(brokenStore());
        server = await serve(manager, { controllers: [ScenarioController] });
        const response = await fetch(url('/count'), { headers: { cookie: `${DEFAULT_COOKIE_NAME}=abc` } });
        expect(response.status).toBe(500);
        expect(response.headers.getSetCookie()).toEqual([]);
        expect(errors).toHaveLength(1);
        expect(errors[0]).toBeInstanceOf(SessionStoreError);
      });

      it('fails the request with SessionNotLoadedError when the interceptor was not registered', async () => {
        server = await serve(undefined, { controllers: [BareController] });
        const response = await fetch(url('/bare'));
        expect(response.status).toBe(500);
        expect(errors[0]).toBeInstanceOf(SessionNotLoadedError);
      });

      it('runs two sessions side by side, each found by its manager name', async () => {
        const admin = new SessionManager<AppSession>(new MemorySessionStore<AppSession>(), {
          cookie: { name: '__Host-admin' },
        });
        server = await serve(undefined, {
          controllers: [TwoSessionsController],
          interceptors: [
            [Symbol('user sessions'), new SessionInterceptor(manager)],
            [Symbol('admin sessions'), new SessionInterceptor(admin)],
          ],
        });
        const jar = new CookieJar();
        const first = await jar.fetch(url('/two'));
        expect(await first.text()).toBe('user=1 admin=10');
        expect(first.headers.getSetCookie().map((cookie) => cookie.split('=')[0]).sort()).toEqual([
          '__Host-admin',
          '__Host-session',
        ]);
        expect(await (await jar.fetch(url('/two'))).text()).toBe('user=2 admin=20');

        // Without a name, the parameter is ambiguous.
        const unnamed = await jar.fetch(url('/two/unnamed'));
        expect(unnamed.status).toBe(500);
        expect(errors[0]).toBeInstanceOf(SessionNotLoadedError);
      });
    });
  });

  describe('examples/inversify-http', () => {
    let example: RunningExample | undefined;

    afterEach(async () => {
      if (example !== undefined) {
        await stopChild(example.child);
        example = undefined;
      }
    });

    it('counts, renews the cookie at log-in and expires it at log-out, over real HTTP', async () => {
      example = await startExample('inversify-http');
      const jar = new CookieJar();
      const url = (path: string): string => `${example!.url}${path}`;

      expect(await (await jar.fetch(url('/'))).json()).toEqual({ user: null, visits: 1 });
      expect(await (await jar.fetch(url('/'))).json()).toEqual({ user: null, visits: 2 });
      const before = jar.get(DEFAULT_COOKIE_NAME);
      expect(before).toBeDefined();

      const login = await jar.fetch(url('/login'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Ada' }),
      });
      expect(login.status).toBe(200);
      expect(await login.json()).toEqual({ user: 'Ada' });
      expect(sessionCookies(login)).toHaveLength(1);
      expect(jar.get(DEFAULT_COOKIE_NAME)).not.toBe(before);
      expect(await (await jar.fetch(url('/'))).json()).toEqual({ user: 'Ada', visits: 3 });

      const logout = await jar.fetch(url('/logout'), { method: 'POST' });
      expect(logout.status).toBe(200);
      const [expired, ...more] = sessionCookies(logout);
      expect(more).toEqual([]);
      expect(expired).toMatch(/; Max-Age=0/i);
      expect(jar.get(DEFAULT_COOKIE_NAME)).toBeUndefined();
      expect(await (await jar.fetch(url('/'))).json()).toEqual({ user: null, visits: 1 });

      const { stdout, stderr } = example.output();
      expect(stdout + stderr).not.toMatch(/Error|Warning/);
    });
  });
});
