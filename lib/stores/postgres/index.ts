export type { PostgresSessionStoreOptions, SessionTableOptions } from './PostgresSessionStore.js';
export { DEFAULT_SESSION_TABLE, PostgresSessionStore, sessionTableSql } from './PostgresSessionStore.js';
