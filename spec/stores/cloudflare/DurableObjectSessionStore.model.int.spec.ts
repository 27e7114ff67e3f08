import { randomBytes } from 'node:crypto';
import type { Miniflare } from 'miniflare';
import { describeSessionModel, type ModelTarget } from '../../support/sessionModel.js';
import { DurableObjectStoreProxy, startWorkers, WorkerCaller } from '../../support/workersStores.js';

// The session model on the Durable Object store, each store call made from a Worker on
// workerd (Miniflare) against a SQLite-backed Durable Object: bare, with encryptValues
// and with the bound's two policies. Each sequence gets an object of its own (a fresh
// database). Fewer runs than the in-process stores: each store call is a request to
// workerd and on to the object (about 1–2 ms here).

let mf: Miniflare;

beforeAll(async () => {
  mf = await startWorkers();
}, 60_000);

afterAll(async () => {
  await mf?.dispose();
});

const open: ModelTarget['open'] = async (clock) => ({
  store: new DurableObjectStoreProxy(new WorkerCaller(mf, 'durable-object', `model-${randomBytes(9).toString('base64url')}`, clock)) as never,
});

const bare = { kind: 'server', sealed: false, encryptValues: false, ownerIndex: true } as const;

describe('DurableObjectSessionStore (workerd) against the session model', () => {
  describeSessionModel({ name: 'DurableObjectSessionStore', traits: bare, open }, 60);
  describeSessionModel(
    {
      name: 'EncryptingStoreDecorator(DurableObjectSessionStore, encryptValues)',
      traits: { kind: 'server', sealed: true, encryptValues: true, ownerIndex: true },
      open,
    },
    30,
  );
  describeSessionModel(
    { name: 'DurableObjectSessionStore, maxSessionsPerOwner 2, evict', traits: { ...bare, limit: { max: 2, policy: 'evict' } }, open },
    25,
  );
  describeSessionModel(
    { name: 'DurableObjectSessionStore, maxSessionsPerOwner 1, refuse', traits: { ...bare, limit: { max: 1, policy: 'refuse' } }, open },
    20,
  );
});
