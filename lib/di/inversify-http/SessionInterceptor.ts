import 'reflect-metadata';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  createCustomParameterDecorator,
  isHttpResponse,
  type Interceptor,
  type InterceptorTransformObject,
} from '@inversifyjs/http-core';
import { inject, injectable } from 'inversify';
import type { Session } from '../../core/Session.js';
import { SessionNotLoadedError } from '../../core/SessionError.js';
import type { SessionManager } from '../../core/SessionManager.js';
import { SESSION_MANAGER } from '../identifiers.js';
import { SessionLifecycle } from '../../adapters/lifecycle.js';
import { fromFrameworkRequest, nodeSink } from '../../adapters/node/http.js';

/**
 * The sessions each request's interceptors loaded, by the manager's name: on the request
 * under this symbol, not in a WeakMap keyed by the request (a weak map's entries keep
 * their young keys through minor collections: see RequestSessions).
 */
const LOADED = Symbol('kit-session.inversify.sessions');
type Carrier = { [LOADED]?: Map<string, Session<any>> };

/**
 * An `@inversifyjs/http-core` interceptor that loads the request's session before the
 * controller method runs (or hands it over to load on its first touch, as the manager's
 * `load` option says), and saves it after the method returned and before the
 * adapter writes the response: methods need no explicit save. Methods get the session
 * with {@link SessionParam}.
 *
 * - A failed request saves nothing: the method threw an error, or answered 500 or
 *   more. A thrown `ErrorHttpResponse` under 500 (`UnauthorizedHttpResponse`, say) is
 *   an answer, like a returned value: its changes are saved.
 * - A saving error (`SessionCookieTooLargeError`, `SessionStoreError`, or a loading
 *   error) goes to the framework's error filters, with no session header written.
 * - A method that writes the response itself (`@Response()`) commits first:
 *   `await session.commit()`; a change after the head is out throws a `SessionError`.
 *
 * Resolved by the container: with `kit-session/di`'s module loaded, bind the class
 * itself (its manager is `SESSION_MANAGER`); without, bind
 * `new SessionInterceptor(manager)` as a constant. Register it once, globally
 * (`adapter.useGlobalInterceptors`) or per controller (`@UseInterceptor`).
 *
 * @typeParam T - The shape of the session's values.
 * @example
 * ```ts
 * container.bind(SessionInterceptor).toSelf().inSingletonScope();
 * const adapter = new InversifyExpressHttpAdapter(container);
 * adapter.useGlobalInterceptors(SessionInterceptor);
 * ```
 */
@injectable()
export class SessionInterceptor<T extends object = Record<string, unknown>>
  implements Interceptor<IncomingMessage, ServerResponse>
{
  readonly #manager: SessionManager<T>;

  /**
   * @param manager - The session manager.
   */
  constructor(@inject(SESSION_MANAGER) manager: SessionManager<T>) {
    this.#manager = manager;
  }

  /**
   * Loads the session and runs the method; then, unless the request failed, saves the
   * session before the reply (in a transform of the method's value). The adapter calls
   * it for each request.
   *
   * @param request - The request (Express's `req`).
   * @param response - The response, not written yet (Express's `res`).
   * @param next - Runs the rest of the chain and the controller method.
   * @returns When the method has run; the transform that saves runs before the reply
   *   and rejects with `SessionStoreError` or `SessionCookieTooLargeError` when saving fails.
   * @throws SessionStoreError when the store's infrastructure fails while loading.
   * @example
   * ```ts
   * await interceptor.intercept(req, res, next); // what the adapter does
   * ```
   */
  async intercept(
    request: IncomingMessage,
    response: ServerResponse,
    next: () => Promise<InterceptorTransformObject>,
  ): Promise<void> {
    // Express's request: its `ip` follows `app.set('trust proxy', …)`.
    const started = SessionLifecycle.start(this.#manager, fromFrameworkRequest(request, request as { ip?: string }), nodeSink(response));
    // Deferred (see the manager's `load` option): at once, loaded on its first touch.
    const lifecycle = started instanceof Promise ? await started : started;
    const carrier = request as Carrier;
    (carrier[LOADED] ??= new Map<string, Session<any>>()).set(this.#manager.name, lifecycle.session);
    let transforms: InterceptorTransformObject;
    try {
      transforms = await next();
    } catch (error) {
      await settle(lifecycle, !isHttpResponse(error) || error.statusCode >= 500);
      throw error;
    }
    // Transforms run on the method's value after the interceptors, before the reply.
    transforms.push(async (value) => {
      await settle(lifecycle, isHttpResponse(value) && value.statusCode >= 500);
      return value;
    });
  }
}

/** The last save of a request: nothing when it failed (an error, or a 5xx answer). */
function settle<T extends object>(lifecycle: SessionLifecycle<T>, failed: boolean): Promise<void> {
  if (failed) {
    lifecycle.fail();
  }
  return lifecycle.finish();
}

/**
 * A controller method parameter decorator that hands the method the request's
 * {@link Session}, loaded by {@link SessionInterceptor}. The parameter's annotation
 * types it: `@SessionParam() session: Session<AppSession>`.
 *
 * @param name - The manager's `name`, when an app has two sessions; by default the only one.
 * @returns The parameter decorator. When no interceptor loaded the session (or, without
 *   `name`, more than one did), the request fails with `SessionNotLoadedError`.
 * @example
 * ```ts
 * @Get('/')
 * public count(@SessionParam() session: Session<{ visits: number }>): string {
 *   session.set('visits', (session.get('visits') ?? 0) + 1);
 *   return `visits: ${session.get('visits')}`;
 * }
 * ```
 */
export function SessionParam(name?: string): ParameterDecorator {
  return createCustomParameterDecorator<IncomingMessage, ServerResponse, Session<any>>((request) => {
    const sessions = (request as Carrier)[LOADED];
    const session = name === undefined ? (sessions?.size === 1 ? [...sessions.values()][0] : undefined) : sessions?.get(name);
    if (session === undefined) {
      throw new SessionNotLoadedError(
        `no session${name === undefined ? '' : ` "${name}"`} for this request: ` +
          'register SessionInterceptor for this controller (and name the session when there are two)',
      );
    }
    return session;
  });
}
