// The marker a generations store keeps beside the owners' generations (internal), so that
// a store that lost its data (Redis restarted without persistence, the table truncated) is
// told from one in which nothing was ever revoked. Shared by RedisOwnerGenerations and
// PostgresOwnerGenerations: each keeps the marker where its data is (a key, a row), so that
// it is lost with the data, and runs the steps this file decides.
//
// The marker is one integer, written once at first use:
// - negative: the store's first epoch, a random number that names it; no floor.
// - positive: an epoch begun after a loss was found. Every owner's generation is at least
//   this number (the time it was written, in milliseconds since 1970, so above every
//   generation handed out before: those count revocations), so every cookie sealed before
//   the loss reads as revoked, never as "nothing was revoked".
//
// Each store object remembers the marker it saw. A read that finds it gone, or replaced by
// one that is not a later epoch, found a loss: the store writes a new epoch (compare and
// set, so that concurrent finders agree on one) and the read throws
// SessionGenerationsLostError. What this cannot see: a loss before any process that knew
// the marker reads again (a store wiped while every app process restarts), and a partial
// loss that keeps the marker (one owner's key deleted, a Cluster node failed over to a
// replica behind it); the manager's cache still refuses a generation lower than one it read.

import { SessionGenerationsLostError, SessionStoreError } from '../core/SessionError.js';

/**
 * What a store does about the marker it found.
 *
 * @internal
 */
export type EpochStep =
  /** The marker is known: every generation is at least `floor`. */
  | { readonly kind: 'known'; readonly floor: number }
  /** No marker and none known: write `marker` if there is still none (first use). */
  | { readonly kind: 'create'; readonly marker: number }
  /** The data was lost: replace the marker found by `marker`, a new epoch, then throw `lostError()`. */
  | { readonly kind: 'lost'; readonly marker: number };

/** The floor of a marker: a first epoch has none. */
function floorOf(marker: number | undefined): number {
  return marker === undefined || marker < 0 ? 0 : marker;
}

/** A first epoch: a random negative integer (48 bits), so two stores' never match. */
function firstEpoch(): number {
  const words = crypto.getRandomValues(new Uint32Array(2));
  return -((words[0]! & 0xffff) * 2 ** 32 + words[1]! + 1);
}

/**
 * Reads a marker as a store returned it.
 *
 * @internal
 * @param value - The text or number stored, or `null`/`undefined` for none.
 * @returns The marker, or `undefined` when there is none.
 * @throws SessionStoreError when it is not a non-zero safe integer.
 */
export function parseMarker(value: string | number | null | undefined): number | undefined {
  if (value === null || value === undefined) {
    return undefined;
  }
  const marker = Number(value);
  if (!Number.isSafeInteger(marker) || marker === 0) {
    throw new SessionStoreError('owner generations: the store\'s marker is not an epoch');
  }
  return marker;
}

/**
 * The error a read that found a loss throws.
 *
 * @internal
 * @returns The error; its message names no owner and no key.
 */
export function lostError(): SessionGenerationsLostError {
  return new SessionGenerationsLostError(
    'owner generations: the store lost its data (its marker is gone or replaced); a new epoch revokes every cookie sealed before',
  );
}

/**
 * The marker one store object has seen, and the steps that keep it.
 *
 * @internal
 */
export class GenerationsEpoch {
  /** The marker this object trusts. */
  #known: number | undefined;
  /** The highest generation this object handed out, so a new epoch begins above it. */
  #highest = 0;

  /**
   * Decides what a marker found means.
   *
   * @param found - The marker the store holds now, or `undefined` for none.
   * @returns The step to take.
   */
  observe(found: number | undefined): EpochStep {
    const known = this.#known;
    if (found !== undefined && (found === known || known === undefined || (found > 0 && found > floorOf(known)))) {
      // The same epoch, the first one seen, or a later epoch another process began after
      // finding a loss (its floor covers everything this object knew).
      this.#known = found;
      return { kind: 'known', floor: floorOf(found) };
    }
    if (found === undefined && known === undefined) {
      return { kind: 'create', marker: firstEpoch() };
    }
    return { kind: 'lost', marker: Math.max(Date.now(), floorOf(known) + 1, this.#highest + 1) };
  }

  /**
   * Takes in the marker a write left in place (this object's, or a concurrent writer's).
   *
   * @param found - The marker the store holds after the write.
   * @returns The floor to apply now: 0 unless the marker in place is known.
   */
  settle(found: number | undefined): number {
    const step = this.observe(found);
    return step.kind === 'known' ? step.floor : 0;
  }

  /**
   * The floor a read or a bump applies, given the marker it found: a known marker's;
   * else a new epoch is marked through `mark` (the first one, or the one after a loss),
   * and a read that found a loss throws.
   *
   * @param found - The marker the store holds, or `undefined` for none.
   * @param mark - Writes a marker (compare and set) and gives back the one in place.
   * @param read - Whether this is a read (which reports a loss) rather than a bump.
   * @returns The floor.
   * @throws SessionGenerationsLostError when a read found the marker lost.
   */
  async floorFor(found: number | undefined, mark: (next: number) => Promise<number | undefined>, read: boolean): Promise<number> {
    const step = this.observe(found);
    if (step.kind === 'known') {
      return step.floor;
    }
    const floor = this.settle(await mark(step.marker));
    if (read && step.kind === 'lost') {
      throw lostError();
    }
    return floor;
  }

  /**
   * An owner's generation as the store answers it: never below the epoch's floor.
   *
   * @param stored - What the store holds for the owner (0 when nothing).
   * @param floor - The floor of the marker read with it.
   * @returns The generation.
   */
  answer(stored: number, floor: number): number {
    const generation = Math.max(stored, floor);
    this.#highest = Math.max(this.#highest, generation);
    return generation;
  }
}
