// Controllers of Inversify's HTTP framework (@inversifyjs/http-core on Express, through
// @inversifyjs/http-express) with a session: log in, a counter, log out.
//
// The container loads kit-session's module (the encrypted cookie store); the session
// interceptor loads the session before each controller method and saves it before the
// response is written, and `@SessionParam()` hands the method its typed `Session`.
//
//   PORT=3000 SESSION_KEY=$(openssl rand -base64 32) node dist-examples/examples/inversify-http.js
//   curl -c jar -b jar http://127.0.0.1:3000/
//   curl -c jar -b jar -H 'content-type: application/json' -d '{"name":"Ada"}' http://127.0.0.1:3000/login
//   curl -c jar -b jar -X POST http://127.0.0.1:3000/logout
//   REDIS_URL=redis://127.0.0.1:6379 ...   # sessions in Redis instead of in the cookie
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Body, CatchError, Controller, Get, Post } from '@inversifyjs/http-core';
import { InversifyExpressHttpAdapter, type ExpressErrorFilter } from '@inversifyjs/http-express';
import type express from 'express';
import { Container } from 'inversify';
import { importKeysFromEnv, SessionStoreError, SessionTokenTooLargeError, type Session } from 'kit-session';
import { createSessionModule, SESSION_INNER_STORE } from 'kit-session/di';
import { SessionInterceptor, SessionParam } from 'kit-session/inversify-http';
import { redisStore } from './redisSessions.js';

/** What this app keeps in a session. */
interface AppSession {
  user: string;
  visits: number;
}

/** The account and the counter. Each method gets the request's session as a parameter. */
@Controller()
class AccountController {
  /** GET /: who is logged in, and one more visit. */
  @Get('/')
  count(@SessionParam() session: Session<AppSession>): { user: string | null; visits: number } {
    const visits = (session.get('visits') ?? 0) + 1;
    session.set('visits', visits);
    return { user: session.get('user') ?? null, visits };
  }

  /** POST /login `{ "name": "Ada" }`: a new session id (privileges change), then the user. */
  @Post('/login')
  login(@SessionParam() session: Session<AppSession>, @Body() body: { name?: unknown } | undefined): { user: string } {
    const user = typeof body?.name === 'string' && body.name.trim() !== '' ? body.name.trim() : 'anonymous';
    session.renew();
    session.set('user', user);
    return { user };
  }

  /** POST /logout: the session ends and the browser's cookie is expired. */
  @Post('/logout')
  logout(@SessionParam() session: Session<AppSession>): { user: null } {
    session.destroy();
    return { user: null };
  }
}

/**
 * Errors: an unreachable store is an outage (503, and nobody is logged out), a session too
 * large for its cookie 413 (SessionCookieTooLargeError is a SessionTokenTooLargeError).
 */
@CatchError()
class ErrorPage implements ExpressErrorFilter {
  catch(error: unknown, _request: express.Request, response: express.Response): void {
    if (error instanceof SessionStoreError) {
      response.status(503).set('Retry-After', '5').json({ error: 'try again shortly' });
    } else if (error instanceof SessionTokenTooLargeError) {
      response.status(413).json({ error: 'session too large' });
    } else {
      console.error(error); // kit-session's errors never hold a token, key or value
      response.status(500).json({ error: 'server error' });
    }
  }
}

// Without SESSION_KEY, a fresh key each start: every session ends at a restart.
process.env.SESSION_KEY ??= randomBytes(32).toString('base64');

const container = new Container();
const keys = await importKeysFromEnv('SESSION_KEY');
if (process.env.REDIS_URL) {
  // The module's decorator wraps the app's store: the id and the values sealed with the keys.
  container.load(createSessionModule({ keys, innerStore: 'app', encryptValues: true }));
  container.bind(SESSION_INNER_STORE).toConstantValue(redisStore<AppSession>(process.env.REDIS_URL));
} else {
  container.load(createSessionModule({ keys }));
}
container.bind(SessionInterceptor).toSelf().inSingletonScope(); // its manager: SESSION_MANAGER
container.bind(ErrorPage).toSelf().inSingletonScope();
container.bind(AccountController).toSelf().inSingletonScope();

const adapter = new InversifyExpressHttpAdapter(container, { logger: false });
adapter.useGlobalInterceptors(SessionInterceptor); // around every controller method
adapter.useGlobalFilters(ErrorPage);
const app = await adapter.build();

const server = createServer(app).listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
