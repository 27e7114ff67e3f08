// kit-session/adopt/express-session: adopts express-session's sessions (see ExpressSessionAdopter).
export type { CookieAdopterOptions } from '../CookieAdopter.js';
export type { ExpressSessionAdopterOptions, ExpressSessionData, ExpressSessionStoreLike } from './ExpressSessionAdopter.js';
export { ExpressSessionAdopter } from './ExpressSessionAdopter.js';
