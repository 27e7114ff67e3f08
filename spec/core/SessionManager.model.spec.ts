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
  // The bound on an owner's sessions, each policy, and revocable sessions (owners'
  // generations): in the cookie, where revocation is the only way to end one, and
  // beside a server-side store.
  describeSessionModel(
    {
      name: 'MemorySessionStore, maxSessionsPerOwner 2, evict',
      traits: { kind: 'server', sealed: false, encryptValues: false, ownerIndex: true, limit: { max: 2, policy: 'evict' } },
      open: async (clock) => ({ store: new MemorySessionStore({}, clock) }),
    },
    120,
  );
  describeSessionModel(
    {
      name: 'MemorySessionStore, maxSessionsPerOwner 1, refuse',
      traits: { kind: 'server', sealed: false, encryptValues: false, ownerIndex: true, limit: { max: 1, policy: 'refuse' } },
      open: async (clock) => ({ store: new MemorySessionStore({}, clock) }),
    },
    80,
  );
  describeSessionModel(
    {
      name: 'EncryptingStoreDecorator(CookieSessionStore), revocation',
      traits: { ...cookie, revocation: true },
      open: async (clock) => ({ store: new CookieSessionStore({}, clock) }),
    },
    150,
  );
  describeSessionModel(
    {
      name: 'EncryptingStoreDecorator(MemorySessionStore, encryptValues), revocation',
      traits: { kind: 'server', sealed: true, encryptValues: true, ownerIndex: true, revocation: true },
      open: async (clock) => ({ store: new MemorySessionStore({}, clock) }),
    },
    60,
  );
});
