import pg from 'pg';
import { PostgresSessionStore } from 'kit-session/postgres';
import { DATABASE_URL, describeWith, uniqueName } from '../../support/services.js';
import { describeSessionModel, type ModelTarget } from '../../support/sessionModel.js';

// The session model on PostgreSQL, bare and with encryptValues: a table of this file's
// own, emptied after each sequence.

describeWith('postgres', 'PostgresSessionStore against the session model', () => {
  const table = uniqueName('kit_session_model');
  let pool: pg.Pool;

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
    await new PostgresSessionStore(pool, { table }).createTable();
  });

  afterAll(async () => {
    await pool.query(`DROP TABLE IF EXISTS "${table}"`);
    await pool.end();
  });

  const open: ModelTarget['open'] = async (clock) => ({
    store: new PostgresSessionStore(pool, { table }, clock),
    close: async () => {
      await pool.query(`TRUNCATE "${table}"`);
    },
  });

  describeSessionModel(
    { name: 'PostgresSessionStore', traits: { kind: 'server', sealed: false, encryptValues: false, ownerIndex: true }, open },
    150,
  );
  describeSessionModel(
    {
      name: 'EncryptingStoreDecorator(PostgresSessionStore, encryptValues), node:crypto and Web Crypto by turns',
      traits: { kind: 'server', sealed: true, encryptValues: true, ownerIndex: true },
      crypto: ['auto', 'webcrypto'],
      open,
    },
    150,
  );
  // The bound on an owner's sessions, each policy (one statement admits and writes).
  const bare = { kind: 'server', sealed: false, encryptValues: false, ownerIndex: true } as const;
  describeSessionModel({ name: 'PostgresSessionStore, maxSessionsPerOwner 2, evict', traits: { ...bare, limit: { max: 2, policy: 'evict' } }, open }, 25);
  describeSessionModel({ name: 'PostgresSessionStore, maxSessionsPerOwner 1, refuse', traits: { ...bare, limit: { max: 1, policy: 'refuse' } }, open }, 15);
});
