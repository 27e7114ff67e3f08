import { parseSetCookie } from 'cookie';
import fc from 'fast-check';
import {
  Context,
  CookieSessionStore,
  createCookieSessions,
  EncryptingStoreDecorator,
  importRawKey,
  MemorySessionStore,
  SessionManager,
  type Aead,
  type EncryptionKey,
  type SessionRecord,
} from 'kit-session';
import { createSessionModule } from 'kit-session/di';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { requireSodium } from '../../lib/crypto/SodiumSealer.js';
import { createSealer } from '../../lib/crypto/Sealer.js';
import { FakeClock } from '../support/FakeClock.js';

type Values = Record<string, unknown>;

const HOUR = 60 * 60 * 1000;
const XCHACHA: Aead = 'xchacha20-poly1305';

function newKey(bytes = 32, id?: number): Promise<EncryptionKey> {
  return importRawKey(randomBytes(bytes).toString('base64'), id === undefined ? {} : { id });
}

function record(clock: FakeClock, values: Values): SessionRecord<Values> {
  return { values, expireTime: clock.now() + HOUR, deadline: clock.now() + 2 * HOUR };
}

function cookieStore(clock: FakeClock, keys: readonly EncryptionKey[], aead: Aead, cookieName?: string) {
  return new EncryptingStoreDecorator<Values>(
    new CookieSessionStore({}, clock),
    { keys, aead, ...(cookieName === undefined ? {} : { cookieName }) },
    clock,
  );
}

function header(token: string): { version: number; keyId: number } {
  const bytes = Buffer.from(token, 'base64url');
  return { version: bytes[0]!, keyId: bytes.readUInt32BE(1) };
}

/** One request with the cookie (if any), setting `user` when given; the response's cookie value, if one was set. */
async function request(
  manager: SessionManager<{ user: string }>,
  cookie: string | undefined,
  user?: string,
): Promise<{ user: string | undefined; status: string; setCookie: string | undefined }> {
  const context = await manager.extractSession(
    Context.background,
    new Request('https://app.test/', cookie === undefined ? {} : { headers: { cookie: `__Host-session=${cookie}` } }),
  );
  const session = manager.session(context);
  const seen = { user: session.get('user'), status: session.status };
  if (user !== undefined) {
    session.set('user', user);
  }
  const headers = new Headers();
  await manager.injectSession(context, headers);
  const set = headers.getSetCookie()[0];
  return { ...seen, setCookie: set === undefined ? undefined : parseSetCookie(set).value };
}

