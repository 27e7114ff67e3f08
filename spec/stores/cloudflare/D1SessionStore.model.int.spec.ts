import { D1SessionStore } from 'kit-session/cloudflare';
import { describeSessionModel, type ModelTarget } from '../../support/sessionModel.js';
import { startD1, type D1Fixture } from './d1Fixture.js';

// The session model on D1 (workerd's, through Miniflare), bare and with encryptValues, and
// with the bound's two policies: a database of this file's own, emptied after each
// sequence. Fewer runs than SQLite's: each step is a round trip to workerd.

const table = 'kit_session_model';
let d1: D1Fixture;

beforeAll(async () => {
  d1 = await startD1();
  await new D1SessionStore(d1.db, { table }).createTable();
});

afterAll(async () => {
  await d1.dispose();
});

const open: ModelTarget['open'] = async (clock) => ({
  store: new D1SessionStore(d1.db, { table }, clock),
  close: () => d1.empty(table),
});

const bare = { kind: 'server', sealed: false, encryptValues: false, ownerIndex: true } as const;
describeSessionModel({ name: 'D1SessionStore', traits: bare, open }, 100);
describeSessionModel(
  {
    name: 'EncryptingStoreDecorator(D1SessionStore, encryptValues), node:crypto and Web Crypto by turns',
    traits: { kind: 'server', sealed: true, encryptValues: true, ownerIndex: true },
    crypto: ['auto', 'webcrypto'],
    open,
  },
  60,
);
describeSessionModel({ name: 'D1SessionStore, maxSessionsPerOwner 2, evict', traits: { ...bare, limit: { max: 2, policy: 'evict' } }, open }, 40);
describeSessionModel({ name: 'D1SessionStore, maxSessionsPerOwner 1, refuse', traits: { ...bare, limit: { max: 1, policy: 'refuse' } }, open }, 30);
