import type { AddressInfo } from 'node:net';
import {
  Catch,
  Controller,
  ForbiddenException,
  Get,
  Header,
  HttpCode,
  Injectable,
  Module,
  Post,
  Redirect,
  Res,
  Sse,
  UseGuards,
  VersioningType,
  type ArgumentsHost,
  type CanActivate,
  type DynamicModule,
  type ExceptionFilter,
  type ExecutionContext,
  type INestApplication,
  type NestInterceptor,
  type CallHandler,
  type Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Response } from 'express';
import { randomBytes } from 'node:crypto';
import { map, of, type Observable } from 'rxjs';
import {
  DEFAULT_COOKIE_NAME,
  importRawKey,
  MemorySessionStore,
  SessionError,
  SessionManager,
  SessionNotLoadedError,
  SessionStoreError,
} from 'kit-session';
import { getSession, Session, SessionModule } from 'kit-session/nest';
import { CookieJar } from '../support/cookieJar.js';
import { startExample, stopChild, type RunningExample } from '../examples/processes.js';
import {
  APP_COOKIE,
  APP_VARY,
  type AppSession,
  brokenStore,
  describeAdapterScenarios,
  describeLazyScenarios,
  describeHeaderScenarios,
  errorPage,
  routes,
  sessionCookies,
  type TestServer,
} from './scenarios.js';

/** The app's exception filter: records what reached it, then the error page when the head is free. */
@Catch()
class ErrorPage implements ExceptionFilter {
  constructor(readonly errors: unknown[] = []) {}

  catch(error: unknown, host: ArgumentsHost): void {
    this.errors.push(error);
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) {
      res.end();
      return;
    }
    const page = errorPage(error);
    res.status(page.status).type('text/plain').send(page.body);
  }
}

/** The scenario app on Nest: each route takes `@Session()` and returns its body; the module saves. */
@Controller()
class ScenarioController {
  @Get('count')
  @Header('Vary', APP_VARY)
  @Header('Set-Cookie', APP_COOKIE)
  count(@Session() session: Session<AppSession>): string {
    return routes.count(session);
  }

  @Get('peek')
  peek(@Session() session: Session<AppSession>): string {
    return routes.peek(session);
  }

  @Post('login')
  @HttpCode(200)
  login(@Session() session: Session<AppSession>): string {
    return routes.login(session);
  }

  @Get('me')
  me(@Session() session: Session<AppSession>): string {
    return routes.me(session);
  }

  @Post('logout')
  @HttpCode(200)
  logout(@Session() session: Session<AppSession>): string {
    return routes.logout(session);
  }

  @Get('big')
  big(@Session() session: Session<AppSession>): string {
    return routes.big(session);
  }

  @Post('twice')
  @HttpCode(200)
  twice(@Session() session: Session<AppSession>): Promise<string> {
    return routes.twice(session);
  }

  @Get('small')
  small(@Session() session: Session<AppSession>): string {
    return routes.small(session);
  }

  @Get('health')
  health(@Session() session: Session<AppSession>): string {
    return routes.health(session);
  }

  @Get('loaded')
  loaded(@Session() session: Session<AppSession>): Promise<string> {
    return routes.loaded(session);
  }
}

/** Lets a request in only when its session has a user: a guard reads the session before the handler. */
@Injectable()
class LoggedIn implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const session = getSession<AppSession>(context.switchToHttp().getRequest());
    session.set('flash', 'seen by the guard');
    if (session.get('userId') === undefined) {
      throw new ForbiddenException();
    }
    return true;
  }
}

/** Routes beyond the scenarios: failures, `@Res()`, redirects, observables, guards. */
@Controller()
class EdgeController {
  @Get('throw')
  throws(@Session() session: Session<AppSession>): string {
    session.set('visits', 99);
    throw new Error('handler failed');
  }

  @Get('private')
  @UseGuards(LoggedIn)
  private(@Session() session: Session<AppSession>): string {
    return `user=${session.get('userId')} flash=${session.pop('flash')}`;
  }

  @Post('redirect-login')
  @Redirect('/home', 303)
  redirectLogin(@Session() session: Session<AppSession>): void {
    routes.login(session);
  }

  @Get('observable')
  observable(@Session() session: Session<AppSession>): unknown {
    session.set('visits', 7);
    return of('first', 'last');
  }

  @Get('res-commit')
  async resCommit(@Session() session: Session<AppSession>, @Res() res: Response): Promise<void> {
    session.set('visits', 5);
    await session.commit();
    res.type('text/plain').send('committed');
  }

