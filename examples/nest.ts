// A NestJS app (Express platform) with a session: a counter, log-in and log-out.
//
//   PORT=3000 SESSION_KEY=$(openssl rand -base64 32) node dist-examples/examples/nest.js
//   curl -c jar -b jar http://127.0.0.1:3000/
//   curl -c jar -b jar -H 'content-type: application/json' -d '{"name":"Ada"}' http://127.0.0.1:3000/login
//   curl -c jar -b jar -X POST http://127.0.0.1:3000/logout
//   REDIS_URL=redis://127.0.0.1:6379 ...   # sessions in Redis instead of in the cookie
//
// The exception filter answers a store outage with 503 and a session too large for its
// cookie (a very long name, say) with 413.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Response } from 'express';
import {
  BadRequestException,
  Body,
  Catch,
  Controller,
  Get,
  HttpCode,
  Module,
  Post,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createCookieSessions, importKeysFromEnv, SessionStoreError, SessionTokenTooLargeError } from 'kit-session';
import { Session, SessionModule } from 'kit-session/nest';
import { redisSessions } from './redisSessions.js';

interface AppSession {
  visits: number;
  user: string;
}

// Without SESSION_KEY, a fresh key each start: every session ends at a restart.
process.env.SESSION_KEY ??= randomBytes(32).toString('base64');
const manager = process.env.REDIS_URL
  ? await redisSessions<AppSession>(process.env.REDIS_URL)
  : createCookieSessions<AppSession>({ keys: await importKeysFromEnv('SESSION_KEY') });

@Controller()
class AppController {
  @Get()
  count(@Session() session: Session<AppSession>): { visits: number; user: string | null } {
    const visits = (session.get('visits') ?? 0) + 1;
    session.set('visits', visits);
    return { visits, user: session.get('user') ?? null }; // saved before Nest writes this
  }

  @Post('login')
  @HttpCode(200)
  login(@Session() session: Session<AppSession>, @Body() body: { name?: unknown }): { user: string } {
    if (typeof body?.name !== 'string' || body.name === '') {
      throw new BadRequestException('name is required'); // a request that throws saves nothing
    }
    session.renew(); // a new token at every change of privilege
    session.set('user', body.name);
    return { user: body.name };
  }

  @Post('logout')
  @HttpCode(200)
  logout(@Session() session: Session<AppSession>): { user: null } {
    session.destroy(); // the response expires the cookie
    return { user: null };
  }
}

// Loading and saving errors reach the exception filters with no session header written:
// the store down is an outage (503, and nobody is logged out), a session too large for
// its cookie the client's doing (413, SessionCookieTooLargeError is one). Other errors
// keep Nest's own answers.
@Catch(SessionStoreError, SessionTokenTooLargeError)
class SessionErrors implements ExceptionFilter {
  catch(error: SessionStoreError | SessionTokenTooLargeError, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    if (error instanceof SessionStoreError) {
      response.status(503).set('Retry-After', '5').json({ message: 'try again shortly' });
    } else {
      response.status(413).json({ message: 'session too large' });
    }
  }
}

@Module({ imports: [SessionModule.forRoot({ manager })], controllers: [AppController] })
class AppModule {}

const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
app.useGlobalFilters(new SessionErrors()); // global: loading errors come from the middleware, before any controller
await app.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
console.log(`listening on http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`);
