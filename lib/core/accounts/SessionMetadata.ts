// Session metadata policy (core): what a save records of a session beside its values —
// created, authenticated, last seen, the client, the sealed generation, the last periodic
// renewal — as the text the store keeps (its format is metadata.ts's).
import { encodeMeta, type MetaFields } from '../metadata.js';
import type { ResolvedOptions } from '../options.js';
import type { Session } from '../Session.js';

/**
 * @internal What one manager's saves record as metadata.
 */
export class SessionMetadata {
  readonly #recordsVisits: boolean;
  readonly #recordsAddress: boolean;
  readonly #recordsRenewal: boolean;

  /**
   * @param options - The manager's resolved options.
   * @param recordsVisits - Whether owned sessions record when they were last seen, and by
   *   what client (an owner key and a store that lists sessions).
   */
  constructor(options: ResolvedOptions, recordsVisits: boolean) {
    this.#recordsVisits = recordsVisits;
    this.#recordsAddress = options.clientAddress !== undefined;
    this.#recordsRenewal = options.renewalInterval !== undefined;
  }

  /**
   * The metadata a save writes, as text (and recorded on the session): with an owner on
   * a store that lists sessions, everything (last seen now, the client); else only the
   * creation, authentication, renewal, generation and persistence choice, when there is
   * one of them to keep; else none.
   *
   * @param session - The session being saved.
   * @param owner - Its owner.
   * @param now - The current time.
   * @returns The metadata's text, or `undefined` for none.
   */
  text<T extends object>(session: Session<T>, owner: string | undefined, now: number): string | undefined {
    const known = session.meta;
    const generation = owner === undefined ? undefined : known.g;
    const renewed = this.#recordsRenewal ? known.r : undefined;
    let fields: MetaFields | undefined;
    if (this.#recordsVisits && owner !== undefined) {
      const { client } = session;
      fields = {
        c: known.c,
        a: known.a,
        s: now,
        u: client.userAgent ?? known.u,
        i: this.#recordsAddress ? (client.address ?? known.i) : undefined,
        g: generation,
        r: renewed,
        p: known.p,
      };
    } else if (known.a !== undefined || generation !== undefined || renewed !== undefined || known.p !== undefined) {
      fields = { c: known.c, a: known.a, g: generation, r: renewed, p: known.p };
    }
    if (fields === undefined) {
      session.recordMeta({ c: known.c });
      // Metadata held from before (an owner since removed) is replaced, not kept.
      const held = known.a !== undefined || known.s !== undefined || known.g !== undefined || known.u !== undefined;
      return held ? encodeMeta({ c: known.c }) : undefined;
    }
    session.recordMeta(fields);
    return encodeMeta(fields);
  }
}
