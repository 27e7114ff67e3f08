import { MemorySessionStore } from 'kit-session';
import { FakeClock } from '../support/FakeClock.js';
import { describeStoreContract } from '../support/storeContract.js';

describeStoreContract('MemorySessionStore', () => {
  const clock = new FakeClock();
  return { store: new MemorySessionStore({}, clock), clock, serverSide: true };
});
