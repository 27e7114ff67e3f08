export type { ContextKey } from './Context.js';
export { Context, createContextKey } from './Context.js';
