import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SessionGenerationsLostError } from 'kit-session';
import { DynamoDbOwnerGenerations, DynamoDbSessionStore } from 'kit-session/dynamodb';
import { dropTable, dumpTable, dynamoClient, emptyTable } from '../../support/dynamodb.js';
import { describeOwnerGenerationsContract } from '../../support/ownerGenerationsContract.js';
import { describeWith, uniqueName } from '../../support/services.js';

describe(DynamoDbOwnerGenerations, () => {
  const client = dynamoClient();
  afterAll(() => client.destroy());

  it.each([
    ['a timeout of 0', { timeout: 0 }],
    ['a table name with a space', { table: 'my generations' }],
    ['an option it does not know', { prefix: 'app:' } as never],
  ])('rejects %s with TypeError when built', (_label, options) => {
    expect(() => new DynamoDbOwnerGenerations(client, options)).toThrow(TypeError);
  });
});

describeWith('dynamodb', 'DynamoDbOwnerGenerations on dynalite', () => {
  const table = uniqueName('kit_generations');
  let client: DynamoDBClient;

  beforeAll(async () => {
    client = dynamoClient();
    await new DynamoDbSessionStore(client, { table }).createTable();
  });

  afterAll(async () => {
    await dropTable(client, table);
    client.destroy();
  });

  const empty = () => emptyTable(client, table);

  describeOwnerGenerationsContract('DynamoDbOwnerGenerations', () => ({
    generations: new DynamoDbOwnerGenerations(client, { table }),
    close: empty,
  }));

  it("keeps one item per owner, keyed by the owner's hash (never its text), and the marker", async () => {
    try {
      await new DynamoDbOwnerGenerations(client, { table }).bump('ada@example.com');
      const dump = await dumpTable(client, table);
      expect(dump).not.toContain('ada@example.com');
      expect(dump).toContain('"gen":{"N":"1"}');
      expect(dump).toContain('"pk":{"S":"generations"}');
    } finally {
      await empty();
    }
  });

  describe('when the table loses its data (emptied or recreated)', () => {
    afterEach(empty);

    it('the next read rejects with SessionGenerationsLostError, then every owner reads above any generation handed out before', async () => {
      const generations = new DynamoDbOwnerGenerations(client, { table });
      await generations.bump('ada');
      await expect(generations.bump('ada')).resolves.toBe(2);
      await expect(generations.current('bob')).resolves.toBe(0);
      await empty();
      const lost = await generations.current('ada').catch((error: unknown) => error);
      expect(lost).toBeInstanceOf(SessionGenerationsLostError);
      const ada = await generations.current('ada');
      expect(ada).toBeGreaterThan(2);
      await expect(generations.current('bob')).resolves.toBe(ada);
      await expect(new DynamoDbOwnerGenerations(client, { table }).current('ada')).resolves.toBe(ada);
      await expect(generations.bump('ada')).resolves.toBe(ada + 1);
    });

    it('a bump that finds the loss still revokes: it begins the new epoch and goes above it', async () => {
      const generations = new DynamoDbOwnerGenerations(client, { table });
      await expect(generations.bump('ada')).resolves.toBe(1);
      await empty();
      const bumped = await generations.bump('ada');
      expect(bumped).toBeGreaterThan(1);
      await expect(generations.current('ada')).resolves.toBe(bumped);
      await expect(generations.current('bob')).resolves.toBe(bumped - 1);
    });

    it('concurrent reads on several objects that find the loss agree on one new epoch', async () => {
      const generations = Array.from({ length: 5 }, () => new DynamoDbOwnerGenerations(client, { table }));
      await Promise.all(generations.map((each) => each.current('ada')));
      await empty();
      const first = await Promise.allSettled(generations.map((each) => each.current('ada')));
      expect(first.some((result) => result.status === 'rejected')).toBe(true);
      const epochs = await Promise.all(generations.map((each) => each.current('ada')));
      expect(new Set(epochs).size).toBe(1);
      expect(epochs[0]).toBeGreaterThan(0);
    });
  });
});
