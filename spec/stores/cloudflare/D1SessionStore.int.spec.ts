import { randomBytes } from 'node:crypto';
import {
  EncryptingStoreDecorator,
  importRawKey,
  isOwnerIndexedStore,
  isOwnerListingStore,
  isPatchableStore,
  isRenewableStore,
  SessionStoreError,
} from 'kit-session';
import { D1SessionStore, type D1Handle } from 'kit-session/cloudflare';
import { FakeClock } from '../../support/FakeClock.js';
import { describeManagerScenarios, hashedId } from '../../support/services.js';
import { describeStoreContract, type ContractValues } from '../../support/storeContract.js';
import { startD1, type D1Fixture } from './d1Fixture.js';

// The shared contract on D1 (workerd's, through Miniflare), bare and with encryptValues,
// the manager scenarios, and what lies in the table.

const HOUR = 60 * 60 * 1000;
const table = 'kit_sessions';

function newId(): string {
  return randomBytes(32).toString('base64url');
}

describe(D1SessionStore, () => {
  it.each([
    ['null', null],
    ['a pg.Pool-like object', { query: () => undefined }],
    ['an object with prepare but no batch', { prepare: () => undefined }],
  ])('rejects a binding that is %s with TypeError when built', (_label, db) => {
    expect(() => new D1SessionStore(db as unknown as D1Handle)).toThrow(TypeError);
  });

  it('rejects a bad table name, a bad timeout and an unknown option with TypeError when built', () => {
    const db = { prepare: () => undefined, batch: () => undefined } as unknown as D1Handle;
    expect(() => new D1SessionStore(db, { table: 'x; DROP TABLE y' })).toThrow(TypeError);
    expect(() => new D1SessionStore(db, { timeout: -1 })).toThrow(TypeError);
    expect(() => new D1SessionStore(db, { cleanupInterval: 1000 } as never)).toThrow(TypeError);
  });
});

describe('D1SessionStore on Miniflare', () => {
  let d1: D1Fixture;

  beforeAll(async () => {
    d1 = await startD1();
    await new D1SessionStore(d1.db, { table }).createTable();
  });

  afterAll(async () => {
    await d1.dispose();
  });

  const dump = () => d1.dump(table);
  const empty = () => d1.empty(table);

  describeStoreContract("D1SessionStore on Miniflare's binding", () => {
    const clock = new FakeClock();
    return { store: new D1SessionStore<ContractValues>(d1.binding, { table }, clock), clock, serverSide: true, dump, close: empty };
  });

  describeStoreContract('EncryptingStoreDecorator(D1SessionStore, encryptValues)', async () => {
    const clock = new FakeClock();
    const keys = [await importRawKey(randomBytes(32).toString('base64'))];
    const inner = new D1SessionStore<ContractValues>(d1.db, { table }, clock);
    return {
      store: new EncryptingStoreDecorator(inner, { keys, encryptValues: true }, clock),
      clock,
      serverSide: true,
      encryptsValues: true,
      dump,
      close: empty,
    };
  });

  describeManagerScenarios('D1SessionStore', () => ({
    store: new D1SessionStore(d1.db, { table }),
    close: empty,
  }));

  describe('what lies in the table', () => {
    let clock: FakeClock;
    let store: D1SessionStore<ContractValues>;

    beforeEach(() => {
      clock = new FakeClock();
      store = new D1SessionStore(d1.db, { table }, clock);
    });

    afterEach(empty);

    it('offers every optional ability: patches, renewal, the owner index, listing by owner', () => {
      expect(isPatchableStore(store)).toBe(true);
      expect(isRenewableStore(store)).toBe(true);
      expect(isOwnerIndexedStore(store)).toBe(true);
      expect(isOwnerListingStore(store)).toBe(true);
    });

    it('keys each row by the SHA-256 of the id, never the id; values as JSON text', async () => {
      const id = newId();
      await store.setSession(id, { values: { a: 1, b: 'x' }, expireTime: clock.now() + HOUR, deadline: clock.now() + 2 * HOUR }, 'ada');
      const rows = (await d1.db.prepare(`SELECT token, data, owner, successor FROM "${table}"`).all()).results;
      expect(rows).toEqual([{ token: hashedId(id), data: '{"a":1,"b":"x"}', owner: 'ada', successor: null }]);
      expect(await dump()).not.toContain(id);
    });

    it('createTable can run again, and makes the expiry and owner indexes', async () => {
      expect(await store.createTable()).toBeUndefined();
      const indexes = (
        await d1.db
          .prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name`)
          .bind(table)
          .all<{ name: string }>()
      ).results.map((row) => row.name);
      expect(indexes).toEqual([`${table}_expiry_idx`, `${table}_owner_idx`]);
    });

    it('rejects with SessionStoreError naming no token when D1 fails (a missing table)', async () => {
      const missing = new D1SessionStore<ContractValues>(d1.db, { table: 'missing_table' }, clock);
      const id = newId();
      const failure = await missing.getSession(id).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(SessionStoreError);
      const text = `${String(failure)} ${String((failure as Error).cause)}`;
      expect(text).not.toContain(id);
      expect(text).not.toContain(hashedId(id));
      await expect(missing.setSession(id, { values: {}, expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR })).rejects.toBeInstanceOf(
        SessionStoreError,
      );
    });

    it('deleteExpired removes ended rows and keeps live ones', async () => {
      const ended = newId();
      const kept = newId();
      await store.setSession(ended, { values: {}, expireTime: clock.now() + 1000, deadline: clock.now() + HOUR });
      await store.setSession(kept, { values: {}, expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR });
      clock.advance(1000);
      expect(await store.deleteExpired()).toBe(1);
      expect(await store.getSession(kept)).toBeDefined();
      expect(await store.getSession(ended)).toBeUndefined();
    });
  });
});
