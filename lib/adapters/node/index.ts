export type { NodeBody, NodeErrorHandler, NodeSessionHandler, NodeSessionOptions } from './withSession.js';
export { withSession } from './withSession.js';
export { NodeSession } from './NodeSession.js';
export { SessionHandle } from '../SessionHandle.js';
