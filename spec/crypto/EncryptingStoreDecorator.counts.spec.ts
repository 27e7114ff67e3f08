// The AEAD calls `encryptValues` makes per load and per save, counted on the real
// node:crypto sealer (its seal and open spied on, not replaced), for a logged-in
// session of eight values: values open on their first read (lib/crypto/valuesOnRead.ts),
// a patch seals only what the request changed, and a whole save under the same id keeps
// the sealed text of every value it did not read or set. What must not change with it:
// rotation to a new key still seals every value again, a renewal (a new id) too, and a
// value that was tampered with or moved from another session or name never opens.
import fc from 'fast-check';
import {
  Context,
  EncryptingStoreDecorator,
  importRawKey,
  MemorySessionStore,
  SessionManager,
  type EncryptionKey,
  type LoadedSessionRecord,
  type SessionRecord,
  type SessionStore,
} from 'kit-session';
import { randomBytes } from 'node:crypto';
import { NodeCryptoSealer } from '../../lib/crypto/NodeCryptoSealer.js';
import { FakeClock } from '../support/FakeClock.js';

type Values = Record<string, unknown>;

const HOUR = 60 * 60 * 1000;

/** A logged-in session of eight values, about 200 bytes of JSON. */
const EIGHT: Values = {
  userId: 'u-1234567890',
  role: 'editor',
  csrf: 'q2Vf0w8yZk3nR7tB1xL5',
  theme: 'dark',
  locale: 'en-GB',
  cart: [101, 202],
  flags: { beta: true },
  visits: 41,
};

function newKey(id: number): Promise<EncryptionKey> {
  return importRawKey(randomBytes(32).toString('base64'), { id });
}

/** Counts the real sealer's calls. */
function countCalls() {
  const seal = jest.spyOn(NodeCryptoSealer.prototype, 'seal');
  const open = jest.spyOn(NodeCryptoSealer.prototype, 'open');
  return {
    take(): { seals: number; opens: number } {
      const counts = { seals: seal.mock.calls.length, opens: open.mock.calls.length };
      seal.mockClear();
      open.mockClear();
      return counts;
    },
  };
}

/** A store with the required methods only: every save is a whole save. */
function wholeSaves(inner: MemorySessionStore<Values>): SessionStore<Values> {
  return {
    getSession: (token) => inner.getSession(token),
    setSession: (id, record) => inner.setSession(id, record),
    deleteSession: (id) => inner.deleteSession(id),
  };
}

