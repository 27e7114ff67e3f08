import { CookieSessionStore, MemorySessionStore } from 'kit-session';
import { describeSessionModel } from '../support/sessionModel.js';

// The model-based test on the stores that need no server: the encrypted cookie store
// on each crypto path, and the memory store bare, sealed, and with encryptValues.
// `FC_RUNS=… npm test -- model` runs it longer; the Redis, Redis Cluster and PostgreSQL
// runs are in their stores' folders.

const cookie = { kind: 'cookie', sealed: true, encryptValues: false, ownerIndex: false } as const;

describe('SessionManager against the session model', () => {
  describeSessionModel(
    { name: 'EncryptingStoreDecorator(CookieSessionStore), node:crypto', traits: cookie, open: async (clock) => ({ store: new CookieSessionStore({}, clock) }) },
    300,
  );
  describeSessionModel(
    {
      name: 'EncryptingStoreDecorator(CookieSessionStore), Web Crypto and node:crypto by turns',
      traits: cookie,
      crypto: ['webcrypto', 'auto'],
      open: async (clock) => ({ store: new CookieSessionStore({}, clock) }),
    },
    150,
  );
  describeSessionModel(
    {
      name: 'MemorySessionStore',
      traits: { kind: 'server', sealed: false, encryptValues: false, ownerIndex: true },
      open: async (clock) => ({ store: new MemorySessionStore({}, clock) }),
    },
    300,
  );
  describeSessionModel(
    {
      name: 'EncryptingStoreDecorator(MemorySessionStore)',
      traits: { kind: 'server', sealed: true, encryptValues: false, ownerIndex: true },
      open: async (clock) => ({ store: new MemorySessionStore({}, clock) }),
    },
    150,
  );
  describeSessionModel(
    {
      name: 'EncryptingStoreDecorator(MemorySessionStore, encryptValues), node:crypto and Web Crypto by turns',
      traits: { kind: 'server', sealed: true, encryptValues: true, ownerIndex: true },
      crypto: ['auto', 'webcrypto'],
      open: async (clock) => ({ store: new MemorySessionStore({}, clock) }),
    },
    250,
  );
});
