import { randomBytes } from 'node:crypto';
import {
  CookieSessionStore,
  CookieTransport,
  EncryptingStoreDecorator,
  HeaderTransport,
  importRawKey,
  MemorySessionStore,
  SessionManager,
  type SessionRecord,
  type SessionStore,
} from 'kit-session';
import { FakeClock } from '../support/FakeClock.js';
import { CookieClient, HeaderClient } from '../support/transportClients.js';

// useTokenName's views: a further transport's name gets a view built through the app's
// own class, so a subclass that audits or counts sees every transport's loads and saves.

type Values = { n: number };

describe(EncryptingStoreDecorator, () => {
  describe('.useTokenName, a subclass of the decorator', () => {
    it.each<[string, (clock: FakeClock) => SessionStore<Values>]>([
      ['around the cookie store', (clock) => new CookieSessionStore<Values>({}, clock)],
      ['around the memory store', (clock) => new MemorySessionStore<Values>({}, clock)],
    ])('%s: its overrides run for the header transport\'s loads and saves as for the cookie\'s', async (_label, inner) => {
      const clock = new FakeClock();
      const keys = [await importRawKey(randomBytes(32).toString('base64'))];
      const seen: string[] = [];
      class Audited extends EncryptingStoreDecorator<Values> {
        override async getSession(token: string) {
          seen.push('get');
          return super.getSession(token);
        }
        override async setSession(id: string, record: SessionRecord<Values>) {
          seen.push('set');
          return super.setSession(id, record);
        }
      }
      const store = new Audited(inner(clock), { keys }, clock);
      const manager = new SessionManager<Values>(store, { transport: [new CookieTransport(), new HeaderTransport()] }, clock);

      // The cookie route: the subclass sees the save and the load.
      const browser = new CookieClient(manager);
      await browser.request((c) => manager.setValue(c, 'n', 1));
      await browser.request();
      expect(seen).toEqual(['set', 'get']);

      // The header route: the same store, the same app; the subclass must see them too.
      seen.length = 0;
      const app = new HeaderClient(manager);
      await app.request((c) => manager.setValue(c, 'n', 1));
      expect(app.token).toBeDefined();
      await app.request();
      expect(seen).toEqual(['set', 'get']);
    });
  });

  // EncryptingStoreOptions.cookieName: every manager whose first transport has another
  // name refuses the store, not only the first manager to bind it.
  describe('.useTokenName, with cookieName given', () => {
    it('a manager whose first transport has another name refuses the store, also after a manager of that name bound it', async () => {
      const keys = [await importRawKey(randomBytes(32).toString('base64'))];
      const store = new EncryptingStoreDecorator<Values>(new CookieSessionStore<Values>(), { keys, cookieName: '__Host-a' });
      expect(new SessionManager<Values>(store, { cookie: { name: '__Host-a' } }).name).toBe('__Host-a');
      expect(() => new SessionManager<Values>(store)).toThrow(TypeError);
    });
  });
});
