export type { HonoSessionOptions, SessionVariables } from './session.js';
export { session } from './session.js';
