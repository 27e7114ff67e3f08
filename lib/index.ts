// kit-session: sessions loaded, changed and saved around each request. The core, the
// crypto, the cookie and memory stores and the hooks; nothing here needs Inversify
// (its container module is `kit-session/di`).
export type { ContextKey } from './core/Context.js';
export { Context, createContextKey } from './core/Context.js';

export type { HeadersLike, RequestFunction, RequestLike, ResponseFunction } from './core/http.js';
export { fromNodeRequest, fromNodeResponse } from './adapters/node/http.js';
export { SessionRequestHook } from './di/SessionRequestHook.js';
export { SessionResponseHook } from './di/SessionResponseHook.js';

export type { SessionErrorCode } from './core/SessionError.js';
export {
  SessionCookieTooLargeError,
  SessionTokenTooLargeError,
  SessionError,
  SessionGenerationsLostError,
  SessionHeadersSentError,
  SessionLimitError,
  SessionNotFreshError,
  SessionStaleError,
  SessionLoadPendingError,
  SessionNotLoadedError,
  SessionStoreError,
  SessionValueError,
} from './core/SessionError.js';

export type { Clock } from './core/Clock.js';
export { systemClock } from './core/Clock.js';
export type { Duration, DurationUnit, SessionManagerOptions, SessionRevocationOptions } from './core/options.js';
export type { SessionTransport, TokenExpiry, TransportHeaders } from './core/transport/SessionTransport.js';
export type { CookieTransportOptions, SessionCookieOptions } from './core/transport/CookieTransport.js';
export { CookieTransport } from './core/transport/CookieTransport.js';
export type { HeaderTransportOptions } from './core/transport/HeaderTransport.js';
export { HeaderTransport } from './core/transport/HeaderTransport.js';
export type { SessionEvent, SessionEventReason, SessionEventType } from './core/events.js';
export type { AdoptedSession, SessionAdopter } from './core/adoption.js';
export type {
  SessionLoadOutcome,
  SessionOperationProbe,
  SessionSaveOutcome,
  SessionStoreOperation,
  SessionTelemetry,
  SessionTelemetryHooks,
  SessionTelemetryTarget,
} from './core/SessionTelemetry.js';
export type { OwnerSession, SessionMetadata } from './core/metadata.js';
export { DEFAULT_COOKIE_NAME, DEFAULT_LIFETIME, DEFAULT_MAX_COOKIE_SIZE, DEFAULT_MAX_TOTAL_COOKIE_SIZE } from './core/options.js';
export type { SessionStatus } from './core/Session.js';
export { Session } from './core/Session.js';
export type { SessionValueName } from './core/Session.js';
export { SessionManager } from './core/SessionManager.js';
export { SessionAccess } from './core/SessionAccess.js';
export type { ValueOf } from './core/SessionAccess.js';

// The store contract as app code meets it (a store to pass, revocable cookies'
// generations); a store author's types, guards and the shared policy are in kit-session/store.
export type { LoadedSessionRecord, MaybePromise, OwnerGenerations, SessionRecord, SessionStore } from './core/SessionStore.js';
export { isOwnerIndexedStore, isOwnerListingStore, isPatchableStore, isRenewableStore } from './core/SessionStore.js';
export type { CookieSessionStoreOptions } from './stores/CookieSessionStore.js';
export { CookieSessionStore } from './stores/CookieSessionStore.js';
export type { MemorySessionStoreOptions } from './stores/MemorySessionStore.js';
export { MemorySessionStore } from './stores/MemorySessionStore.js';
export { MemoryOwnerGenerations } from './stores/MemoryOwnerGenerations.js';

export type { ImportRawKeyOptions } from './crypto/keys.js';
export { EncryptionKey, importKeyFromEnv, importKeysFromEnv, importRawKey } from './crypto/keys.js';
export type { Aead, CryptoPath } from './crypto/Sealer.js';
export type { EncryptingStoreOptions } from './crypto/EncryptingStoreDecorator.js';
export { EncryptingStoreDecorator } from './crypto/EncryptingStoreDecorator.js';
export { createSessionManager } from './compat/createSessionManager.js';
export type { CookieSessionsOptions } from './createCookieSessions.js';
export { createCookieSessions } from './createCookieSessions.js';
