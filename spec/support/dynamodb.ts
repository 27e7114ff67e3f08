import { BatchWriteItemCommand, DeleteTableCommand, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DYNAMODB_ENDPOINT } from './services.js';

/** A client of the test endpoint (dynalite): fake credentials, region us-east-1. */
export function dynamoClient(): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: DYNAMODB_ENDPOINT,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
}

/** Every item of a table, as JSON text. */
export async function dumpTable(client: DynamoDBClient, table: string): Promise<string> {
  const items: unknown[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const answer = await client.send(new ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey: start as never }));
    items.push(...(answer.Items ?? []));
    start = answer.LastEvaluatedKey;
  } while (start !== undefined);
  return JSON.stringify(items);
}

/** Deletes a table, if it is there. */
export async function dropTable(client: DynamoDBClient, table: string): Promise<void> {
  try {
    await client.send(new DeleteTableCommand({ TableName: table }));
  } catch {
    // gone already
  }
}

/** Deletes every item of a table (between model sequences: cheaper than a new table). */
export async function emptyTable(client: DynamoDBClient, table: string): Promise<void> {
  let start: Record<string, unknown> | undefined;
  do {
    const answer = await client.send(
      new ScanCommand({ TableName: table, ConsistentRead: true, ProjectionExpression: '#pk', ExpressionAttributeNames: { '#pk': 'pk' }, ExclusiveStartKey: start as never }),
    );
    const keys = answer.Items ?? [];
    for (let i = 0; i < keys.length; i += 25) {
      await client.send(
        new BatchWriteItemCommand({ RequestItems: { [table]: keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } })) } }),
      );
    }
    start = answer.LastEvaluatedKey;
  } while (start !== undefined);
}
