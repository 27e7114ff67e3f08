import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect as connectHttp2, createServer as createHttp2Server } from 'node:http2';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fromNodeRequest, MemorySessionStore, SessionManager } from 'kit-session';
import { getSession as expressSession, session as expressMiddleware } from 'kit-session/express';
import { getSession as fastifySession, sessionPlugin } from 'kit-session/fastify';
import { withSession as fetchSession } from 'kit-session/fetch';
import { session as honoMiddleware, type SessionVariables } from 'kit-session/hono';
import { withSession as nodeSession } from 'kit-session/node';
import { INSECURE_COOKIE, warningsDuring } from '../support/warnings.js';
import { listen, serveFetch, type TestServer } from './scenarios.js';

// A Secure cookie set in answer to a request that plainly came over http for a host other
// than localhost is dropped by browsers: each adapter, over real HTTP, gets one warning
// per manager, and none for localhost or behind a proxy header (never trusted to say
// https; its presence alone keeps quiet).

type Values = { visits: number };

/** Each adapter's app: one route that changes the session, so the response sets the cookie. */
const apps: Record<string, (manager: SessionManager<Values>) => Promise<TestServer>> = {
  'node:http': (manager) =>
    listen(
      createServer(
        nodeSession(manager, (_req, _res, session) => {
          session.set('visits', (session.get('visits') ?? 0) + 1);
          return 'ok';
        }),
      ),
    ),
  'Express': (manager) => {
    const app = express();
    app.use(expressMiddleware(manager));
    app.get('/', (req, res) => {
      const session = expressSession(req, manager);
      session.set('visits', (session.get('visits') ?? 0) + 1);
      res.send('ok');
    });
    return listen(createServer(app));
  },
  'Fastify': async (manager) => {
    const app = Fastify();
    await app.register(sessionPlugin, { manager });
    app.get('/', async (request, reply) => {
      const session = fastifySession(request, manager);
      session.set('visits', (session.get('visits') ?? 0) + 1);
      return reply.send('ok');
    });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    return { url, close: () => app.close() };
  },
  'Hono (@hono/node-server)': (manager) => {
    const app = new Hono<{ Variables: SessionVariables<Values> }>();
    app.use(honoMiddleware(manager));
    app.get('/', (c) => {
      const session = c.get('session');
      session.set('visits', (session.get('visits') ?? 0) + 1);
      return c.text('ok');
    });
    return serveFetch(app.fetch);
  },
  'Fetch (withSession, served by @hono/node-server)': (manager) =>
    serveFetch(
      fetchSession(manager, (_request, session) => {
        session.set('visits', (session.get('visits') ?? 0) + 1);
        return new Response('ok');
      }),
    ),
};

/** A GET / to the server on 127.0.0.1, with the Host header given: node:http sends it as it is. */
function get(server: TestServer, headers: Record<string, string>): Promise<{ status: number; setCookie: string[] }> {
  const { port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const sent = httpRequest({ host: '127.0.0.1', port, path: '/', headers }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode ?? 0, setCookie: response.headers['set-cookie'] ?? [] }));
    });
    sent.on('error', reject);
    sent.end();
  });
}

describe('the warning for a Secure cookie on plain http, through the adapters', () => {
  for (const [framework, start] of Object.entries(apps)) {
    describe(framework, () => {
      let server: TestServer | undefined;

      afterEach(async () => {
        await server?.close();
        server = undefined;
      });

      /** Serves a fresh manager (so a fresh "once"), and records the warnings of the requests sent. */
      async function warningsFor(...requests: Record<string, string>[]) {
        server = await start(new SessionManager<Values>(new MemorySessionStore<Values>()));
        const answers: { status: number; setCookie: string[] }[] = [];
        const warnings = await warningsDuring(INSECURE_COOKIE, async () => {
          for (const headers of requests) {
            answers.push(await get(server!, headers));
          }
        });
        return { warnings, answers };
      }

      it('for Host: myapp.test, warns exactly once over three responses, and still sends the cookie', async () => {
        const { warnings, answers } = await warningsFor({ host: 'myapp.test' }, { host: 'myapp.test' }, { host: 'www.myapp.test:8080' });
        expect(warnings).toHaveLength(1);
        expect(warnings[0]!.message).toContain('__Host-session');
        for (const { status, setCookie } of answers) {
          expect(status).toBe(200);
          expect(setCookie.some((line) => line.startsWith('__Host-session=') && /;\s*Secure/i.test(line))).toBe(true);
        }
      });

      it.each([
        ['localhost', { host: 'localhost:3000' }],
        ['a *.localhost name', { host: 'app.localhost' }],
        ['127.0.0.1', { host: '127.0.0.1:3000' }],
        ['[::1]', { host: '[::1]:3000' }],
        ['myapp.test behind a proxy (X-Forwarded-Proto: https)', { host: 'myapp.test', 'x-forwarded-proto': 'https' }],
        ['myapp.test behind a proxy (Forwarded: proto=https)', { host: 'myapp.test', forwarded: 'proto=https' }],
      ])('for %s, does not warn', async (_label, headers) => {
        const { warnings, answers } = await warningsFor(headers);
        expect(answers[0]!.setCookie.some((line) => line.startsWith('__Host-session='))).toBe(true);
        expect(warnings).toEqual([]);
      });
    });
  }

  describe('Fetch (withSession) with a Web Request, no server', () => {
    const handlerOf = () =>
      fetchSession(new SessionManager<Values>(new MemorySessionStore<Values>()), (_request, session) => {
        session.set('visits', 1);
        return new Response('ok');
      });

    it('warns once for http://myapp.test, not for https://myapp.test or http://localhost', async () => {
      const handler = handlerOf();
      const plain = await warningsDuring(INSECURE_COOKIE, async () => {
        await handler(new Request('http://myapp.test/'));
        await handler(new Request('http://myapp.test/again'));
      });
      expect(plain).toHaveLength(1);
      const quiet = handlerOf();
      const none = await warningsDuring(INSECURE_COOKIE, async () => {
        await quiet(new Request('https://myapp.test/'));
        await quiet(new Request('http://localhost:8787/'));
      });
      expect(none).toEqual([]);
    });
  });
});

