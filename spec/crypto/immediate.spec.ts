// The fast paths that must not be seen: the key a sealed text names, told from its first
// 7 characters (sealedFormat.ts), and the decorator's answers at once (loadNow, saveNow:
// lib/core/immediateStore.ts), which must equal what getSession and setSession give.
import fc from 'fast-check';
import { CookieSessionStore, EncryptingStoreDecorator, importRawKey, MemorySessionStore, type EncryptionKey, type SessionRecord } from 'kit-session';
import { randomBytes } from 'node:crypto';
import { NOT_NOW } from '../../lib/core/immediateStore.js';
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

describe('EncryptingStoreDecorator answers at once as it answers later', () => {
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

  it('loadNow equals getSession for live, expired, old-key, tampered and foreign tokens', async () => {
    const store = cookieStore([fresh, old]);
    const byOldKey = cookieStore([old]);
    const live = await store.setSession('id-1', record({ user: 'ada', list: [1, 2] }, HOUR, 'meta'));
    const expired = await store.setSession('', record({ n: 1 }, 1000));
    const oldKey = await byOldKey.setSession('', record({ n: 2 }));
    const tampered = `${live.slice(0, 40)}${live[40] === 'A' ? 'B' : 'A'}${live.slice(41)}`;
    const foreign = await cookieStore([await importRawKey(randomBytes(32).toString('base64'))]).setSession('', record({ n: 3 }));
    clock.advance(2000);
    for (const token of [live, expired, oldKey, tampered, foreign, '', 'not a token']) {
      expect(store.loadNow(token)).toEqual(await store.getSession(token));
    }
    expect(store.loadNow(oldKey)).toMatchObject({ values: { n: 2 }, rewrite: true });
    expect(store.loadNow(tampered)).toBeUndefined();
  });

  it('loadNow equals getSession for any values', async () => {
    const store = cookieStore([fresh, old]);
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })), async (values) => {
        const token = await store.setSession('', record(values));
        expect(store.loadNow(token)).toEqual(await store.getSession(token));
      }),
      { numRuns: 200 },
    );
  });

  it('saveNow seals what setSession seals: each opens to the same record', async () => {
    const store = cookieStore([fresh]);
    const saved = record({ user: 'ada', text: 'é🌍' }, HOUR, 'meta');
    const now = store.saveNow('id-1', saved);
    expect(typeof now).toBe('string');
    const later = await store.setSession('id-1', saved);
    expect(await store.getSession(now as string)).toEqual(await store.getSession(later));
    expect((await store.getSession(now as string))?.values).toEqual(saved.values);
  });

  it('says NOT_NOW on Web Crypto, around a server-side store, and for a subclass that overrides the calls', async () => {
    const web = cookieStore([fresh], 'webcrypto');
    const token = await web.setSession('', record({ n: 1 }));
    expect(web.loadNow(token)).toBe(NOT_NOW);
    expect(web.saveNow('', record({ n: 1 }))).toBe(NOT_NOW);

    const memory = new EncryptingStoreDecorator<Values>(new MemorySessionStore<Values>({}, clock), { keys: [fresh] }, clock);
    const id = 'server-side-id-0123456789abcdefghijklmnopq';
    const sealed = await memory.setSession(id, record({ n: 1 }));
    expect(memory.loadNow(sealed)).toBe(NOT_NOW);
    expect(memory.saveNow(id, record({ n: 1 }))).toBe(NOT_NOW);

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
    const audited = new Audited(new CookieSessionStore({}, clock), { keys: [fresh] }, clock);
    const auditedToken = await audited.setSession('', record({ n: 1 }));
    expect(audited.loadNow(auditedToken)).toBe(NOT_NOW);
    expect(audited.saveNow('', record({ n: 1 }))).toBe(NOT_NOW);
    expect(seen).toEqual(['set']);
  });
});