  @Get('res-forgot')
  resForgot(@Session() session: Session<AppSession>, @Res() res: Response): void {
    session.set('visits', 6);
    res.type('text/plain').send('forgot to commit');
  }

  @Get('res-passthrough')
  resPassthrough(@Session() session: Session<AppSession>, @Res({ passthrough: true }) res: Response): string {
    session.set('visits', 8);
    res.setHeader('x-app', 'kept');
    return 'passthrough';
  }
}

/** Server-sent events: Nest writes the head before the first event. */
@Controller('events')
class EventsController {
  @Sse('committed')
  async committed(@Session() session: Session<AppSession>): Promise<Observable<{ data: string }>> {
    session.set('visits', 3);
    await session.commit();
    return of({ data: 'a' }, { data: 'b' });
  }

  @Sse('uncommitted')
  uncommitted(@Session() session: Session<AppSession>): Observable<{ data: string }> {
    session.set('visits', 4);
    return of({ data: 'a' });
  }
}

/** An app's own interceptor, which changes the session on the way out. */
class StampInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      map((body: unknown) => {
        getSession<AppSession>(context.switchToHttp().getRequest()).set('flash', 'stamped');
        return `${String(body)} (stamped)`;
      }),
    );
  }
}

/** Reads the manager the module provides, from a module that does not import it: by its class, as Nest does. */
@Controller('manager')
class ManagerController {
  constructor(private readonly manager: SessionManager<AppSession>) {}

  @Get()
  name(@Session() session: Session<AppSession>): string {
    session.set('visits', 1);
    return `manager=${this.manager instanceof SessionManager} name=${this.manager.name}`;
  }
}

@Module({ controllers: [ManagerController] })
class FeatureModule {}

@Module({})
class TestModule {}

/** Starts a Nest app on 127.0.0.1 with an ephemeral port. */
async function start(
  imports: DynamicModule['imports'],
  controllers: Type[],
  filter: ErrorPage = new ErrorPage(),
  setUp: (app: INestApplication) => void = () => undefined,
): Promise<TestServer> {
  const app = await NestFactory.create(
    { module: TestModule, imports, controllers },
    { logger: false, abortOnError: false, forceCloseConnections: true },
  );
  app.useGlobalFilters(filter);
  setUp(app);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
}

