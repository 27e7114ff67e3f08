import { parseSetCookie } from 'cookie';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Context, type RequestFunction, type ResponseFunction, type SessionManager } from 'kit-session';
import { createLoader, myDecoder, type Endpoint } from '../../examples/seed/kit.js';
import { CookieJar } from '../support/cookieJar.js';
import { typecheckSnippets } from '../support/readmeSnippets.js';
import { readSeed } from './seed.js';

// The README of @revas-hq/kit-session, run as written against kit-session: its snippets
// type-check under strict, and the flow they describe works over real HTTP.

const root = path.resolve(__dirname, '../..');
const generated = path.join(__dirname, 'seed.generated.ts');
const { snippets, module: seedSource } = readSeed();

type SeedExports = {
  seed(): Promise<{
    sessionManager: SessionManager;
    loadSession: RequestFunction;
    saveSession: ResponseFunction;
    myEndpoint: Endpoint<unknown, unknown>;
    myLoader: (args: { request: Request }) => Promise<Response>;
  }>;
};

describe("the seed's README (@revas-hq/kit-session 0.0.16) with only the package name changed", () => {
  it('has the six TypeScript snippets (store, encryption, manager, HTTP functions, endpoint, loader)', () => {
    expect(snippets.map((snippet) => snippet.name)).toEqual([
      'cookie store',
      'encryption',
      'session manager',
      'HTTP middleware',
      'endpoint',
      'loader',
    ]);
  });

  it('type-checks under strict', () => {
    const [check] = typecheckSnippets(root, 'spec/compat/seed.md', [
      { language: 'ts', line: 1, code: seedSource, firstLine: snippets[0]!.code.split('\n')[0]! },
    ]);
    expect(check!.errors).toEqual([]);
  });

  describe('runs the flow it describes over real HTTP', () => {
    let server: Server;
    let base: string;
    let seeded: Awaited<ReturnType<SeedExports['seed']>>;

    beforeAll(async () => {
      writeFileSync(generated, seedSource);
      process.env.SESSION_SECRET_KEY_BASE64 = randomBytes(32).toString('base64');
      // Not a literal: the module exists only once the test has written it.
      const specifier = './seed.generated.js';
      const { seed } = (await import(specifier)) as SeedExports;
      seeded = await seed();
      const { sessionManager: manager, loadSession, saveSession } = seeded;
      const around = { decodeRequest: myDecoder, beforeFunctions: [loadSession], afterFunctions: [saveSession] };
      const routes: Record<string, (args: { request: Request }) => Promise<Response>> = {
        'GET /': seeded.myLoader,
        // Beside the seed's endpoint: log in, read the flash, see the session, log out.
        'POST /login': createLoader({
          ...around,
          endpoint: async ({ context }) => {
            manager.renewToken(context);
            manager.setValue(context, 'userId', 'ada');
            return { success: true, context, response: { userId: 'ada' } };
          },
        }),
        'GET /flash': createLoader({
          ...around,
          endpoint: async ({ context }) => ({ success: true, context, response: { flash: manager.popValue(context, 'flash') ?? null } }),
        }),
        'GET /me': createLoader({
          ...around,
          endpoint: async ({ context }) => ({
            success: true,
            context,
            response: {
              userId: manager.getValue<string>(context, 'userId') ?? null,
              counter: manager.getValue<number>(context, 'counter') ?? null,
              lastVisit: manager.getValue<string>(context, 'lastVisit') ?? null,
            },
          }),
        }),
        'POST /logout': createLoader({
          ...around,
          endpoint: async ({ context }) => {
            manager.destroyValues(context);
            return { success: true, context, response: {} };
          },
        }),
      };
      server = createServer((req: IncomingMessage, res: ServerResponse) => {
        const route = routes[`${req.method} ${new URL(req.url ?? '/', 'http://x').pathname}`];
        const headers = new Headers();
        for (const [name, value] of Object.entries(req.headers)) {
          if (typeof value === 'string') {
            headers.set(name, value);
          }
        }
        const request = new Request(`http://127.0.0.1${req.url ?? '/'}`, { method: req.method, headers });
        void (route === undefined ? Promise.resolve(new Response('not found', { status: 404 })) : route({ request })).then(
          async (response) => {
            res.statusCode = response.status;
            for (const [name, value] of response.headers) {
              if (name !== 'set-cookie') {
                res.setHeader(name, value);
              }
            }
            res.setHeader('set-cookie', response.headers.getSetCookie());
            res.end(await response.text());
          },
          (error: unknown) => {
            res.statusCode = 500;
            res.end(String(error));
          },
        );
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });

    afterAll(async () => {
      rmSync(generated, { force: true });
      delete process.env.SESSION_SECRET_KEY_BASE64;
      await new Promise((resolve) => server?.close(resolve));
    });

    it('load, flash, log in, counter, destroy', async () => {
      const jar = new CookieJar();

      // Not logged in: the seed's endpoint answers 401 and leaves a flash message.
      const first = await jar.fetch(`${base}/`);
      expect(first.status).toBe(401);
      const cookie = parseSetCookie(first.headers.getSetCookie()[0]!);
      expect(cookie).toMatchObject({ name: '__Host-Session', path: '/', httpOnly: true, secure: true, sameSite: 'lax', maxAge: 604_800 });
      expect(Buffer.from(cookie.value!, 'base64url').includes('Please log in')).toBe(false);

      // The flash is shown once.
      expect(await (await jar.fetch(`${base}/flash`)).json()).toEqual({
        flash: { type: 'error', message: 'Please log in' },
      });
      expect(await (await jar.fetch(`${base}/flash`)).json()).toEqual({ flash: null });

      // Log in (a new token), then the seed's endpoint counts visits.
      const before = jar.get('__Host-Session');
      expect((await jar.fetch(`${base}/login`, { method: 'POST' })).status).toBe(200);
      expect(jar.get('__Host-Session')).not.toBe(before);
      expect((await jar.fetch(`${base}/`)).status).toBe(200);
      expect((await jar.fetch(`${base}/`)).status).toBe(200);
      const me = (await (await jar.fetch(`${base}/me`)).json()) as { userId: string; counter: number; lastVisit: string };
      expect(me).toEqual({ userId: 'ada', counter: 2, lastVisit: expect.any(String) });
      expect(Date.parse(me.lastVisit)).not.toBeNaN();

      // Destroy: the cookie is expired, and the next visit is not logged in.
      const logout = await jar.fetch(`${base}/logout`, { method: 'POST' });
      expect(parseSetCookie(logout.headers.getSetCookie()[0]!).maxAge).toBe(0);
      expect(jar.get('__Host-Session')).toBeUndefined();
      expect((await jar.fetch(`${base}/`)).status).toBe(401);
    });

    it('reads each value the way the seed writes it: getValue<string> on an untyped manager', async () => {
      const { sessionManager: manager, loadSession } = seeded;
      const context = await loadSession(Context.background, new Request(`${base}/`));
      manager.setValue(context, 'userId', 'grace');
      const userId: string | undefined = manager.getValue<string>(context, 'userId');
      expect(userId).toBe('grace');
      const session = manager.session(context);
      expect([session.state, session.token, typeof session.expireTime, session.values]).toEqual([
        'modified',
        undefined,
        'number',
        { userId: 'grace' },
      ]);
    });
  });
});
