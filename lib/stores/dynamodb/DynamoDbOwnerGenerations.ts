// kit-session/dynamodb: DynamoDbOwnerGenerations, the owners' generations in a DynamoDB table.
import { GetItemCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { checkOptionKeys } from '../../core/options.js';
import type { OwnerGenerations } from '../../core/SessionStore.js';
import { GenerationsEpoch, parseMarker } from '../generationsEpoch.js';
import { resolveTimeout, sessionKey, storeOperation } from '../policy.js';
import { DEFAULT_DYNAMODB_TABLE } from './DynamoDbSessionStore.js';
import { checkTable, isConditionFailure, scrubError } from './dynamoErrors.js';
import { numberValue, PK, stringValue } from './items.js';

/**
 * Options of {@link DynamoDbOwnerGenerations}.
 */
export interface DynamoDbOwnerGenerationsOptions {
  /**
   * The table (partition key `pk`, a string): the sessions' own table will do, as its
   * items never meet these (an owner's generation is keyed `g.` + the SHA-256 of the owner,
   * the marker `generations`).
   * @default 'sessions'
   */
  readonly table?: string;
  /**
   * The longest an operation may take, in milliseconds, before it rejects with
   * `SessionStoreError` (cause: an error named `TimeoutError`).
   * @default 5000
   */
  readonly timeout?: number;
}

const GENERATIONS_OPTIONS = ['table', 'timeout'] as const satisfies readonly (keyof DynamoDbOwnerGenerationsOptions)[];

/** The marker item's key: never a session's handle (43 characters) nor an owner's (`o.`, `g.`). */
const MARKER = 'generations';

/**
 * Keeps each owner's generation in a DynamoDB table, for revocable sealed cookies (see
 * `OwnerGenerations`): one item per owner, keyed `g.` + the SHA-256 of the owner (never the
 * owner's text), holding a number `gen`. `current` is one strongly consistent `GetItem` of
 * it (0 when there is none), sent together with a `GetItem` of the table's marker; `bump`
 * one `UpdateItem` (`SET gen = if_not_exists(gen, floor) + 1`), which DynamoDB applies
 * atomically, so concurrent bumps are all counted. The items carry no TTL: a generation
 * must outlive every cookie sealed under it.
 *
 * The marker item, `generations`, is written at first use; an object that finds it gone or
 * replaced (the table emptied or recreated) rejects that read with
 * `SessionGenerationsLostError` and begins a new epoch above every generation handed out
 * before, so every cookie sealed before the loss reads as revoked.
 *
 * It never destroys the client, which belongs to the app.
 *
 * @example
 * ```ts
 * import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
 * import { DynamoDbOwnerGenerations } from 'kit-session/dynamodb';
 *
 * const generations = new DynamoDbOwnerGenerations(new DynamoDBClient({}), { table: 'app_sessions' });
 * await generations.bump('user-42'); // every cookie sealed for user-42 before is revoked
 * ```
 */
export class DynamoDbOwnerGenerations implements OwnerGenerations {
  readonly #client: DynamoDBClient;
  readonly #table: string;
  readonly #timeout: number;
  readonly #epoch = new GenerationsEpoch();

  /**
   * @param client - The app's `DynamoDBClient`.
   * @param options - See {@link DynamoDbOwnerGenerationsOptions}.
   * @throws TypeError when `client` has no `send`, an option is invalid, or `options` names
   *   an option that does not exist.
   */
  constructor(client: DynamoDBClient, options: DynamoDbOwnerGenerationsOptions = {}) {
    checkOptionKeys('DynamoDbOwnerGenerations options', options, GENERATIONS_OPTIONS);
    if (typeof (client as { send?: unknown } | null)?.send !== 'function') {
      throw new TypeError('client must be a DynamoDBClient');
    }
    this.#client = client;
    this.#table = checkTable(options.table ?? DEFAULT_DYNAMODB_TABLE);
    this.#timeout = resolveTimeout(options.timeout);
  }

  /**
   * Reads an owner's current generation: one `GetItem`, sent with a `GetItem` of the marker.
   *
   * @param owner - The owner.
   * @returns The generation: 0 for an owner never bumped (the epoch's floor after a loss).
   * @throws SessionGenerationsLostError when the marker is gone or replaced: the table lost
   *   its data. The next read answers from the new epoch.
   * @throws SessionStoreError when DynamoDB fails or does not answer within `timeout`.
   * @example
   * ```ts
   * const generation = await generations.current('user-42'); // 0 until the first bump
   * ```
   */
  async current(owner: string): Promise<number> {
    return this.#run('current', async (signal) => {
      const [stored, marker] = await Promise.all([this.#read(ownerKey(owner), 'gen', signal), this.#read(MARKER, 'm', signal)]);
      const found = parseMarker(marker);
      const floor = await this.#epoch.floorFor(found, (next) => this.#mark(found, next, signal), true);
      return this.#epoch.answer(parseGeneration(stored), floor);
    });
  }

  /**
   * Moves an owner's generation forward by one: one `UpdateItem`, atomic in DynamoDB (after
   * a `GetItem` of the marker, whose epoch it stays above).
   *
   * @param owner - The owner.
   * @returns The new generation.
   * @throws SessionStoreError when DynamoDB fails or does not answer within `timeout`.
   * @example
   * ```ts
   * await generations.bump('user-42'); // log out everywhere, sealed cookies included
   * ```
   */
  async bump(owner: string): Promise<number> {
    return this.#run('bump', async (signal) => {
      const found = parseMarker(await this.#read(MARKER, 'm', signal));
      // A bump after a loss still revokes: it begins the new epoch and goes on above it.
      const floor = await this.#epoch.floorFor(found, (next) => this.#mark(found, next, signal), false);
      const answer = await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: { [PK]: stringValue(ownerKey(owner)) },
          UpdateExpression: 'SET #gen = if_not_exists(#gen, :floor) + :one',
          ExpressionAttributeNames: { '#gen': 'gen' },
          ExpressionAttributeValues: { ':floor': numberValue(floor), ':one': numberValue(1) },
          ReturnValues: 'UPDATED_NEW',
        }),
        { abortSignal: signal },
      );
      return this.#epoch.answer(parseGeneration(answer.Attributes?.gen?.N), floor);
    });
  }

  /** One number attribute of one item, strongly consistent; `undefined` when absent. */
  async #read(key: string, attribute: string, signal: AbortSignal): Promise<string | undefined> {
    const answer = await this.#client.send(
      new GetItemCommand({ TableName: this.#table, Key: { [PK]: stringValue(key) }, ConsistentRead: true }),
      { abortSignal: signal },
    );
    return answer.Item?.[attribute]?.N;
  }

  /** Writes `next` as the marker if it is still `found`; answers the marker in place after. */
  async #mark(found: number | undefined, next: number, signal: AbortSignal): Promise<number | undefined> {
    try {
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: { [PK]: stringValue(MARKER) },
          UpdateExpression: 'SET #m = :next',
          ConditionExpression: found === undefined ? 'attribute_not_exists(#m)' : '#m = :found',
          ExpressionAttributeNames: { '#m': 'm' },
          ExpressionAttributeValues: { ':next': numberValue(next), ...(found === undefined ? {} : { ':found': numberValue(found) }) },
        }),
        { abortSignal: signal },
      );
      return next;
    } catch (error) {
      if (!isConditionFailure(error)) {
        throw error;
      }
      return parseMarker(await this.#read(MARKER, 'm', signal));
    }
  }

  /** One operation against the timeout; each request aborted just after it. */
  #run<R>(operation: string, work: (signal: AbortSignal) => Promise<R>): Promise<R> {
    const controller = new AbortController();
    return storeOperation(
      `dynamodb owner generations: ${operation}`,
      this.#timeout,
      () => {
        const timer = setTimeout(() => controller.abort(), this.#timeout + 50);
        return work(controller.signal).finally(() => clearTimeout(timer));
      },
      scrubError,
    );
  }
}

/** An owner's generation item key: never the owner's text. */
function ownerKey(owner: string): string {
  return `g.${sessionKey(owner)}`;
}

/** An owner's generation as stored: 0 for none. */
function parseGeneration(text: string | undefined): number {
  if (text === undefined) {
    return 0;
  }
  const generation = Number(text);
  if (!Number.isSafeInteger(generation) || generation < 0) {
    throw new Error('the stored generation is not a non-negative integer');
  }
  return generation;
}
