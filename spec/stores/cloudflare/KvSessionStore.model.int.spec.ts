import { randomBytes } from 'node:crypto';
import type { Miniflare } from 'miniflare';
import { describeSessionModel, type ModelTarget, type TargetTraits } from '../../support/sessionModel.js';
import { KvStoreProxy, startWorkers, WorkerCaller } from '../../support/workersStores.js';

// The session model on the Workers KV store, each store call made from a Worker on
// workerd (Miniflare) against a real KV namespace: bare and with encryptValues. The store
// has only the three required methods, so the model runs with `wholeSaves`: every save
// writes the whole session (the last of two concurrent saves wins, and a save brings back
// what another request ended or renewed), and a renewal writes the new id and deletes the
// old one, with no grace. Each sequence writes under a prefix of its own. Miniflare's KV is
// one location: KV's propagation delay between locations is not modelled (docs/stores.md).
// KV keeps an entry at least 60 seconds of real time; the manager, on the test's clock,
// never serves one past its expiry.

let mf: Miniflare;

beforeAll(async () => {
  mf = await startWorkers();
}, 60_000);

afterAll(async () => {
  await mf?.dispose();
});

const open: ModelTarget['open'] = async (clock) => ({
  store: new KvStoreProxy(new WorkerCaller(mf, 'kv', `model-${randomBytes(9).toString('base64url')}`, clock)) as never,
});

const whole: TargetTraits = { kind: 'server', wholeSaves: true, sealed: false, encryptValues: false, ownerIndex: false };

describe('KvSessionStore (workerd) against the session model', () => {
  describeSessionModel({ name: 'KvSessionStore', traits: whole, open }, 40);
  describeSessionModel({ name: 'EncryptingStoreDecorator(KvSessionStore, encryptValues)', traits: { ...whole, sealed: true, encryptValues: true }, open }, 20);
});
