import { CookieSessionStore } from 'kit-session';
import { FakeClock } from '../support/FakeClock.js';
import { describeStoreContract } from '../support/storeContract.js';

describeStoreContract('CookieSessionStore', () => {
  const clock = new FakeClock();
  return { store: new CookieSessionStore({ allowPlaintext: true }, clock), clock, serverSide: false };
});
