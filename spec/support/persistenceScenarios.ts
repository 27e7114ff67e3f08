import { parseSetCookie, type SetCookie } from 'cookie';
import { randomBytes } from 'node:crypto';
import {
  Context,
  DEFAULT_COOKIE_NAME,
  EncryptingStoreDecorator,
  importRawKey,
  MemoryOwnerGenerations,
  SessionHeadersSentError,
  SessionManager,
  SessionStaleError,
  type Session,
  type SessionManagerOptions,
  type SessionStore,
} from 'kit-session';
import { withSession } from 'kit-session/fetch';
import { FakeClock } from './FakeClock.js';

// Remember-me per log-in (`Session.setPersistent`), one suite for every store: the choice
// is kept with the session and every later Set-Cookie follows it, through patches,
// renewals of both kinds, the idle timeout's touch, a log-in after a log-out, and
// "end all others".

/** The values of the scenarios. */
export type Values = Record<string, unknown>;

/** A store under test. */
export interface PersistenceStore {
  readonly store: SessionStore<Values>;
  readonly close?: () => Promise<void>;
}

const MINUTE = 60_000;

/** What a Set-Cookie asks of the browser: a cookie that outlives it, or one that ends with it. */
export function kindOf(setCookie: SetCookie | undefined): 'persistent' | 'browser session' | 'none' {
  if (setCookie === undefined) {
    return 'none';
  }
  return setCookie.maxAge !== undefined || setCookie.expires !== undefined ? 'persistent' : 'browser session';
}

/** What one request did. */
interface Exchange {
  readonly session: Session<Values>;
  readonly context: Context;
  /** The session cookie's Set-Cookie, parsed, when the response had one. */
  readonly setCookie: SetCookie | undefined;
}

/** One browser: keeps the session cookie, as a browser would, and sends each request through the manager. */
export class Tab {
  cookie: string | undefined;
  readonly #manager: SessionManager<Values>;

  constructor(manager: SessionManager<Values>, cookie?: string) {
    this.#manager = manager;
    this.cookie = cookie;
  }

  /** One whole request over https: load, act, save, keep the cookie. */
  async request(act: (session: Session<Values>, context: Context) => void | Promise<void> = () => {}): Promise<Exchange> {
    const headers: Record<string, string> = this.cookie === undefined ? {} : { cookie: `${DEFAULT_COOKIE_NAME}=${this.cookie}` };
    const context = await this.#manager.extractSession(Context.background, new Request('https://app.test/', { headers }));
    const session = this.#manager.session(context);
    await act(session, context);
    const out = new Headers();
    await this.#manager.injectSession(context, out);
    let setCookie: SetCookie | undefined;
    for (const line of out.getSetCookie()) {
      const parsed = parseSetCookie(line);
      if (parsed.name === DEFAULT_COOKIE_NAME) {
        setCookie = parsed;
        this.cookie = parsed.maxAge === 0 || parsed.value === '' ? undefined : parsed.value;
      }
    }
    return { session, context, setCookie };
  }
}

/** A log-in: a new id, the owner, and (when given) the remember-me choice. */
const logIn =
  (userId: string, persistent?: boolean) =>
  (session: Session<Values>): void => {
    session.renew();
    session.set('userId', userId);
    if (persistent !== undefined) {
      session.setPersistent(persistent);
    }
  };

/**
 * Registers the remember-me scenarios for one store, plain and (server-side stores)
 * wrapped in `EncryptingStoreDecorator` with `encryptValues`, which seals the metadata
 * that keeps the choice.
 *
 * @param name - What the store is called in the test names.
 * @param open - Builds a fresh store on the clock given.
 * @param serverSide - Whether sessions live on a server (a renewed id is then served
 *   stale within the grace), and the store is run wrapped in the decorator too.
 */
