// kit-session/redis: the owner index of RedisSessionStore (internal): each owner's
// sorted set of session hashes, a superset of the owner's sessions, written before a
// session takes the owner; the bound's admission into it; the ending of an owner's
// sessions through it; and the following of a renewed session to its successor. The
// class's comment in RedisSessionStore.ts says why it works this way on a Cluster.
import type { OwnerSessionLimit, OwnerSessionRecord } from '../../core/SessionStore.js';
import { isId, isLive, MAX_RENEWAL_STEPS } from '../policy.js';
import type { RedisClient, ScoredMember, ScriptAnswer } from './redisClient.js';
import { admitCall, deleteOwnedCall, indexCall, runScript, type SeenEntry } from './scripts.js';

/**
 * How far another app server's clock may run behind this one's. Owner-index entries
 * are pruned only this long after their session's deadline.
 */
const CLOCK_SKEW_MARGIN = 60_000;

/**
 * What an owner index puts before the member of a session an admission evicted, beside
 * the member itself (see ADMIT_LUA): no session hash starts with it.
 */
const EVICTED_MARK = '!';

/**
 * The owner index of one `RedisSessionStore`: its keys are `<prefix>owner:<owner>`,
 * its sessions' keys `<prefix><hash>`.
 *
 * @internal
 */
export class RedisOwnerIndex {
  readonly #client: RedisClient;
  readonly #prefix: string;
  /**
   * How long an in-flight mark and a tombstone live: longer than any save may take
   * before it counts as failed (the store's timeout), plus the clock-skew margin.
   */
  readonly grace: number;

  /**
   * @param client - The store's client.
   * @param prefix - The store's key prefix.
   * @param timeout - The store's timeout, in milliseconds.
   */
  constructor(client: RedisClient, prefix: string, timeout: number) {
    this.#client = client;
    this.#prefix = prefix;
    this.grace = timeout + CLOCK_SKEW_MARGIN;
  }

  /**
   * Files a session (the hash of its id) under its owner, until its deadline; a
   * renewal's successor in place of its predecessor (`replaces`). Resolves to 1, or 0
   * when the predecessor it replaces was evicted (nothing filed).
   */
  index(owner: string, hash: string, deadline: number, now: number, replaces?: string): Promise<ScriptAnswer> {
    return runScript(
      this.#client,
      indexCall({
        key: this.#ownerKey(owner),
        hash,
        deadline,
        pruneUpTo: now - CLOCK_SKEW_MARGIN,
        ttl: Math.max(1, Math.ceil(deadline - now + CLOCK_SKEW_MARGIN)),
        replaces,
      }),
    );
  }

