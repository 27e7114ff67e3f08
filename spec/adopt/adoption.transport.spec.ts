// A manager with a cookie transport and a header transport (a native client's API): a
// browser whose first request after the deploy is an API call that the header transport
// accepts, carrying only its old iron-session cookie.
import { sealData } from 'iron-session';
import { Context, CookieTransport, HeaderTransport, MemorySessionStore, SessionManager } from 'kit-session';
import { IronSessionAdopter } from 'kit-session/adopt/iron-session';

const PASSWORD = 'a_password_of_at_least_32_characters_long';

describe('adoption and the transport of the new session', () => {
  it("does not expire the old cookie while giving the new session's token only in a response header the browser does not keep", async () => {
    const manager = new SessionManager<{ userId: string }>(new MemorySessionStore(), {
      transport: [
        new CookieTransport({ name: 'kit', secure: false }),
        new HeaderTransport({ accepts: (request) => new URL(request.url ?? '/', 'http://app.test').pathname.startsWith('/api/') }),
      ],
      adopt: new IronSessionAdopter<{ userId: string }>({ cookieName: 'iron', password: PASSWORD, ttl: 3600 }),
    });
    const seal = await sealData({ userId: 'u1' }, { password: PASSWORD, ttl: 3600 });
    // The SPA's first call after the deploy: same-origin fetch, the browser sends its cookies.
    const context = await manager.extractSession(Context.background, new Request('http://app.test/api/me', { headers: { cookie: `iron=${seal}` } }));
    expect(manager.session(context).get('userId')).toBe('u1');
    const headers = new Headers();
    await manager.injectSession(context, headers);
    const setCookies = headers.getSetCookie();
    const oldExpired = setCookies.some((line) => line.startsWith('iron=;'));
    const kitCookie = setCookies.some((line) => line.startsWith('kit='));
    // Either the adopted session rides on a cookie, or the old cookie is left alone: the
    // browser keeps a session either way.
    expect(oldExpired && !kitCookie).toBe(false);
  });
});
