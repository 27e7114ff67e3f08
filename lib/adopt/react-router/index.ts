// kit-session/adopt/react-router: adopts the sessions of React Router's createCookieSessionStorage.
export type { ReactRouterCookieAdopterOptions, ReactRouterCookieOptions } from './ReactRouterCookieAdopter.js';
export { ReactRouterCookieAdopter } from './ReactRouterCookieAdopter.js';
