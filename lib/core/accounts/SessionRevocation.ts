// Revocable sealed cookies (core): each owned session seals its owner's generation, and a
// session sealed before the owner's latest revocation loads as a fresh one.
import type { Clock } from '../Clock.js';
import { GenerationCache } from '../GenerationCache.js';
import type { MetaFields } from '../metadata.js';
import type { ResolvedOptions } from '../options.js';
import type { Session } from '../Session.js';
import { callStore, storeError } from '../SessionError.js';
import type { LoadedSessionRecord } from '../SessionStore.js';
import type { SessionEvents } from './SessionEvents.js';

/**
 * @internal One manager's revocation of sealed cookies: a no-op without the `revocation`
 * option.
 */
export class SessionRevocation<T extends object> {
  readonly #generations: GenerationCache | undefined;
  readonly #ownerKey: string | undefined;
  readonly #events: SessionEvents;

  /**
   * @param options - The manager's resolved options.
   * @param events - The manager's event reporter.
   * @param clock - The manager's clock.
   */
  constructor(options: ResolvedOptions, events: SessionEvents, clock: Clock) {
    const { revocation } = options;
    this.#generations =
      revocation === undefined
        ? undefined
        : new GenerationCache(revocation.generations, revocation.maxStaleness, revocation.whenUnavailable === 'trust', () =>
            clock.now(),
          );
    this.#ownerKey = options.ownerKey;
    this.#events = events;
  }

  /** Whether loads check owners' generations (the `revocation` option). */
  get active(): boolean {
    return this.#generations !== undefined;
  }

  /**
   * Whether a loaded session's cookie was sealed before its owner's latest revocation.
   *
   * @param record - The loaded record.
   * @param meta - Its metadata.
   * @param owner - Its owner.
   * @returns `true` when it is revoked (the `revoked` event is reported).
   * @throws SessionStoreError when the generations cannot be read and the options say to fail.
   */
  async revoked(record: LoadedSessionRecord<T>, meta: MetaFields, owner: string | undefined): Promise<boolean> {
    if (this.#generations === undefined || owner === undefined) {
      return false;
    }
    let current: number | undefined;
    try {
      current = await this.#generations.current(owner);
    } catch (error) {
      throw storeError(error);
    }
    if (current === undefined || (meta.g ?? 0) >= current) {
      return false;
    }
    this.#events.emitFor('revoked', 'generation', record.id, owner);
    return true;
  }

  /**
   * Reads the owner's generation for a save that must seal it, past the cache (a log-in
   * seals the generation of now: a stale one would be revoked).
   *
   * @param session - The session being saved.
   * @param owner - Its owner.
   * @returns A promise when the generation had to be read, else `undefined`.
   */
  seal(session: Session<T>, owner: string | undefined): Promise<void> | undefined {
    const generations = this.#generations;
    if (
      generations === undefined ||
      owner === undefined ||
      (session.meta.g !== undefined && !session.changedKeys.has(this.#ownerKey as keyof T & string))
    ) {
      return undefined;
    }
    return generations.fresh(owner).then((generation) => {
      session.recordMeta({ ...session.meta, g: generation });
    });
  }

  /**
   * Moves an owner's generation forward: every cookie sealed before is revoked.
   *
   * @param owner - The owner.
   * @returns The new generation, or `undefined` without revocation.
   * @throws SessionStoreError when the generations cannot be written.
   */
  async bump(owner: string): Promise<number | undefined> {
    const generations = this.#generations;
    return generations === undefined ? undefined : callStore(() => generations.bump(owner));
  }
}
