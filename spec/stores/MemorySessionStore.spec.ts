import { MemorySessionStore } from 'kit-session';
import { FakeClock } from '../support/FakeClock';
import { describeStoreContract } from '../support/storeContract';

describeStoreContract('MemorySessionStore', () => {
  const clock = new FakeClock();
  return { store: new MemorySessionStore({}, clock), clock, serverSide: true };
});
