import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbSessionStore } from 'kit-session/dynamodb';
import { dropTable, dynamoClient, emptyTable } from '../../support/dynamodb.js';
import { describeSessionModel, type ModelTarget } from '../../support/sessionModel.js';
import { describeWith, uniqueName } from '../../support/services.js';

// The session model on DynamoDB (dynalite), bare and with encryptValues, and with the bound's
// two policies: one table of this file's own, emptied after each sequence. Fewer runs than
// the SQL stores: every step is several HTTP round trips to dynalite.

describeWith('dynamodb', 'DynamoDbSessionStore against the session model', () => {
  const table = uniqueName('kit_model');
  let client: DynamoDBClient;

  beforeAll(async () => {
    client = dynamoClient();
    await new DynamoDbSessionStore(client, { table }).createTable();
  });

  afterAll(async () => {
    await dropTable(client, table);
    client.destroy();
  });

  const open: ModelTarget['open'] = async (clock) => ({
    store: new DynamoDbSessionStore(client, { table }, clock),
    close: () => emptyTable(client, table),
  });

  const bare = { kind: 'server', sealed: false, encryptValues: false, ownerIndex: true } as const;
  describeSessionModel({ name: 'DynamoDbSessionStore', traits: bare, open }, 200);
  describeSessionModel(
    {
      name: 'EncryptingStoreDecorator(DynamoDbSessionStore, encryptValues)',
      traits: { kind: 'server', sealed: true, encryptValues: true, ownerIndex: true },
      open,
    },
    120,
  );
  describeSessionModel({ name: 'DynamoDbSessionStore, maxSessionsPerOwner 2, evict', traits: { ...bare, limit: { max: 2, policy: 'evict' } }, open }, 60);
  describeSessionModel({ name: 'DynamoDbSessionStore, maxSessionsPerOwner 1, refuse', traits: { ...bare, limit: { max: 1, policy: 'refuse' } }, open }, 40);
});
