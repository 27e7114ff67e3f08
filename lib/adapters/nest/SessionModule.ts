// kit-session/nest: the session loaded by a middleware and saved by an interceptor, as a Nest module.
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  Inject,
  Module,
  type CallHandler,
  type DynamicModule,
  type ExecutionContext,
  type MiddlewareConsumer,
  type NestInterceptor,
} from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { catchError, concat, defer, ignoreElements, throwError, type Observable } from 'rxjs';
import type { Session } from '../../core/Session.js';
import { SessionNotLoadedError } from '../../core/SessionError.js';
import { SessionManager } from '../../core/SessionManager.js';
import { createCookieSessions, type CookieSessionsOptions } from '../../createCookieSessions.js';
import { booleanOption } from '../../core/options.js';
import { SessionLifecycle } from '../lifecycle.js';
import { fromFrameworkRequest, nodeSink } from '../node/http.js';

/**
 * Each request's session, from the middleware that loads it to the interceptor that saves
 * it: on the request under this symbol, not in a WeakMap keyed by the request (a weak
 * map's entries keep their young keys through minor collections: see RequestSessions).
 */
const LIFECYCLE = Symbol('kit-session.nest.lifecycle');
type Carrier = { [LIFECYCLE]?: SessionLifecycle<any> };
const lifecycleOf = (request: object): SessionLifecycle<any> | undefined => (request as Carrier)[LIFECYCLE];

/**
 * Options of {@link SessionModule.forRoot} with a manager of your own (any store).
 *
 * @typeParam T - The shape of the session's values.
 */
export interface SessionModuleOptions<T extends object> {
  /** The session manager: `createCookieSessions(…)`, or a `SessionManager` on another store. */
  readonly manager: SessionManager<T>;
  /**
   * Whether every module can inject the manager (a constructor parameter typed
   * `SessionManager`), not only those that import the module. The session itself is
   * loaded and saved for every route either way.
   * @default false
   */
  readonly isGlobal?: boolean;
}

/**
 * Options of {@link SessionModule.forRoot} that build the manager with
 * `createCookieSessions`: the keys, and the manager's cookie, lifetime and idle timeout.
 */
export interface CookieSessionModuleOptions extends CookieSessionsOptions {
  /**
   * Whether every module can inject the manager (a constructor parameter typed
   * `SessionManager`), not only those that import the module.
   * @default false
   */
  readonly isGlobal?: boolean;
}

/** Saves the request's session after the handler, before Nest writes the response. */
const saveSession: NestInterceptor = {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const lifecycle = context.getType() === 'http' ? lifecycleOf(context.switchToHttp().getRequest()) : undefined;
    if (lifecycle === undefined) {
      return next.handle();
    }
    const handled = next.handle().pipe(
      catchError((error: unknown) => {
        lifecycle.fail();
        return throwError(() => error);
      }),
    );
    // Nest writes the response once the chain completes: save after the handler's
    // values, before that; a saving error goes to the exception filters.
    return concat(handled, defer(() => lifecycle.finish()).pipe(ignoreElements()));
  },
};

/**
 * The Nest module of kit-session: a middleware loads each request's session before the
 * guards run, the {@link Session} parameter decorator hands it to the handler, and an
 * interceptor saves it after the handler, before Nest writes the response. Handlers need
 * no explicit save. Nest's Express platform; import it once, in the root module.
 *
 * - A handler (or guard) that throws saves nothing.
 * - A saving error (`SessionCookieTooLargeError`, `SessionStoreError`) and a loading
 *   error go to Nest's exception filters, with no session header written.
 * - A handler that writes the response itself (`@Res()` without `passthrough`) must
 *   `await session.commit()` before it does; a change left unsaved then reaches the
 *   exception filters as a `SessionHeadersSentError`.
 *
 * @example
 * ```ts
 * import { Module } from '@nestjs/common';
 * import { createCookieSessions, importKeysFromEnv } from 'kit-session';
 * import { SessionModule } from 'kit-session/nest';
 *
 * const manager = createCookieSessions<AppSession>({ keys: await importKeysFromEnv('SESSION_KEY') });
 *
 * @Module({ imports: [SessionModule.forRoot({ manager })], controllers: [AppController] })
 * export class AppModule {}
 * ```
 */
