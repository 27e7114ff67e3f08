import { CookieSessionStore, EncryptingStoreDecorator, importRawKey, type Aead, type CryptoPath, type EncryptionKey } from 'kit-session';
import { randomBytes } from 'node:crypto';
import { AES_GCM_WARN_AT, sealCountOf } from '../../lib/crypto/sealCount.js';
import { FakeClock } from '../support/FakeClock.js';
import { warningsDuring } from '../support/warnings.js';

const NEAR_BOUND = 'KIT_SESSION_KEY_NEAR_BOUND';

function store(keys: readonly EncryptionKey[], crypto: CryptoPath = 'auto', aead: Aead = 'aes-gcm') {
  const clock = new FakeClock();
  return new EncryptingStoreDecorator(new CookieSessionStore({}, clock), { keys, crypto, aead }, clock);
}

async function seal(target: EncryptingStoreDecorator, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    await target.setSession('', { values: { n: i }, expireTime: Date.now() + 60_000, deadline: Date.now() + 120_000 });
  }
}

describe('the count of AES-GCM seals per key', () => {
  it('counts every seal under the sealing key, across the stores of the process', async () => {
    const secret = randomBytes(32).toString('base64');
    const key = await importRawKey(secret);
    const before = sealCountOf(key.id).count;
    await seal(store([key]), 3);
    // Another import of the same key (same id), on the Web Crypto path: the same count.
    await seal(store([await importRawKey(secret)], 'webcrypto'), 2);
    expect(sealCountOf(key.id).count - before).toBe(5);
  });

  it.each(['auto', 'webcrypto'] as const)(
    'on the %s path, warns once, with the key id and never the key, when the count reaches 2^30',
    async (crypto) => {
      const secret = randomBytes(32).toString('base64');
      const key = await importRawKey(secret);
      const target = store([key], crypto);
      const count = sealCountOf(key.id);
      count.skip(AES_GCM_WARN_AT - 2 - count.count);
      const early = await warningsDuring(NEAR_BOUND, () => seal(target, 1));
      expect(early).toHaveLength(0);
      const warnings = await warningsDuring(NEAR_BOUND, () => seal(target, 3));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.name).toBe('KitSessionWarning');
      expect(warnings[0]!.message).toContain(String(key.id));
      expect(warnings[0]!.message).not.toContain(secret);
      expect(warnings[0]!.message).not.toContain(Buffer.from(secret, 'base64').toString('base64url'));
      // Past the threshold: no more warnings.
      expect(await warningsDuring(NEAR_BOUND, () => seal(target, 2))).toHaveLength(0);
    },
  );

  it('counts only the sealing key: opening under an older key counts nothing', async () => {
    const [fresh, old] = [await importRawKey(randomBytes(32).toString('base64')), await importRawKey(randomBytes(32).toString('base64'))];
    const token = await store([old]).setSession('', { values: {}, expireTime: Date.now() + 60_000, deadline: Date.now() + 120_000 });
    const [freshBefore, oldBefore] = [sealCountOf(fresh.id).count, sealCountOf(old.id).count];
    await store([fresh, old]).getSession(token);
    expect([sealCountOf(fresh.id).count - freshBefore, sealCountOf(old.id).count - oldBefore]).toEqual([0, 0]);
  });

  it('does not count XChaCha20-Poly1305 seals: their 192-bit nonces have no bound a process reaches', async () => {
    const key = await importRawKey(randomBytes(32).toString('base64'));
    const before = sealCountOf(key.id).count;
    await seal(store([key], 'auto', 'xchacha20-poly1305'), 3);
    expect(sealCountOf(key.id).count).toBe(before);
  });
});
