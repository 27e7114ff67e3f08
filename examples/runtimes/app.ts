// One Fetch API app with a session, served on Bun (bun.ts), Deno (deno.ts) and
// Cloudflare Workers (worker.ts, on workerd through Miniflare: workerd.ts). Each entry
// point only reads the key the runtime's way and hands the handler to its server.
//
//   GET  /         counts visits
//   POST /login    renews the session id, logs `name` in (form field, default ada) and
//                  leaves a flash message
//   GET  /flash    the flash message, once
//   GET  /session  the user and the visits, changing nothing (a cookie sealed elsewhere)
//   POST /logout   destroys the session
//   GET  /runtime  which runtime this is and which AES-GCM `crypto: 'auto'` picked
import { createCookieSessions, type EncryptionKey, SessionCookieTooLargeError } from 'kit-session';
import { withSession } from 'kit-session/fetch';

/** The app's session values. */
export interface AppSession {
  visits: number;
  userId: string;
  flash: string;
}

/** What `crypto: 'auto'` uses on this runtime: node:crypto where it exists, else Web Crypto. */
export function cryptoPath(): 'node:crypto' | 'webcrypto' {
  // The rule the library applies: node:crypto when process.getBuiltinModule gives it.
  const getBuiltinModule = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
    ?.getBuiltinModule;
  return typeof getBuiltinModule === 'function' && getBuiltinModule('node:crypto') !== undefined
    ? 'node:crypto'
    : 'webcrypto';
}

function json(body: unknown, status = 200): Response {
  return new Response(`${JSON.stringify(body)}\n`, { status, headers: { 'content-type': 'application/json' } });
}

/**
 * Builds the app's Fetch handler.
 *
 * @param key - The session key, from the runtime's environment.
 * @param runtime - The runtime's name, for `GET /runtime`.
 * @returns The handler, `(request) => Promise<Response>`, with the app's error page.
 */
export function createApp(key: EncryptionKey, runtime: string): (request: Request) => Promise<Response> {
  const manager = createCookieSessions<AppSession>({ keys: [key], crypto: 'auto' });

  const app = withSession(manager, async (request, session) => {
    const { pathname } = new URL(request.url);
    const route = `${request.method} ${pathname}`;
    switch (route) {
      case 'GET /': {
        const visits = (session.get('visits') ?? 0) + 1;
        session.set('visits', visits);
        return json({ visits });
      }
      case 'POST /login': {
        const form = await request.formData();
        const name = form.get('name');
        session.renew(); // a new id at every privilege change
        session.set('userId', typeof name === 'string' && name !== '' ? name : 'ada');
        session.set('flash', 'welcome');
        return json({ userId: session.get('userId') });
      }
      case 'GET /flash':
        return json({ flash: session.pop('flash') ?? null });
      case 'GET /session':
        return json({ userId: session.get('userId') ?? null, visits: session.get('visits') ?? 0, status: session.status });
      case 'POST /logout':
        session.destroy();
        return json({ userId: null });
      case 'GET /runtime':
        return json({ runtime, crypto: cryptoPath() });
      default:
        return json({ error: 'not found' }, 404);
    }
  });

  // The app's error page: withSession rejects when the session cannot be saved.
  return async (request) => {
    try {
      return await app(request);
    } catch (error) {
      const tooLarge = error instanceof SessionCookieTooLargeError;
      return json({ error: tooLarge ? 'session too large' : 'server error' }, tooLarge ? 413 : 500);
    }
  };
}
