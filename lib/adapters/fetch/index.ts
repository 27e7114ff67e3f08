export { withSession } from './withSession.js';
