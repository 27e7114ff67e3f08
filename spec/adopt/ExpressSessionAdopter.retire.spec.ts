// The retirement of express-session's old record by the adopting response: the grace of
// oldRecord: 'expire', a log-out racing a parallel adoption, and a retirement that fails.
import expressSession from 'express-session';
import { randomBytes } from 'node:crypto';
import { Context, MemorySessionStore, SessionManager, SessionStoreError, type SessionManagerOptions } from 'kit-session';
import { ExpressSessionAdopter, type ExpressSessionStoreLike } from 'kit-session/adopt/express-session';
import { FakeClock } from '../support/FakeClock.js';
import { request } from '../support/http.js';

// express-session's own signing module (untyped): the cookie values it writes.
const { sign } = require('cookie-signature') as { sign(value: string, secret: string): string };

interface AppSession {
  userId: string;
}

const SECRET = 'keyboard cat';

function put(store: expressSession.Store, sid: string, data: Record<string, unknown>): Promise<void> {
  return new Promise((resolve, reject) => store.set(sid, data as never, (error?: unknown) => (error ? reject(error) : resolve())));
}

function read(store: expressSession.Store, sid: string): Promise<Record<string, unknown> | undefined> {
  return new Promise((resolve, reject) =>
    store.get(sid, (error: unknown, data?: unknown) => (error ? reject(error) : resolve((data ?? undefined) as Record<string, unknown> | undefined))),
  );
}

/**
 * A real express-session MemoryStore, with its clock the manager's FakeClock's start (the
 * real clock: MemoryStore checks cookie.expires by Date.now()), and one old session in it.
 */
async function setup(
  options: SessionManagerOptions = {},
  oldStore: expressSession.Store = new expressSession.MemoryStore(),
  adopterOptions: Partial<ConstructorParameters<typeof ExpressSessionAdopter<AppSession>>[0]> = {},
) {
  const clock = new FakeClock(Date.now());
  const store = new MemorySessionStore<AppSession>({}, clock);
  const sid = randomBytes(24).toString('base64url');
  await put(oldStore, sid, {
    cookie: { originalMaxAge: 86_400_000, expires: new Date(Date.now() + 86_400_000).toISOString(), httpOnly: true, path: '/' },
    userId: 'u1',
  });
  const adopter = new ExpressSessionAdopter<AppSession>({ secret: SECRET, store: oldStore as ExpressSessionStoreLike, ...adopterOptions });
  const manager = new SessionManager<AppSession>(
    store,
    { cookie: { name: 'session', secure: false }, adopt: adopter, ...options },
    clock,
  );
  const oldCookie = `connect.sid=${encodeURIComponent(`s:${sign(sid, SECRET)}`)}`;
  return { clock, store, oldStore, sid, manager, oldCookie };
}

describe('express-session adoption: retiring the old record', () => {
  it("re-adopting a copy of the old cookie within the grace does not extend the grace: after the first adoption's 30 s the copy opens nothing", async () => {
    const { clock, manager, oldCookie } = await setup();
    const adopt = async () => {
      const context = await manager.extractSession(Context.background, request(oldCookie));
      const values = manager.session(context).values;
      await manager.injectSession(context, new Headers());
      return values;
    };
    // The browser's own adoption: the old record now expires 30 s from here.
    expect(await adopt()).toEqual({ userId: 'u1' });
    // A copy of the old cookie replayed every 25 s, each time inside the grace left.
    clock.advance(25_000);
    expect(await adopt()).toEqual({ userId: 'u1' });
    clock.advance(25_000);
    // 50 s after the adoption: the doc says "After it, a copy of the old cookie opens nothing".
    expect(await adopt()).toEqual({});
  });

  it("a log-out in the adopting request stays a log-out: a parallel adoption's retirement does not write the deleted old record back", async () => {
    const { manager, oldStore, sid, oldCookie } = await setup();
    // Two requests of the same browser, both carrying only the old cookie, both read the record.
    const loggingOut = await manager.extractSession(Context.background, request(oldCookie));
    const parallel = await manager.extractSession(Context.background, request(oldCookie));
    // The first logs out: the old record is deleted, whatever oldRecord says.
    manager.session(loggingOut).destroy();
    await manager.injectSession(loggingOut, new Headers());
    expect(await read(oldStore, sid)).toBeUndefined();
    // The parallel one finishes after it.
    await manager.injectSession(parallel, new Headers());
    // The deleted record must stay deleted: a copy of the old cookie opens nothing.
    expect(await read(oldStore, sid)).toBeUndefined();
    const replay = await manager.extractSession(Context.background, request(oldCookie));
    expect(manager.session(replay).values).toEqual({});
  });

  it('a retirement that fails leaves no kit-session session behind that no browser holds (not listed under its owner)', async () => {
    // express-session's MemoryStore whose writes fail (its backend down) once the record is in.
    class FailingWrites extends expressSession.MemoryStore {
      failing = false;
      override set(sid: string, session: expressSession.SessionData, callback?: (error?: unknown) => void): void {
        if (this.failing) {
          callback?.(new Error('connection lost'));
          return;
        }
        super.set(sid, session, callback);
      }
    }
    const oldStore = new FailingWrites();
    const { manager, oldCookie } = await setup({ ownerKey: 'userId' }, oldStore);
    oldStore.failing = true;
    for (let attempt = 0; attempt < 3; attempt++) {
      const context = await manager.extractSession(Context.background, request(oldCookie));
      const headers = new Headers();
      await expect(manager.injectSession(context, headers)).rejects.toBeInstanceOf(SessionStoreError);
      // No cookie was sent: the browser holds none of these sessions.
      expect(headers.getSetCookie()).toEqual([]);
    }
    // Three failed requests: the user has no kit-session session, yet …
    expect(await manager.listOwnerSessions('u1')).toEqual([]);
  });
});

describe('express-session adoption: a kit-session log-out within the grace', () => {
  // The grace's price, documented in docs/migrating.md: a request still carrying only the
  // old cookie that arrives after a log-out, within the grace, is adopted again; after the
  // grace it is not, and with oldRecord 'delete' it never is.
  async function switchThenLogOut(options: Parameters<typeof setup>[0], adopter?: Partial<ConstructorParameters<typeof ExpressSessionAdopter<AppSession>>[0]>) {
    const context = await setup(options, undefined, adopter);
    const { manager, oldCookie } = context;
    const first = await manager.extractSession(Context.background, request(oldCookie));
    const headers = new Headers();
    await manager.injectSession(first, headers);
    const kit = headers.getSetCookie().find((line) => line.startsWith('session='))!.split(';')[0]!;
    const logout = await manager.extractSession(Context.background, request(kit));
    manager.session(logout).destroy();
    await manager.injectSession(logout, new Headers());
    const late = async () => manager.session(await manager.extractSession(Context.background, request(oldCookie))).get('userId');
    return { ...context, late };
  }

  it("with the default 'expire', a late request with only the old cookie is adopted within the 30 s, and never after", async () => {
    const { clock, late } = await switchThenLogOut({});
    clock.advance(29_000);
    expect(await late()).toBe('u1');
    clock.advance(1_000);
    expect(await late()).toBeUndefined();
  });

  it("with oldRecord 'delete', an old cookie never brings back a session kit-session has ended", async () => {
    const { late } = await switchThenLogOut({}, { oldRecord: 'delete' });
    expect(await late()).toBeUndefined();
  });
});
