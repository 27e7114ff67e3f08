import { SessionGenerationsLostError, SessionStoreError } from 'kit-session';
import { D1OwnerGenerations, type D1Handle } from 'kit-session/cloudflare';
import { describeOwnerGenerationsContract } from '../../support/ownerGenerationsContract.js';
import { startD1, type D1Fixture } from './d1Fixture.js';

describe(D1OwnerGenerations, () => {
  it.each([
    ['a table name with a quote', { table: 'a"b' }],
    ['a table name of 49 characters', { table: 'g'.repeat(49) }],
    ['an option it does not know', { tabel: 'generations' } as never],
    ['a bad timeout', { timeout: 0 }],
  ])('rejects %s with TypeError when built', (_label, options) => {
    const fake = { prepare: () => undefined, batch: () => undefined } as unknown as D1Handle;
    expect(() => new D1OwnerGenerations(fake, options)).toThrow(TypeError);
  });

  it('rejects a binding without prepare and batch with TypeError when built', () => {
    expect(() => new D1OwnerGenerations({} as D1Handle)).toThrow(TypeError);
  });
});

describe('D1OwnerGenerations on Miniflare', () => {
  let d1: D1Fixture;

  beforeAll(async () => {
    d1 = await startD1();
    await new D1OwnerGenerations(d1.db).createTable();
  });

  afterAll(async () => {
    await d1.dispose();
  });

  describeOwnerGenerationsContract('D1OwnerGenerations', () => ({ generations: new D1OwnerGenerations(d1.db) }));
  describeOwnerGenerationsContract("D1OwnerGenerations on Miniflare's binding", () => ({ generations: new D1OwnerGenerations(d1.binding) }));

  it('createTable can run again; the marker is written at first use', async () => {
    const generations = new D1OwnerGenerations(d1.db, { table: 'gens_first_use' });
    await generations.createTable();
    await generations.createTable();
    await expect(generations.bump('ada')).resolves.toBe(1);
    const rows = (await d1.db.prepare('SELECT owner, generation FROM "gens_first_use" ORDER BY owner').all<{ owner: string; generation: number }>())
      .results;
    expect(rows.map((row) => row.owner)).toEqual(['\u0001epoch', 'ada']);
    expect(rows[0]!.generation).toBeLessThan(0);
  });

  it('20 concurrent bumps of one owner from 4 objects are all counted', async () => {
    const objects = Array.from({ length: 4 }, () => new D1OwnerGenerations(d1.db, { table: 'gens_race' }));
    await objects[0]!.createTable();
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => objects[i % 4]!.bump('ada')));
    expect([...answers].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    await expect(objects[1]!.current('ada')).resolves.toBe(20);
  });

  it('when the table loses its rows, the next read rejects with SessionGenerationsLostError, then reads above every earlier generation', async () => {
    const generations = new D1OwnerGenerations(d1.db, { table: 'gens_lossy' });
    await generations.createTable();
    await generations.bump('ada');
    await expect(generations.bump('ada')).resolves.toBe(2);
    await d1.empty('gens_lossy');
    await expect(generations.current('ada')).rejects.toBeInstanceOf(SessionGenerationsLostError);
    const ada = await generations.current('ada');
    expect(ada).toBeGreaterThan(2);
    await expect(generations.current('bob')).resolves.toBe(ada);
    await expect(new D1OwnerGenerations(d1.db, { table: 'gens_lossy' }).current('ada')).resolves.toBe(ada);
    await expect(generations.bump('ada')).resolves.toBe(ada + 1);
  });

  it("an owner named like the marker's row is kept apart from it", async () => {
    const generations = new D1OwnerGenerations(d1.db, { table: 'gens_marker' });
    await generations.createTable();
    for (const owner of ['\u0001epoch', '\u0001\u0001epoch', '\u0001']) {
      await expect(generations.bump(owner)).resolves.toBe(1);
      await expect(generations.current(owner)).resolves.toBe(1);
    }
    await expect(new D1OwnerGenerations(d1.db, { table: 'gens_marker' }).current('ada')).resolves.toBe(0);
  });

  it('when the table is missing, rejects with SessionStoreError that names no owner', async () => {
    const missing = new D1OwnerGenerations(d1.db, { table: 'gens_missing' });
    const owner = 'owner-secret-4711';
    for (const call of [() => missing.current(owner), () => missing.bump(owner)]) {
      const failure = await call().catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(SessionStoreError);
      expect(`${(failure as Error).message} ${((failure as Error).cause as Error).message}`).not.toContain(owner);
    }
  });
});
