import type { OwnerGenerations } from 'kit-session';

/** What the generations contract needs: a fresh keeper, and how to clean up. */
export interface GenerationsFixture {
  readonly generations: OwnerGenerations;
  readonly close?: () => Promise<void>;
}

/**
 * Registers the `OwnerGenerations` contract tests for one keeper of owner generations
 * (memory, Redis, PostgreSQL, the cache over each).
 *
 * @param name - What the describe block is called.
 * @param makeFixture - Builds a fresh fixture for each test.
 */
export function describeOwnerGenerationsContract(
  name: string,
  makeFixture: () => Promise<GenerationsFixture> | GenerationsFixture,
): void {
  describe(`${name} (OwnerGenerations contract)`, () => {
    let fixture: GenerationsFixture;
    let owner: string;

    beforeEach(async () => {
      fixture = await makeFixture();
      // A name no earlier run used: the servers' generations outlive a test run.
      owner = `owner-${Math.random().toString(36).slice(2)}`;
    });

    afterEach(async () => {
      await fixture.close?.();
    });

    it('an owner never bumped is at generation 0', async () => {
      expect(await fixture.generations.current(owner)).toBe(0);
    });

    it('bump moves one owner forward by one and leaves the others', async () => {
      const { generations } = fixture;
      expect(await generations.bump(owner)).toBe(1);
      expect(await generations.bump(owner)).toBe(2);
      expect(await generations.current(owner)).toBe(2);
      expect(await generations.current(`${owner}-other`)).toBe(0);
    });

    it('concurrent bumps are all counted', async () => {
      const { generations } = fixture;
      const results = await Promise.all(Array.from({ length: 20 }, () => generations.bump(owner)));
      expect([...results].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(await generations.current(owner)).toBe(20);
    });

    it('takes any owner text, as owner ids come', async () => {
      const { generations } = fixture;
      for (const odd of [`${owner}:{tag}`, `${owner} é ✓`, `${owner}'; drop table x; --`]) {
        expect(await generations.bump(odd)).toBe(1);
        expect(await generations.current(odd)).toBe(1);
      }
    });
  });
}