describe('EncryptingStoreDecorator with encryptValues: AEAD calls', () => {
  let clock: FakeClock;
  let key: EncryptionKey;

  beforeAll(async () => {
    key = await newKey(7);
  });

  beforeEach(() => {
    clock = new FakeClock();
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  function record(values: Values): SessionRecord<Values> {
    return { values, expireTime: clock.now() + HOUR, deadline: clock.now() + 2 * HOUR, meta: '{"c":1,"a":1}' };
  }

  describe('through the manager, on a patchable store', () => {
    async function request(manager: SessionManager<Values>, cookie: string | undefined, handler: (context: Context) => void) {
      const context = await manager.extractSession(
        Context.background,
        new Request('http://localhost/', cookie === undefined ? {} : { headers: { cookie } }),
      );
      handler(context);
      const headers = new Headers();
      await manager.injectSession(context, headers);
      return headers.get('set-cookie')?.split(';')[0] ?? cookie;
    }

    it('a load opens the token and the metadata; a counter opens one value more and seals it and the metadata', async () => {
      const manager = new SessionManager<Values>(
        new EncryptingStoreDecorator(new MemorySessionStore<Values>({}, clock), { keys: [key], encryptValues: true }, clock),
        {},
        clock,
      );
      const calls = countCalls();
      const cookie = await request(manager, undefined, (context) => {
        manager.renewToken(context); // a log-in: the session gets metadata to keep
        for (const [name, value] of Object.entries(EIGHT)) {
          manager.setValue(context, name, value);
        }
      });
      // A new session: every value, the metadata and the token.
      expect(calls.take()).toEqual({ seals: 10, opens: 0 });

      await request(manager, cookie, (context) => {
        manager.setValue(context, 'visits', (manager.getValue<number>(context, 'visits') ?? 0) + 1);
      });
      // Was 10 opens (the token, eight values, the metadata) and 2 seals.
      expect(calls.take()).toEqual({ seals: 2, opens: 3 });

      let read: unknown;
      await request(manager, cookie, (context) => {
        read = manager.getValue(context, 'userId');
      });
      expect(read).toBe('u-1234567890');
      expect(calls.take()).toEqual({ seals: 0, opens: 3 });

      await request(manager, cookie, () => {});
      expect(calls.take()).toEqual({ seals: 0, opens: 2 });

      let all: unknown;
      await request(manager, cookie, (context) => {
        all = { ...manager.session(context).values };
      });
      expect(all).toEqual({ ...EIGHT, visits: 42 });
    });

    it('rotation to a new key opens every value and seals every one again, and the old key is then not needed', async () => {
      const inner = new MemorySessionStore<Values>({}, clock);
      const old = await newKey(8);
      const before = new SessionManager<Values>(new EncryptingStoreDecorator(inner, { keys: [old], encryptValues: true }, clock), {}, clock);
      const cookie = await request(before, undefined, (context) => {
        setAll(before, context, EIGHT);
      });
      const rotating = new SessionManager<Values>(
        new EncryptingStoreDecorator(inner, { keys: [key, old], encryptValues: true }, clock),
        {},
        clock,
      );
      const calls = countCalls();
      const next = await request(rotating, cookie, () => {});
      expect(calls.take()).toEqual({ seals: 10, opens: 10 });
      const after = new SessionManager<Values>(new EncryptingStoreDecorator(inner, { keys: [key], encryptValues: true }, clock), {}, clock);
      let all: unknown;
      await request(after, next, (context) => {
        all = { ...after.session(context).values };
      });
      expect(all).toEqual(EIGHT);
    });

    it('a renewal (a new id) seals every value again under the new id', async () => {
      const inner = new MemorySessionStore<Values>({}, clock);
      const manager = new SessionManager<Values>(new EncryptingStoreDecorator(inner, { keys: [key], encryptValues: true }, clock), {}, clock);
      const calls = countCalls();
      const cookie = await request(manager, undefined, (context) => setAll(manager, context, EIGHT));
      calls.take();
      const renewed = await request(manager, cookie, (context) => manager.renewToken(context));
      expect(renewed).not.toBe(cookie);
      expect(calls.take()).toEqual({ seals: 10, opens: 10 });
      let all: unknown;
      await request(manager, renewed, (context) => {
        all = { ...manager.session(context).values };
      });
      expect(all).toEqual(EIGHT);
    });
  });

  describe('whole saves (a store with the required methods only)', () => {
    it('a save under the same id seals only the metadata, the token and what was read or set', async () => {
      const inner = new MemorySessionStore<Values>({}, clock);
      const store = new EncryptingStoreDecorator(wholeSaves(inner), { keys: [key], encryptValues: true }, clock);
      const token = await store.setSession('s-1', record(EIGHT));
      const calls = countCalls();
      const loaded = (await store.getSession(token))!;
      expect(calls.take()).toEqual({ seals: 0, opens: 2 });
      await store.setSession(loaded.id, { ...record({}), values: loaded.values });
      expect(calls.take()).toEqual({ seals: 2, opens: 0 });

      const again = (await store.getSession(token))!;
      const values = again.values as Values;
      expect(values.role).toBe('editor');
      values.visits = 42;
      delete values.flags;
      calls.take();
      await store.setSession(again.id, { ...record({}), values });
      // role (read) and visits (set) sealed again; the five others kept; flags gone.
      expect(calls.take()).toEqual({ seals: 4, opens: 0 });
      const expected: Values = { ...EIGHT, visits: 42 };
      delete expected.flags;
      expect({ ...(await store.getSession(token))!.values }).toEqual(expected);
    });

    it('a save under another id seals every value again, bound to that id', async () => {
      const inner = new MemorySessionStore<Values>({}, clock);
      const store = new EncryptingStoreDecorator(wholeSaves(inner), { keys: [key], encryptValues: true }, clock);
      const loaded = (await store.getSession(await store.setSession('s-1', record(EIGHT))))!;
      const calls = countCalls();
      const moved = await store.setSession('s-2', { ...record({}), values: loaded.values });
      expect(calls.take()).toEqual({ seals: 10, opens: 8 });
      expect({ ...(await store.getSession(moved))!.values }).toEqual(EIGHT);
    });

    it('a save through another key list seals every value again under its first key', async () => {
      const inner = new MemorySessionStore<Values>({}, clock);
      const next = await newKey(9);
      const store = new EncryptingStoreDecorator(wholeSaves(inner), { keys: [key], encryptValues: true }, clock);
      const other = new EncryptingStoreDecorator(wholeSaves(inner), { keys: [next, key], encryptValues: true }, clock);
      const token = await store.setSession('s-1', record(EIGHT));
      const loaded = (await store.getSession(token))!;
      const calls = countCalls();
      const resealed = await other.setSession(loaded.id, { ...record({}), values: loaded.values });
      expect(calls.take()).toEqual({ seals: 10, opens: 8 });
      const onlyNext = new EncryptingStoreDecorator(wholeSaves(inner), { keys: [next], encryptValues: true }, clock);
      expect({ ...(await onlyNext.getSession(resealed))!.values }).toEqual(EIGHT);
    });
  });

  describe('values that do not open', () => {
    async function twoSessions() {
      const inner = new MemorySessionStore<Values>({}, clock);
      const store = new EncryptingStoreDecorator(inner, { keys: [key], encryptValues: true }, clock);
      const victim = await store.setSession('victim', record({ role: 'admin', name: 'v' }));
      const attacker = await store.setSession('attacker', record({ role: 'user', name: 'a' }));
      return { inner, store, victim, attacker };
    }

    it('a value moved from another session reads as absent, never as that session\'s value', async () => {
      const { inner, store, attacker } = await twoSessions();
      const stolen = (await inner.getSession('victim'))!.values;
      const raw = (await inner.getSession('attacker'))!;
      await inner.setSession('attacker', { ...raw, values: { ...raw.values, role: stolen.role } });
      const loaded = (await store.getSession(attacker))!;
      const values = loaded.values as Values;
      expect(values.role).toBeUndefined();
      expect(Object.hasOwn(values, 'role')).toBe(false);
      expect(values.name).toBe('a');
    });

    it('values swapped between names read as absent', async () => {
      const { inner, store, victim } = await twoSessions();
      const raw = (await inner.getSession('victim'))!;
      await inner.setSession('victim', { ...raw, values: { role: raw.values.name, name: raw.values.role } });
      const values = (await store.getSession(victim))!.values as Values;
      expect([values.role, values.name]).toEqual([undefined, undefined]);
      expect({ ...values }).toEqual({});
    });

    it('a value changed anywhere in its sealed bytes reads as absent', async () => {
      const { inner, store, attacker } = await twoSessions();
      const raw = (await inner.getSession('attacker'))!;
      const sealed = Buffer.from(raw.values.role as string, 'base64url');
      await fc.assert(
        fc.asyncProperty(fc.nat({ max: sealed.length - 1 }), fc.integer({ min: 1, max: 255 }), async (at, flip) => {
          const forged = Buffer.from(sealed);
          forged[at]! ^= flip;
          await inner.setSession('attacker', { ...raw, values: { ...raw.values, role: forged.toString('base64url') } });
          const loaded = await store.getSession(attacker);
          // A changed header may name no listed key: the session is not found; else the value does not open.
          if (loaded !== undefined) {
            expect((loaded.values as Values).role).toBeUndefined();
            expect((loaded.values as Values).name).toBe('a');
          }
        }),
        { numRuns: 200 },
      );
    });

    it('a value that does not open is removed by the next rewrite under a new key', async () => {
      const inner = new MemorySessionStore<Values>({}, clock);
      const store = new EncryptingStoreDecorator(inner, { keys: [key], encryptValues: true }, clock);
      const token = await store.setSession('s', record({ role: 'user', name: 'a' }));
      const raw = (await inner.getSession('s'))!;
      const forged = Buffer.from(raw.values.role as string, 'base64url');
      forged[forged.length - 1]! ^= 1;
      await inner.setSession('s', { ...raw, values: { ...raw.values, role: forged.toString('base64url') } });
      const loaded = (await store.getSession(token))!;
      const values = loaded.values as Values;
      await store.patchSession!('s', { set: { role: values.role, name: values.name }, unset: [], expireTime: loaded.expireTime, deadline: loaded.deadline });
      expect(Object.keys((await inner.getSession('s'))!.values)).toEqual(['name']);
    });

    it('a value under a key no longer listed, or not sealed at all, leaves the session not found', async () => {
      const inner = new MemorySessionStore<Values>({}, clock);
      const old = await newKey(10);
      const token = await new EncryptingStoreDecorator(inner, { keys: [old], encryptValues: true }, clock).setSession('s', record({ n: 1 }));
      const raw = (await inner.getSession('s'))!;
      const store = new EncryptingStoreDecorator(inner, { keys: [key, old], encryptValues: true }, clock);
      const current = (await store.getSession(token)) as LoadedSessionRecord<Values>;
      expect(current.rewrite).toBe(true);
      expect(current.values).toEqual({ n: 1 });
      // Under `key` alone: a value sealed under the old key, or not sealed, in a session that otherwise opens.
      const onlyNew = new EncryptingStoreDecorator(inner, { keys: [key], encryptValues: true }, clock);
      const other = await onlyNew.setSession('t', record({ m: 2 }));
      const rawT = (await inner.getSession('t'))!;
      expect(await onlyNew.getSession(other)).toBeDefined();
      await inner.setSession('t', { ...rawT, values: { ...rawT.values, n: raw.values.n } });
      expect(await onlyNew.getSession(other)).toBeUndefined();
      await inner.setSession('t', { ...rawT, values: { ...rawT.values, n: 1 } });
      expect(await onlyNew.getSession(other)).toBeUndefined();
    });
  });
});

function setAll(manager: SessionManager<Values>, context: Context, values: Values): void {
  for (const [name, value] of Object.entries(values)) {
    manager.setValue(context, name, value);
  }
  manager.renewToken(context);
}
