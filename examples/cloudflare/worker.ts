// A Cloudflare Worker whose sessions live on the server: in a Durable Object
// (kit-session/cloudflare's DurableObjectSessionStore), sealed with the app's key
// (EncryptingStoreDecorator with encryptValues: the object holds no readable value, the
// cookie a sealed id). Server-side sessions can do what a cookie cannot: list a user's
// devices, end one, end them all at once, bound them, and a copied cookie of an ended
// session opens nothing anywhere. Run it with serve.ts (Miniflare), or deploy it with
// wrangler and wrangler.jsonc beside this file (`wrangler secret put SESSION_KEY`).
//
//   GET  /               counts visits
//   POST /login          renews the id and logs `name` in (form field, default ada)
//   GET  /session        the user and the visits
//   GET  /devices        the user's sessions (handle, last seen)
//   POST /devices/end    ends one of them (`handle` form field)
//   POST /logout         ends this session
//   POST /logout-all     ends every session of the user
import { EncryptingStoreDecorator, importKeyFromEnv, SessionManager, type EncryptionKey } from 'kit-session';
import { DurableObjectSessionStore, type DurableObjectNamespaceLike } from 'kit-session/cloudflare';
import { withSession } from 'kit-session/fetch';

// The object class the Worker's SESSIONS binding names (a SQLite-backed class).
export { SessionStoreObject } from 'kit-session/cloudflare';

/** The Worker's bindings. */
export interface Env {
  readonly SESSION_KEY: string;
  readonly SESSIONS: DurableObjectNamespaceLike;
}

interface AppSession {
  visits: number;
  userId: string;
}

function json(body: unknown, status = 200): Response {
  return new Response(`${JSON.stringify(body)}\n`, { status, headers: { 'content-type': 'application/json' } });
}

function createApp(key: EncryptionKey, env: Env): (request: Request) => Promise<Response> {
  const store = new EncryptingStoreDecorator<AppSession>(new DurableObjectSessionStore({ namespace: env.SESSIONS }), {
    keys: [key],
    encryptValues: true,
  });
  const manager = new SessionManager<AppSession>(store, { ownerKey: 'userId', maxSessionsPerOwner: 5 });

  return withSession(manager, async (request, session) => {
    const { pathname } = new URL(request.url);
    const userId = session.get('userId');
    switch (`${request.method} ${pathname}`) {
      case 'GET /': {
        const visits = (session.get('visits') ?? 0) + 1;
        session.set('visits', visits);
        return json({ visits });
      }
      case 'POST /login': {
        const name = (await request.formData()).get('name');
        session.renew(); // a new id at every privilege change
        session.set('userId', typeof name === 'string' && name !== '' ? name : 'ada');
        return json({ userId: session.get('userId') });
      }
      case 'GET /session':
        return json({ userId: userId ?? null, visits: session.get('visits') ?? 0 });
      case 'GET /devices': {
        if (userId === undefined) return json({ error: 'log in first' }, 401);
        const sessions = await manager.listOwnerSessions(userId);
        return json(sessions.map((device) => ({ handle: device.handle, lastSeen: device.lastSeen?.toISOString() ?? null })));
      }
      case 'POST /devices/end': {
        if (userId === undefined) return json({ error: 'log in first' }, 401);
        const handle = (await request.formData()).get('handle');
        return json({ ended: typeof handle === 'string' && (await manager.destroySessionByHandle(userId, handle)) });
      }
      case 'POST /logout':
        session.destroy();
        return json({ userId: null });
      case 'POST /logout-all': {
        if (userId === undefined) return json({ error: 'log in first' }, 401);
        return json({ ended: await manager.destroyOwnerSessions(userId) });
      }
      default:
        return json({ error: 'not found' }, 404);
    }
  });
}

let handle: ((request: Request) => Promise<Response>) | undefined;

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    // Built at the first request: a Worker gets its secrets and bindings in `env` then.
    handle ??= createApp(await importKeyFromEnv('SESSION_KEY', { SESSION_KEY: env.SESSION_KEY }), env);
    return handle(request);
  },
};
