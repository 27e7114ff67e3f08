export type { ExpressSessionOptions, UnsavedSessionHandler } from './session.js';
export { getSession, session } from './session.js';
export { NodeSession } from '../node/NodeSession.js';
export { SessionHandle } from '../SessionHandle.js';
