import { parseSetCookie } from 'cookie';
import {
  Context,
  CookieSessionStore,
  createCookieSessions,
  EncryptingStoreDecorator,
  EncryptionKey,
  importKeyFromEnv,
  importKeysFromEnv,
  importRawKey,
} from 'kit-session';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';

/** A fresh key as `openssl rand -base64 32` prints it. */
const newKey = (bytes = 32): string => randomBytes(bytes).toString('base64');

/** What `importKeysFromEnv` rejected with, or `undefined` when it resolved. */
async function refusal(env: Record<string, string | undefined>, name = 'SESSION_KEY'): Promise<Error | undefined> {
  return importKeysFromEnv(name, env).then(
    () => undefined,
    (error: unknown) => error as Error,
  );
}

/** Whether `message` holds any 8 characters in a row of `secret` (a key, in any of its forms). */
function leaks(message: string, secret: string): boolean {
  for (let start = 0; start + 8 <= secret.length; start += 1) {
    if (message.includes(secret.slice(start, start + 8))) {
      return true;
    }
  }
  return false;
}

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
      await expect(async () => failure).rejects.toBeInstanceOf(TypeError);
      const error = (await failure.catch((e: unknown) => e)) as Error;
      expect(error.message).toContain(String(length));
      if (text !== '') {
        expect(error.message).not.toContain(text);
      }
    },
  );

  it.each(['not base64!', 'ab$cd', '====', 'a'])('rejects %p (not base64) with TypeError', async (text) => {
    await expect(async () => importRawKey(text)).rejects.toBeInstanceOf(TypeError);
  });

  it('rejects a value that is not a string with TypeError', async () => {
    await expect(async () => importRawKey(42 as unknown as string)).rejects.toBeInstanceOf(TypeError);
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
    expect(await importRawKey(raw, { id: 7 })).toMatchObject({ id: 7 });
    for (const id of [-1, 2 ** 32, 1.5, Number.NaN]) {
      await expect(async () => importRawKey(raw, { id })).rejects.toBeInstanceOf(TypeError);
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

describe(importKeysFromEnv, () => {
  it('reads one key, as importKeyFromEnv does', async () => {
    const text = newKey();
    const keys = await importKeysFromEnv('SESSION_KEY', { SESSION_KEY: text });
    expect(keys.map((key) => key.id)).toEqual([(await importKeyFromEnv('SESSION_KEY', { SESSION_KEY: text })).id]);
  });

  it('reads a comma-separated list newest first, in the order given, whatever the key sizes', async () => {
    const texts = [newKey(32), newKey(16), newKey(24)];
    const keys = await importKeysFromEnv('SESSION_KEY', { SESSION_KEY: texts.join(',') });
    expect(keys.map((key) => key.bits)).toEqual([256, 128, 192]);
    expect(keys.map((key) => key.id)).toEqual(await Promise.all(texts.map(async (text) => (await importRawKey(text)).id)));
  });

  it('skips blanks and empty entries, so "$NEW,$OLD" starts when the old key is unset', async () => {
    const [a, b] = [newKey(), newKey()];
    for (const value of [`${a},`, `,${a}`, ` ${a} ,, `, `${a}\n`]) {
      expect(await importKeysFromEnv('SESSION_KEY', { SESSION_KEY: value })).toHaveLength(1);
    }
    expect(await importKeysFromEnv('SESSION_KEY', { SESSION_KEY: ` ${a} , ${b} ` })).toHaveLength(2);
  });

  it.each([
    ['unset', undefined],
    ['empty', ''],
    ['blank', '  '],
    ['only commas', ' , ,'],
  ])('is a TypeError naming the variable when it is %s', async (_case, value) => {
    const error = await refusal({ OTHER: newKey(), SESSION_KEY: value });
    expect(error).toBeInstanceOf(TypeError);
    expect(error!.message).toContain('SESSION_KEY');
  });

  it.each([
    ['not base64', (good: string) => `${good},#${newKey()}`, 2],
    ['20 bytes', (good: string) => `${good},${newKey(20)}`, 2],
    ['an id before the key', (good: string) => `7:${good}`, 1],
    ['a key split by a comma', (good: string) => `${good.slice(0, 20)},${good.slice(20)}`, 1],
  ])(
    'is a TypeError naming the variable and the entry, with no part of any key, for an entry that is %s',
    async (_case, value, entry) => {
      const good = newKey();
      const text = value(good);
      const error = await refusal({ SESSION_KEY: text });
      expect(error).toBeInstanceOf(TypeError);
      expect(error!.message).toContain('SESSION_KEY');
      expect(error!.message).toContain(`entry ${entry} `);
      for (const part of text.split(/[,:]/).filter((entry) => entry.length >= 8)) {
        expect(leaks(error!.message, part)).toBe(false);
      }
      expect(leaks(error!.message, Buffer.from(good, 'base64').toString('hex'))).toBe(false);
    },
  );

  it('is a TypeError naming both entries when one key is listed twice, in any of its base64 forms', async () => {
    const raw = randomBytes(32);
    const text = `${newKey()},${raw.toString('base64')},${raw.toString('base64url')}`;
    const error = await refusal({ SESSION_KEY: text });
    expect(error).toBeInstanceOf(TypeError);
    expect(error!.message).toMatch(/entries 2 and 3\b/);
    expect(leaks(error!.message, raw.toString('base64'))).toBe(false);
  });

  it('reads process.env unless told otherwise', async () => {
    process.env.KIT_SESSION_TEST_KEYS = `${newKey(16)},${newKey(32)}`;
    try {
      expect((await importKeysFromEnv('KIT_SESSION_TEST_KEYS')).map((key) => key.bits)).toEqual([128, 256]);
    } finally {
      delete process.env.KIT_SESSION_TEST_KEYS;
    }
  });

  describe('a rotation as docs/security.md walks it, on machines that share cookies', () => {
    type Values = { user: string };
    const [oldKey, nextKey] = [newKey(), newKey()];

    /** One machine: its manager, from the SESSION_KEY it was deployed with. */
    async function machine(sessionKey: string) {
      const manager = createCookieSessions<Values>({ keys: await importKeysFromEnv('SESSION_KEY', { SESSION_KEY: sessionKey }) });
      return {
        /** Logs Ada in: the cookie's value. */
        async logIn(): Promise<string> {
          const context = await manager.extractSession(Context.background, new Request('https://app.test/login'));
          manager.session(context).set('user', 'ada');
          const headers = new Headers();
          await manager.injectSession(context, headers);
          return parseSetCookie(headers.getSetCookie()[0]!).value!;
        },
        /** Who the cookie is logged in as here; `undefined`: a fresh session. */
        async user(cookie: string): Promise<string | undefined> {
          const request = new Request('https://app.test/', { headers: { cookie: `__Host-session=${cookie}` } });
          return manager.session(await manager.extractSession(Context.background, request)).get('user');
        },
      };
    }

    it('never logs anyone out until the old key is dropped, whatever machine a request reaches', async () => {
      // Before: every machine has the old key.
      const before = await machine(oldKey);
      const oldCookie = await before.logIn();

      // Step 1: the new key added second, deployed to some machines but not yet others.
      const added = await machine(`${oldKey},${nextKey}`);
      expect(await added.user(oldCookie)).toBe('ada');
      const stillOldSealed = await added.logIn(); // the first key still seals
      expect(await before.user(stillOldSealed)).toBe('ada');

      // Step 2: once every machine lists it, the new key moves first; machines of step 1 open its cookies.
      const moved = await machine(`${nextKey},${oldKey}`);
      const newCookie = await moved.logIn();
      expect(await added.user(newCookie)).toBe('ada');
      expect(await moved.user(oldCookie)).toBe('ada');
      expect(await before.user(newCookie)).toBeUndefined(); // why step 1 must reach every machine first

      // Step 3: after the longest lifetime, the old key goes; what it sealed is a fresh session.
      const after = await machine(nextKey);
      expect(await after.user(newCookie)).toBe('ada');
      expect(await after.user(oldCookie)).toBeUndefined();
    });
  });
});
