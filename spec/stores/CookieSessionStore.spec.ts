import { CookieSessionStore } from 'kit-session';
import { FakeClock } from '../support/FakeClock.js';
import { describeStoreContract } from '../support/storeContract.js';

describeStoreContract('CookieSessionStore', () => {
  const clock = new FakeClock();
  return { store: new CookieSessionStore({ allowPlaintext: true }, clock), clock, serverSide: false };
});

describe(CookieSessionStore, () => {
  const store = new CookieSessionStore({ allowPlaintext: true }, new FakeClock());
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = new FakeClock().now();

  it.each([
    ['JSON that is not an object', encode([1, 2])],
    ['values that are not an object', encode({ v: [1], e: now + 1000, d: now + 1000 })],
    ['null values', encode({ v: null, e: now + 1000, d: now + 1000 })],
    ['a missing expiry', encode({ v: {}, d: now + 1000 })],
    ['a string expiry', encode({ v: {}, e: String(now + 1000), d: now + 1000 })],
    ['a NaN-like expiry', encode({ v: {}, e: null, d: now + 1000 })],
    ['bytes that are not UTF-8', Buffer.from([0xff, 0xfe, 0x7b]).toString('base64url')],
  ])('when the token holds %s, resolves to undefined', async (_label, token) => {
    expect(await store.getSession(token)).toBeUndefined();
  });

  it('is refused by a SessionManager unless built with allowPlaintext', () => {
    expect(new CookieSessionStore().allowPlaintext).toBe(false);
    expect(store.allowPlaintext).toBe(true);
  });
});
