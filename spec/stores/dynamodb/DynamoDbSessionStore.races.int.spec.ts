import { createServer, type Server } from 'node:net';
import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SessionLimitError, SessionStoreError } from 'kit-session';
import { DynamoDbSessionStore } from 'kit-session/dynamodb';
import { FakeClock } from '../../support/FakeClock.js';
import { dropTable, dynamoClient, emptyTable } from '../../support/dynamodb.js';
import { describeWith, uniqueName } from '../../support/services.js';
import { handleOf, type ContractValues } from '../../support/storeContract.js';

// Several store instances, each with a client of its own (as several app servers), on one
// table: patches, the bound, renewals and ends racing each other. And what each call costs
// in round trips, counted on the wire.

const HOUR = 60 * 60 * 1000;
const SERVERS = 4;

function newId(): string {
  return randomBytes(32).toString('base64url');
}

describeWith('dynamodb', 'DynamoDbSessionStore: several app servers on one table', () => {
  const table = uniqueName('kit_races');
  const clock = new FakeClock();
  let clients: DynamoDBClient[];
  let stores: DynamoDbSessionStore<ContractValues>[];
  const record = (values: ContractValues = {}) => ({ values, expireTime: clock.now() + HOUR, deadline: clock.now() + 2 * HOUR });
  const server = (i: number) => stores[i % SERVERS]!;

  beforeAll(async () => {
    clients = Array.from({ length: SERVERS }, () => dynamoClient());
    await new DynamoDbSessionStore(clients[0]!, { table }).createTable();
  });

  beforeEach(() => {
    // A generous timeout: these bursts (a dozen log-ins of one owner in the same instant)
    // retry the owner's compare-and-set many times on an emulator that answers slowly.
    stores = clients.map((client) => new DynamoDbSessionStore<ContractValues>(client, { table, timeout: 20_000 }, clock));
  });

  afterEach(() => emptyTable(clients[0]!, table));

  afterAll(async () => {
    await dropTable(clients[0]!, table);
    for (const client of clients) {
      client.destroy();
    }
  });

  /** The sessions of `ids` that load as live, of their own. */
  async function liveOf(ids: readonly string[]): Promise<string[]> {
    const loaded = await Promise.all(ids.map((id) => stores[0]!.getSession(id)));
    return ids.filter((_, i) => loaded[i] !== undefined && loaded[i]!.superseded !== true && loaded[i]!.expireTime > clock.now());
  }

  it('100 patches of different keys from four servers at once all keep their change', async () => {
    const id = newId();
    await server(0).setSession(id, record({ base: true }));
    const later = record();
    const tokens = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        server(i).patchSession(id, { set: { [`k${i}`]: i }, unset: [], expireTime: later.expireTime, deadline: later.deadline }),
      ),
    );
    expect(tokens.every((token) => token === id)).toBe(true);
    const loaded = await server(1).getSession(id);
    expect(Object.keys(loaded!.values)).toHaveLength(101);
  });

  it('a patch too large for one expression (DynamoDB: 4 KB) is a compare-and-set of the whole item; racing small patches all keep their change', async () => {
    const id = newId();
    await server(0).setSession(id, record({ base: true }), 'ada');
    const later = record();
    const big = Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`big${i}`, i]));
    const results = await Promise.all([
      server(1).patchSession(id, { set: big, unset: ['base'], meta: 'big', expireTime: later.expireTime, deadline: later.deadline }),
      ...Array.from({ length: 12 }, (_, i) =>
        server(i).patchSession(id, { set: { [`small${i}`]: i }, unset: [], expireTime: later.expireTime, deadline: later.deadline }),
      ),
    ]);
    expect(results.every((token) => token === id)).toBe(true);
    const loaded = await server(2).getSession(id);
    expect(Object.keys(loaded!.values)).toHaveLength(412);
    expect(loaded!.values).not.toHaveProperty('base');
    expect(loaded!.meta).toBe('big');
    expect((await server(3).listOwnerSessions('ada')).map((entry) => entry.handle)).toEqual([handleOf(id)]);
    // Never into an ended session.
    await server(0).deleteSession(id);
    await expect(server(1).patchSession(id, { set: big, unset: [], expireTime: later.expireTime, deadline: later.deadline })).resolves.toBeUndefined();
  });

  for (const max of [1, 3]) {
    it(`'refuse' at ${max}: 20 log-ins of one owner on four servers at once, exactly ${max} admitted, and only those load`, async () => {
      for (const store of stores) {
        store.limitOwnerSessions({ max, policy: 'refuse' });
      }
      const ids = Array.from({ length: 20 }, newId);
      const results = await Promise.allSettled(ids.map((id, i) => server(i).setSession(id, record({ u: 'ada' }), 'ada')));
      const admitted = ids.filter((_, i) => results[i]!.status === 'fulfilled');
      expect(admitted).toHaveLength(max);
      for (const result of results) {
        if (result.status === 'rejected') {
          expect(result.reason).toBeInstanceOf(SessionLimitError);
        }
      }
      expect((await liveOf(ids)).sort()).toEqual([...admitted].sort());
      expect((await server(2).listOwnerSessions('ada')).map((entry) => entry.handle).sort()).toEqual(admitted.map(handleOf).sort());
    });

    it(`'evict' at ${max}: 12 log-ins of one owner on four servers at once leave at most ${max} that load, all of them listed`, async () => {
      const evicted: string[] = [];
      for (const store of stores) {
        store.limitOwnerSessions({ max, policy: 'evict', evicted: (_owner, handles) => evicted.push(...handles) });
      }
      const ids = Array.from({ length: 12 }, newId);
      await Promise.all(ids.map((id, i) => server(i).setSession(id, record({ u: 'ada' }), 'ada')));
      const live = await liveOf(ids);
      expect(live.length).toBeGreaterThanOrEqual(1);
      expect(live.length).toBeLessThanOrEqual(max);
      const listed = (await server(3).listOwnerSessions('ada')).map((entry) => entry.handle).sort();
      expect(listed).toEqual(live.map(handleOf).sort());
      for (const handle of evicted) {
        expect(listed).not.toContain(handle);
      }
      // A later log-in still fits: nothing left behind counts against the owner.
      clock.advance(1000);
      const late = newId();
      await server(0).setSession(late, record({ u: 'ada' }), 'ada');
      expect((await liveOf([...ids, late])).length).toBeLessThanOrEqual(max);
      expect(await liveOf([late])).toEqual([late]);
    });
  }

  it('logged-in patches that file one anonymous session under an owner from four servers keep the bound (10 rounds)', async () => {
    for (const store of stores) {
      store.limitOwnerSessions({ max: 2, policy: 'refuse' });
    }
    for (let round = 0; round < 10; round++) {
      const owner = `ada${round}`;
      const ids = Array.from({ length: 8 }, newId);
      await Promise.all(ids.map((id, i) => server(i).setSession(id, record())));
      const later = record();
      const results = await Promise.allSettled(
        ids.map((id, i) => server(i + 1).patchSession(id, { set: { u: owner }, unset: [], owner, expireTime: later.expireTime, deadline: later.deadline })),
      );
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(2);
      expect(await server(0).listOwnerSessions(owner)).toHaveLength(2);
    }
  });

  it('a patch filing an anonymous session under a full owner counts a session another patch filed but has not written yet', async () => {
    // Server A's patch files its session under 'ada', then its write waits. Meanwhile B
    // files a second one; C, a third, finds the owner full: A's session (filed, its item
    // still naming no owner) must count, so C is refused and 'ada' never has three.
    const held = newId();
    let arrived!: () => void;
    const holding = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow = dynamoClient();
    slow.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { Key?: Record<string, { S?: string }>; UpdateExpression?: string };
        if (context.commandName === 'UpdateItemCommand' && input.Key?.pk?.S === handleOf(held)) {
          arrived();
          await released;
        }
        return next(args);
      },
      { step: 'initialize', name: 'holdOnePatch' },
    );
    const a = new DynamoDbSessionStore<ContractValues>(slow, { table, timeout: 20_000 }, clock);
    for (const store of [a, ...stores]) {
      store.limitOwnerSessions({ max: 2, policy: 'refuse' });
    }
    const [second, third] = [newId(), newId()];
    await Promise.all([held, second, third].map((id) => server(0).setSession(id, record())));
    const later = record();
    const login = (store: DynamoDbSessionStore<ContractValues>, id: string) =>
      store.patchSession(id, { set: { u: 'ada' }, unset: [], owner: 'ada', expireTime: later.expireTime, deadline: later.deadline });
    try {
      const first = login(a, held);
      await holding;
      await expect(login(server(1), second)).resolves.toBe(second);
      await expect(login(server(2), third)).rejects.toBeInstanceOf(SessionLimitError);
      release();
      await expect(first).resolves.toBe(held);
      expect((await server(3).listOwnerSessions('ada')).map((entry) => entry.handle).sort()).toEqual([held, second].map(handleOf).sort());
      expect((await stores[0]!.getSession(third))!.values).toEqual({});
    } finally {
      release();
      slow.destroy();
    }
  });

  it('a renewal on one server racing each kind of end on another never leaves a live successor behind (20 rounds each)', async () => {
    for (const end of ['handle', 'owner', 'others', 'delete'] as const) {
      for (let round = 0; round < 20; round++) {
        const before = newId();
        const after = newId();
        const kept = newId();
        await server(round).setSession(before, record({ u: 'ada' }), 'ada');
        await server(round + 1).setSession(kept, record({ u: 'ada' }), 'ada');
        const ender = server(round + 2);
        const ending = {
          handle: () => ender.deleteSessionByHandle('ada', handleOf(before)),
          owner: () => ender.deleteOwnerSessions('ada'),
          others: () => ender.deleteOwnerSessions('ada', handleOf(kept)),
          delete: () => ender.deleteSession(before),
        }[end];
        const renewing = () => server(round + 3).renewSession(before, after, { record: record({ u: 'ada' }), owner: 'ada', grace: 30_000 });
        const [token] = round % 2 === 0 ? await Promise.all([renewing(), ending()]) : (await Promise.all([ending(), renewing()])).reverse();
        const listed = (await server(round).listOwnerSessions('ada')).map((entry) => entry.handle);
        if (end !== 'delete') {
          expect(await liveOf([after])).toEqual([]);
          expect(listed).not.toContain(handleOf(after));
        } else if (token !== undefined && (await liveOf([after])).length === 1) {
          // The delete came before the claim: the renewal found nothing... or after the
          // successor was written: it ended it. A live successor must be listed.
          expect(listed).toContain(handleOf(after));
        }
        if (token === undefined) {
          expect(await liveOf([after])).toEqual([]);
        }
        expect(listed).not.toContain(handleOf(before));
        await server(0).deleteOwnerSessions('ada');
      }
    }
  });

  it('concurrent renewals of one session on four servers, with patches racing them: one successor, no patch into the retired id', async () => {
    for (let round = 0; round < 10; round++) {
      const id = newId();
      await server(round).setSession(id, record({ u: 'ada', n: 0 }), 'ada');
      const successors = Array.from({ length: SERVERS }, newId);
      const later = record();
      const [renewals, patches] = await Promise.all([
        Promise.all(successors.map((next, i) => server(i).renewSession(id, next, { record: record({ u: 'ada', renewed: true }), owner: 'ada', grace: 30_000 }))),
        Promise.all(successors.map((_, i) => server(i + 1).patchSession(id, { set: { [`p${i}`]: i }, unset: [], expireTime: later.expireTime, deadline: later.deadline }))),
      ]);
      const won = successors.filter((_, i) => renewals[i] !== undefined);
      expect(won).toHaveLength(1);
      expect((await server(0).listOwnerSessions('ada')).map((entry) => entry.handle)).toEqual([handleOf(won[0]!)]);
      // Every patch either wrote before the claim (and is in the retired record) or wrote nothing.
      const retired = await server(1).getSession(id);
      expect(retired?.superseded).toBe(true);
      patches.forEach((token, i) => {
        if (token === undefined) {
          expect(retired!.values).not.toHaveProperty(`p${i}`);
        }
      });
      await server(0).deleteOwnerSessions('ada');
    }
  });

  describe('round trips, counted on the wire', () => {
    let sent: string[];
    let store: DynamoDbSessionStore<ContractValues>;

    beforeEach(() => {
      sent = [];
      const client = dynamoClient();
      client.middlewareStack.add(
        (next, context) => async (args) => {
          sent.push(context.commandName ?? '?');
          return next(args);
        },
        { step: 'initialize', name: 'countRoundTrips' },
      );
      store = new DynamoDbSessionStore<ContractValues>(client, { table }, clock);
    });

    const counted = async (work: () => Promise<unknown>): Promise<string[]> => {
      sent = [];
      await work();
      return sent;
    };

    it('a load is 1, a save without owner 1, a patch 1, a delete 1 (+1 to unfile an owned one)', async () => {
      const id = newId();
      expect(await counted(() => store.setSession(id, record({ a: 1 })))).toEqual(['PutItemCommand']);
      expect(await counted(() => store.getSession(id))).toEqual(['GetItemCommand']);
      const later = record();
      expect(await counted(() => store.patchSession(id, { set: { b: 2 }, unset: ['a'], expireTime: later.expireTime, deadline: later.deadline }))).toEqual(['UpdateItemCommand']);
      expect(await counted(() => store.deleteSession(id))).toEqual(['PutItemCommand']);
    });

    it('a save with an owner is 2; with a bound, 3 while the owner has room, 4 when full', async () => {
      expect(await counted(() => store.setSession(newId(), record(), 'ada'))).toEqual(['UpdateItemCommand', 'PutItemCommand']);
      store.limitOwnerSessions({ max: 2, policy: 'refuse' });
      expect(await counted(() => store.setSession(newId(), record(), 'ada'))).toEqual(['GetItemCommand', 'UpdateItemCommand', 'PutItemCommand']);
      await expect(counted(() => store.setSession(newId(), record(), 'ada'))).rejects.toBeInstanceOf(SessionLimitError);
      expect(sent).toEqual(['GetItemCommand', 'BatchGetItemCommand']);
    });

    it('a renewal of an owned session is 5 (read, file, claim, write, unfile the old)', async () => {
      const id = newId();
      await store.setSession(id, record(), 'ada');
      expect(await counted(() => store.renewSession(id, newId(), { record: record(), owner: 'ada', grace: 30_000 }))).toEqual([
        'GetItemCommand',
        'UpdateItemCommand',
        'UpdateItemCommand',
        'PutItemCommand',
        'UpdateItemCommand',
      ]);
    });
  });
});

