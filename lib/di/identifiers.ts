// Service identifiers for Inversify. `Symbol.for` makes them global, so an app and the
// SDK agree on them even if two copies of this file are loaded.

/** The {@link SessionManager} (a singleton). */
export const SESSION_MANAGER = Symbol.for('kit-session.SessionManager');
/** The {@link SessionStore} the manager uses. */
export const SESSION_STORE = Symbol.for('kit-session.SessionStore');
/** The {@link SessionManagerOptions}. */
export const SESSION_MANAGER_OPTIONS = Symbol.for('kit-session.SessionManagerOptions');
/** The {@link Clock}; the system clock when unbound. */
export const SESSION_CLOCK = Symbol.for('kit-session.Clock');
/** The store wrapped by {@link EncryptingStoreDecorator}. */
export const SESSION_INNER_STORE = Symbol.for('kit-session.InnerSessionStore');
/** The {@link EncryptingStoreOptions}. */
export const SESSION_ENCRYPTION_OPTIONS = Symbol.for('kit-session.EncryptingStoreOptions');
/** The {@link CookieSessionStoreOptions}. */
export const SESSION_COOKIE_STORE_OPTIONS = Symbol.for('kit-session.CookieSessionStoreOptions');
/** The {@link MemorySessionStoreOptions}. */
export const SESSION_MEMORY_STORE_OPTIONS = Symbol.for('kit-session.MemorySessionStoreOptions');
/** The {@link SessionRequestHook}. */
export const SESSION_REQUEST_HOOK = Symbol.for('kit-session.SessionRequestHook');
/** The {@link SessionResponseHook}. */
export const SESSION_RESPONSE_HOOK = Symbol.for('kit-session.SessionResponseHook');
