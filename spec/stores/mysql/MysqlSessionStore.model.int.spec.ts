import mysql from 'mysql2/promise';
import { MysqlSessionStore } from 'kit-session/mysql';
import { describeWith, MYSQL_URL, uniqueName } from '../../support/services.js';
import { describeSessionModel, type ModelTarget } from '../../support/sessionModel.js';

// The session model on MariaDB/MySQL, bare and with encryptValues: a table of this file's
// own, emptied after each sequence. Run counts keep the file under a minute here.

describeWith('mysql', 'MysqlSessionStore against the session model', () => {
  const table = uniqueName('kit_session_model');
  let pool: mysql.Pool;

  beforeAll(async () => {
    pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 4 });
    await new MysqlSessionStore(pool, { table }).createTable();
  });

  afterAll(async () => {
    await pool.query(`DROP TABLE IF EXISTS \`${table}\``);
    await pool.end();
  });

  const open: ModelTarget['open'] = async (clock) => ({
    store: new MysqlSessionStore(pool, { table }, clock),
    close: async () => {
      await pool.query(`DELETE FROM \`${table}\``);
    },
  });

  describeSessionModel(
    { name: 'MysqlSessionStore', traits: { kind: 'server', sealed: false, encryptValues: false, ownerIndex: true }, open },
    100,
  );
  describeSessionModel(
    {
      name: 'EncryptingStoreDecorator(MysqlSessionStore, encryptValues), node:crypto and Web Crypto by turns',
      traits: { kind: 'server', sealed: true, encryptValues: true, ownerIndex: true },
      crypto: ['auto', 'webcrypto'],
      open,
    },
    100,
  );
  // The bound on an owner's sessions, each policy (one transaction under the owner's lock).
  const bare = { kind: 'server', sealed: false, encryptValues: false, ownerIndex: true } as const;
  describeSessionModel({ name: 'MysqlSessionStore, maxSessionsPerOwner 2, evict', traits: { ...bare, limit: { max: 2, policy: 'evict' } }, open }, 25);
  describeSessionModel({ name: 'MysqlSessionStore, maxSessionsPerOwner 1, refuse', traits: { ...bare, limit: { max: 1, policy: 'refuse' } }, open }, 15);
});