export function describePersistence(
  name: string,
  open: (clock: FakeClock) => Promise<PersistenceStore> | PersistenceStore,
  { serverSide }: { serverSide: boolean },
): void {
  for (const encrypted of serverSide ? [false, true] : [false]) {
    describe(`remember-me per log-in on ${name}${encrypted ? ', encrypted with encryptValues' : ''}`, () => {
      let clock: FakeClock;
      let fixture: PersistenceStore;
      let store: SessionStore<Values>;

      beforeEach(async () => {
        clock = new FakeClock();
        fixture = await open(clock);
        store = fixture.store;
        if (encrypted) {
          const keys = [await importRawKey(randomBytes(32).toString('base64'))];
          store = new EncryptingStoreDecorator(fixture.store, { keys, encryptValues: true }, clock);
        }
      });

      afterEach(async () => {
        await fixture.close?.();
      });

      const managerOf = (options: SessionManagerOptions = {}): SessionManager<Values> =>
        new SessionManager<Values>(store, options, clock);
      /** Options under which saves record owners' metadata, and "end all others" works. */
      const owned = (): SessionManagerOptions =>
        serverSide
          ? { ownerKey: 'userId' }
          : { ownerKey: 'userId', revocation: { generations: new MemoryOwnerGenerations() } };

      it.each<[string, () => SessionManagerOptions]>([
        ['no owner', () => ({})],
        ['an owner whose saves record metadata', owned],
      ])(
        'with the default (persistent), a log-in that chooses false gets a browser-session cookie, and so does every later Set-Cookie (%s)',
        async (_label, options) => {
          const tab = new Tab(managerOf(options()));
          const anonymous = await tab.request((session) => session.set('cart', 1));
          expect(kindOf(anonymous.setCookie)).toBe('persistent');
          expect(anonymous.session.persistent).toBeUndefined();

          const login = await tab.request(logIn('ada', false));
          expect(kindOf(login.setCookie)).toBe('browser session');
          expect(login.session.persistent).toBe(false);

          for (let visit = 1; visit <= 3; visit++) {
            clock.advance(MINUTE);
            // A changed value: a patch on the stores that take patches.
            const changed = await tab.request((session) => {
              expect(session.persistent).toBe(false);
              session.set('visits', visit);
            });
            expect(kindOf(changed.setCookie)).toBe('browser session');
          }
          const read = await tab.request();
          expect(read.session.persistent).toBe(false);
          expect(read.session.values).toEqual({ cart: 1, userId: 'ada', visits: 3 });
        },
      );

      it('with cookie.persistent false, a log-in that chooses true gets Max-Age up to the expiry on every later Set-Cookie; sessions that choose nothing get none', async () => {
        const manager = managerOf({ cookie: { persistent: false }, lifetime: 60 * MINUTE });
        const anonymous = await new Tab(manager).request((session) => session.set('cart', 1));
        expect(kindOf(anonymous.setCookie)).toBe('browser session');

        const tab = new Tab(manager);
        const login = await tab.request(logIn('ada', true));
        expect(login.setCookie?.maxAge).toBe(3600);
        expect(login.setCookie?.expires).toBeUndefined();
        clock.advance(10 * MINUTE);
        const later = await tab.request((session) => session.set('visits', 1));
        expect(later.setCookie?.maxAge).toBe(3000);
        expect(later.session.persistent).toBe(true);
      });

      it.each([false, true])('a choice of %s survives renew() in a later request, under the opposite default', async (persistent) => {
        const manager = managerOf({ cookie: { persistent: !persistent } });
        const tab = new Tab(manager);
        await tab.request(logIn('ada', persistent));
        const before = tab.cookie;
        const renewed = await tab.request((session) => session.renew());
        expect(tab.cookie).not.toBe(before);
        expect(kindOf(renewed.setCookie)).toBe(persistent ? 'persistent' : 'browser session');
        const next = await tab.request((session) => session.set('visits', 1));
        expect(next.session.persistent).toBe(persistent);
        expect(kindOf(next.setCookie)).toBe(persistent ? 'persistent' : 'browser session');
      });

      it("survives the renewalInterval's renewal of an unchanged session", async () => {
        const manager = managerOf({ renewalInterval: 10 * MINUTE });
        const tab = new Tab(manager);
        await tab.request(logIn('ada', false));
        const before = tab.cookie;
        clock.advance(11 * MINUTE);
        const renewed = await tab.request();
        expect(renewed.setCookie).toBeDefined();
        expect(tab.cookie).not.toBe(before);
        expect(kindOf(renewed.setCookie)).toBe('browser session');
        const next = await tab.request();
        expect(next.session.persistent).toBe(false);
        expect(next.session.get('userId')).toBe('ada');
      });

      it("survives the idle timeout's touch of an unchanged session: Max-Age for true, none for false", async () => {
        const manager = managerOf({ idleTimeout: 30 * MINUTE, cookie: { persistent: false } });
        const remembered = new Tab(manager);
        const forgotten = new Tab(manager);
        await remembered.request(logIn('ada', true));
        await forgotten.request(logIn('bob', false));
        clock.advance(10 * MINUTE);
        const touchedTrue = await remembered.request();
        const touchedFalse = await forgotten.request();
        expect(touchedTrue.session.status).toBe('unmodified');
        expect(touchedTrue.setCookie?.maxAge).toBe(30 * 60);
        expect(kindOf(touchedFalse.setCookie)).toBe('browser session');
        expect((await forgotten.request()).session.persistent).toBe(false);
      });

      it('destroy then log in, in one request: the new session carries the choice made in that request, never the old session\'s', async () => {
        const manager = managerOf({ cookie: { persistent: false } });
        const tab = new Tab(manager);
        await tab.request(logIn('ada', true));

        // Log out and in as another user, choosing nothing: the default, not ada's choice.
        const bob = await tab.request((session) => {
          session.destroy();
          logIn('bob')(session);
        });
        expect(bob.session.persistent).toBeUndefined();
        expect(kindOf(bob.setCookie)).toBe('browser session');

        // Log out and in, choosing after the destroy.
        const cy = await tab.request((session) => {
          session.destroy();
          logIn('cy', true)(session);
        });
        expect(kindOf(cy.setCookie)).toBe('persistent');

        // The choice made before the destroy, in the same request, goes with the new session too.
        const dee = await tab.request((session) => {
          session.setPersistent(false);
          session.destroy();
          logIn('dee')(session);
        });
        expect(kindOf(dee.setCookie)).toBe('browser session');
        const next = await tab.request();
        expect(next.session.values).toEqual({ userId: 'dee' });
        expect(next.session.persistent).toBe(false);
      });

      it('choosing what the session has writes nothing; changing its mind sends the cookie again', async () => {
        const tab = new Tab(managerOf());
        await tab.request(logIn('ada', false));
        const same = await tab.request((session) => session.setPersistent(false));
        expect(same.session.status).toBe('unmodified');
        expect(same.setCookie).toBeUndefined();
        const changed = await tab.request((session) => session.setPersistent(true));
        expect(kindOf(changed.setCookie)).toBe('persistent');
        expect((await tab.request()).session.persistent).toBe(true);
      });

      it("the manager's setPersistent(context, persistent) forwards to the session", async () => {
        const manager = managerOf();
        const tab = new Tab(manager);
        const login = await tab.request((_session, context) => {
          manager.renewToken(context);
          manager.setValue(context, 'userId', 'ada');
          manager.setPersistent(context, false);
        });
        expect(kindOf(login.setCookie)).toBe('browser session');
        expect((await tab.request()).session.persistent).toBe(false);
      });

      it('refuses a choice that is not a boolean with TypeError, and leaves the session as it was', async () => {
        const tab = new Tab(managerOf());
        const exchange = await tab.request((session) => {
          expect(() => session.setPersistent('false' as never)).toThrow(TypeError);
          expect(() => session.setPersistent(0 as never)).toThrow(TypeError);
          expect(session.status).toBe('new');
          expect(session.persistent).toBeUndefined();
        });
        expect(exchange.setCookie).toBeUndefined();
      });

      it('after the adapter saved the session for the last time, throws SessionHeadersSentError', async () => {
        let kept: Session<Values> | undefined;
        const handler = withSession(managerOf(), (_request, session) => {
          kept = session;
          return new Response('ok');
        });
        await handler(new Request('https://app.test/'));
        expect(() => kept!.setPersistent(false)).toThrow(SessionHeadersSentError);
      });

      it('"end all others" keeps the choice of the session that asks', async () => {
        const manager = managerOf(owned());
        const phone = new Tab(manager);
        const laptop = new Tab(manager);
        await phone.request(logIn('ada', true));
        await laptop.request(logIn('ada', false));
        const asked = await laptop.request(async (_session, context) => {
          await manager.destroyOtherSessions(context);
        });
        // Sealed cookies are sealed again with the new generation; a server-side session needs no new cookie.
        expect(kindOf(asked.setCookie)).toBe(serverSide ? 'none' : 'browser session');
        const phoneAfter = await phone.request();
        expect(phoneAfter.session.get('userId')).toBeUndefined();
        const next = await laptop.request((session) => session.set('visits', 1));
        expect(next.session.get('userId')).toBe('ada');
        expect(kindOf(next.setCookie)).toBe('browser session');
      });

      // A sealed cookie is not renewed in place: a copy of the old one is a session of its own.
      if (serverSide) {
        it('a stale request (the old id, within the renewal grace) saves no choice: commit() rejects with SessionStaleError', async () => {
          const manager = managerOf();
          const tab = new Tab(manager);
          await tab.request(logIn('ada', false));
          const old = tab.cookie!;
          await tab.request((session) => session.renew());
          const outcomes: unknown[] = [];
          const handler = withSession(manager, async (_request, session) => {
            expect(session.isStale).toBe(true);
            session.setPersistent(true);
            outcomes.push(await session.commit().then(() => 'saved', (error: unknown) => error));
            return new Response('ok');
          });
          const response = await handler(new Request('https://app.test/', { headers: { cookie: `${DEFAULT_COOKIE_NAME}=${old}` } }));
          expect(response.headers.get('set-cookie')).toBeNull();
          expect(outcomes).toEqual([expect.any(SessionStaleError)]);
          const next = await tab.request((session) => session.set('visits', 1));
          expect(next.session.persistent).toBe(false);
          expect(kindOf(next.setCookie)).toBe('browser session');
        });
      }
    });
  }
}
