// Speed work, contained: the owners' generations this process read recently, so that a
// revocable sealed cookie costs at most one read of the generations server per owner per
// `maxStaleness` (5 s by default) instead of one per request. Its cost per request is in
// bench/README.md ("Revocable cookies"), measured with `node dist-bench/bench/request.bench.js`.
import { SessionGenerationsLostError } from './SessionError.js';
import type { OwnerGenerations } from './SessionStore.js';

/** How many owners' generations are kept at most; the least recently read go first. */
const MAX_OWNERS = 10_000;

interface Entry {
  readonly generation: number;
  readonly readAt: number;
}

/**
 * @internal Reads owners' generations through a short cache, for the manager's
 * `revocation` option. It never takes a generation back: a read lower than one this
 * process read before that read began means the store lost data, and is handled as a
 * failed read (`SessionGenerationsLostError`), never as "nothing was revoked".
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
   * @throws whatever the generations' `current` throws, and SessionGenerationsLostError
   *   when it answers lower than a generation read before, unless told to trust.
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

  /**
   * @param previous - What this process knew of the owner when the read began.
   */
  async #read(owner: string, previous: Entry | undefined): Promise<number | undefined> {
    // Stamped with the time the read began: the answer may reflect the server as early
    // as that, so `maxStaleness` counts from then, however late it arrives.
    const startedAt = this.#now();
    try {
      const generation = await this.#generations.current(owner);
      if (previous !== undefined && generation < previous.generation && this.#entries.get(owner) === previous) {
        // Lower than a generation read before this read began, and not a read that raced
        // a bump (that would have left a newer entry): the store lost what it held.
        throw new SessionGenerationsLostError('owner generations: the store answered a generation lower than one it gave before');
      }
      this.#remember(owner, generation, startedAt);
      return generation;
    } catch (error) {
      if (!this.#trustWhenUnavailable) {
        throw error;
      }
      // The last generation known, however old: never one lower than this process saw.
      return this.#entries.get(owner)?.generation ?? previous?.generation;
    }
  }

  #remember(owner: string, generation: number, readAt: number): void {
    const known = this.#entries.get(owner);
    this.#entries.delete(owner);
    // A read that raced a bump must not take the generation back: the newer entry stays.
    this.#entries.set(
      owner,
      known === undefined || generation > known.generation
        ? { generation, readAt }
        : { generation: known.generation, readAt: generation === known.generation ? Math.max(known.readAt, readAt) : known.readAt },
    );
    if (this.#entries.size > MAX_OWNERS) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
  }
}
