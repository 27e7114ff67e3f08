import { MemoryOwnerGenerations, SessionGenerationsLostError, type OwnerGenerations } from 'kit-session';
import { GenerationCache } from '../../lib/core/GenerationCache.js';
import { FakeClock } from '../support/FakeClock.js';

/**
 * Real in-memory generations that count their reads, and whose server can be made
 * unreachable (`down`): `current` then rejects, as a client of a dead server would.
 */
class CountedGenerations implements OwnerGenerations {
  reads = 0;
  down = false;
  inner = new MemoryOwnerGenerations();
  /** When set, `current` waits for this before it answers. */
  gate: Promise<void> | undefined;

  async current(owner: string): Promise<number> {
    this.reads++;
    if (this.down) {
      throw new Error('connect ECONNREFUSED');
    }
    const generation = await this.inner.current(owner);
    await this.gate;
    return generation;
  }

  bump(owner: string): Promise<number> {
    return this.inner.bump(owner);
  }

  /** The server loses its data (restarted without persistence): every owner is back at 0. */
  lose(): void {
    this.inner = new MemoryOwnerGenerations();
  }
}

describe(GenerationCache, () => {
  let clock: FakeClock;
  let generations: CountedGenerations;
  const cacheOf = (trust = false, maxStaleness = 5000) => new GenerationCache(generations, maxStaleness, trust, () => clock.now());

  beforeEach(() => {
    clock = new FakeClock();
    generations = new CountedGenerations();
  });

  describe('.current', () => {
    it('reads an owner once per maxStaleness, then again', async () => {
      const cache = cacheOf();
      expect(await cache.current('ada')).toBe(0);
      await generations.inner.bump('ada'); // another process
      clock.advance(4999);
      expect(cache.current('ada')).toBe(0); // from the cache, synchronously
      expect(generations.reads).toBe(1);
      clock.advance(1);
      expect(await cache.current('ada')).toBe(1);
      expect(generations.reads).toBe(2);
    });

    it('keeps owners apart', async () => {
      const cache = cacheOf();
      await generations.inner.bump('bob');
      expect(await cache.current('ada')).toBe(0);
      expect(await cache.current('bob')).toBe(1);
      expect(generations.reads).toBe(2);
    });

    it('with maxStaleness 0, reads on every call', async () => {
      const cache = cacheOf(false, 0);
      await cache.current('ada');
      await cache.current('ada');
      expect(generations.reads).toBe(2);
    });

    it('shares one read among concurrent calls for one owner', async () => {
      const cache = cacheOf();
      let open!: () => void;
      generations.gate = new Promise((resolve) => (open = resolve));
      const calls = [cache.current('ada'), cache.current('ada'), cache.current('ada')];
      open();
      expect(await Promise.all(calls)).toEqual([0, 0, 0]);
      expect(generations.reads).toBe(1);
    });

    it('when a read answers late, counts maxStaleness from when the read began', async () => {
      const cache = cacheOf(false, 250);
      let open!: () => void;
      generations.gate = new Promise((resolve) => (open = resolve));
      const reading = cache.current('ada'); // reads 0 now, answers 600 ms later
      await generations.inner.bump('ada'); // another process revokes meanwhile
      clock.advance(600);
      open();
      expect(await reading).toBe(0);
      generations.gate = undefined;
      // Read 600 ms ago: older than 250 ms, so read again, never answered from the cache.
      expect(await cache.current('ada')).toBe(1);
      expect(generations.reads).toBe(2);
    });

    it('without trust, rethrows a failed read', async () => {
      const cache = cacheOf(false);
      generations.down = true;
      await expect(async () => cache.current('ada')).rejects.toThrow(Error);
    });

    it('with trust, falls back to the last generation read, however old, or to none', async () => {
      const cache = cacheOf(true);
      await generations.inner.bump('ada');
      expect(await cache.current('ada')).toBe(1);
      generations.down = true;
      clock.advance(60_000);
      expect(await cache.current('ada')).toBe(1);
      expect(await cache.current('bob')).toBeUndefined();
    });
  });

  describe('when the store has lost its data', () => {
    it('without trust, a read lower than one read before rejects with SessionGenerationsLostError, never answering it', async () => {
      const cache = cacheOf(false);
      await generations.inner.bump('ada');
      await generations.inner.bump('ada');
      expect(await cache.current('ada')).toBe(2);
      generations.lose();
      clock.advance(5000);
      await expect(async () => cache.current('ada')).rejects.toBeInstanceOf(SessionGenerationsLostError);
      await expect(async () => cache.fresh('ada')).rejects.toBeInstanceOf(SessionGenerationsLostError);
      // Still lost on the next read: the cached generation is never taken back.
      clock.advance(5000);
      await expect(async () => cache.current('ada')).rejects.toBeInstanceOf(SessionGenerationsLostError);
    });

    it('with trust, answers the generation read before: a log-in seals it, so the cache never logs it out', async () => {
      const cache = cacheOf(true);
      await generations.inner.bump('ada');
      expect(await cache.current('ada')).toBe(1);
      generations.lose();
      expect(await cache.fresh('ada')).toBe(1); // what a log-in seals
      clock.advance(5000);
      expect(await cache.current('ada')).toBe(1);
    });

    it('once the store answers higher again (a new epoch), takes that', async () => {
      const cache = cacheOf(false);
      await generations.inner.bump('ada');
      expect(await cache.current('ada')).toBe(1);
      generations.lose();
      for (let i = 0; i < 5; i++) {
        await generations.inner.bump('ada');
      }
      expect(await cache.fresh('ada')).toBe(5);
      expect(cache.current('ada')).toBe(5);
    });
  });

  describe('.fresh', () => {
    it('reads past the cache and remembers what it read', async () => {
      const cache = cacheOf();
      await cache.current('ada');
      await generations.inner.bump('ada');
      expect(await cache.fresh('ada')).toBe(1);
      expect(cache.current('ada')).toBe(1);
      expect(generations.reads).toBe(2);
    });
  });

  describe('.bump', () => {
    it('applies at once: the new generation is what the cache gives next', async () => {
      const cache = cacheOf();
      await cache.current('ada');
      expect(await cache.bump('ada')).toBe(1);
      expect(cache.current('ada')).toBe(1);
      expect(generations.reads).toBe(1);
    });

    it('a read that raced a bump does not take the generation back', async () => {
      const cache = cacheOf(false, 60_000);
      let open!: () => void;
      generations.gate = new Promise((resolve) => (open = resolve));
      const reading = cache.fresh('ada'); // reads 0, answers only after the bump
      expect(await cache.bump('ada')).toBe(1);
      open();
      expect(await reading).toBe(0);
      expect(cache.current('ada')).toBe(1);
    });
  });
});
