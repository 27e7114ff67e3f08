// The session manager and the two functions around every loader and action, built with
// the seed's factories exactly as its README builds them: the cookie store, wrapped in
// AES-GCM encryption, given to createSessionManager; then loadSession and saveSession.
import { createCookieSessionStore } from 'kit-session/storage/cookie';
import { createEncryptSessionStoreMiddleware, importRawKey } from 'kit-session/encrypt';
import { createSessionManager, type SessionCookieOptions, type SessionManagerOptions } from 'kit-session';
import { createSessionRequestFunction, createSessionResponseFunction } from 'kit-session/http';

const cookieStore = createCookieSessionStore();

// The key comes from the environment: 16, 24 or 32 bytes as base64.
const base64Key = process.env.SESSION_SECRET_KEY_BASE64;
if (!base64Key) throw new Error('SESSION_SECRET_KEY_BASE64 is not set!');

const cryptoKey = await importRawKey(base64Key);
const encryptMiddleware = createEncryptSessionStoreMiddleware(cryptoKey, { encryptValues: true });
const secureCookieStore = encryptMiddleware(cookieStore);

const cookieOptions: SessionCookieOptions = {
  name: '__Host-Session',
  path: '/',
  httpOnly: true,
  secure: true,
  sameSite: 'lax',
  maxAge: 60 * 60 * 24 * 7, // a week, in seconds
};

const managerOptions: SessionManagerOptions = {
  name: 'myAppSession', // the key the session is held under in the request's Context
  cookie: cookieOptions,
  storage: secureCookieStore,
};

/** The manager the endpoints read and change the session with (`getValue`, `setValue`, …). */
export const sessionManager = createSessionManager(managerOptions);

/** Runs before an endpoint: loads the session from the request's cookie into the context. */
export const loadSession = createSessionRequestFunction(sessionManager);

/** Runs after an endpoint: saves the session, if it changed, as a `Set-Cookie` header. */
export const saveSession = createSessionResponseFunction(sessionManager);
