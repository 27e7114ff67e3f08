import type { OwnerGenerations } from '../core/SessionStore.js';

/**
 * Keeps owners' generations in this process's memory, for revocable sealed cookies in
 * tests and single-process apps (the manager's `revocation` option). Lost on restart:
 * every owner is then back at generation 0 and cookies revoked before are valid again,
 * so a real deployment keeps them in Redis or PostgreSQL (`RedisOwnerGenerations`,
 * `PostgresOwnerGenerations`), which also find out when their server lost its data. This
 * one keeps no marker for that: it lives and dies with its process, and so does the
 * manager's cache of it.
 *
 * @example
 * ```ts
 * const manager = new SessionManager(store, {
 *   ownerKey: 'userId',
 *   revocation: { generations: new MemoryOwnerGenerations() },
 * });
 * ```
 */
export class MemoryOwnerGenerations implements OwnerGenerations {
  readonly #generations = new Map<string, number>();

  /**
   * Reads an owner's generation.
   *
   * @param owner - The owner.
   * @returns The generation: 0 for an owner never bumped.
   * @example
   * ```ts
   * await generations.current('user-42'); // 0 until bumped
   * ```
   */
  async current(owner: string): Promise<number> {
    return this.#generations.get(owner) ?? 0;
  }

  /**
   * Moves an owner's generation forward by one.
   *
   * @param owner - The owner.
   * @returns The new generation.
   * @example
   * ```ts
   * await generations.bump('user-42'); // 1
   * ```
   */
  async bump(owner: string): Promise<number> {
    const generation = (this.#generations.get(owner) ?? 0) + 1;
    this.#generations.set(owner, generation);
    return generation;
  }
}
