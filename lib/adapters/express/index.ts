export type { ExpressSessionOptions, UnsavedSessionHandler } from './session.js';
export { getSession, session } from './session.js';
