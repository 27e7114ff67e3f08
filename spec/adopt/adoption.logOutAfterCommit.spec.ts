// A log-out in the adopting request after the session was already saved once in it (a
// route's session.commit(), an adapter that saves twice): "A log-out in the adopting
// request ends both: … the old record deleted, whatever oldRecord says."
import expressSession from 'express-session';
import { randomBytes } from 'node:crypto';
import { Context, MemorySessionStore, SessionManager } from 'kit-session';
import { ExpressSessionAdopter, type ExpressSessionStoreLike } from 'kit-session/adopt/express-session';
import { request } from '../support/http.js';

// express-session's own signing module (untyped): the cookie values it writes.
const { sign } = require('cookie-signature') as { sign(value: string, secret: string): string };

const SECRET = 'keyboard cat';

describe('a log-out in the adopting request after a first save in it', () => {
  it('deletes the old record, as a log-out in the adopting request does', async () => {
    const oldStore = new expressSession.MemoryStore();
    const sid = randomBytes(24).toString('base64url');
    await new Promise<void>((resolve, reject) =>
      oldStore.set(
        sid,
        { cookie: { originalMaxAge: 86_400_000, expires: new Date(Date.now() + 86_400_000).toISOString(), httpOnly: true, path: '/' }, userId: 'u1' } as never,
        (error?: unknown) => (error ? reject(error) : resolve()),
      ),
    );
    const manager = new SessionManager<{ userId: string }>(new MemorySessionStore(), {
      cookie: { name: 'session', secure: false },
      adopt: new ExpressSessionAdopter<{ userId: string }>({ secret: SECRET, store: oldStore as ExpressSessionStoreLike }),
    });
    const oldCookie = `connect.sid=${encodeURIComponent(`s:${sign(sid, SECRET)}`)}`;
    const context = await manager.extractSession(Context.background, request(oldCookie));
    const headers = new Headers();
    // First save (what session.commit() does), then the route logs out, then the final save.
    await manager.injectSession(context, headers);
    manager.session(context).destroy();
    await manager.injectSession(context, headers);
    const left = await new Promise<unknown>((resolve, reject) => oldStore.get(sid, (error, data) => (error ? reject(error) : resolve(data))));
    expect(left ?? undefined).toBeUndefined();
    // A copy of the old cookie does not bring the logged-out user back.
    const replay = await manager.extractSession(Context.background, request(oldCookie));
    expect(manager.session(replay).get('userId')).toBeUndefined();
  });
});
