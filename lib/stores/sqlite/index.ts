export type { SqliteSessionStoreOptions, SessionTableOptions } from './SqliteSessionStore.js';
export { DEFAULT_SESSION_TABLE, SqliteSessionStore, sessionTableSql } from './SqliteSessionStore.js';
export type { OwnerGenerationsTableOptions } from './SqliteOwnerGenerations.js';
export {
  DEFAULT_GENERATIONS_TABLE,
  ownerGenerationsTableSql,
  SqliteOwnerGenerations,
} from './SqliteOwnerGenerations.js';
export type { SqliteDatabase, SqliteDriver, SqliteStatement } from './database.js';