  /** The owner's index entries not yet prunable, each with its score as Redis wrote it. */
  async entries(owner: string, now: number): Promise<SeenEntry[]> {
    return (await this.#unpruned(owner, now)).map(({ member, score }) => ({ hash: member, score }));
  }

  /**
   * Admits a session into its owner's index under the bound. When the index holds as
   * many other entries as the bound, reads each of their sessions first (in parallel),
   * to tell the admission which are stale, which expired and when the live ones were
   * written. Resolves to the sessions to evict (none when it fits), or `undefined` when
   * the policy refused it.
   */
  async admit(
    limit: OwnerSessionLimit,
    owner: string,
    hash: string,
    deadline: number,
    now: number,
    already: boolean,
    entries: readonly SeenEntry[],
  ): Promise<string[] | undefined> {
    const own = entries.find((entry) => entry.hash === hash);
    const alreadyScore = already ? own?.score : undefined;
    const others = entries.filter((entry) => entry.hash !== hash && isId(entry.hash));
    // Entries an earlier admission evicted stay listed, marked, until found ended: they
    // no longer count, but are read with the others so that they can be dropped.
    const evicted = new Set(entries.filter((entry) => entry.hash.startsWith(EVICTED_MARK)).map((entry) => entry.hash.slice(1)));
    const counted = others.filter((entry) => !evicted.has(entry.hash)).length;
    const dead: SeenEntry[] = [];
    const uncounted: SeenEntry[] = [];
    const written: { hash: string; writeTime: number }[] = [];
    if (alreadyScore === undefined && counted >= limit.max) {
      const states = await Promise.all(
        others.map((entry) => this.#client.hmget(this.#key(entry.hash), ['o', 'e', 'd', 'w', 'i', 's', 'q'])),
      );
      states.forEach(([storedOwner, e, d, w, inFlight, successor, claimed], index) => {
        const entry = others[index]!;
        const expireTime = Number(e);
        const end = Math.min(expireTime, Number(d));
        if (inFlight === owner) {
          return; // a bounded save of it is in flight: counted, as the most recent
        }
        // A renewed session whose renewal is settled (or lapsed) no longer counts; one
        // being renewed counts as itself until its successor takes its entry's place.
        const retired = successor !== null && !(claimed !== null && Number(claimed) > now);
        if (retired || storedOwner !== owner || e === null || d === null || !(end > now - CLOCK_SKEW_MARGIN)) {
          // Gone, a tombstone, moved to another owner, or ended long enough ago that no
          // app server's clock still sees it live: a save can no longer file it here
          // without filing it again (which changes its score).
          dead.push(entry);
        } else if (!isLive({ expireTime, deadline: Number(d) }, now)) {
          uncounted.push(entry);
        } else {
          written.push({ hash: entry.hash, writeTime: Number(w) || 0 });
        }
      });
    }
    const answer = await runScript(
      this.#client,
      admitCall({
        key: this.#ownerKey(owner),
        hash,
        deadline,
        pruneUpTo: now - CLOCK_SKEW_MARGIN,
        ttl: Math.max(1, Math.ceil(deadline - now + CLOCK_SKEW_MARGIN)),
        max: limit.max,
        policy: limit.policy,
        alreadyScore,
        dead,
        uncounted,
        written,
      }),
    );
    const [verdict, ...victims] = Array.isArray(answer) ? answer : [answer];
    if (Number(verdict) === 0) {
      return undefined;
    }
    return victims.map(String);
  }

  /**
   * Ends the sessions an admission evicted, each only if it still belongs to the owner.
   * Resolves to those it ended: a live session, or a save in flight (left a tombstone).
   * One ended meanwhile by other means (a log-out, its expiry) was not evicted.
   */
  async evict(owner: string, victims: readonly string[], now: number): Promise<string[]> {
    const answers = await Promise.all(victims.map((hash) => this.endOwned(owner, hash, now)));
    return victims.filter((_, index) => answers[index]!.ended);
  }

  /**
   * Lists the live sessions of one owner: reads the owner's index, then each listed
   * session (`HMGET`, in parallel, each on its own node), and keeps those that are live
   * by the store's clock, still name the owner and are not renewed.
   */
  async list(owner: string, now: number): Promise<OwnerSessionRecord[]> {
    const hashes = (await this.#unpruned(owner, now)).map(({ member }) => member).filter(isId);
    const states = await Promise.all(hashes.map((hash) => this.#client.hmget(this.#key(hash), ['o', 'e', 'd', 'm', 's'])));
    const listed: OwnerSessionRecord[] = [];
    states.forEach(([storedOwner, e, d, meta, successor], index) => {
      const expireTime = Number(e);
      const deadline = Number(d);
      // A renewed session is never listed: its successor is, under its own handle.
      if (storedOwner === owner && e !== null && d !== null && successor === null && isLive({ expireTime, deadline }, now)) {
        listed.push({ handle: hashes[index]!, meta: meta ?? undefined, expireTime, deadline });
      }
    });
    return listed;
  }

  /**
   * Ends every session the owner's index lists (in parallel, each on its own node), but
   * the `keep` one and what it was renewed into. Resolves to how many live ones it ended.
   */
  async endAll(owner: string, keep: string | undefined, now: number): Promise<number> {
    const hashes = (await this.#unpruned(owner, now)).map(({ member }) => member);
    // The one kept, and what it was renewed into meanwhile (read after the index: a
    // renewal after this read files a successor the index read did not see).
    const kept = new Set<string>();
    // A handle that cannot be a session's names none (and is no key: node-redis cannot
    // route a lone surrogate on a Cluster).
    for (let hash = keep, step = 0; hash !== undefined && isId(hash) && step <= MAX_RENEWAL_STEPS; step++) {
      kept.add(hash);
      const [successor] = await this.#client.hmget(this.#key(hash), ['s']);
      hash = successor ?? undefined;
    }
    const ended = await Promise.all(
      hashes.filter((hash) => isId(hash) && !kept.has(hash)).map((hash) => this.endOwned(owner, hash, now, kept)),
    );
    return ended.reduce((sum, { live }) => sum + live, 0);
  }

  /**
   * Ends one session of an owner by its hash, only if it still belongs to the owner (or
   * a bounded save filing it there is in flight), and a renewed one's successor after
   * it, through later renewals (a few steps at most), never the `keep` one. Resolves to
   * how many live sessions it ended, and whether it ended anything: a live session, or a
   * save in flight (which then writes nothing).
   */
  async endOwned(
    owner: string,
    hash: string,
    now: number,
    keep?: ReadonlySet<string>,
    byHandle = false,
  ): Promise<{ live: number; ended: boolean }> {
    let live = 0;
    let ended = false;
    let next: string | undefined = hash;
    let follow = false;
    for (let step = 0; step <= MAX_RENEWAL_STEPS && next !== undefined && keep?.has(next) !== true; step++) {
      const answer = await runScript(this.#client, deleteOwnedCall({ key: this.#key(next), owner, now, grace: this.grace, follow }));
      const [code, successor, followNext, serving] = Array.isArray(answer) ? answer : [answer];
      if (byHandle && step === 0 && successor !== undefined && serving !== '1') {
        // A handle of a renewed session past its grace names nothing any more (as an
        // unknown id); an owner's end still follows it (its index read may predate the renewal).
        return { live: 0, ended: false };
      }
      // A successor not written yet, ended in its renewal's stead: the session, live
      // until then as its predecessor, counts once.
      live += Number(code) === 1 || (follow && Number(code) === 2) ? 1 : 0;
      ended ||= Number(code) !== 0 || successor !== undefined;
      next = successor === undefined ? undefined : String(successor);
      follow = followNext === '1';
    }
    return { live, ended };
  }

  /**
   * Whether a renewed session's successor, followed through later renewals (a few steps
   * at most), is live. `claim` is the renewed session's `q`: present while its renewal
   * is not settled, and then the successor not written yet counts as live until the
   * claim lapses. A claim that has lapsed unsettled (its renewal was cut off) ends the
   * session on its own.
   */
  async successorLive(hash: string, claim: string | null | undefined, now: number): Promise<boolean> {
    let next = hash;
    let until = claim;
    for (let step = 0; step < MAX_RENEWAL_STEPS; step++) {
      const inFlight = until !== null && until !== undefined;
      if (inFlight && !(Number(until) > now)) {
        return false;
      }
      const [e, d, successor, nextClaim, tombstone] = await this.#client.hmget(this.#key(next), ['e', 'd', 's', 'q', 'x']);
      if (tombstone !== null) {
        return false;
      }
      if (e === null || d === null) {
        return inFlight && successor === null;
      }
      if (!isLive({ expireTime: Number(e), deadline: Number(d) }, now)) {
        return false;
      }
      if (typeof successor !== 'string') {
        return true;
      }
      until = nextClaim;
      next = successor;
    }
    return false;
  }

  /** The entries of the owner's index not yet prunable (a minute past their deadline). */
  #unpruned(owner: string, now: number): Promise<ScoredMember[]> {
    return this.#client.zrangebyscore(this.#ownerKey(owner), `(${now - CLOCK_SKEW_MARGIN}`, '+inf');
  }

  /** A session's key, from the hash of its id. */
  #key(hash: string): string {
    return this.#prefix + hash;
  }

  #ownerKey(owner: string): string {
    return `${this.#prefix}owner:${owner}`;
  }
}
