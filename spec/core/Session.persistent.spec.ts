import { randomBytes } from 'node:crypto';
import { CookieSessionStore, EncryptingStoreDecorator, importRawKey, MemorySessionStore } from 'kit-session';
import { describePersistence, type Values } from '../support/persistenceScenarios.js';

// Remember-me per log-in (Session.setPersistent) on the stores that need no server:
// the sealed cookie and memory. Redis and PostgreSQL: Session.persistent.int.spec.ts.

describePersistence(
  'the sealed cookie store',
  async (clock) => ({
    store: new EncryptingStoreDecorator<Values>(
      new CookieSessionStore<Values>({}, clock),
      { keys: [await importRawKey(randomBytes(32).toString('base64'))] },
      clock,
    ),
  }),
  { serverSide: false },
);

describePersistence('the memory store', (clock) => ({ store: new MemorySessionStore<Values>({}, clock) }), { serverSide: true });
