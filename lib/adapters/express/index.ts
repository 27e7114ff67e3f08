export { getSession, session } from './session.js';
