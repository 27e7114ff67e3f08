// kit-session/mysql: the MySQL and MariaDB session store and owner generations, over mysql2.
export type { MysqlSessionStoreOptions, MysqlTableOptions } from './MysqlSessionStore.js';
export { DEFAULT_MYSQL_SESSION_TABLE, MysqlSessionStore, sessionTableSql } from './MysqlSessionStore.js';
export type { MysqlGenerationsTableOptions, MysqlOwnerGenerationsOptions } from './MysqlOwnerGenerations.js';
export {
  DEFAULT_MYSQL_GENERATIONS_TABLE,
  MysqlOwnerGenerations,
  ownerGenerationsTableSql,
} from './MysqlOwnerGenerations.js';
