// The Cloudflare stores under test, from Node: a Worker (spec/fixtures/workers/storeWorker.ts,
// bundled by esbuild as wrangler would) runs on workerd through Miniflare with a
// SQLite-backed Durable Object namespace and a KV namespace; each store call made here is
// one request to that Worker, which makes it with the real store, from the Worker, against
// the real bindings. The proxies below carry the same abilities as the store they stand
// for, so the contract suite and the model test run unchanged.
import path from 'node:path';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { SessionGenerationsLostError } from 'kit-session';
import {
  OwnerBound,
  SessionLimitError,
  SessionStoreError,
  type EvictionReport,
  type OwnerGenerations,
  type OwnerSessionLimit,
  type SessionPatch,
  type SessionRecord,
  type SessionRenewal,
} from 'kit-session/store';
import type { Clock } from 'kit-session/store';

const entry = path.resolve(__dirname, '../fixtures/workers/storeWorker.ts');
let bundled: Promise<string> | undefined;

/** The test Worker, bundled once per test file. */
function bundle(): Promise<string> {
  bundled ??= build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
    target: 'es2022',
    write: false,
    logLevel: 'warning',
  }).then((result) => result.outputFiles[0]!.text);
  return bundled;
}

/** Starts workerd with the test Worker and its bindings. */
export async function startWorkers(durableObjects?: Record<string, { className: string; useSQLite?: boolean }>): Promise<Miniflare> {
  const mf = new Miniflare({
    modules: true,
    script: await bundle(),
    compatibilityDate: '2026-04-01',
    durableObjects: durableObjects ?? {
      SESSIONS: { className: 'SessionStoreObject', useSQLite: true },
      QUICK: { className: 'QuickSweepObject', useSQLite: true },
    },
    kvNamespaces: ['SESSIONS_KV'],
    cf: false,
  });
  await mf.ready;
  return mf;
}

/** Which store a proxy stands for. */
export type WorkerStoreKind = 'durable-object' | 'quick-sweep' | 'kv' | 'generations';

/** The error an answer names, made again on this side. */
function errorOf(error: { name: string; message: string; code?: string }): Error {
  switch (error.name) {
    case 'SessionLimitError':
      return new SessionLimitError(error.message);
    case 'SessionGenerationsLostError':
      return new SessionGenerationsLostError(error.message);
    case 'SessionStoreError':
      return new SessionStoreError(error.message);
    case 'TypeError':
      return new TypeError(error.message);
    default: {
      const other = new Error(error.message);
      other.name = error.name;
      return other;
    }
  }
}

/** Sends calls of one store (one object name, one clock) to the test Worker. */
export class WorkerCaller {
  /** Store calls made through this caller. */
  calls = 0;
  /** The requests the last call's store sent its Durable Object. */
  subrequests = 0;
  #limit: OwnerSessionLimit | undefined;
  /** Tells the evictions the Worker's store reported, as that store does (a throwing report is ignored). */
  readonly #bound = new OwnerBound();

  constructor(
    readonly mf: Miniflare,
    readonly kind: WorkerStoreKind,
    readonly name: string,
    readonly clock: Clock,
    readonly options?: Record<string, unknown>,
  ) {}

  set limit(limit: OwnerSessionLimit) {
    this.#bound.set(limit);
    this.#limit = limit;
  }

  async call(method: string, args: unknown[], report?: EvictionReport): Promise<unknown> {
    this.calls++;
    const response = await this.mf.dispatchFetch('http://worker/', {
      method: 'POST',
      body: JSON.stringify({
        store: this.kind,
        name: this.name,
        method,
        args,
        now: this.clock.now(),
        ...(this.#limit === undefined ? {} : { limit: { max: this.#limit.max, policy: this.#limit.policy } }),
        ...(this.options === undefined ? {} : { options: this.options }),
      }),
    });
    const answer = (await response.json()) as
      | { ok: true; value: unknown; evicted: [string, string[]][]; subrequests: number }
      | { ok: false; error: { name: string; message: string; code?: string } };
    if (!answer.ok) {
      throw errorOf(answer.error);
    }
    this.subrequests = answer.subrequests;
    for (const [owner, handles] of answer.evicted) {
      this.#bound.report(owner, handles, report);
    }
    return answer.value === null ? undefined : answer.value;
  }
}

function plain<R extends object>(value: R): Omit<R, 'evicted'> {
  const { evicted: _evicted, ...rest } = value as R & { evicted?: unknown };
  return rest;
}

/** The KV store, from Node: the three required methods and `tokenLength`. */
export class KvStoreProxy {
  constructor(readonly caller: WorkerCaller) {}
  getSession(token: string): Promise<never> {
    return this.caller.call('getSession', [token]) as Promise<never>;
  }
  setSession(id: string, record: SessionRecord<unknown>): Promise<string> {
    return this.caller.call('setSession', [id, record]) as Promise<string>;
  }
  async deleteSession(id: string): Promise<void> {
    await this.caller.call('deleteSession', [id]);
  }
  tokenLength(id: string): number {
    return id.length;
  }
}

/** The Durable Object store, from Node: every ability. */
export class DurableObjectStoreProxy extends KvStoreProxy {
  override setSession(id: string, record: SessionRecord<unknown>, owner?: string, evicted?: EvictionReport): Promise<string> {
    return this.caller.call('setSession', [id, record, owner], evicted) as Promise<string>;
  }
  patchSession(id: string, patch: SessionPatch<unknown>): Promise<string | undefined> {
    return this.caller.call('patchSession', [id, plain(patch)], patch.evicted) as Promise<string | undefined>;
  }
  renewSession(id: string, newId: string, renewal: SessionRenewal<unknown>): Promise<string | undefined> {
    return this.caller.call('renewSession', [id, newId, plain(renewal)], renewal.evicted) as Promise<string | undefined>;
  }
  deleteOwnerSessions(owner: string, keep?: string): Promise<number> {
    return this.caller.call('deleteOwnerSessions', [owner, keep]) as Promise<number>;
  }
  listOwnerSessions(owner: string): Promise<never> {
    return this.caller.call('listOwnerSessions', [owner]) as Promise<never>;
  }
  deleteSessionByHandle(owner: string, handle: string): Promise<boolean> {
    return this.caller.call('deleteSessionByHandle', [owner, handle]) as Promise<boolean>;
  }
  limitOwnerSessions(limit: OwnerSessionLimit): void {
    this.caller.limit = limit;
  }
  deleteExpired(): Promise<number> {
    return this.caller.call('deleteExpired', []) as Promise<number>;
  }
}

/** The Durable Object generations, from Node. */
export class GenerationsProxy implements OwnerGenerations {
  constructor(readonly caller: WorkerCaller) {}
  current(owner: string): Promise<number> {
    return this.caller.call('current', [owner]) as Promise<number>;
  }
  bump(owner: string): Promise<number> {
    return this.caller.call('bump', [owner]) as Promise<number>;
  }
}