describe('XChaCha20-Poly1305 sealing (aead)', () => {
  let clock: FakeClock;

  beforeEach(() => {
    clock = new FakeClock();
  });

  it('sodium-native loads here, and has the one-call AEAD', () => {
    const sodium = requireSodium();
    expect(typeof sodium.crypto_aead_xchacha20poly1305_ietf_encrypt).toBe('function');
  });

  describe('sealed format', () => {
    it('is base64url of version 2, the sealing key id, a 192-bit nonce, the ciphertext and a 128-bit tag', async () => {
      const store = cookieStore(clock, [await newKey(32, 0xabcdef01)], XCHACHA);
      const token = await store.setSession('', record(clock, { a: 1 }));
      expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(header(token)).toEqual({ version: 2, keyId: 0xabcdef01 });
      const inner = await new CookieSessionStore({ allowPlaintext: true }, clock).setSession('', record(clock, { a: 1 }));
      // header 5 + nonce 24 + tag 16 + token head 9 + the inner token's bytes
      expect(Buffer.from(token, 'base64url').length).toBe(5 + 24 + 16 + 9 + Buffer.from(inner, 'base64url').length);
      expect((await store.getSession(token))?.values).toEqual({ a: 1 });
    });

    it('uses a fresh nonce for every seal', async () => {
      const store = cookieStore(clock, [await newKey()], XCHACHA);
      const same = record(clock, { a: 1 });
      const tokens = await Promise.all(Array.from({ length: 300 }, () => store.setSession('', same)));
      const nonces = tokens.map((token) => Buffer.from(token, 'base64url').subarray(5, 29).toString('hex'));
      expect(new Set(nonces).size).toBe(300);
    });

    it('holds no plaintext value in the token', async () => {
      const store = cookieStore(clock, [await newKey()], XCHACHA);
      const token = await store.setSession('', record(clock, { secret: 'hunter2-hunter2' }));
      expect(Buffer.from(token, 'base64url').toString('latin1')).not.toContain('hunter2');
    });

    it("does not key XChaCha20-Poly1305 with the AES key's bytes: the same key under AES-GCM does not open a version-2 body", async () => {
      // Rewriting the version byte 2 → 1 must not open: the tag is over another key and another header.
      const key = await newKey();
      const token = await cookieStore(clock, [key], XCHACHA).setSession('', record(clock, { a: 1 }));
      const bytes = Buffer.from(token, 'base64url');
      bytes[0] = 1;
      expect(await cookieStore(clock, [key], 'aes-gcm').getSession(bytes.toString('base64url'))).toBeUndefined();
      expect(await cookieStore(clock, [key], XCHACHA).getSession(bytes.toString('base64url'))).toBeUndefined();
    });
  });

  describe('what does not open is not found', () => {
    let key: EncryptionKey;
    let store: EncryptingStoreDecorator<Values>;
    let token: string;

    beforeEach(async () => {
      key = await newKey();
      store = cookieStore(clock, [key], XCHACHA);
      token = await store.setSession('', record(clock, { user: 'ada', roles: ['admin'] }));
    });

    it('a token with any byte changed', async () => {
      const bytes = Buffer.from(token, 'base64url');
      await fc.assert(
        fc.asyncProperty(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 }), async (at, flip) => {
          const tampered = Buffer.from(bytes);
          tampered[at]! ^= flip;
          expect(await store.getSession(tampered.toString('base64url'))).toBeUndefined();
        }),
        { numRuns: 300 },
      );
    });

    it('a token cut short anywhere', async () => {
      await fc.assert(
        fc.asyncProperty(fc.nat(token.length - 1), async (length) => {
          expect(await store.getSession(token.slice(0, length))).toBeUndefined();
        }),
      );
    });

    it('a token with its algorithm byte set to any other value', async () => {
      const bytes = Buffer.from(token, 'base64url');
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: 255 }).filter((v) => v !== 2), async (version) => {
          const other = Buffer.from(bytes);
          other[0] = version;
          expect(await store.getSession(other.toString('base64url'))).toBeUndefined();
          expect(await cookieStore(clock, [key], 'aes-gcm').getSession(other.toString('base64url'))).toBeUndefined();
        }),
        { numRuns: 100 },
      );
    });

    it('any text at all, under either AEAD', async () => {
      const aes = cookieStore(clock, [key], 'aes-gcm');
      await fc.assert(
        fc.asyncProperty(fc.oneof(fc.string(), fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from([2, ...b]).toString('base64url'))), async (text) => {
          expect(await store.getSession(text)).toBeUndefined();
          expect(await aes.getSession(text)).toBeUndefined();
        }),
        { numRuns: 300 },
      );
    });

    it('a token under a key not listed, or a listed id with another key behind it', async () => {
      expect(await cookieStore(clock, [await newKey()], XCHACHA).getSession(token)).toBeUndefined();
      expect(await cookieStore(clock, [await newKey(32, key.id)], XCHACHA).getSession(token)).toBeUndefined();
      expect(await cookieStore(clock, [await newKey(32, key.id)], 'aes-gcm').getSession(token)).toBeUndefined();
    });

    it("a token sealed for another cookie's name", async () => {
      expect(await cookieStore(clock, [key], XCHACHA, '__Host-other').getSession(token)).toBeUndefined();
      expect(await cookieStore(clock, [key], 'aes-gcm', '__Host-other').getSession(token)).toBeUndefined();
    });
  });

  describe('switching the AEAD', () => {
    it('what AES-GCM sealed opens under XChaCha20-Poly1305 and back, marked to be sealed again', async () => {
      const keys = [await newKey()];
      const aes = cookieStore(clock, keys, 'aes-gcm');
      const xchacha = cookieStore(clock, keys, XCHACHA);
      const fromAes = await aes.setSession('', record(clock, { user: 'ada' }));
      const fromXChaCha = await xchacha.setSession('', record(clock, { user: 'ada' }));
      expect(header(fromAes).version).toBe(1);
      expect(header(fromXChaCha).version).toBe(2);
      expect(await xchacha.getSession(fromAes)).toMatchObject({ values: { user: 'ada' }, rewrite: true });
      expect(await aes.getSession(fromXChaCha)).toMatchObject({ values: { user: 'ada' }, rewrite: true });
      expect((await xchacha.getSession(fromXChaCha))?.rewrite).toBeUndefined();
      expect((await aes.getSession(fromAes))?.rewrite).toBeUndefined();
    });

    it('an older 128-bit AES key keeps opening its AES-GCM cookies under XChaCha20-Poly1305 with a new 256-bit key first', async () => {
      const old = await newKey(16);
      const oldToken = await cookieStore(clock, [old], 'aes-gcm').setSession('', record(clock, { user: 'ada' }));
      const store = cookieStore(clock, [await newKey(), old], XCHACHA);
      expect(await store.getSession(oldToken)).toMatchObject({ values: { user: 'ada' }, rewrite: true });
    });

    it.each([
      ['AES-GCM to XChaCha20-Poly1305', 'aes-gcm', XCHACHA],
      ['XChaCha20-Poly1305 to AES-GCM', XCHACHA, 'aes-gcm'],
    ] as const)('through a manager, %s logs nobody out: the next response reseals the cookie', async (_case, from, to) => {
      const keys = [await newKey()];
      const before = createCookieSessions<{ user: string }>({ keys, aead: from, clock });
      const after = createCookieSessions<{ user: string }>({ keys, aead: to, clock });
      const signedIn = await request(before, undefined, 'ada');
      expect(header(signedIn.setCookie!).version).toBe(from === 'aes-gcm' ? 1 : 2);

      // A read-only request after the switch: the session is there, and resealed under the new AEAD.
      const read = await request(after, signedIn.setCookie);
      expect(read).toMatchObject({ user: 'ada', status: 'unmodified' });
      expect(read.setCookie).toBeDefined();
      expect(header(read.setCookie!).version).toBe(to === 'aes-gcm' ? 1 : 2);

      // The resealed cookie is current: the next read writes nothing.
      const again = await request(after, read.setCookie);
      expect(again).toMatchObject({ user: 'ada', setCookie: undefined });
    });

    it('through a manager, a key rotation and an AEAD switch at once: an AES-GCM cookie of the old key is resealed with XChaCha20-Poly1305 under the new', async () => {
      const [old, fresh] = [await newKey(), await newKey()];
      const before = createCookieSessions<{ user: string }>({ keys: [old], clock });
      const signedIn = await request(before, undefined, 'ada');
      const after = createCookieSessions<{ user: string }>({ keys: [fresh, old], aead: XCHACHA, clock });
      const read = await request(after, signedIn.setCookie);
      expect(read.user).toBe('ada');
      expect(header(read.setCookie!)).toEqual({ version: 2, keyId: fresh.id });
      // Once the old key is dropped, the resealed cookie still opens; the old one does not.
      const dropped = createCookieSessions<{ user: string }>({ keys: [fresh], aead: XCHACHA, clock });
      expect(await request(dropped, read.setCookie)).toMatchObject({ user: 'ada', setCookie: undefined });
      expect(await request(dropped, signedIn.setCookie)).toMatchObject({ user: undefined, status: 'new' });
    });

    it('with encryptValues on a server-side store, values sealed by the other AEAD open and the session is rewritten', async () => {
      const keys = [await newKey()];
      const inner = new MemorySessionStore<Values>({}, clock);
      const aes = new EncryptingStoreDecorator<Values>(inner, { keys, encryptValues: true }, clock);
      const xchacha = new EncryptingStoreDecorator<Values>(inner, { keys, encryptValues: true, aead: XCHACHA }, clock);
      const token = await aes.setSession('sid-1', record(clock, { user: 'ada' }));
      expect(await xchacha.getSession(token)).toMatchObject({ values: { user: 'ada' }, rewrite: true });
      const resealed = await xchacha.setSession('sid-1', record(clock, { user: 'ada' }));
      expect(await xchacha.getSession(resealed)).toMatchObject({ values: { user: 'ada' } });
      expect((await xchacha.getSession(resealed))?.rewrite).toBeUndefined();
      expect(await aes.getSession(resealed)).toMatchObject({ values: { user: 'ada' }, rewrite: true });
    });

    it("tells a server-side store's token length under either AEAD", async () => {
      const keys = [await newKey()];
      for (const aead of ['aes-gcm', XCHACHA] as const) {
        const store = new EncryptingStoreDecorator<Values>(new MemorySessionStore<Values>({}, clock), { keys, aead }, clock);
        const id = 'x'.repeat(43);
        const token = await store.setSession(id, record(clock, { a: 1 }));
        expect(store.tokenLength!(id)).toBe(token.length);
      }
    });
  });

  describe('options', () => {
    it('refuses a sealing key shorter than 256 bits, naming the option', async () => {
      for (const bits of [16, 24]) {
        const keys = [await newKey(bits)];
        expect(() => cookieStore(clock, keys, XCHACHA)).toThrow(TypeError);
        expect(() => cookieStore(clock, keys, XCHACHA)).toThrow(/aead/);
        expect(() => createCookieSessions({ keys, aead: XCHACHA })).toThrow(TypeError);
      }
    });

    it("refuses crypto 'webcrypto' with XChaCha20-Poly1305, and an unknown AEAD", async () => {
      const keys = [await newKey()];
      expect(
        () => new EncryptingStoreDecorator(new CookieSessionStore({}, clock), { keys, aead: XCHACHA, crypto: 'webcrypto' }, clock),
      ).toThrow(TypeError);
      expect(() => cookieStore(clock, keys, 'aes-256-ocb' as Aead)).toThrow(TypeError);
      expect(() => createSessionModule({ keys, aead: 'aes-256-ocb' as Aead })).toThrow(TypeError);
      expect(() => createSessionModule({ aead: XCHACHA })).toThrow(TypeError);
    });

    it('the container module and createCookieSessions take the option', async () => {
      const keys = [await newKey()];
      expect(() => createSessionModule({ keys, aead: XCHACHA })).not.toThrow();
      const { setCookie } = await request(createCookieSessions({ keys, aead: XCHACHA }), undefined, 'ada');
      expect(header(setCookie!).version).toBe(2);
    });

    it('where sodium-native cannot be resolved, refuses at construction with a TypeError naming the option', () => {
      // A resolution base with no node_modules above it: the real loader, not a stand-in.
      const nowhere = path.join(tmpdir(), `kit-session-no-sodium-${process.pid}`, 'here.js');
      let failure: unknown;
      try {
        requireSodium(nowhere);
      } catch (error) {
        failure = error;
      }
      expect(failure).toBeInstanceOf(TypeError);
      expect((failure as Error).message).toMatch(/aead/);
      expect((failure as Error).cause).toBeDefined();
    });

    it('the AES-GCM sealer opens XChaCha20-Poly1305 without having loaded it at construction', async () => {
      const keys = [await newKey()];
      const token = await cookieStore(clock, keys, XCHACHA).setSession('', record(clock, { a: 1 }));
      const sealer = createSealer(keys, 'webcrypto');
      expect(sealer.aead).toBe('aes-gcm');
      const store = new EncryptingStoreDecorator<Values>(new CookieSessionStore({}, clock), { keys, crypto: 'webcrypto' }, clock);
      expect(await store.getSession(token)).toMatchObject({ values: { a: 1 }, rewrite: true });
    });
  });
});
