// An old session whose values hold text kit-session refuses to store (U+0000, a lone
// surrogate), which JSON, iron-session and React Router carry without complaint: e.g. a
// search box's text the old app kept in the session.
import { sealData } from 'iron-session';
import { createCookieSessionStorage } from 'react-router';
import { Context, MemorySessionStore, SessionManager, type SessionAdopter } from 'kit-session';
import { IronSessionAdopter } from 'kit-session/adopt/iron-session';
import { ReactRouterCookieAdopter } from 'kit-session/adopt/react-router';
import { request } from '../support/http.js';

const PASSWORD = 'a_password_of_at_least_32_characters_long';
const SECRETS = ['react-router-secret'];

function manager(adopt: SessionAdopter<any>) {
  return new SessionManager<Record<string, unknown>>(new MemorySessionStore(), { cookie: { name: 'kit', secure: false }, adopt });
}

describe('adopting an old session whose values kit-session cannot store', () => {
  it('an iron-session seal holding U+0000 in a value does not fail the request (the doc: "Opening a cookie never fails the request")', async () => {
    const seal = await sealData({ userId: 'u1', lastSearch: 'shoes\u0000' }, { password: PASSWORD, ttl: 3600 });
    const sessions = manager(new IronSessionAdopter({ cookieName: 'iron', password: PASSWORD, ttl: 3600 }));
    // Every request of this browser fails while it holds the iron-session cookie, which is
    // never expired: the user is not logged out, but locked out until `until`.
    await expect(sessions.extractSession(Context.background, request(`iron=${seal}`))).resolves.toBeInstanceOf(Context);
  });

  it('a React Router cookie session holding a lone surrogate in a value does not fail the request', async () => {
    const storage = createCookieSessionStorage({ cookie: { name: '__session', secrets: SECRETS } });
    const old = await storage.getSession();
    old.set('userId', 'u1');
    old.set('lastSearch', 'caf\uD800');
    const line = await storage.commitSession(old);
    const sessions = manager(new ReactRouterCookieAdopter({ cookie: { name: '__session', secrets: SECRETS } }));
    await expect(sessions.extractSession(Context.background, request(line.split(';')[0]))).resolves.toBeInstanceOf(Context);
  });
});
