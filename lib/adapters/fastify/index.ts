export type { SessionPluginOptions } from './sessionPlugin.js';
export { getSession, sessionPlugin } from './sessionPlugin.js';
