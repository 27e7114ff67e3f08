import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runtimeBinary, describeWith } from '../support/services.js';

// kit-session/sqlite over bun:sqlite: the same store class, given Bun's own Database,
// runs a few operations of the contract under Bun (the compiled package, built by the
// global setup), on a file in WAL mode with a second connection beside the first.

const root = path.resolve(__dirname, '../..');

const SCRIPT = (module: string, file: string) => `
import { Database } from 'bun:sqlite';
const { SqliteSessionStore, SqliteOwnerGenerations } = await import(${JSON.stringify(module)});
const open = () => { const database = new Database(${JSON.stringify(file)}); database.exec('PRAGMA busy_timeout = 5000'); return database; };
const first = open();
first.exec('PRAGMA journal_mode = WAL');
const second = open();
let now = Date.UTC(2026, 0, 1);
const clock = { now: () => now };
const store = new SqliteSessionStore(first, {}, clock);
const other = new SqliteSessionStore(second, {}, clock);
await store.createTable();
const id = (n) => n.toString().padStart(43, 'A');
const record = (values) => ({ values, expireTime: now + 60000, deadline: now + 120000 });
const report = { driver: store.driver };
await store.setSession(id(1), record({ a: 1, keep: 'x' }), 'ada');
report.loaded = (await other.getSession(id(1)))?.values;
report.patched = await other.patchSession(id(1), { set: { b: 2 }, unset: ['keep'], expireTime: now + 60000, deadline: now + 120000 });
report.afterPatch = (await store.getSession(id(1)))?.values;
report.renewed = await store.renewSession(id(1), id(2), { record: record({ a: 1, b: 2 }), owner: 'ada', grace: 1000 });
report.superseded = (await other.getSession(id(1)))?.superseded;
report.listed = (await other.listOwnerSessions('ada')).length;
store.limitOwnerSessions({ max: 1, policy: 'refuse' });
report.refused = await store.setSession(id(3), record({}), 'ada').catch((error) => error.code);
report.endedByHandle = await other.deleteSessionByHandle('ada', (await store.listOwnerSessions('ada'))[0].handle);
report.gone = (await store.getSession(id(2))) === undefined;
await store.setSession(id(4), { values: {}, expireTime: now + 10, deadline: now + 10 });
now += 10;
report.endedGivenBack = (await store.getSession(id(4)))?.expireTime === now;
report.swept = await store.deleteExpired();
const generations = new SqliteOwnerGenerations(second);
await generations.createTable();
report.bumped = [await generations.bump('ada'), await generations.bump('ada'), await new SqliteOwnerGenerations(first).current('ada')];
first.close();
second.close();
process.stdout.write(JSON.stringify(report));
`;

describeWith('bun', 'kit-session/sqlite on bun:sqlite, under Bun', () => {
  let folder: string;

  beforeAll(() => {
    folder = mkdtempSync(path.join(tmpdir(), 'kit-session-bun-sqlite-'));
  });

  afterAll(() => {
    rmSync(folder, { recursive: true, force: true });
  });

  it('the same store class runs the contract operations over two bun:sqlite connections to one file', () => {
    const script = path.join(folder, 'run.mjs');
    writeFileSync(script, SCRIPT(pathToFileURL(path.join(root, 'dist/stores/sqlite/index.js')).href, path.join(folder, 'sessions.db')));
    const result = spawnSync(runtimeBinary('bun'), [script], { cwd: root, encoding: 'utf8', timeout: 30_000 });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({
      driver: 'bun:sqlite',
      loaded: { a: 1, keep: 'x' },
      patched: 'A'.repeat(42) + '1',
      afterPatch: { a: 1, b: 2 },
      renewed: 'A'.repeat(42) + '2',
      superseded: true,
      listed: 1,
      refused: 'ERR_SESSION_LIMIT',
      endedByHandle: true,
      gone: true,
      endedGivenBack: true,
      swept: 1,
      bumped: [1, 2, 2],
    });
    expect(result.status).toBe(0);
  });
});
