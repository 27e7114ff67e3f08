export type { CookieSessionModuleOptions, SessionModuleOptions } from './SessionModule.js';
export { getSession, SessionModule } from './SessionModule.js';
export { Session } from './Session.js';
