// The fast paths that must not be seen: the key a sealed text names, told from its first
// 7 characters (sealedFormat.ts), and the decorator's answers at once (getSession and
// setSession without a promise over the cookie store on node:crypto), which must equal
// what Web Crypto resolves to.
import fc from 'fast-check';
import {
  Context,
  CookieSessionStore,
  EncryptingStoreDecorator,
  importRawKey,
  MemorySessionStore,
  SessionManager,
  type EncryptionKey,
  type SessionRecord,
} from 'kit-session';
import { randomBytes } from 'node:crypto';
import { header, keyHead, namesKey } from '../../lib/crypto/sealedFormat.js';
import { FakeClock } from '../support/FakeClock.js';

type Values = Record<string, unknown>;

const HOUR = 60 * 60 * 1000;

/** A text as a sealer writes it: header, IV, then some ciphertext and tag bytes. */
function sealedUnder(keyId: number, rest: Uint8Array): string {
  return Buffer.concat([header(keyId), rest]).toString('base64url');
}

describe('namesKey', () => {
  it('tells exactly the key id a sealed text names, for any two ids and any IV', () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff }), fc.uint8Array({ minLength: 28, maxLength: 60 }), (a, b, rest) => {
        expect(namesKey(sealedUnder(a, rest), keyHead(b))).toBe(a === b);
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    [0x10, 0x11],
    [0, 1],
    [0xffffffff, 0xfffffff0],
    [0x80000000, 0],
    [0xabcdef01, 0xabcdef02],
  ])('ids %i and %i, which differ in their last bits, are told apart', (a, b) => {
    for (const first of [0x00, 0x3f, 0xc0, 0xff]) {
      const rest = new Uint8Array(40).fill(7);
      rest[0] = first;
      expect(namesKey(sealedUnder(a, rest), keyHead(a))).toBe(true);
      expect(namesKey(sealedUnder(a, rest), keyHead(b))).toBe(false);
      expect(namesKey(sealedUnder(b, rest), keyHead(a))).toBe(false);
    }
  });

  it('names no key for a text too short or not in base64url', () => {
    const head = keyHead(0x12345678);
    const text = sealedUnder(0x12345678, new Uint8Array(30));
    expect(namesKey(text.slice(0, 6), head)).toBe(false);
    expect(namesKey(`${text.slice(0, 6)}!${text.slice(7)}`, head)).toBe(false);
  });
});

describe('EncryptingStoreDecorator answers at once where it can, as it answers later', () => {
  let clock: FakeClock;
  let fresh: EncryptionKey;
  let old: EncryptionKey;

  beforeAll(async () => {
    fresh = await importRawKey(randomBytes(32).toString('base64'), { id: 2 });
    old = await importRawKey(randomBytes(32).toString('base64'), { id: 3 });
  });

  beforeEach(() => {
    clock = new FakeClock();
  });

  function cookieStore(keys: readonly EncryptionKey[], crypto: 'auto' | 'webcrypto' = 'auto') {
    return new EncryptingStoreDecorator<Values>(new CookieSessionStore({}, clock), { keys, crypto }, clock);
  }

  function record(values: Values, ttl = HOUR, meta?: string): SessionRecord<Values> {
    return { values, expireTime: clock.now() + ttl, deadline: clock.now() + 2 * ttl, ...(meta === undefined ? {} : { meta }) };
  }

  it('over the cookie store on node:crypto, getSession answers without a promise what Web Crypto resolves to, for live, expired, old-key, tampered and foreign tokens', async () => {
    const store = cookieStore([fresh, old]);
    const web = cookieStore([fresh, old], 'webcrypto');
    const byOldKey = cookieStore([old]);
    const live = await store.setSession('id-1', record({ user: 'ada', list: [1, 2] }, HOUR, 'meta'));
    const expired = await store.setSession('', record({ n: 1 }, 1000));
    const oldKey = await byOldKey.setSession('', record({ n: 2 }));
    const tampered = `${live.slice(0, 40)}${live[40] === 'A' ? 'B' : 'A'}${live.slice(41)}`;
    const foreign = await cookieStore([await importRawKey(randomBytes(32).toString('base64'))]).setSession('', record({ n: 3 }));
    clock.advance(2000);
    for (const token of [live, expired, oldKey, tampered, foreign, '', 'not a token']) {
      const now = store.getSession(token);
      expect(now).not.toBeInstanceOf(Promise);
      const later = web.getSession(token);
      expect(later).toBeInstanceOf(Promise);
      expect(now).toEqual(await later);
    }
    expect(store.getSession(oldKey)).toMatchObject({ values: { n: 2 }, rewrite: true });
    expect(store.getSession(tampered)).toBeUndefined();
  });

  it('the answer at once equals the Web Crypto one for any values', async () => {
    const store = cookieStore([fresh, old]);
    const web = cookieStore([fresh, old], 'webcrypto');
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })), async (values) => {
        const token = store.setSession('', record(values));
        expect(typeof token).toBe('string');
        expect(store.getSession(token as string)).toEqual(await web.getSession(token as string));
      }),
      { numRuns: 200 },
    );
  });

  it('setSession seals at once on node:crypto what Web Crypto seals later: each opens to the same record', async () => {
    const store = cookieStore([fresh]);
    const web = cookieStore([fresh], 'webcrypto');
    const saved = record({ user: 'ada', text: 'é🌍' }, HOUR, 'meta');
    const now = store.setSession('id-1', saved);
    expect(typeof now).toBe('string');
    const later = web.setSession('id-1', saved);
    expect(later).toBeInstanceOf(Promise);
    expect(await store.getSession(now as string)).toEqual(await store.getSession(await later));
    expect((await web.getSession(now as string))?.values).toEqual(saved.values);
  });

  it('answers with a promise around a server-side store', async () => {
    const memory = new EncryptingStoreDecorator<Values>(new MemorySessionStore<Values>({}, clock), { keys: [fresh] }, clock);
    const id = 'server-side-id-0123456789abcdefghijklmnopq';
    const saving = memory.setSession(id, record({ n: 1 }));
    expect(saving).toBeInstanceOf(Promise);
    const loading = memory.getSession(await saving);
    expect(loading).toBeInstanceOf(Promise);
    expect((await loading)?.values).toEqual({ n: 1 });
  });

  it('a subclass that overrides the calls is called for every load and save of a manager', async () => {
    const seen: string[] = [];
    class Audited extends EncryptingStoreDecorator<Values> {
      override async getSession(t: string) {
        seen.push('get');
        return super.getSession(t);
      }
      override async setSession(i: string, r: SessionRecord<Values>) {
        seen.push('set');
        return super.setSession(i, r);
      }
    }
    const manager = new SessionManager<Values>(new Audited(new CookieSessionStore({}, clock), { keys: [fresh] }, clock), {}, clock);
    let context = await manager.extractSession(Context.background, new Request('http://localhost/'));
    manager.setValue(context, 'n', 1);
    const headers = new Headers();
    await manager.injectSession(context, headers);
    const cookie = headers.get('set-cookie')!.split(';')[0]!;
    context = await manager.extractSession(Context.background, new Request('http://localhost/', { headers: { cookie } }));
    expect(manager.getValue(context, 'n')).toBe(1);
    expect(seen).toEqual(['set', 'get']);
  });
});