describe('DynamoDbSessionStore when DynamoDB fails', () => {
  const id = newId();
  const record = { values: { secret: 'value-in-a-session' }, expireTime: Date.now() + HOUR, deadline: Date.now() + HOUR };

  function scrubbed(error: unknown): void {
    expect(error).toBeInstanceOf(SessionStoreError);
    const text = JSON.stringify(error, Object.getOwnPropertyNames(error)) + String((error as Error).cause) + JSON.stringify((error as Error).cause ?? {});
    expect(text).not.toContain(id);
    expect(text).not.toContain('value-in-a-session');
  }

  it('with nothing listening, rejects with SessionStoreError whose cause holds no token or value', async () => {
    const client = new DynamoDBClient({
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      maxAttempts: 1,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const store = new DynamoDbSessionStore<ContractValues>(client, { timeout: 2000 });
    try {
      const calls: (() => Promise<unknown>)[] = [() => store.getSession(id), () => store.setSession(id, record, 'ada'), () => store.deleteSession(id)];
      for (const call of calls) {
        const error = await call().then(() => undefined, (caught: unknown) => caught);
        scrubbed(error);
      }
    } finally {
      client.destroy();
    }
  });

  it('when the server never answers, rejects within its timeout with a cause named TimeoutError', async () => {
    const silent: Server = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const client = new DynamoDBClient({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const store = new DynamoDbSessionStore<ContractValues>(client, { timeout: 300 });
    try {
      const started = Date.now();
      const error = await Promise.resolve(store.getSession(id)).then(() => undefined, (caught: unknown) => caught);
      expect(Date.now() - started).toBeLessThan(3000);
      scrubbed(error);
      expect(((error as Error).cause as Error).name).toBe('TimeoutError');
    } finally {
      client.destroy();
      silent.close();
    }
  });
});
