import { CookieSessionStore } from 'kit-session';
import { FakeClock } from '../support/FakeClock';
import { describeStoreContract } from '../support/storeContract';

describeStoreContract('CookieSessionStore', () => {
  const clock = new FakeClock();
  return { store: new CookieSessionStore({ allowPlaintext: true }, clock), clock, serverSide: false };
});
