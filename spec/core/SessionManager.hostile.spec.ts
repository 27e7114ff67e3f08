import fc from 'fast-check';
import {
  Context,
  CookieSessionStore,
  EncryptingStoreDecorator,
  importRawKey,
  SessionManager,
  type CryptoPath,
  type RequestLike,
  type EncryptionKey,
} from 'kit-session';
import { randomBytes } from 'node:crypto';
import { FakeClock } from '../support/FakeClock.js';
import { roundTrip } from '../support/http.js';

type Values = Record<string, unknown>;
const NAME = '__Host-session';

function managerFor(clock: FakeClock, keys: readonly EncryptionKey[], crypto: CryptoPath, name = NAME) {
  const store = new EncryptingStoreDecorator<Values>(new CookieSessionStore({}, clock), { keys, crypto, cookieName: name }, clock);
  return new SessionManager<Values>(store, { cookie: { name } }, clock);
}

/** A request whose Cookie header is exactly `header`, bytes the Headers class would refuse included. */
function rawRequest(header: string | null): RequestLike {
  return { headers: { get: (name) => (name.toLowerCase() === 'cookie' ? header : null) } };
}

describe.each<CryptoPath>(['auto', 'webcrypto'])('SessionManager facing hostile cookies (%s)', (crypto) => {
  let clock: FakeClock;
  let key: EncryptionKey;
  let manager: SessionManager<Values>;
  let token: string;

  /** Loads a session from a raw token; resolves to its status (never throws for bad input). */
  async function statusFor(value: string): Promise<string> {
    const context = await manager.extractSession(Context.background, rawRequest(`${NAME}=${value}`));
    return manager.getStatus(context);
  }

  beforeEach(async () => {
    clock = new FakeClock();
    key = await importRawKey(randomBytes(32).toString('base64'));
    manager = managerFor(clock, [key], crypto);
    const { cookie } = await roundTrip(manager, undefined, (c) => {
      manager.setValue(c, 'userId', 'ada');
      manager.setValue(c, 'payload', 'x'.repeat(150));
    });
    token = cookie!.slice(NAME.length + 1);
    expect(await statusFor(token)).toBe('unmodified');
  });

  it('every single-bit flip of a sealed cookie gives a fresh empty session', async () => {
    const bytes = Buffer.from(token, 'base64url');
    let checked = 0;
    for (let i = 0; i < bytes.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const flipped = Buffer.from(bytes);
        flipped[i]! ^= 1 << bit;
        expect(await statusFor(flipped.toString('base64url'))).toBe('new');
        checked++;
      }
    }
    expect(checked).toBe(bytes.length * 8);
  });

  it('every truncation of a sealed cookie gives a fresh empty session', async () => {
    for (let length = 0; length < token.length; length++) {
      expect(await statusFor(token.slice(0, length))).toBe('new');
    }
  });

  it.each([
    ['empty', ''],
    ['huge', 'A'.repeat(200_000)],
    ['not base64url', '!!!!$$$$****'],
    ['base64 with padding', 'AAAA=='],
    ['garbage bytes', '\u0000\u0001\u00ff\ud800'],
    ['percent-encoded junk', '%E0%A4%A'],
    ['quoted', '"abc"'],
  ])('a %s cookie gives a fresh empty session', async (_label, value) => {
    expect(await statusFor(value)).toBe('new');
  });

  it('a second spelling of the same bytes (unused low bits of the last character set) is refused', async () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const unusedBits = [0, 0, 0x0f, 0x03][token.length % 4]!;
    const spellings = alphabet
      .split('')
      .map((char) => token.slice(0, -1) + char)
      .filter((text) => text !== token && Buffer.from(text, 'base64url').equals(Buffer.from(token, 'base64url')));
    expect(unusedBits).toBeGreaterThan(0);
    expect(spellings.length).toBe(unusedBits);
    for (const text of spellings) {
      expect(await statusFor(text)).toBe('new');
    }
  });

  it('a cookie with extra bytes appended gives a fresh empty session', async () => {
    expect(await statusFor(`${token}AAAA`)).toBe('new');
  });

  it('a cookie sealed for another cookie name gives a fresh empty session', async () => {
    const other = managerFor(clock, [key], crypto, '__Host-other');
    const { cookie } = await roundTrip(other, undefined, (c) => other.setValue(c, 'userId', 'mallory'));
    expect(await statusFor(cookie!.slice('__Host-other='.length))).toBe('new');
  });

  it('an expired cookie, replayed after the clock moved past its expiry, gives a fresh empty session', async () => {
    clock.advance(24 * 60 * 60 * 1000);
    expect(await statusFor(token)).toBe('new');
  });

  it('a cookie sealed under a key no longer listed gives a fresh empty session', async () => {
    manager = managerFor(clock, [await importRawKey(randomBytes(32).toString('base64'))], crypto);
    expect(await statusFor(token)).toBe('new');
  });

  it('an unencrypted cookie-store token forged by a client gives a fresh empty session', async () => {
    const forged = await new CookieSessionStore({ allowPlaintext: true }, clock).setSession('', {
      values: { userId: 'admin' },
      expireTime: clock.now() + 1000,
      deadline: clock.now() + 1000,
    });
    expect(await statusFor(forged)).toBe('new');
  });

  it('property: any change to a sealed cookie gives a fresh empty session', async () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: token.length - 1 }), fc.constantFrom(...alphabet), async (at, char) => {
        fc.pre(token[at] !== char);
        const changed = token.slice(0, at) + char + token.slice(at + 1);
        // Changing the last character may only touch padding bits, which decode to the same bytes.
        fc.pre(!Buffer.from(changed, 'base64url').equals(Buffer.from(token, 'base64url')));
        expect(await statusFor(changed)).toBe('new');
      }),
      { numRuns: 300 },
    );
  });

  it('property: extractSession never throws for an arbitrary Cookie header', async () => {
    const header = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.string({ maxLength: 300 }).map((value) => `${NAME}=${value}`),
      fc
        .array(fc.tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 60 })), { maxLength: 8 })
        .map((pairs) => [...pairs.map(([k, v]) => `${k}=${v}`), `${NAME}=${token.slice(3)}`].join('; ')),
      fc.uint8Array({ maxLength: 400 }).map((bytes) => `${NAME}=${Buffer.from(bytes).toString('base64url')}`),
    );
    await fc.assert(
      fc.asyncProperty(header, async (value) => {
        const context = await manager.extractSession(Context.background, rawRequest(value));
        expect(manager.getStatus(context)).toBe('new');
      }),
      { numRuns: 500 },
    );
  });

  it('property: what was sealed opens to the same values, for arbitrary JSON values', async () => {
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 }), async (values) => {
        const { cookie } = await roundTrip(manager, undefined, (c) => {
          for (const [name, value] of Object.entries(values)) {
            manager.setValue(c, name, value);
          }
          manager.setValue(c, 'marker', true);
        });
        const { context } = await roundTrip(manager, cookie);
        for (const [name, value] of Object.entries(values)) {
          expect(manager.getValue(context, name)).toEqual(JSON.parse(JSON.stringify(value)));
        }
      }),
      { numRuns: 200 },
    );
  });
});
