// kit-session/cloudflare: the D1 session store (re-exported by the subpath's index).
export type { D1Answer, D1Handle, D1SessionStoreOptions, D1Statement } from './D1SessionStore.js';
export { D1SessionStore } from './D1SessionStore.js';
export type { D1OwnerGenerationsOptions } from './D1OwnerGenerations.js';
export { D1OwnerGenerations } from './D1OwnerGenerations.js';
