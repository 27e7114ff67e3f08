export type { NodeBody, NodeErrorHandler, NodeSessionHandler, NodeSessionOptions } from './withSession.js';
export { withSession } from './withSession.js';
export { fromNodeRequest, fromNodeResponse } from './http.js';
