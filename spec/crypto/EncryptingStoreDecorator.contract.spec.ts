import { CookieSessionStore, EncryptingStoreDecorator, importRawKey, MemorySessionStore } from 'kit-session';
import { FakeClock } from '../support/FakeClock.js';
import { describeStoreContract } from '../support/storeContract.js';
import { randomBytes } from 'node:crypto';

for (const path of ['auto', 'webcrypto'] as const) {
  describeStoreContract(`EncryptingStoreDecorator(CookieSessionStore), ${path}`, async () => {
    const clock = new FakeClock();
    const keys = [await importRawKey(randomBytes(32).toString('base64'))];
    const store = new EncryptingStoreDecorator(new CookieSessionStore({}, clock), { keys, crypto: path }, clock);
    return { store, clock, serverSide: false };
  });

  describeStoreContract(`EncryptingStoreDecorator(MemorySessionStore, encryptValues), ${path}`, async () => {
    const clock = new FakeClock();
    const keys = [await importRawKey(randomBytes(16).toString('base64'))];
    const inner = new MemorySessionStore({}, clock);
    const store = new EncryptingStoreDecorator(inner, { keys, crypto: path, encryptValues: true }, clock);
    return { store, clock, serverSide: true, encryptsValues: true };
  });
}
