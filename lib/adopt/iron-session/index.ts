export type { IronSessionAdopterOptions } from './IronSessionAdopter.js';
export { IronSessionAdopter } from './IronSessionAdopter.js';
