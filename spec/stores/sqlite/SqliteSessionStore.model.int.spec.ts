import { SqliteSessionStore } from 'kit-session/sqlite';
import { describeSessionModel, type ModelTarget } from '../../support/sessionModel.js';
import { describeEachSqlite, openWal, scratchFolder, type OpenDatabase } from '../../support/sqlite.js';

// The session model on SQLite, on each driver the running Node has, bare and with
// encryptValues, and with the bound's two policies: a database file of this file's own,
// emptied after each sequence.

const scratch = scratchFolder();
afterAll(() => scratch.remove());

describeEachSqlite('SqliteSessionStore against the session model', (driver) => {
  const table = 'kit_session_model';
  let database: OpenDatabase;

  beforeAll(async () => {
    database = openWal(driver, scratch.file(`model-${driver.name.replace(':', '-')}.db`));
    await new SqliteSessionStore(database, { table }).createTable();
  });

  afterAll(() => {
    database.close();
  });

  const open: ModelTarget['open'] = async (clock) => ({
    store: new SqliteSessionStore(database, { table }, clock),
    close: async () => {
      database.exec(`DELETE FROM "${table}"`);
    },
  });

  const bare = { kind: 'server', sealed: false, encryptValues: false, ownerIndex: true } as const;
  describeSessionModel({ name: `SqliteSessionStore on ${driver.name}`, traits: bare, open }, 250);
  describeSessionModel(
    {
      name: `EncryptingStoreDecorator(SqliteSessionStore on ${driver.name}, encryptValues), node:crypto and Web Crypto by turns`,
      traits: { kind: 'server', sealed: true, encryptValues: true, ownerIndex: true },
      crypto: ['auto', 'webcrypto'],
      open,
    },
    160,
  );
  describeSessionModel(
    { name: `SqliteSessionStore on ${driver.name}, maxSessionsPerOwner 2, evict`, traits: { ...bare, limit: { max: 2, policy: 'evict' } }, open },
    60,
  );
  describeSessionModel(
    { name: `SqliteSessionStore on ${driver.name}, maxSessionsPerOwner 1, refuse`, traits: { ...bare, limit: { max: 1, policy: 'refuse' } }, open },
    40,
  );
});
