// Inversify reads decorator metadata through reflect-metadata: load it before any
// decorated class below is defined.
import 'reflect-metadata';

export type { ContextKey } from './context/Context.js';
export { Context, createContextKey } from './context/Context.js';

export type { HeadersLike, RequestFunction, RequestLike, ResponseFunction } from './http/types.js';
export { fromNodeRequest, fromNodeResponse } from './http/node.js';
export { SessionRequestHook } from './http/SessionRequestHook.js';
export { SessionResponseHook } from './http/SessionResponseHook.js';

export type { SessionErrorCode } from './errors/SessionError.js';
export {
  SessionCookieTooLargeError,
  SessionError,
  SessionHeadersSentError,
  SessionNotLoadedError,
  SessionStoreError,
  SessionValueError,
} from './errors/SessionError.js';

export type { Clock } from './session/Clock.js';
export { systemClock } from './session/Clock.js';
export type { SessionCookieOptions, SessionManagerOptions } from './session/options.js';
export { DEFAULT_COOKIE_NAME, DEFAULT_LIFETIME, DEFAULT_MAX_COOKIE_SIZE } from './session/options.js';
export type { SessionStatus } from './session/Session.js';
export { Session } from './session/Session.js';
export type { SessionKey as SessionValueKey } from './session/SessionManager.js';
export { SessionManager } from './session/SessionManager.js';

export type {
  LoadedSessionRecord,
  OwnerIndexedSessionStore,
  PatchableSessionStore,
  SelfContainedSessionStore,
  SessionPatch,
  SessionRecord,
  SessionStore,
} from './stores/SessionStore.js';
export { isOwnerIndexedStore, isPatchableStore, isSelfContainedStore } from './stores/SessionStore.js';
export type { CookieSessionStoreOptions } from './stores/CookieSessionStore.js';
export { CookieSessionStore } from './stores/CookieSessionStore.js';
export type { MemorySessionStoreOptions } from './stores/MemorySessionStore.js';
export { MemorySessionStore } from './stores/MemorySessionStore.js';

export type { ImportRawKeyOptions } from './crypto/keys.js';
export { importRawKey, SessionKey } from './crypto/keys.js';
export type { CryptoPath } from './crypto/Sealer.js';
export type { EncryptingStoreOptions } from './crypto/EncryptingStoreDecorator.js';
export { EncryptingStoreDecorator } from './crypto/EncryptingStoreDecorator.js';

export type { SessionModuleOptions } from './di/createSessionModule.js';
export { createSessionModule } from './di/createSessionModule.js';
export {
  SESSION_CLOCK,
  SESSION_COOKIE_STORE_OPTIONS,
  SESSION_ENCRYPTION_OPTIONS,
  SESSION_INNER_STORE,
  SESSION_MANAGER,
  SESSION_MANAGER_OPTIONS,
  SESSION_MEMORY_STORE_OPTIONS,
  SESSION_REQUEST_HOOK,
  SESSION_RESPONSE_HOOK,
  SESSION_STORE,
} from './di/identifiers.js';
