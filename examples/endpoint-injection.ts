// Decorator-based endpoint injection.
//
// The app's endpoint is an `@injectable()` class that gets the session manager through
// `@inject(SESSION_MANAGER)`, and the container builds it. Here the app binds a
// server-side store itself (the in-memory one; Redis or PostgreSQL take its place in
// production), so logging out and renewing the token revoke the old cookie for real.
//
// The handler is fetch-style, `(request: Request) => Promise<Response>`, as Hono, Bun,
// Deno and edge runtimes use; the second half of this file calls it the way a browser
// would, keeping the cookie between requests, and prints what came back.
//
// Run it: npm run build && npm run build:examples && node dist-examples/examples/endpoint-injection.js

import 'reflect-metadata';
import { Container, inject, injectable } from 'inversify';
import { Context, MemorySessionStore, SessionManager, type SessionRequestHook, type SessionResponseHook } from 'kit-session';
import { createSessionModule, SESSION_MANAGER, SESSION_REQUEST_HOOK, SESSION_RESPONSE_HOOK, SESSION_STORE } from 'kit-session/di';

/** What this app keeps in a session. */
interface ShopSession {
  user: string;
  cart: string[];
  flash: string;
}

// --- The endpoint -----------------------------------------------------------------

/** The shop's account and cart endpoints. The container gives it the session manager. */
@injectable()
class ShopEndpoint {
  readonly #sessions: SessionManager<ShopSession>;

  constructor(@inject(SESSION_MANAGER) sessions: SessionManager<ShopSession>) {
    this.#sessions = sessions;
  }

  /** GET /: who is logged in, the cart, and the flash message (shown once). */
  home(context: Context): object {
    return {
      user: this.#sessions.getValue(context, 'user') ?? null,
      cart: this.#sessions.getValue(context, 'cart') ?? [],
      flash: this.#sessions.popValue(context, 'flash') ?? null,
    };
  }

  /** POST /cart: adds an item; works before logging in too. */
  addToCart(context: Context, form: URLSearchParams): object {
    const cart = [...(this.#sessions.getValue(context, 'cart') ?? []), form.get('item') ?? 'nothing'];
    this.#sessions.setValue(context, 'cart', cart);
    return { cart };
  }

  /** POST /login: keeps the cart, and gives the session a new token. */
  login(context: Context, form: URLSearchParams): object {
    const name = form.get('name')?.trim() || 'anonymous';
    // Privileges change, so the token changes: the old one is deleted from the store.
    this.#sessions.renewToken(context);
    this.#sessions.setValue(context, 'user', name);
    this.#sessions.setValue(context, 'flash', `Welcome, ${name}!`);
    return { user: name };
  }

  /** POST /logout: ends the session; the goodbye message starts a new, empty one. */
  logout(context: Context): object {
    this.#sessions.destroyValues(context);
    this.#sessions.setValue(context, 'flash', 'Goodbye!');
    return { user: null };
  }
}

// --- The app ----------------------------------------------------------------------

const container = new Container();
// No keys: the app binds the store itself.
container.load(createSessionModule());
container.bind(SESSION_STORE).to(MemorySessionStore).inSingletonScope();
container.bind(ShopEndpoint).toSelf().inSingletonScope();

const requestHook = container.get<SessionRequestHook>(SESSION_REQUEST_HOOK);
const responseHook = container.get<SessionResponseHook>(SESSION_RESPONSE_HOOK);
const shop = container.get(ShopEndpoint);

/** The app: session hooks around a small router. */
async function handle(request: Request): Promise<Response> {
  const context = await requestHook.handle(Context.background, request);
  const form = request.method === 'POST' ? new URLSearchParams(await request.text()) : new URLSearchParams();
  const where = `${request.method} ${new URL(request.url).pathname}`;
  const body =
    where === 'GET /' ? shop.home(context)
    : where === 'POST /cart' ? shop.addToCart(context, form)
    : where === 'POST /login' ? shop.login(context, form)
    : where === 'POST /logout' ? shop.logout(context)
    : undefined;
  const headers = new Headers({ 'content-type': 'application/json' });
  await responseHook.handle(context, headers);
  return body === undefined
    ? new Response('{"error":"not found"}', { status: 404, headers })
    : new Response(JSON.stringify(body), { headers });
}

// --- The browser ------------------------------------------------------------------

/** The session cookie as the browser would send it back (`name=value`), if any. */
let cookie: string | undefined;

/**
 * Sends a request as the browser would and prints the exchange. With `replay`, sends
 * that cookie instead of the browser's own, and keeps nothing from the answer.
 */
async function send(
  method: string,
  path: string,
  options: { form?: Record<string, string>; replay?: { cookie: string | undefined; why: string } } = {},
): Promise<void> {
  const { form, replay } = options;
  const sent = replay === undefined ? cookie : replay.cookie;
  console.log(`> ${method} ${path}${form ? ` ${new URLSearchParams(form)}` : ''}${replay ? ` (${replay.why})` : ''}`);
  const response = await handle(
    new Request(`https://shop.example${path}`, {
      method,
      headers: sent === undefined ? {} : { cookie: sent },
      ...(form ? { body: new URLSearchParams(form) } : {}),
    }),
  );
  console.log(`< ${response.status} ${await response.text()}`);
  for (const setCookie of response.headers.getSetCookie()) {
    const [pair = '', ...attributes] = setCookie.split('; ');
    const [name, value = ''] = pair.split('=');
    if (replay === undefined) {
      cookie = value === '' ? undefined : pair;
    }
    const shown = value === '' ? `${name}=` : `${name}=<id, ${value.length} chars>`;
    console.log(`< Set-Cookie: ${[shown, ...attributes].join('; ')}`);
  }
}

await send('GET', '/');
await send('POST', '/cart', { form: { item: 'tea' } });
const beforeLogin = cookie;
await send('POST', '/login', { form: { name: 'Grace' } });
await send('GET', '/');
await send('GET', '/');
// The cookie from before the login names the id renewToken retired: for the renewal
// grace (30 s) a request still carrying it sees the session as it was, read-only (it
// saves nothing and gets no cookie), never the log-in; after that it names nothing.
await send('GET', '/', { replay: { cookie: beforeLogin, why: 'the cookie from before the login' } });
const loggedIn = cookie;
await send('POST', '/logout');
await send('GET', '/');
// A server-side store forgets a session on logout: a copy of its cookie is worthless.
await send('GET', '/', { replay: { cookie: loggedIn, why: 'a copy of the cookie from before the logout' } });
