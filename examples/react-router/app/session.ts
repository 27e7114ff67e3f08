// The app's sessions: the manager, and the React Router context that carries the
// request's session from the root middleware to every loader and action.
import { randomBytes } from 'node:crypto';
import { createContext } from 'react-router';
import {
  createCookieSessions,
  importKeysFromEnv,
  MemorySessionStore,
  type Session,
  SessionManager,
} from 'kit-session';
import { redisSessions } from '../../redisSessions.js';

export interface AppSession {
  /** Who logged in. */
  user: string;
  /** Counted by the root loader. */
  visits: number;
  /** Counted by the home page's loader, which runs beside the root's. */
  homeViews: number;
  /** A message shown once. */
  flash: string;
  /** What the client posted to /note. */
  note: string;
}

// The route modules' `context` is a RouterContextProvider only with this flag on; a
// real app says so in react-router.config.ts (`future: { v8_middleware: true }`) and
// `react-router typegen` writes this declaration. The build in ../build.ts sets it too.
declare module 'react-router' {
  interface Future {
    v8_middleware: true;
  }
}

// Without SESSION_KEY, a fresh key each start: every session ends at a restart.
process.env.SESSION_KEY ??= randomBytes(32).toString('base64');

/**
 * SESSION_STORE=memory keeps sessions in this process, REDIS_URL in Redis; the default
 * seals them in the cookie.
 */
export const manager =
  process.env.SESSION_STORE === 'memory' ? new SessionManager<AppSession>(new MemorySessionStore<AppSession>())
  : process.env.REDIS_URL ? await redisSessions<AppSession>(process.env.REDIS_URL)
  : createCookieSessions<AppSession>({ keys: await importKeysFromEnv('SESSION_KEY') });

/** Where loaders and actions find the request's session: `context.get(sessionContext)`. */
export const sessionContext = createContext<Session<AppSession>>();
