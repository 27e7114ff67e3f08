import { randomBytes } from 'node:crypto';
import { SessionLimitError, type SessionRecord } from 'kit-session';
import { D1SessionStore } from 'kit-session/cloudflare';
import { FakeClock } from '../../support/FakeClock.js';
import { hashedId } from '../../support/services.js';
import type { ContractValues } from '../../support/storeContract.js';
import { startD1, type D1Fixture } from './d1Fixture.js';

// What the shared contract cannot see on D1: how many subrequests each call makes, and
// several store instances (as several isolates would hold) racing on one database, where
// D1 runs each statement or batch alone but interleaves everything between them:
// patches of one session, patches against an end, the bound, and renewals against ends.

const HOUR = 60 * 60 * 1000;
const GRACE = 30_000;
const table = 'kit_races';

function newId(): string {
  return randomBytes(32).toString('base64url');
}

let d1: D1Fixture;
let clock: FakeClock;

beforeAll(async () => {
  d1 = await startD1();
  await new D1SessionStore(d1.db, { table }).createTable();
});

afterAll(async () => {
  await d1.dispose();
});

beforeEach(() => {
  clock = new FakeClock();
});

afterEach(() => d1.empty(table));

const record = (values: ContractValues = {}): SessionRecord<ContractValues> => ({
  values,
  expireTime: clock.now() + HOUR,
  deadline: clock.now() + 2 * HOUR,
});
const later = () => ({ expireTime: clock.now() + HOUR, deadline: clock.now() + 2 * HOUR });
/** Several stores on one database, as several isolates would hold. */
const stores = (count: number, limit?: { max: number; policy: 'evict' | 'refuse'; evicted?: (owner: string, handles: readonly string[]) => void }) =>
  Array.from({ length: count }, () => {
    const store = new D1SessionStore<ContractValues>(d1.db, { table }, clock);
    if (limit !== undefined) {
      store.limitOwnerSessions(limit);
    }
    return store;
  });

/** How many subrequests `work` made. */
async function subrequests(work: () => Promise<unknown>): Promise<number> {
  const before = d1.calls.subrequests;
  await work();
  return d1.calls.subrequests - before;
}

describe('D1SessionStore: subrequests per call', () => {
  it('a load is one; a save one; a patch one (two when a key has `"`); a renewal one batch; each end and the listing one', async () => {
    const [store] = stores(1);
    const id = newId();
    expect(await subrequests(() => store!.setSession(id, record({ a: 1 }), 'ada'))).toBe(1);
    expect(await subrequests(() => store!.getSession(id))).toBe(1);
    expect(await subrequests(() => store!.patchSession(id, { set: { b: 2 }, unset: ['a'], ...later() }))).toBe(1);
    expect(await subrequests(() => store!.patchSession(id, { set: { 'say "hi"': 1 }, unset: [], ...later() }))).toBe(2);
    expect(await store!.getSession(id)).toMatchObject({ values: { b: 2, 'say "hi"': 1 } });
    expect(await subrequests(() => store!.listOwnerSessions('ada'))).toBe(1);
    const next = newId();
    expect(await subrequests(() => store!.renewSession(id, next, { record: record({ b: 2 }), owner: 'ada', grace: GRACE }))).toBe(1);
    expect(await subrequests(() => store!.getSession(id))).toBe(1);
    expect(await subrequests(() => store!.deleteSessionByHandle('ada', hashedId(id)))).toBe(1);
    expect(await store!.getSession(next)).toBeUndefined();
    expect(await subrequests(() => store!.deleteOwnerSessions('ada'))).toBe(1);
    expect(await subrequests(() => store!.deleteSession(newId()))).toBe(1);
  });

  it('a patch of more keys than one D1 statement binds parameters for (100) compares and sets instead: two', async () => {
    const [store] = stores(1);
    const id = newId();
    await store!.setSession(id, record({ kept: true }));
    const set = Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`key${i}`, i]));
    expect(await subrequests(() => store!.patchSession(id, { set, unset: ['kept'], ...later() }))).toBe(2);
    expect((await store!.getSession(id))?.values).toEqual(set);
  });

  it('with a bound: a save with an owner and a patch that sets one are one batch each; saves without an owner stay one statement', async () => {
    const [store] = stores(1, { max: 2, policy: 'evict' });
    const id = newId();
    expect(await subrequests(() => store!.setSession(id, record(), 'ada'))).toBe(1);
    expect(await subrequests(() => store!.setSession(newId(), record()))).toBe(1);
    expect(await subrequests(() => store!.patchSession(id, { set: { user: 'bob' }, unset: [], owner: 'bob', ...later() }))).toBe(1);
    expect(await store!.listOwnerSessions('bob')).toHaveLength(1);
  });
});