describe('fromNodeRequest(req).url, which the warning reads', () => {
  let dir: string;
  let tls: { key: string; cert: string };

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'wt-remember-tls-'));
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=myapp.test', '-days', '1',
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { encoding: 'utf8' });
    if (made.status !== 0) {
      throw new Error(`openssl could not make a test certificate: ${made.stderr}`);
    }
    tls = { key: readFileSync(path.join(dir, 'key.pem'), 'utf8'), cert: readFileSync(path.join(dir, 'cert.pem'), 'utf8') };
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** Serves one request and gives the URL the view built for it. */
  async function urlSeen(serve: (listener: RequestListener) => Server, send: (port: number) => Promise<void>): Promise<string> {
    let seen = '';
    const server = serve((req, res) => {
      seen = fromNodeRequest(req).url ?? '';
      res.end('ok');
    });
    const { url, close } = await listen(server);
    try {
      await send(Number(new URL(url).port));
    } finally {
      await close();
    }
    return seen;
  }

  it('is https:// when the socket is TLS, whatever the Host', async () => {
    const url = await urlSeen(
      (listener) => createHttpsServer(tls, listener),
      (port) =>
        new Promise((resolve, reject) => {
          httpsRequest({ host: '127.0.0.1', port, path: '/a?b=1', headers: { host: 'myapp.test' }, rejectUnauthorized: false }, (response) => {
            response.resume().on('end', resolve);
          }).on('error', reject).end();
        }),
    );
    expect(url).toBe('https://myapp.test/a?b=1');
  });

  it('is http:// on a plain socket, even with X-Forwarded-Proto: https (never trusted)', async () => {
    const url = await urlSeen(createServer, (port) =>
      new Promise((resolve, reject) => {
        httpRequest({ host: '127.0.0.1', port, path: '/', headers: { host: 'myapp.test', 'x-forwarded-proto': 'https' } }, (response) => {
          response.resume().on('end', resolve);
        }).on('error', reject).end();
      }),
    );
    expect(url).toBe('http://myapp.test/');
  });

  it('keeps the Host, and the path alone, of an absolute-form target (a request meant for a proxy)', async () => {
    const url = await urlSeen(createServer, (port) =>
      new Promise((resolve, reject) => {
        httpRequest({ host: '127.0.0.1', port, path: 'https://other.test/x', headers: { host: 'myapp.test' } }, (response) => {
          response.resume().on('end', resolve);
        }).on('error', reject).end();
      }),
    );
    expect(url).toBe('http://myapp.test/');
  });

  it("takes HTTP/2's :authority when there is no Host", async () => {
    let seen = '';
    const server = createHttp2Server((req, res) => {
      seen = fromNodeRequest(req as unknown as IncomingMessage).url ?? '';
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const client = connectHttp2(`http://127.0.0.1:${port}`);
    try {
      await new Promise<void>((resolve, reject) => {
        const stream = client.request({ ':path': '/h2', ':authority': 'myapp.test' });
        stream.on('error', reject);
        stream.resume().on('end', () => resolve());
        stream.end();
      });
    } finally {
      client.close();
      await new Promise((resolve) => server.close(resolve));
    }
    expect(seen).toBe('http://myapp.test/h2');
  });
});
