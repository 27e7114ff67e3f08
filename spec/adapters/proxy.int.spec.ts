// Behind a proxy: the client address the manager's `clientAddress` option reads follows
// each framework's own trust-proxy setting, and a forwarded header counts only when the
// app trusts the proxy that sets it.
import 'reflect-metadata';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Controller as HttpController, Post as HttpPost } from '@inversifyjs/http-core';
import { InversifyExpressHttpAdapter } from '@inversifyjs/http-express';
import { Controller, HttpCode, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { Container } from 'inversify';
import { MemorySessionStore, SessionManager, type Session } from 'kit-session';
import { getSession as expressSession, session as expressMiddleware } from 'kit-session/express';
import { getSession as fastifySession, sessionPlugin } from 'kit-session/fastify';
import { withSession as fetchSession } from 'kit-session/fetch';
import { session as honoMiddleware, type SessionVariables } from 'kit-session/hono';
import { SessionInterceptor, SessionParam } from 'kit-session/inversify-http';
import { Session as NestSession, SessionModule } from 'kit-session/nest';
import { withSession as nodeSession } from 'kit-session/node';
import { listen, serveFetch, type TestServer } from './scenarios.js';

type Owned = { user: string };

/** A manager that records each owned session's client address as `request.clientAddress` gives it. */
function addressManager(): SessionManager<Owned> {
  return new SessionManager<Owned>(new MemorySessionStore<Owned>(), {
    ownerKey: 'user',
    clientAddress: (request) => request.clientAddress,
  });
}

/** Logs Ada in: the handler each app runs on POST /login. */
function logIn(session: Session<Owned>): string {
  session.set('user', 'ada');
  return 'ok';
}

/** An app on 127.0.0.1 whose POST /login runs {@link logIn}, trusting a loopback proxy or not. */
type Start = (manager: SessionManager<Owned>, trustProxy: boolean) => Promise<TestServer>;

const FORWARDED_CLIENT = '203.0.113.7';

/** @Module and controllers for Nest: the manager comes from the test. */
@Controller()
class NestLogin {
  @Post('login')
  @HttpCode(200)
  login(@NestSession() session: Session<Owned>): string {
    return logIn(session);
  }
}

@HttpController()
class InversifyLogin {
  @HttpPost('/login')
  login(@SessionParam() session: Session<Owned>): string {
    return logIn(session);
  }
}

@Module({})
class ProxyTestModule {}

const starts: Record<string, Start> = {
  express: async (manager, trustProxy) => {
    const app = express();
    if (trustProxy) {
      app.set('trust proxy', 'loopback');
    }
    app.use(expressMiddleware(manager));
    app.post('/login', (req, res) => {
      res.send(logIn(expressSession(req, manager)));
    });
    return listen(createServer(app));
  },
  fastify: async (manager, trustProxy) => {
    const app = Fastify({ trustProxy: trustProxy ? '127.0.0.1' : false });
    await app.register(sessionPlugin, { manager });
    app.post('/login', async (request) => logIn(fastifySession(request, manager)));
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    return { url, close: () => app.close() };
  },
  nest: async (manager, trustProxy) => {
    const app = await NestFactory.create<NestExpressApplication>(
      { module: ProxyTestModule, imports: [SessionModule.forRoot({ manager })], controllers: [NestLogin] },
      { logger: false, abortOnError: false, forceCloseConnections: true },
    );
    if (trustProxy) {
      app.set('trust proxy', 'loopback');
    }
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
  },
  'inversify-http': async (manager, trustProxy) => {
    const container = new Container();
    const interceptor = Symbol('sessions');
    container.bind(interceptor).toConstantValue(new SessionInterceptor(manager));
    container.bind(InversifyLogin).toSelf().inSingletonScope();
    const adapter = new InversifyExpressHttpAdapter(container, { logger: false });
    adapter.useGlobalInterceptors(interceptor);
    const app = await adapter.build();
    if (trustProxy) {
      app.set('trust proxy', 'loopback');
    }
    return listen(createServer(app));
  },
};

/** Logs in through the app with an X-Forwarded-For header, and reads the address recorded. */
async function recordedAddress(start: Start, trustProxy: boolean): Promise<string | undefined> {
  const manager = addressManager();
  const server = await start(manager, trustProxy);
  try {
    const response = await fetch(`${server.url}/login`, { method: 'POST', headers: { 'x-forwarded-for': FORWARDED_CLIENT } });
    expect(response.status).toBe(200);
    const [session, ...others] = await manager.listOwnerSessions('ada');
    expect(others).toEqual([]);
    return session!.clientAddress;
  } finally {
    await server.close();
  }
}

describe('behind a proxy: request.clientAddress', () => {
  describe.each(Object.keys(starts))('%s', (name) => {
    const start = starts[name]!;

    it("is the socket's address, whatever X-Forwarded-For says, while the app trusts no proxy", async () => {
      expect(await recordedAddress(start, false)).toBe('127.0.0.1');
    });

    it("is the client's address from X-Forwarded-For once the app trusts the proxy", async () => {
      expect(await recordedAddress(start, true)).toBe(FORWARDED_CLIENT);
    });
  });

  it("node:http: is the socket's address; a forwarded header is the app's to read", async () => {
    const manager = addressManager();
    const server = await listen(createServer(nodeSession(manager, (_req, _res, session) => logIn(session))));
    try {
      await fetch(`${server.url}/login`, { method: 'POST', headers: { 'x-forwarded-for': FORWARDED_CLIENT } });
      expect((await manager.listOwnerSessions('ada'))[0]!.clientAddress).toBe('127.0.0.1');
    } finally {
      await server.close();
    }
  });

  it.each([
    ['fetch', (manager: SessionManager<Owned>) => serveFetch(fetchSession(manager, (_request, session) => new Response(logIn(session))))],
    [
      'hono',
      (manager: SessionManager<Owned>) => {
        const app = new Hono<{ Variables: SessionVariables<Owned> }>();
        app.use(honoMiddleware(manager));
        app.post('/login', (c) => c.text(logIn(c.get('session'))));
        return serveFetch((request) => app.fetch(request));
      },
    ],
  ])('%s: a Web Request has no address: undefined, unless the app reads its proxy\'s header', async (_name, serve) => {
    const manager = addressManager();
    const server = await serve(manager);
    try {
      await fetch(`${server.url}/login`, { method: 'POST', headers: { 'x-forwarded-for': FORWARDED_CLIENT } });
      expect((await manager.listOwnerSessions('ada'))[0]!.clientAddress).toBeUndefined();
    } finally {
      await server.close();
    }
  });
});
