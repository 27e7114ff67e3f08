// kit-session/cloudflare: server-side session stores for Cloudflare Workers.
export { DurableObjectOwnerGenerations, DurableObjectSessionStore, type DurableObjectSessionStoreOptions } from './DurableObjectSessionStore.js';
export { KvSessionStore, type KvSessionStoreOptions } from './KvSessionStore.js';
export { SessionStoreObject, type SessionStoreObjectOptions } from './SessionStoreObject.js';
export type {
  DurableObjectNamespaceLike,
  DurableObjectStateLike,
  DurableObjectStorageLike,
  DurableObjectStubLike,
  KvNamespaceLike,
  SqlCursorLike,
} from './platform.js';
export * from './d1.js';
