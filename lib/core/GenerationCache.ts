// Speed work, contained: the owners' generations this process read recently, so that a
// revocable sealed cookie costs at most one read of the generations server per owner per
// `maxStaleness` (5 s by default) instead of one per request. Its cost per request is in
// bench/README.md ("Revocable cookies"), measured with `node dist-bench/bench/request.bench.js`.
import type { OwnerGenerations } from './SessionStore.js';

/** How many owners' generations are kept at most; the least recently read go first. */
const MAX_OWNERS = 10_000;

interface Entry {
  readonly generation: number;
  readonly readAt: number;
}

/**
 * @internal Reads owners' generations through a short cache, for the manager's
 * `revocation` option.
 */
export class GenerationCache {
  readonly #generations: OwnerGenerations;
  readonly #maxStaleness: number;
  readonly #trustWhenUnavailable: boolean;
  readonly #now: () => number;
  /** The last generation read of each owner, least recently read first. */
  readonly #entries = new Map<string, Entry>();
  /** Reads under way, so that concurrent requests of one owner share one. */
  readonly #reading = new Map<string, Promise<number | undefined>>();

  /**
   * @param generations - Where the generations live.
   * @param maxStaleness - How long a generation read is trusted, in milliseconds.
   * @param trustWhenUnavailable - Whether a failed read falls back to the last one (or to
   *   none: `undefined`) instead of throwing.
   * @param now - The clock.
   */
  constructor(generations: OwnerGenerations, maxStaleness: number, trustWhenUnavailable: boolean, now: () => number) {
    this.#generations = generations;
    this.#maxStaleness = maxStaleness;
    this.#trustWhenUnavailable = trustWhenUnavailable;
    this.#now = now;
  }

  /**
   * The owner's generation, read at most `maxStaleness` ago.
   *
   * @param owner - The owner.
   * @returns The generation, or `undefined` when it could not be read and the options
   *   say to trust the cookie.
   * @throws whatever the generations' `current` throws, unless told to trust.
   */
  current(owner: string): number | undefined | Promise<number | undefined> {
    const entry = this.#entries.get(owner);
    if (entry !== undefined && this.#now() - entry.readAt < this.#maxStaleness) {
      return entry.generation;
    }
    let reading = this.#reading.get(owner);
    if (reading === undefined) {
      reading = this.#read(owner, entry).finally(() => this.#reading.delete(owner));
      this.#reading.set(owner, reading);
    }
    return reading;
  }

  /**
   * Reads the owner's generation now, past the cache (a log-in seals it).
   *
   * @param owner - The owner.
   * @returns The generation, or `undefined` as for {@link GenerationCache.current}.
   */
  fresh(owner: string): Promise<number | undefined> {
    return this.#read(owner, this.#entries.get(owner));
  }

  /**
   * Moves the owner's generation forward and remembers the new one.
   *
   * @param owner - The owner.
   * @returns The new generation.
   */
  async bump(owner: string): Promise<number> {
    const startedAt = this.#now();
    const generation = await this.#generations.bump(owner);
    this.#remember(owner, generation, startedAt);
    return generation;
  }

  async #read(owner: string, previous: Entry | undefined): Promise<number | undefined> {
    // Stamped with the time the read began: the answer may reflect the server as early
    // as that, so `maxStaleness` counts from then, however late it arrives.
    const startedAt = this.#now();
    try {
      const generation = await this.#generations.current(owner);
      this.#remember(owner, generation, startedAt);
      return generation;
    } catch (error) {
      if (!this.#trustWhenUnavailable) {
        throw error;
      }
      return previous?.generation;
    }
  }

  #remember(owner: string, generation: number, readAt: number): void {
    // A read that raced a bump must not take the generation back.
    const known = this.#entries.get(owner);
    this.#entries.delete(owner);
    this.#entries.set(owner, {
      generation: known === undefined ? generation : Math.max(known.generation, generation),
      readAt,
    });
    if (this.#entries.size > MAX_OWNERS) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
  }
}
