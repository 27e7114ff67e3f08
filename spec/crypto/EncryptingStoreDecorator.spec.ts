import { CookieSessionStore, EncryptingStoreDecorator, importRawKey, MemorySessionStore, type CryptoPath, type EncryptionKey, type SessionRecord } from 'kit-session';
import { isSelfContainedStore } from '../../lib/core/selfContainedStore.js';
import { createSessionModule } from 'kit-session/di';
import { randomBytes } from 'node:crypto';
import { FakeClock } from '../support/FakeClock.js';

type Values = Record<string, unknown>;

const HOUR = 60 * 60 * 1000;

function newKey(bytes = 32, id?: number): Promise<EncryptionKey> {
  return importRawKey(randomBytes(bytes).toString('base64'), id === undefined ? {} : { id });
}

function record(clock: FakeClock, values: Values, ttl = HOUR): SessionRecord<Values> {
  return { values, expireTime: clock.now() + ttl, deadline: clock.now() + 2 * ttl };
}

function cookieStore(clock: FakeClock, keys: readonly EncryptionKey[], crypto: CryptoPath = 'auto', cookieName?: string) {
  return new EncryptingStoreDecorator<Values>(
    new CookieSessionStore({}, clock),
    { keys, crypto, ...(cookieName === undefined ? {} : { cookieName }) },
    clock,
  );
}

function header(token: string): { version: number; keyId: number } {
  const bytes = Buffer.from(token, 'base64url');
  return { version: bytes[0]!, keyId: bytes.readUInt32BE(1) };
}

