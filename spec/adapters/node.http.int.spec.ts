import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Context, fromNodeRequest, fromNodeResponse, MemorySessionStore, SessionManager } from 'kit-session';

describe('fromNodeRequest and fromNodeResponse', () => {
  let server: Server;
  let url: string;
  const manager = new SessionManager<{ n: number }>(new MemorySessionStore(), {
    cookie: { name: 'sid', secure: false },
  });

  beforeAll(async () => {
    server = createServer(async (req, res) => {
      const context = await manager.extractSession(Context.background, fromNodeRequest(req));
      const n = (manager.getValue(context, 'n') ?? 0) + 1;
      manager.setValue(context, 'n', n);
      res.setHeader('Vary', 'Accept');
      res.appendHeader('Set-Cookie', 'theme=dark');
      await manager.injectSession(context, fromNodeResponse(res));
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ n, multi: req.headers['x-multi'] ?? null }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('carry a session across real node:http requests, keeping the headers the app set', async () => {
    const first = await fetch(url);
    expect(await first.json()).toMatchObject({ n: 1 });
    const setCookies = first.headers.getSetCookie();
    expect(setCookies).toHaveLength(2);
    expect(setCookies[0]).toBe('theme=dark');
    expect(first.headers.get('vary')).toBe('Accept, Cookie');
    const cookie = setCookies[1]!.split(';')[0]!;

    const second = await fetch(url, { headers: { cookie: `theme=dark; ${cookie}` } });
    expect(await second.json()).toMatchObject({ n: 2 });
  });

  it('reads headers case-insensitively and gives null for a missing one', () => {
    const request = fromNodeRequest({ headers: { cookie: 'a=1' } } as never);
    expect(request.headers.get('Cookie')).toBe('a=1');
    expect(request.headers.get('x-missing')).toBeNull();
  });
});
