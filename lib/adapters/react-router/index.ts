export { getSession, sessionMiddleware } from './sessionMiddleware.js';