describe(EncryptingStoreDecorator, () => {
  let clock: FakeClock;

  beforeEach(() => {
    clock = new FakeClock();
  });

  describe('sealed format', () => {
    it('is base64url of version 1, the sealing key id, a 96-bit IV, the ciphertext and a 128-bit tag', async () => {
      const key = await newKey(32, 0xabcdef01);
      const store = cookieStore(clock, [key]);
      const token = await store.setSession('', record(clock, { a: 1 }));
      expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(header(token)).toEqual({ version: 1, keyId: 0xabcdef01 });
      const inner = await new CookieSessionStore({ allowPlaintext: true }, clock).setSession('', record(clock, { a: 1 }));
      // header 5 + IV 12 + tag 16 + token head 9 + the inner token's bytes
      expect(Buffer.from(token, 'base64url').length).toBe(5 + 12 + 16 + 9 + Buffer.from(inner, 'base64url').length);
    });

    it('uses a fresh IV for every seal: the same record never seals the same way twice', async () => {
      const store = cookieStore(clock, [await newKey()]);
      const same = record(clock, { a: 1 });
      const tokens = await Promise.all(Array.from({ length: 50 }, () => store.setSession('', same)));
      const ivs = tokens.map((token) => Buffer.from(token, 'base64url').subarray(5, 17).toString('hex'));
      expect(new Set(tokens).size).toBe(50);
      expect(new Set(ivs).size).toBe(50);
    });

    it('holds no plaintext value in the token', async () => {
      const store = cookieStore(clock, [await newKey()]);
      const token = await store.setSession('', record(clock, { secret: 'hunter2-hunter2' }));
      const decoded = Buffer.from(token, 'base64url').toString('latin1');
      expect(token).not.toContain('hunter2');
      expect(decoded).not.toContain('hunter2');
    });
  });

  describe('crypto paths', () => {
    it.each([16, 24, 32])('a %i-byte key: what either path seals, the other opens', async (bytes) => {
      const key = await newKey(bytes);
      const node = cookieStore(clock, [key], 'auto');
      const web = cookieStore(clock, [key], 'webcrypto');
      const values = { user: 'ada', list: [1, 2, 3], text: 'é🌍' };
      const fromNode = await node.setSession('', record(clock, values));
      const fromWeb = await web.setSession('', record(clock, values));
      expect((await web.getSession(fromNode))?.values).toEqual(values);
      expect((await node.getSession(fromWeb))?.values).toEqual(values);
    });

    it('with encryptValues, values sealed by one path open with the other', async () => {
      const key = await newKey();
      const inner = new MemorySessionStore<Values>({}, clock);
      const node = new EncryptingStoreDecorator(inner, { keys: [key], encryptValues: true, crypto: 'auto' }, clock);
      const web = new EncryptingStoreDecorator(inner, { keys: [key], encryptValues: true, crypto: 'webcrypto' }, clock);
      const token = await node.setSession('id-1', record(clock, { cart: ['apple'] }));
      expect((await web.getSession(token))?.values).toEqual({ cart: ['apple'] });
    });
  });

  describe('key rotation', () => {
    it('opens with any listed key, and seals with the first', async () => {
      const [oldKey, newKey_] = await Promise.all([newKey(), newKey()]);
      const before = cookieStore(clock, [oldKey]);
      const after = cookieStore(clock, [newKey_, oldKey]);
      const oldToken = await before.setSession('', record(clock, { n: 1 }));
      expect(header(oldToken).keyId).toBe(oldKey.id);
      const loaded = await after.getSession(oldToken);
      expect(loaded?.values).toEqual({ n: 1 });
      const resealed = await after.setSession(loaded!.id, record(clock, { n: 2 }));
      expect(header(resealed).keyId).toBe(newKey_.id);
      expect((await cookieStore(clock, [newKey_]).getSession(resealed))?.values).toEqual({ n: 2 });
    });

    it('a token sealed under a key no longer listed is not found', async () => {
      const [oldKey, currentKey] = await Promise.all([newKey(), newKey()]);
      const token = await cookieStore(clock, [oldKey]).setSession('', record(clock, { n: 1 }));
      expect(await cookieStore(clock, [currentKey]).getSession(token)).toBeUndefined();
    });

    it('a token naming a listed key id but sealed with another key is not found', async () => {
      const [a, b] = await Promise.all([newKey(32, 1), newKey(32, 1)]);
      const token = await cookieStore(clock, [a]).setSession('', record(clock, { n: 1 }));
      expect(await cookieStore(clock, [b]).getSession(token)).toBeUndefined();
    });
  });

  describe('binding', () => {
    it('a token sealed for one cookie name does not open as another', async () => {
      const key = await newKey();
      const token = await cookieStore(clock, [key], 'auto', '__Host-a').setSession('', record(clock, { n: 1 }));
      expect(await cookieStore(clock, [key], 'auto', '__Host-b').getSession(token)).toBeUndefined();
      expect(await cookieStore(clock, [key], 'webcrypto', '__Host-b').getSession(token)).toBeUndefined();
      expect(await cookieStore(clock, [key], 'auto', '__Host-a').getSession(token)).toBeDefined();
    });

    it('on a server-side store, the store\'s expiry is the session\'s: a copy of the cookie sealed with an earlier expiry still loads it', async () => {
      // Two holders of one session: the other one's request moved the expiry on.
      const key = await newKey();
      const inner = new MemorySessionStore<Values>({}, clock);
      const store = new EncryptingStoreDecorator(inner, { keys: [key] }, clock);
      const id = randomBytes(32).toString('base64url');
      const older = await store.setSession(id, record(clock, { n: 1 }, 1000));
      const newer = await store.setSession(id, record(clock, { n: 1 }, HOUR));
      clock.advance(1000);
      expect(await store.getSession(older)).toMatchObject({ id, values: { n: 1 } });
      expect(await store.getSession(newer)).toMatchObject({ id });
      await inner.deleteSession(id);
      expect(await store.getSession(older)).toBeUndefined();
    });

    it('on the cookie store, the expiry inside the seal ends the session', async () => {
      const store = cookieStore(clock, [await newKey()]);
      const token = await store.setSession('', record(clock, { n: 1 }, 1000));
      clock.advance(1000);
      // An expired record comes back as expired (the manager reports it and starts afresh), never as live.
      expect(isEnded(await store.getSession(token), clock.now())).toBe(true);
    });

    it('with encryptValues, a value moved to another session or another name does not open: it reads as absent', async () => {
      const key = await newKey();
      const inner = new MemorySessionStore<Values>({}, clock);
      const store = new EncryptingStoreDecorator(inner, { keys: [key], encryptValues: true }, clock);
      const victim = await store.setSession('victim', record(clock, { role: 'admin', name: 'v' }));
      const attacker = await store.setSession('attacker', record(clock, { role: 'user', name: 'a' }));
      const stolen = (await inner.getSession('victim'))!.values;
      // Copy the victim's sealed role into the attacker's record, then swap names in the victim's.
      const attackerRaw = (await inner.getSession('attacker'))!;
      await inner.setSession('attacker', { ...attackerRaw, values: { ...attackerRaw.values, role: stolen.role } });
      // Values open on their first read (node:crypto) or all at the load (Web Crypto): either
      // way the moved one is never given out.
      const web = new EncryptingStoreDecorator(inner, { keys: [key], encryptValues: true, crypto: 'webcrypto' }, clock);
      expect({ ...(await store.getSession(attacker))!.values }).toEqual({ name: 'a' });
      expect((await web.getSession(attacker))!.values).toEqual({ name: 'a' });
      await inner.setSession('victim', { ...attackerRaw, values: { role: stolen.name, name: stolen.role } });
      expect({ ...(await store.getSession(victim))!.values }).toEqual({});
      expect((await web.getSession(victim))!.values).toEqual({});
    });

    it('with encryptValues, an unsealed value slipped into the store is refused', async () => {
      const key = await newKey();
      const inner = new MemorySessionStore<Values>({}, clock);
      const store = new EncryptingStoreDecorator(inner, { keys: [key], encryptValues: true }, clock);
      const token = await store.setSession('s', record(clock, { role: 'user' }));
      const raw = (await inner.getSession('s'))!;
      await inner.setSession('s', { ...raw, values: { ...raw.values, role: 'admin' } });
      expect(await store.getSession(token)).toBeUndefined();
    });
  });

  describe('repeated reads of one token', () => {
    it.each([
      ['flat', { n: 1, name: 'ada' }],
      ['nested', { cart: ['apple'], profile: { name: 'ada' } }],
    ])('gives every read of one token values of its own (%s values)', async (_label, values) => {
      const store = cookieStore(clock, [await newKey()]);
      const token = await store.setSession('', record(clock, values));
      for (let read = 0; read < 4; read++) {
        const loaded = await store.getSession(token);
        expect(loaded?.values).toEqual(values);
        // What one request does to its values never reaches the next.
        (loaded!.values as Values).n = 99;
        (loaded!.values as Values).added = true;
        if (Array.isArray((loaded!.values as Values).cart)) {
          ((loaded!.values as Values).cart as string[]).push('pear');
        }
      }
    });

    it('checks the expiry on every read', async () => {
      const store = cookieStore(clock, [await newKey()]);
      const token = await store.setSession('', record(clock, { n: 1 }, 1000));
      await store.getSession(token);
      await store.getSession(token);
      clock.advance(1000);
      // An expired record comes back as expired (the manager reports it and starts afresh), never as live.
      expect(isEnded(await store.getSession(token), clock.now())).toBe(true);
    });

    it('checks the deadline on every read', async () => {
      const store = cookieStore(clock, [await newKey()]);
      const now = clock.now();
      const token = await store.setSession('', { values: { n: 1 }, expireTime: now + HOUR, deadline: now + 1000 });
      await store.getSession(token);
      await store.getSession(token);
      clock.advance(1000);
      // An expired record comes back as expired (the manager reports it and starts afresh), never as live.
      expect(isEnded(await store.getSession(token), clock.now())).toBe(true);
    });

    it('keeps a value named __proto__ an own value on every read', async () => {
      const store = cookieStore(clock, [await newKey()]);
      const values = JSON.parse('{"__proto__": 5, "n": 1}') as Values;
      const token = await store.setSession('', record(clock, values));
      for (let read = 0; read < 3; read++) {
        const loaded = (await store.getSession(token))!.values as Values;
        expect(Object.hasOwn(loaded, '__proto__')).toBe(true);
        expect(Object.getPrototypeOf(loaded)).toBe(Object.prototype);
      }
    });

    it('a token that does not open stays refused on every read, and the genuine one still opens', async () => {
      const key = await newKey();
      const store = cookieStore(clock, [key]);
      const token = await store.setSession('', record(clock, { n: 1 }));
      const bytes = Buffer.from(token, 'base64url');
      bytes[bytes.length - 1]! ^= 1;
      const forged = bytes.toString('base64url');
      expect(await store.getSession(forged)).toBeUndefined();
      expect(await store.getSession(forged)).toBeUndefined();
      expect(await store.getSession(token)).toBeDefined();
    });
  });

  describe('options', () => {
    it('takes encryptValues around a store that keeps the session in its token as a no-op: the token is sealed whole', async () => {
      const keys = [await newKey()];
      const plain = new EncryptingStoreDecorator(new CookieSessionStore(), { keys });
      const withValues = new EncryptingStoreDecorator(new CookieSessionStore(), { keys, encryptValues: true });
      const expireTime = Date.now() + 60_000;
      const token = await withValues.setSession('', { values: { user: 'Ada' }, expireTime, deadline: expireTime });
      expect(Buffer.from(token, 'base64url').includes('Ada')).toBe(false);
      expect(await withValues.getSession(token)).toMatchObject({ values: { user: 'Ada' } });
      // The same format as without the option: each opens the other's tokens.
      expect(await plain.getSession(token)).toMatchObject({ values: { user: 'Ada' } });
      // The container module keeps refusing it: there the option is for server-side stores.
      expect(() => createSessionModule({ keys, encryptValues: true })).toThrow(TypeError);
    });

    it('refuses an unknown crypto path', async () => {
      const keys = [await newKey()];
      expect(() => new EncryptingStoreDecorator(new CookieSessionStore(), { keys, crypto: 'fast' as CryptoPath })).toThrow(
        TypeError,
      );
    });

    it('the container module checks keys when it is made', () => {
      expect(() => createSessionModule({ keys: [] })).toThrow(TypeError);
    });
  });

  describe('.patchSession', () => {
    const id = randomBytes(32).toString('base64url');

    it('when given the token the session was loaded with, sealed under the current key, gives it back without sealing again', async () => {
      const store = new EncryptingStoreDecorator<Values>(new MemorySessionStore({}, clock), { keys: [await newKey()] }, clock);
      const saved = record(clock, { n: 1 });
      const token = await store.setSession(id, saved);
      const loaded = await store.getSession(token);
      const patch = { set: { n: 2 }, unset: [], expireTime: saved.expireTime, deadline: saved.deadline };
      expect(await store.patchSession!(loaded!.id, { ...patch, token })).toBe(token);
      expect((await store.getSession(token))?.values).toEqual({ n: 2 });
      // Without it, a new seal: the same session under another IV.
      const resealed = await store.patchSession!(loaded!.id, patch);
      expect(resealed).not.toBe(token);
      expect((await store.getSession(resealed!))?.values).toEqual({ n: 2 });
    });

    it('when the token was sealed under a key that is no longer first, seals a new one under the first', async () => {
      const [oldKey, currentKey] = await Promise.all([newKey(), newKey()]);
      const inner = new MemorySessionStore<Values>({}, clock);
      const saved = record(clock, { n: 1 });
      const token = await new EncryptingStoreDecorator<Values>(inner, { keys: [oldKey] }, clock).setSession(id, saved);
      const store = new EncryptingStoreDecorator<Values>(inner, { keys: [currentKey, oldKey] }, clock);
      const patched = await store.patchSession!(id, { set: { n: 2 }, unset: [], expireTime: saved.expireTime, deadline: saved.deadline, token });
      expect(header(patched!).keyId).toBe(currentKey.id);
    });
  });

  describe('optional abilities', () => {
    it('offers patches and the owner index exactly when the inner store has them', async () => {
      const key = await newKey();
      const overMemory = new EncryptingStoreDecorator(new MemorySessionStore(), { keys: [key] });
      const overCookie = new EncryptingStoreDecorator(new CookieSessionStore(), { keys: [key] });
      expect(typeof overMemory.patchSession).toBe('function');
      expect(typeof overMemory.deleteOwnerSessions).toBe('function');
      expect(overCookie.patchSession).toBeUndefined();
      expect(overCookie.deleteOwnerSessions).toBeUndefined();
      expect(isSelfContainedStore(new CookieSessionStore())).toBe(true);
      expect(isSelfContainedStore(new MemorySessionStore())).toBe(false);
      expect(isSelfContainedStore(overCookie)).toBe(false);
    });
  });
});

function isEnded(record: { expireTime: number; deadline: number } | undefined, now: number): boolean {
  return record === undefined || record.expireTime <= now || record.deadline <= now;
}
