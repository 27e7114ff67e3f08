import { randomBytes } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EncryptingStoreDecorator, importRawKey } from 'kit-session';
import { isOwnerListingStore, isPatchableStore, isRenewableStore } from 'kit-session/store';
import { DynamoDbSessionStore } from 'kit-session/dynamodb';
import { FakeClock } from '../../support/FakeClock.js';
import { dropTable, dumpTable, dynamoClient } from '../../support/dynamodb.js';
import { describeManagerScenarios, describeWith, hashedId, uniqueName } from '../../support/services.js';
import { describeStoreContract, type ContractValues } from '../../support/storeContract.js';

const HOUR = 60 * 60 * 1000;

function newId(): string {
  return randomBytes(32).toString('base64url');
}

describe(DynamoDbSessionStore, () => {
  const client = dynamoClient();
  afterAll(() => client.destroy());

  it.each([
    ['a table name with a space', { table: 'my sessions' }],
    ['a table name of 2 characters', { table: 'ab' }],
    ['a timeout of 0', { timeout: 0 }],
    ['maxAttempts of 0', { maxAttempts: 0 }],
    ['an option it does not know', { tabel: 'sessions' } as never],
  ])('rejects %s with TypeError when built', (_label, options) => {
    expect(() => new DynamoDbSessionStore(client, options)).toThrow(TypeError);
  });

  it('rejects a client without send with TypeError when built', () => {
    expect(() => new DynamoDbSessionStore({} as DynamoDBClient)).toThrow(TypeError);
  });

  it('offers every optional ability: patches, renewal, the owner index, listing by owner', () => {
    const store = new DynamoDbSessionStore(client);
    expect(isPatchableStore(store)).toBe(true);
    expect(isRenewableStore(store)).toBe(true);
    expect(isOwnerListingStore(store)).toBe(true);
  });
});

describeWith('dynamodb', 'DynamoDbSessionStore on dynalite', () => {
  const table = uniqueName('kit_sessions');
  let client: DynamoDBClient;

  beforeAll(async () => {
    client = dynamoClient();
    await new DynamoDbSessionStore(client, { table }).createTable();
  });

  afterAll(async () => {
    await dropTable(client, table);
    client.destroy();
  });

  // Each fixture gets a table of its own: dynalite deletes a table at once, and items of one
  // test never meet another's.
  const fresh = async (): Promise<{ name: string; close: () => Promise<void> }> => {
    const name = uniqueName('kit_contract');
    await new DynamoDbSessionStore(client, { table: name }).createTable();
    return { name, close: () => dropTable(client, name) };
  };

  describeStoreContract('DynamoDbSessionStore', async () => {
    const clock = new FakeClock();
    const { name, close } = await fresh();
    return {
      store: new DynamoDbSessionStore<ContractValues>(client, { table: name }, clock),
      clock,
      serverSide: true,
      dump: () => dumpTable(client, name),
      close,
    };
  });

  describeStoreContract('EncryptingStoreDecorator(DynamoDbSessionStore, encryptValues)', async () => {
    const clock = new FakeClock();
    const keys = [await importRawKey(randomBytes(32).toString('base64'))];
    const { name, close } = await fresh();
    const inner = new DynamoDbSessionStore<ContractValues>(client, { table: name }, clock);
    return {
      store: new EncryptingStoreDecorator(inner, { keys, encryptValues: true }, clock),
      clock,
      serverSide: true,
      encryptsValues: true,
      dump: () => dumpTable(client, name),
      close,
    };
  });

  describeManagerScenarios('DynamoDbSessionStore', async () => {
    const { name, close } = await fresh();
    return { store: new DynamoDbSessionStore(client, { table: name }), close };
  });

  describe('what lies in the table', () => {
    it('keeps no session id: items are keyed by the hash, owners by a hash too', async () => {
      const clock = new FakeClock();
      const store = new DynamoDbSessionStore<ContractValues>(client, { table }, clock);
      const id = newId();
      await store.setSession(id, { values: { a: [1, 'two'] }, expireTime: clock.now() + HOUR, deadline: clock.now() + HOUR }, 'ada@example.com');
      const dump = await dumpTable(client, table);
      expect(dump).toContain(hashedId(id));
      expect(dump).not.toContain(id);
      expect(dump).not.toContain('ada@example.com');
      expect(dump).toContain(`"ttl":{"N":"${Math.ceil((clock.now() + HOUR) / 1000)}"}`);
    });
  });
});