describe('kit-session/nest', () => {
  describe('SessionModule', () => {
    describeAdapterScenarios((manager) => start([SessionModule.forRoot({ manager })], [ScenarioController]));
    describeLazyScenarios((manager) => start([SessionModule.forRoot({ manager })], [ScenarioController]));
    describeHeaderScenarios((manager) => start([SessionModule.forRoot({ manager })], [ScenarioController]));

    describe('with routes of its own', () => {
      let server: TestServer | undefined;
      let manager: SessionManager<AppSession>;
      let filter: ErrorPage;
      let jar: CookieJar;

      beforeEach(() => {
        manager = new SessionManager<AppSession>(new MemorySessionStore<AppSession>());
        filter = new ErrorPage();
        jar = new CookieJar();
      });
      afterEach(async () => {
        await server?.close();
        server = undefined;
      });

      async function serve(controllers: Type[] = [ScenarioController, EdgeController]): Promise<string> {
        server = await start([SessionModule.forRoot({ manager })], controllers, filter);
        return server.url;
      }

      it('saves nothing when the handler throws; the error reaches the exception filters', async () => {
        const url = await serve();
        await jar.fetch(`${url}/count`);
        const response = await jar.fetch(`${url}/throw`);
        expect(response.status).toBe(500);
        expect(response.headers.getSetCookie()).toEqual([]);
        expect(filter.errors).toEqual([expect.objectContaining({ message: 'handler failed' })]);
        expect(await (await jar.fetch(`${url}/peek`)).text()).toBe('visits=1');
      });

      it('loads the session before the guards: a guard reads it, and a guard that refuses saves nothing', async () => {
        const url = await serve();
        await jar.fetch(`${url}/count`);
        const refused = await jar.fetch(`${url}/private`);
        expect(refused.status).toBe(500); // the test's error page turns every error into a 500
        expect(filter.errors[0]).toBeInstanceOf(ForbiddenException);
        expect(refused.headers.getSetCookie()).toEqual([]);
        expect(await (await jar.fetch(`${url}/me`)).json()).toEqual({ userId: null, flash: null });

        await jar.fetch(`${url}/login`, { method: 'POST' });
        const allowed = await jar.fetch(`${url}/private`);
        expect(allowed.status).toBe(200);
        expect(await allowed.text()).toBe('user=u-42 flash=seen by the guard');
      });

      it('saves before a @Redirect() answer, which carries the cookie', async () => {
        const url = await serve();
        const response = await jar.fetch(`${url}/redirect-login`, { method: 'POST' });
        expect(response.status).toBe(303);
        expect(response.headers.get('location')).toBe('/home');
        expect(sessionCookies(response)).toHaveLength(1);
        expect(await (await jar.fetch(`${url}/me`)).json()).toEqual({ userId: 'u-42', flash: 'welcome' });
      });

      it('saves once a returned Observable completes, and Nest sends its last value', async () => {
        const url = await serve();
        const response = await jar.fetch(`${url}/observable`);
        expect(await response.text()).toBe('last');
        expect(sessionCookies(response)).toHaveLength(1);
        expect(await (await jar.fetch(`${url}/peek`)).text()).toBe('visits=7');
      });

      it("saves what the app's own interceptors change on the way out (the module's interceptor wraps them)", async () => {
        server = await start([SessionModule.forRoot({ manager })], [ScenarioController], filter, (app) =>
          app.useGlobalInterceptors(new StampInterceptor()),
        );
        const response = await jar.fetch(`${server.url}/count`);
        expect(await response.text()).toBe('visits=1 (stamped)');
        expect(await (await jar.fetch(`${server.url}/me`)).text()).toBe('{"userId":null,"flash":"stamped"} (stamped)');
      });

      it('covers the routes under a global prefix and with URI versioning', async () => {
        server = await start([SessionModule.forRoot({ manager })], [ScenarioController], filter, (app) => {
          app.setGlobalPrefix('api');
          app.enableVersioning({ type: VersioningType.URI, defaultVersion: '1' });
        });
        await jar.fetch(`${server.url}/api/v1/count`);
        expect(await (await jar.fetch(`${server.url}/api/v1/count`)).text()).toBe('visits=2');
        expect(filter.errors).toEqual([]);
      });

      it('with @Sse(), saves at await session.commit() before the handler returns its events', async () => {
        const url = await serve([ScenarioController, EventsController]);
        const response = await jar.fetch(`${url}/events/committed`);
        expect(await response.text()).toBe('\nid: 1\ndata: a\n\nid: 2\ndata: b\n\n');
        expect(sessionCookies(response)).toHaveLength(1);
        expect(await (await jar.fetch(`${url}/peek`)).text()).toBe('visits=3');
      });

      it('with @Sse() and no commit, ends the stream with an error event and saves nothing', async () => {
        const url = await serve([ScenarioController, EventsController]);
        const response = await jar.fetch(`${url}/events/uncommitted`);
        expect(await response.text()).toMatch(/data: a\n\nevent: error\n/);
        expect(response.headers.getSetCookie()).toEqual([]);
        expect(await (await jar.fetch(`${url}/peek`)).text()).toBe('visits=0');
      });

      it('with @Res({ passthrough: true }), saves as usual and keeps the headers the handler set', async () => {
        const url = await serve();
        const response = await jar.fetch(`${url}/res-passthrough`);
        expect(await response.text()).toBe('passthrough');
        expect(response.headers.get('x-app')).toBe('kept');
        expect(sessionCookies(response)).toHaveLength(1);
        expect(await (await jar.fetch(`${url}/peek`)).text()).toBe('visits=8');
      });

      it('with @Res(), saves at await session.commit() before the handler writes', async () => {
        const url = await serve();
        const response = await jar.fetch(`${url}/res-commit`);
        expect(await response.text()).toBe('committed');
        expect(sessionCookies(response)).toHaveLength(1);
        expect(await (await jar.fetch(`${url}/peek`)).text()).toBe('visits=5');
        expect(filter.errors).toEqual([]);
      });

      it('with @Res() and no commit, reports the lost change to the exception filters', async () => {
        const url = await serve();
        const response = await jar.fetch(`${url}/res-forgot`);
        expect(await response.text()).toBe('forgot to commit');
        expect(response.headers.getSetCookie()).toEqual([]);
        expect(filter.errors).toHaveLength(1);
        expect(filter.errors[0]).toBeInstanceOf(SessionError);
        expect((filter.errors[0] as SessionError).code).toBe('ERR_SESSION_HEADERS_SENT');
      });

      it('when the store fails to save, answers through the exception filters with no cookie', async () => {
        manager = new SessionManager<AppSession>(brokenStore());
        const url = await serve();
        const response = await fetch(`${url}/count`);
        expect(response.status).toBe(500);
        expect(await response.text()).toBe('server error');
        expect(sessionCookies(response)).toEqual([]);
        expect(filter.errors[0]).toBeInstanceOf(SessionStoreError);
      });

      it('when the store fails to load, answers through the exception filters before the handler runs', async () => {
        manager = new SessionManager<AppSession>(brokenStore());
        const url = await serve();
        const response = await fetch(`${url}/count`, { headers: { cookie: `${DEFAULT_COOKIE_NAME}=abc` } });
        expect(response.status).toBe(500);
        expect(response.headers.getSetCookie()).toEqual([]);
        expect(filter.errors).toEqual([expect.any(SessionStoreError)]);
      });
    });

    describe('.forRoot', () => {
      let server: TestServer | undefined;
      afterEach(async () => {
        await server?.close();
        server = undefined;
      });

      it('with keys, builds a manager on the encrypted cookie; isGlobal lets any module inject it', async () => {
        const keys = [await importRawKey(randomBytes(32).toString('base64'))];
        server = await start([SessionModule.forRoot({ keys, cookie: { name: '__Host-nest' }, isGlobal: true }), FeatureModule], []);
        const response = await fetch(`${server.url}/manager`);
        expect(await response.text()).toBe('manager=true name=__Host-nest');
        expect(response.headers.getSetCookie()).toEqual([expect.stringMatching(/^__Host-nest=/)]);
      });

      it('throws a TypeError for options that are not a manager or keys', async () => {
        const manager = new SessionManager<AppSession>(new MemorySessionStore<AppSession>());
        const keys = [await importRawKey(randomBytes(32).toString('base64'))];
        expect(() => SessionModule.forRoot(null as never)).toThrow(TypeError);
        expect(() => SessionModule.forRoot({ manager: {} as never })).toThrow(TypeError);
        expect(() => SessionModule.forRoot({ manager, keys } as never)).toThrow(TypeError);
        expect(() => SessionModule.forRoot({ keys: [] })).toThrow(TypeError);
        expect(() => SessionModule.forRoot({ keys, idleTimout: 1 } as never)).toThrow(TypeError);
      });
    });
  });

  describe('Session', () => {
    it('throws SessionNotLoadedError, through the exception filters, when SessionModule is not imported', async () => {
      const filter = new ErrorPage();
      const server = await start([], [ScenarioController], filter);
      try {
        const response = await fetch(`${server.url}/peek`);
        expect(response.status).toBe(500);
        expect(filter.errors).toEqual([expect.any(SessionNotLoadedError)]);
      } finally {
        await server.close();
      }
    });
  });

  describe('examples/nest.ts', () => {
    let example: RunningExample | undefined;
    afterEach(async () => {
      if (example !== undefined) {
        await stopChild(example.child);
        example = undefined;
      }
    });

    it('counts, renews the cookie at log-in and expires it at log-out', async () => {
      example = await startExample('nest');
      const jar = new CookieJar();
      const json = { 'content-type': 'application/json' };
      expect(await (await jar.fetch(`${example.url}/`)).json()).toEqual({ visits: 1, user: null });
      expect(await (await jar.fetch(`${example.url}/`)).json()).toEqual({ visits: 2, user: null });

      const before = jar.get(DEFAULT_COOKIE_NAME);
      const login = await jar.fetch(`${example.url}/login`, { method: 'POST', headers: json, body: '{"name":"Ada"}' });
      expect(login.status).toBe(200);
      expect(sessionCookies(login)).toHaveLength(1);
      expect(jar.get(DEFAULT_COOKIE_NAME)).not.toBe(before);
      expect(await (await jar.fetch(`${example.url}/`)).json()).toEqual({ visits: 3, user: 'Ada' });

      const refused = await jar.fetch(`${example.url}/login`, { method: 'POST', headers: json, body: '{}' });
      expect(refused.status).toBe(400);
      expect(refused.headers.getSetCookie()).toEqual([]);

      const logout = await jar.fetch(`${example.url}/logout`, { method: 'POST' });
      expect(logout.status).toBe(200);
      expect(sessionCookies(logout)).toEqual([expect.stringMatching(/; Max-Age=0/i)]);
      expect(jar.get(DEFAULT_COOKIE_NAME)).toBeUndefined();
      expect(await (await jar.fetch(`${example.url}/`)).json()).toEqual({ visits: 1, user: null });

      const { stdout, stderr } = example.output();
      expect(stdout + stderr).not.toMatch(/Error|Warning/);
    });
  });
});
