// "Log out everywhere" (destroyOwnerSessions) during the switch, while another device of the
// same user still holds only its old express-session cookie.
import expressSession from 'express-session';
import { randomBytes } from 'node:crypto';
import { Context, MemorySessionStore, SessionManager } from 'kit-session';
import { ExpressSessionAdopter, type ExpressSessionStoreLike } from 'kit-session/adopt/express-session';
import { request } from '../support/http.js';

// express-session's own signing module (untyped): the cookie values it writes.
const { sign } = require('cookie-signature') as { sign(value: string, secret: string): string };

const SECRET = 'keyboard cat';

function put(store: expressSession.Store, sid: string, data: Record<string, unknown>): Promise<void> {
  return new Promise((resolve, reject) => store.set(sid, data as never, (error?: unknown) => (error ? reject(error) : resolve())));
}

async function oldDevice(store: expressSession.Store, userId: string): Promise<string> {
  const sid = randomBytes(24).toString('base64url');
  await put(store, sid, {
    cookie: { originalMaxAge: 86_400_000, expires: new Date(Date.now() + 86_400_000).toISOString(), httpOnly: true, path: '/' },
    userId,
  });
  return `connect.sid=${encodeURIComponent(`s:${sign(sid, SECRET)}`)}`;
}

/** Deletes every record of one user from an express-session store that lists them (`all`). */
async function endOldSessionsOf(store: expressSession.Store, userId: string): Promise<void> {
  const all = await new Promise<Record<string, { userId?: string }>>((resolve, reject) =>
    store.all!((error: unknown, sessions: unknown) => (error ? reject(error) : resolve(sessions as Record<string, { userId?: string }>))),
  );
  for (const [sid, data] of Object.entries(all)) {
    if (data.userId === userId) {
      await new Promise<void>((resolve, reject) => store.destroy(sid, (error?: unknown) => (error ? reject(error) : resolve())));
    }
  }
}

describe('log out everywhere during the switch', () => {
  // destroyOwnerSessions reaches kit-session's sessions only (the manager knows no old sid);
  // docs/migrating.md says to end the old library's records of the user too, as here.
  it("ends the user's devices still on their old cookie once their old records are deleted too, as the guide says", async () => {
    const oldStore = new expressSession.MemoryStore();
    const manager = new SessionManager<{ userId: string }>(new MemorySessionStore(), {
      cookie: { name: 'session', secure: false },
      ownerKey: 'userId',
      adopt: new ExpressSessionAdopter<{ userId: string }>({ secret: SECRET, store: oldStore as ExpressSessionStoreLike }),
    });
    const laptop = await oldDevice(oldStore, 'u1');
    const stolenPhone = await oldDevice(oldStore, 'u1');
    // The laptop is switched, and the user logs out everywhere (a lost phone, a new password).
    const context = await manager.extractSession(Context.background, request(laptop));
    expect(manager.session(context).get('userId')).toBe('u1');
    await manager.injectSession(context, new Headers());
    expect(await manager.destroyOwnerSessions('u1')).toBe(1);
    // Not reached by it: the phone, still holding only its connect.sid, would be adopted.
    const before = await manager.extractSession(Context.background, request(stolenPhone));
    expect(manager.session(before).get('userId')).toBe('u1');
    // The guide's second step: the user's records in the old store are deleted too.
    await endOldSessionsOf(oldStore, 'u1');
    const phone = await manager.extractSession(Context.background, request(stolenPhone));
    expect(manager.session(phone).get('userId')).toBeUndefined();
  });
});
