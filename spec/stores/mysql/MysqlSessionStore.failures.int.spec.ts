import mysql from 'mysql2/promise';
import { SessionManager, SessionStoreError } from 'kit-session';
import { MysqlSessionStore } from 'kit-session/mysql';
import { type AppValues, Browser, describeWith, hashedId, MYSQL_URL, uniqueName } from '../../support/services.js';

/** Everything an error says about itself, its cause's fields included, as text. */
function textOf(error: unknown): string {
  const parts: string[] = [];
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    parts.push(current.message, current.stack ?? '', JSON.stringify({ ...current }));
  }
  return parts.join('\n');
}

describeWith('mysql', 'MysqlSessionStore when its connections fail', () => {
  const table = uniqueName('kit_sessions');
  let admin: mysql.Pool;
  let pool: mysql.Pool;
  /** The server's ids of the app pool's connections. */
  const appThreads = new Set<number>();

  beforeAll(async () => {
    admin = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 2 });
    pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 5 });
    pool.on('connection', (connection) => {
      appThreads.add(connection.threadId);
    });
    await new MysqlSessionStore(pool, { table }).createTable();
  });

  afterAll(async () => {
    await admin?.query(`DROP TABLE IF EXISTS \`${table}\``);
    await admin?.end();
    await pool?.end();
  });

  /** Holds a row lock on one session until released, from the test's own connection. */
  async function lockSession(id: string): Promise<() => Promise<void>> {
    const locker = await admin.getConnection();
    await locker.query('START TRANSACTION');
    const [rows] = await locker.query<mysql.RowDataPacket[]>(`SELECT 1 FROM \`${table}\` WHERE token = ? FOR UPDATE`, [hashedId(id)]);
    if (rows.length !== 1) {
      throw new Error('no row to lock for that session');
    }
    return async () => {
      await locker.query('ROLLBACK');
      locker.release();
    };
  }

  /** Waits until one of the app's connections runs a statement on the table; returns its id. */
  async function blockedThread(): Promise<number> {
    for (let i = 0; i < 3000; i++) {
      const [rows] = await admin.query<mysql.RowDataPacket[]>(
        "SELECT ID AS id FROM information_schema.PROCESSLIST WHERE COMMAND = 'Query' AND INFO LIKE ? AND ID <> CONNECTION_ID()",
        [`%${table}%`],
      );
      const id = rows.map((row) => Number(row.id)).find((each) => appThreads.has(each));
      if (id !== undefined) {
        return id;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error('the app query never waited for the lock');
  }

  it('connections killed on the server: the next requests work once the pool drops them', async () => {
    const store = new MysqlSessionStore<AppValues>(pool, { table });
    const manager = new SessionManager<AppValues>(store);
    const browser = new Browser(manager);
    await browser.request((context) => manager.setValue(context, 'userId', 'ada'));
    await Promise.all(Array.from({ length: 5 }, () => new Browser(manager, browser.cookie).load()));
    const killed = [...appThreads];
    for (const id of killed) {
      await admin.query('KILL ?', [id]).catch(() => undefined);
    }
    // A request may still meet a connection the pool has not yet seen die: it rejects
    // with SessionStoreError and the pool drops that connection.
    const failures: unknown[] = [];
    let context;
    for (let attempt = 0; attempt <= killed.length && context === undefined; attempt++) {
      context = await new Browser(manager, browser.cookie).load().catch((error: unknown) => {
        failures.push(error);
        return undefined;
      });
    }
    expect(context).toBeDefined();
    expect(manager.getValue(context!, 'userId')).toBe('ada');
    for (const error of failures) {
      expect(error).toBeInstanceOf(SessionStoreError);
      expect(textOf(error)).not.toContain(browser.cookie);
    }
  });

  it('a save whose connection is killed mid-transaction rejects with SessionStoreError; nothing is half-written; the next request works', async () => {
    const store = new MysqlSessionStore<AppValues>(pool, { table });
    const manager = new SessionManager<AppValues>(store);
    const browser = new Browser(manager);
    await browser.request((context) => manager.setValue(context, 'userId', 'ada'));
    const cookie = browser.cookie!;

    const release = await lockSession(cookie);
    let failure: unknown;
    try {
      const pending = new Browser(manager, cookie)
        .request((context) => {
          manager.setValue(context, 'half', 'written?');
          manager.unsetValue(context, 'userId');
        })
        .catch((error: unknown) => error);
      await admin.query('KILL ?', [await blockedThread()]);
      failure = await pending;
    } finally {
      await release();
    }

    expect(failure).toBeInstanceOf(SessionStoreError);
    expect((failure as SessionStoreError).code).toBe('ERR_SESSION_STORE');
    expect(textOf(failure)).not.toContain(cookie);
    expect(textOf(failure)).not.toContain(hashedId(cookie));

    const context = await new Browser(manager, cookie).load();
    expect(manager.getValue(context, 'userId')).toBe('ada');
    expect(manager.getValue(context, 'half')).toBeUndefined();
    const next = new Browser(manager, cookie);
    await next.request((later) => manager.setValue(later, 'after', true));
    const reloaded = await new Browser(manager, next.cookie).load();
    expect(manager.getValue(reloaded, 'after')).toBe(true);
  });

  it('a server that answers late: rejects with SessionStoreError (cause TimeoutError), no token in it; the next request works', async () => {
    const store = new MysqlSessionStore<AppValues>(pool, { table, timeout: 300 });
    const manager = new SessionManager<AppValues>(store);
    const browser = new Browser(manager);
    await browser.request((context) => manager.setValue(context, 'n', 1));
    const cookie = browser.cookie!;

    const release = await lockSession(cookie);
    let failure: unknown;
    try {
      failure = await new Browser(manager, cookie)
        .request((context) => manager.setValue(context, 'slow', true))
        .catch((error: unknown) => error);
    } finally {
      await release();
    }
    expect(failure).toBeInstanceOf(SessionStoreError);
    expect(((failure as SessionStoreError).cause as Error).name).toBe('TimeoutError');
    expect(textOf(failure)).not.toContain(cookie);
    expect(textOf(failure)).not.toContain(hashedId(cookie));

    const context = await new Browser(manager, cookie).load();
    expect(manager.getValue(context, 'n')).toBe(1);
  });
});
