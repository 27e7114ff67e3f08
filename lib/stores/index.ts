// kit-session/store: what a store author needs, apart from what app code reads. The
// contract (the three required methods and each optional ability as its own small
// interface, with the guards the manager uses), the errors a store throws, and the
// shared server-store policy (the key a session id is kept under, liveness, timeouts,
// the owner bound). docs/stores.md walks through writing a store with it.
export type {
  EvictionReport,
  LoadedSessionRecord,
  MaybePromise,
  NameBindingSessionStore,
  OwnerGenerations,
  OwnerIndexedSessionStore,
  OwnerListingSessionStore,
  OwnerSessionLimit,
  OwnerSessionRecord,
  PatchableSessionStore,
  PlaintextSessionStore,
  RenewableSessionStore,
  SessionPatch,
  SessionRecord,
  SessionRenewal,
  SessionStore,
  TokenLengthSessionStore,
} from '../core/SessionStore.js';
export {
  isOwnerIndexedStore,
  isOwnerListingStore,
  isPatchableStore,
  isRenewableStore,
  isSessionStore,
  hasTokenLength,
} from '../core/SessionStore.js';
export { SessionError, SessionLimitError, SessionStoreError } from '../core/SessionError.js';
export type { Clock } from '../core/Clock.js';
export { systemClock } from '../core/Clock.js';
export {
  checkId,
  checkRenewal,
  DEFAULT_TIMEOUT,
  isHandle,
  isId,
  isLive,
  MAX_RENEWAL_STEPS,
  millisecondsLeft,
  OwnerBound,
  resolveTimeout,
  sessionKey,
  storeOperation,
} from './policy.js';