describe('D1SessionStore: several stores racing on one database', () => {
  it('30 concurrent patches of different keys from 3 stores all survive, by SQL merge and by compare-and-set alike', async () => {
    const racers = stores(3);
    const id = newId();
    await racers[0]!.setSession(id, record({ base: 'kept' }));
    // Every third key has a `"`, which no JSON path names: those patches compare and set.
    const keys = Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? `k"${i}` : `k${i}`));
    const answers = await Promise.all(
      keys.map((key, i) => racers[i % 3]!.patchSession(id, { set: { [key]: i }, unset: [], ...later() })),
    );
    expect(answers).toEqual(keys.map(() => id));
    const loaded = await racers[1]!.getSession(id);
    expect(loaded?.values).toEqual(Object.fromEntries([['base', 'kept'], ...keys.map((key, i) => [key, i])]));
  });

  it('a patch racing a delete never brings the session back', async () => {
    const racers = stores(4);
    for (let round = 0; round < 10; round++) {
      const id = newId();
      await racers[0]!.setSession(id, record({ n: 0 }));
      const results = await Promise.all([
        racers[1]!.patchSession(id, { set: { a: round }, unset: [], ...later() }),
        racers[2]!.deleteSession(id),
        racers[3]!.patchSession(id, { set: { 'q"': round }, unset: [], ...later() }),
      ]);
      expect(results[0] === id || results[0] === undefined).toBe(true);
      expect(await racers[0]!.getSession(id)).toBeUndefined();
    }
  });

  it("'refuse': of 3 × 10 concurrent log-ins of one owner with max 3, exactly 3 succeed; the others are refused", async () => {
    const racers = stores(3, { max: 3, policy: 'refuse' });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) => racers[i % 3]!.setSession(newId(), record({ user: 'ada' }), 'ada')),
    );
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(3);
    for (const outcome of outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected')) {
      expect(outcome.reason).toBeInstanceOf(SessionLimitError);
    }
    expect(await racers[0]!.listOwnerSessions('ada')).toHaveLength(3);
  });

  it("'evict': 3 × 10 concurrent log-ins all succeed, exactly 3 remain, and every other one was reported evicted once", async () => {
    const reported: string[] = [];
    const racers = stores(3, { max: 3, policy: 'evict', evicted: (_owner, handles) => reported.push(...handles) });
    const ids = Array.from({ length: 30 }, () => newId());
    await Promise.all(ids.map((id, i) => racers[i % 3]!.setSession(id, record({ user: 'ada' }), 'ada')));
    const listed = (await racers[0]!.listOwnerSessions('ada')).map((session) => session.handle);
    expect(listed).toHaveLength(3);
    expect(new Set(reported).size).toBe(reported.length);
    expect([...reported, ...listed].sort()).toEqual(ids.map(hashedId).sort());
  });

  it("'refuse': concurrent patches that file 10 anonymous sessions under one owner with max 2 let exactly 2 in", async () => {
    const racers = stores(2, { max: 2, policy: 'refuse' });
    const ids = Array.from({ length: 10 }, () => newId());
    await Promise.all(ids.map((id) => racers[0]!.setSession(id, record())));
    const outcomes = await Promise.allSettled(
      ids.map((id, i) => racers[i % 2]!.patchSession(id, { set: { user: 'ada' }, unset: [], owner: 'ada', ...later() })),
    );
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(2);
    expect(await racers[0]!.listOwnerSessions('ada')).toHaveLength(2);
  });

  it('two concurrent renewals of one id: exactly one writes its successor', async () => {
    const racers = stores(2);
    for (let round = 0; round < 10; round++) {
      const id = newId();
      await racers[0]!.setSession(id, record({ n: round }), 'ada');
      const next = [newId(), newId()];
      const answers = await Promise.all(
        racers.map((store, i) => store.renewSession(id, next[i]!, { record: record({ n: round }), owner: 'ada', grace: GRACE })),
      );
      expect(answers.filter((answer) => answer !== undefined)).toHaveLength(1);
      const live = await Promise.all(next.map((n) => racers[0]!.getSession(n)));
      expect(live.filter((loaded) => loaded !== undefined)).toHaveLength(1);
      expect(await racers[0]!.listOwnerSessions('ada')).toHaveLength(1);
      await racers[0]!.deleteOwnerSessions('ada');
    }
  });

  it('a renewal racing a delete of the old id: the end wins, whichever runs first', async () => {
    const racers = stores(2);
    for (let round = 0; round < 10; round++) {
      const id = newId();
      const next = newId();
      await racers[0]!.setSession(id, record(), 'ada');
      await Promise.all([
        racers[0]!.renewSession(id, next, { record: record(), owner: 'ada', grace: GRACE }),
        racers[1]!.deleteSession(id),
      ]);
      expect(await racers[0]!.getSession(id)).toBeUndefined();
      expect(await racers[0]!.getSession(next)).toBeUndefined();
      expect(await racers[0]!.listOwnerSessions('ada')).toEqual([]);
    }
  });

  it('a renewal racing an end of the owner sessions: nothing of the owner is left live', async () => {
    const racers = stores(2);
    for (let round = 0; round < 10; round++) {
      const id = newId();
      const next = newId();
      await racers[0]!.setSession(id, record(), 'ada');
      await Promise.all([
        racers[0]!.renewSession(id, next, { record: record(), owner: 'ada', grace: GRACE }),
        racers[1]!.deleteOwnerSessions('ada'),
      ]);
      const [old, successor] = await Promise.all([racers[0]!.getSession(id), racers[0]!.getSession(next)]);
      // The end ran first: nothing was renewed. Or the renewal did: the end took its successor.
      expect(successor).toBeUndefined();
      expect(old).toBeUndefined();
      expect(await racers[0]!.listOwnerSessions('ada')).toEqual([]);
    }
  });

  it("'refuse': renewals of anonymous sessions into a full owner racing log-ins never pass the bound", async () => {
    const racers = stores(3, { max: 2, policy: 'refuse' });
    const anonymous = Array.from({ length: 6 }, () => newId());
    await Promise.all(anonymous.map((id) => racers[0]!.setSession(id, record())));
    await Promise.allSettled([
      ...anonymous.map((id, i) => racers[i % 3]!.renewSession(id, newId(), { record: record({ user: 'ada' }), owner: 'ada', grace: GRACE })),
      ...Array.from({ length: 6 }, (_, i) => racers[i % 3]!.setSession(newId(), record({ user: 'ada' }), 'ada')),
    ]);
    expect(await racers[0]!.listOwnerSessions('ada')).toHaveLength(2);
    // A refused renewal left its anonymous session live, not retired.
    const still = await Promise.all(anonymous.map((id) => racers[0]!.getSession(id)));
    expect(still.filter((loaded) => loaded !== undefined && loaded.superseded !== true).length).toBeGreaterThanOrEqual(4);
  });
});
