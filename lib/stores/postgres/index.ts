export type { PostgresSessionStoreOptions, SessionTableOptions } from './PostgresSessionStore.js';
export { DEFAULT_SESSION_TABLE, PostgresSessionStore, sessionTableSql } from './PostgresSessionStore.js';
export type { OwnerGenerationsTableOptions, PostgresOwnerGenerationsOptions } from './PostgresOwnerGenerations.js';
export {
  DEFAULT_GENERATIONS_TABLE,
  ownerGenerationsTableSql,
  PostgresOwnerGenerations,
} from './PostgresOwnerGenerations.js';
