export type { FetchSessionHandler } from './withSession.js';
export { withSession } from './withSession.js';
export { SessionHandle } from '../SessionHandle.js';
