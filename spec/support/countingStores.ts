import {
  CookieSessionStore,
  EncryptingStoreDecorator,
  MemorySessionStore,
  type EncryptionKey,
  type LoadedSessionRecord,
  type SessionRecord,
} from 'kit-session';
import type { SessionPatch } from 'kit-session/store';

/** How many times each store method was called. */
export type StoreCalls = Record<'getSession' | 'setSession' | 'deleteSession' | 'patchSession' | 'renewSession', number>;

/** A store that counts its calls: real stores underneath, nothing mocked. */
export interface CountingStore {
  readonly calls: StoreCalls;
  /** Every call, of any method. */
  readonly total: number;
  /** Forgets the counts. */
  reset(): void;
}

function noCalls(): StoreCalls {
  return { getSession: 0, setSession: 0, deleteSession: 0, patchSession: 0, renewSession: 0 };
}

function sum(calls: StoreCalls): number {
  return calls.getSession + calls.setSession + calls.deleteSession + calls.patchSession + calls.renewSession;
}

/**
 * The default cookie store, sealed (AES-GCM on node:crypto: it answers at once), counting
 * the manager's calls: a `getSession` is a cookie opened.
 */
export class CountingCookieStore<T extends object> extends EncryptingStoreDecorator<T> implements CountingStore {
  readonly calls = noCalls();

  constructor(keys: readonly EncryptionKey[]) {
    super(new CookieSessionStore<T>(), { keys });
  }

  get total(): number {
    return sum(this.calls);
  }

  reset(): void {
    Object.assign(this.calls, noCalls());
  }

  override getSession(token: string) {
    this.calls.getSession += 1;
    return super.getSession(token);
  }

  override setSession(id: string, record: SessionRecord<T>, owner?: string) {
    this.calls.setSession += 1;
    return super.setSession(id, record, owner);
  }

  override deleteSession(id: string) {
    this.calls.deleteSession += 1;
    return super.deleteSession(id);
  }
}

/** The memory store (it answers with a promise), counting the manager's calls. */
export class CountingMemoryStore<T extends object> extends MemorySessionStore<T> implements CountingStore {
  readonly calls = noCalls();

  get total(): number {
    return sum(this.calls);
  }

  reset(): void {
    Object.assign(this.calls, noCalls());
  }

  override getSession(token: string): Promise<LoadedSessionRecord<T> | undefined> {
    this.calls.getSession += 1;
    return super.getSession(token);
  }

  override setSession(...args: Parameters<MemorySessionStore<T>['setSession']>) {
    this.calls.setSession += 1;
    return super.setSession(...args);
  }

  override patchSession(id: string, patch: SessionPatch<T>) {
    this.calls.patchSession += 1;
    return super.patchSession(id, patch);
  }

  override renewSession(...args: Parameters<MemorySessionStore<T>['renewSession']>) {
    this.calls.renewSession += 1;
    return super.renewSession(...args);
  }

  override deleteSession(id: string) {
    this.calls.deleteSession += 1;
    return super.deleteSession(id);
  }
}
