import { CookieSessionStore, EncryptingStoreDecorator, importRawKey, EncryptionKey } from 'kit-session';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';

describe(importRawKey, () => {
  it.each([16, 24, 32])('imports a %i-byte key from standard base64', async (length) => {
    const key = await importRawKey(randomBytes(length).toString('base64'));
    expect(key).toBeInstanceOf(EncryptionKey);
    expect(key.bits).toBe(length * 8);
  });

  it('accepts url-safe base64, with or without padding, and surrounding whitespace', async () => {
    const raw = randomBytes(32);
    const ids = await Promise.all(
      [raw.toString('base64'), raw.toString('base64url'), `${raw.toString('base64url')}=`, ` ${raw.toString('base64')}\n`].map(
        async (text) => (await importRawKey(text)).id,
      ),
    );
    expect(new Set(ids).size).toBe(1);
  });

  it.each([0, 1, 15, 17, 23, 31, 33, 64])(
    'rejects a %i-byte key with TypeError that gives the length and never the key',
    async (length) => {
      const text = randomBytes(length).toString('base64');
      const failure = importRawKey(text);
      await expect(failure).rejects.toBeInstanceOf(TypeError);
      const error = (await failure.catch((e: unknown) => e)) as Error;
      expect(error.message).toContain(String(length));
      if (text !== '') {
        expect(error.message).not.toContain(text);
      }
    },
  );

  it.each(['not base64!', 'ab$cd', '====', 'a'])('rejects %p (not base64) with TypeError', async (text) => {
    await expect(importRawKey(text)).rejects.toBeInstanceOf(TypeError);
  });

  it('rejects a value that is not a string with TypeError', async () => {
    await expect(importRawKey(42 as unknown as string)).rejects.toBeInstanceOf(TypeError);
  });

  it('derives the same key id from the same key, and different ids from different keys', async () => {
    const raw = randomBytes(32).toString('base64');
    const [a, b, c] = await Promise.all([importRawKey(raw), importRawKey(raw), importRawKey(randomBytes(32).toString('base64'))]);
    expect(a.id).toBe(b.id);
    expect(a.id).not.toBe(c.id);
    expect(Number.isInteger(a.id) && a.id >= 0 && a.id <= 0xffffffff).toBe(true);
  });

  it('takes an explicit key id, and rejects one that is not an unsigned 32-bit integer', async () => {
    const raw = randomBytes(16).toString('base64');
    await expect(importRawKey(raw, { id: 7 })).resolves.toMatchObject({ id: 7 });
    for (const id of [-1, 2 ** 32, 1.5, Number.NaN]) {
      await expect(importRawKey(raw, { id })).rejects.toBeInstanceOf(TypeError);
    }
  });

  it('keeps the key material out of JSON, inspection and enumeration', async () => {
    const raw = randomBytes(32);
    const key = await importRawKey(raw.toString('base64'));
    const shown = [JSON.stringify(key), inspect(key, { showHidden: true, depth: 5 }), Object.keys(key).join()].join(' ');
    for (const form of [raw.toString('base64'), raw.toString('base64url'), raw.toString('hex')]) {
      expect(shown).not.toContain(form);
    }
    expect(Object.isFrozen(key)).toBe(true);
  });

  it('keys not made by importRawKey are refused with TypeError', () => {
    const forged = { id: 1, bits: 256 } as unknown as EncryptionKey;
    expect(() => new EncryptingStoreDecorator(new CookieSessionStore(), { keys: [forged] })).toThrow(TypeError);
  });

  it('an empty key list, or a key listed twice, is refused with TypeError', async () => {
    const key = await importRawKey(randomBytes(32).toString('base64'));
    expect(() => new EncryptingStoreDecorator(new CookieSessionStore(), { keys: [] })).toThrow(TypeError);
    expect(() => new EncryptingStoreDecorator(new CookieSessionStore(), { keys: [key, key] })).toThrow(TypeError);
  });
});
