// kit-session/nest: the `@Session()` parameter decorator.
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Session as RequestSession } from '../../core/Session.js';
import { getSession } from './SessionModule.js';

/**
 * The request's session, `Session<T>` from `kit-session`: under this name too, so that
 * one import gives the decorator and the parameter's type.
 *
 * @typeParam T - The shape of the session's values.
 */
export type Session<T extends object = Record<string, unknown>> = RequestSession<T>;

/**
 * Parameter decorator that hands a route handler the request's session, loaded by
 * `SessionModule`. Changes are saved after the handler returns, before Nest writes the
 * response; a handler that throws saves nothing. Not Nest's own `Session` decorator
 * (from `@nestjs/common`, for express-session): import this one from `kit-session/nest`.
 *
 * @returns The parameter decorator.
 * @throws SessionNotLoadedError, when the handler is called, if `SessionModule` is not
 *   imported (or the route is not HTTP).
 * @example
 * ```ts
 * import { Controller, Get } from '@nestjs/common';
 * import { Session } from 'kit-session/nest';
 *
 * @Controller()
 * export class CounterController {
 *   @Get()
 *   count(@Session() session: Session<{ visits: number }>): string {
 *     const visits = (session.get('visits') ?? 0) + 1;
 *     session.set('visits', visits);
 *     return `visits: ${visits}`;
 *   }
 * }
 * ```
 */
export const Session: () => ParameterDecorator = createParamDecorator((_data: unknown, context: ExecutionContext) =>
  getSession(context.switchToHttp().getRequest()),
);