@Module({})
export class SessionModule {
  readonly #manager: SessionManager<any>;

  /**
   * @internal Nest builds the module.
   *
   * @param manager - The manager {@link SessionModule.forRoot} provides.
   */
  constructor(@Inject(SessionManager) manager: SessionManager<any>) {
    this.#manager = manager;
  }

  /**
   * The module, for the root module's `imports`: provides the manager (its token is the
   * `SessionManager` class) and loads and saves the session of every route.
   *
   * @typeParam T - The shape of the session's values.
   * @param options - The manager, or the options of `createCookieSessions` to build one.
   * @returns The dynamic module.
   * @throws TypeError when `manager` is not a `SessionManager`, both `manager` and
   *   `keys` are given, `isGlobal` is not a boolean, or `createCookieSessions` refuses
   *   the options.
   * @example
   * ```ts
   * @Module({
   *   imports: [SessionModule.forRoot({ keys: await importKeysFromEnv('SESSION_KEY'), isGlobal: true })],
   * })
   * export class AppModule {}
   * ```
   */
  static forRoot<T extends object>(options: SessionModuleOptions<T> | CookieSessionModuleOptions): DynamicModule {
    if (options === null || typeof options !== 'object') {
      throw new TypeError('SessionModule.forRoot needs options with a manager or keys');
    }
    const { isGlobal: givenGlobal, ...rest } = options;
    const isGlobal = booleanOption('isGlobal', givenGlobal, false);
    let manager: SessionManager<any>;
    if ('manager' in rest) {
      if (!(rest.manager instanceof SessionManager) || Object.keys(rest).length > 1) {
        throw new TypeError('SessionModule.forRoot needs either a SessionManager as manager, or keys: not both');
      }
      manager = rest.manager;
    } else {
      manager = createCookieSessions(rest);
    }
    return {
      module: SessionModule,
      global: isGlobal,
      providers: [
        { provide: SessionManager, useValue: manager },
        { provide: APP_INTERCEPTOR, useValue: saveSession },
      ],
      exports: [SessionManager],
    };
  }

  /**
   * Installs the middleware that loads the session, for every route. Nest calls it.
   *
   * @param consumer - Nest's middleware consumer.
   * @example
   * ```ts
   * // Nest calls configure for every module in the app that has it, this one included:
   * @Module({ imports: [SessionModule.forRoot({ manager })] })
   * export class AppModule {}
   * ```
   */
  configure(consumer: MiddlewareConsumer): void {
    const manager = this.#manager;
    // A loading error rejects: Nest hands it to the exception filters.
    consumer
      .apply(async function kitSession(req: IncomingMessage, res: ServerResponse, next: () => void): Promise<void> {
        // On Nest's Express platform, req is Express's: its `ip` follows `app.set('trust proxy', …)`.
        const started = SessionLifecycle.start(manager, fromFrameworkRequest(req, req as { ip?: string }), nodeSink(res));
        // Deferred (see the manager's `load` option): at once, no turn of the microtask queue.
        (req as Carrier)[LIFECYCLE] = started instanceof Promise ? await started : started;
        next();
      })
      .forRoutes('{*path}');
  }
}

/**
 * Returns the request's session, loaded by {@link SessionModule}'s middleware: for a
 * guard or an interceptor, where the {@link Session} parameter decorator does not reach.
 * Changes are saved with the handler's, after it returns.
 *
 * @typeParam T - The shape of the session's values (not checked).
 * @param request - The request: `context.switchToHttp().getRequest()`.
 * @returns The session.
 * @throws SessionNotLoadedError when the module's middleware did not run for the request.
 * @example
 * ```ts
 * @Injectable()
 * export class LoggedIn implements CanActivate {
 *   canActivate(context: ExecutionContext): boolean {
 *     return getSession<AppSession>(context.switchToHttp().getRequest()).get('userId') !== undefined;
 *   }
 * }
 * ```
 */
export function getSession<T extends object = Record<string, unknown>>(request: object): Session<T> {
  const lifecycle = lifecycleOf(request);
  if (lifecycle === undefined) {
    throw new SessionNotLoadedError(
      'no session for this request: import SessionModule.forRoot(…) in the root module, for HTTP routes',
    );
  }
  return lifecycle.session as Session<T>;
}
