// Container module binding.
//
// The app has its own Inversify container and loads kit-session's module into it. The
// module binds the session manager, an encrypted cookie store (because keys are given)
// and the two hooks. A node:http server runs the request hook before its routes and the
// response hook after them. The second half of this file plays the browser: it sends a
// few requests, keeps the cookie between them, and prints what came back.
//
// Run it: npm run build && npm run build:examples && node dist-examples/examples/container-module.js

import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Container } from 'inversify';
import { Context, fromNodeRequest, fromNodeResponse, importRawKey, type SessionManager, type SessionRequestHook, type SessionResponseHook } from 'kit-session';
import { createSessionModule, SESSION_MANAGER, SESSION_REQUEST_HOOK, SESSION_RESPONSE_HOOK } from 'kit-session/di';

/** What this app keeps in a session. */
interface AppSession {
  user: string;
  visits: number;
}

// --- The app ----------------------------------------------------------------------

// A real app reads its key from the environment (make one with `openssl rand -base64 32`).
// Without one, this example makes up a key, so it runs on its own.
const key = await importRawKey(process.env.SESSION_KEY ?? randomBytes(32).toString('base64'));

const container = new Container();
container.load(createSessionModule({ keys: [key] }));

const requestHook = container.get<SessionRequestHook>(SESSION_REQUEST_HOOK);
const responseHook = container.get<SessionResponseHook>(SESSION_RESPONSE_HOOK);
const sessions = container.get<SessionManager<AppSession>>(SESSION_MANAGER);

/** The app's routes. They read and change the session through the manager. */
async function route(context: Context, request: IncomingMessage): Promise<{ status: number; body: unknown }> {
  const where = `${request.method} ${request.url}`;
  if (where === 'GET /count') {
    const visits = (sessions.getValue(context, 'visits') ?? 0) + 1;
    sessions.setValue(context, 'visits', visits);
    return { status: 200, body: { visits, user: sessions.getValue(context, 'user') ?? null } };
  }
  if (where === 'POST /login') {
    const name = new URLSearchParams(await readBody(request)).get('name')?.trim();
    if (!name) {
      return { status: 400, body: { error: 'a name is needed' } };
    }
    // A new token whenever privileges change: a token planted before the login is useless.
    sessions.renewToken(context);
    sessions.setValue(context, 'user', name);
    return { status: 200, body: { user: name } };
  }
  if (where === 'POST /logout') {
    sessions.destroyValues(context);
    return { status: 200, body: { user: null } };
  }
  return { status: 404, body: { error: 'not found' } };
}

const server = createServer(async (request, response) => {
  try {
    const context = await requestHook.handle(Context.background, fromNodeRequest(request));
    const { status, body } = await route(context, request);
    // The response hook writes Set-Cookie, so it runs before the head goes out.
    await responseHook.handle(context, fromNodeResponse(response));
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  } catch (error) {
    // kit-session's errors carry a code and never a token, key or value.
    console.error('request failed:', error instanceof Error ? error.name : 'unknown error');
    response.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"internal"}');
  }
});

async function readBody(request: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of request) {
    body += String(chunk);
    if (body.length > 10_000) {
      throw new RangeError('request body too large');
    }
  }
  return body;
}

// --- The browser ------------------------------------------------------------------

server.listen(0, '127.0.0.1');
await once(server, 'listening');
const { port } = server.address() as AddressInfo;

/** The session cookie as the browser would send it back (`name=value`), if any. */
let cookie: string | undefined;

async function send(method: string, path: string, form?: Record<string, string>): Promise<void> {
  console.log(`> ${method} ${path}${form ? ` ${new URLSearchParams(form)}` : ''}`);
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: cookie === undefined ? {} : { cookie },
    ...(form ? { body: new URLSearchParams(form) } : {}),
  });
  console.log(`< ${response.status} ${await response.text()}`);
  for (const setCookie of response.headers.getSetCookie()) {
    const [pair = '', ...attributes] = setCookie.split('; ');
    const [name, value = ''] = pair.split('=');
    // An empty value with Max-Age=0 is the server expiring the cookie.
    cookie = value === '' ? undefined : pair;
    const shown = value === '' ? `${name}=` : `${name}=<sealed, ${value.length} chars>`;
    console.log(`< Set-Cookie: ${[shown, ...attributes].join('; ')}`);
  }
  for (const name of ['vary', 'cache-control']) {
    const value = response.headers.get(name);
    if (value !== null) {
      console.log(`< ${name}: ${value}`);
    }
  }
}

await send('GET', '/count');
await send('GET', '/count');
await send('POST', '/login', { name: 'Ada' });
await send('GET', '/count');
await send('POST', '/logout');
await send('GET', '/count');

server.close();
server.closeAllConnections();
