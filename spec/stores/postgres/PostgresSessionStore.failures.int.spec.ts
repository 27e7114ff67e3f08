import pg from 'pg';
import { SessionManager, SessionStoreError } from 'kit-session';
import { PostgresSessionStore } from 'kit-session/postgres';
import { type AppValues, Browser, DATABASE_URL, describeWith, hashedId, uniqueName } from '../../support/services.js';

/** Everything an error says about itself, its cause's fields included, as text. */
function textOf(error: unknown): string {
  const parts: string[] = [];
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    parts.push(current.message, current.stack ?? '', JSON.stringify({ ...current }));
  }
  return parts.join('\n');
}

describeWith('postgres', 'PostgresSessionStore when its connections fail', () => {
  const table = uniqueName('kit_sessions');
  // The app's pool is known to the server by this name, so the test can end exactly
  // its connections and no one else's.
  const applicationName = uniqueName('kit_session_app');
  let admin: pg.Pool;
  let pool: pg.Pool;

  beforeAll(async () => {
    admin = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
    // No 'error' listener here: the store adds one, or an ended idle connection would
    // crash the test process.
    pool = new pg.Pool({ connectionString: DATABASE_URL, application_name: applicationName, max: 5 });
    await new PostgresSessionStore(pool, { table }).createTable();
  });

  afterAll(async () => {
    await admin?.query(`DROP TABLE IF EXISTS "${table}"`);
    await admin?.end();
    await pool?.end();
  });

  const appBackends = async (where = 'true') =>
    (
      await admin.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND ${where}`,
        [applicationName],
      )
    ).rows.map((row) => row.pid);

  /** Holds a row lock on one session until released, from the test's own connection. */
  async function lockSession(id: string): Promise<() => Promise<void>> {
    const locker = await admin.connect();
    await locker.query('BEGIN');
    const { rowCount } = await locker.query(`SELECT 1 FROM "${table}" WHERE token = $1 FOR UPDATE`, [hashedId(id)]);
    if (rowCount !== 1) {
      throw new Error('no row to lock for that session');
    }
    return async () => {
      await locker.query('ROLLBACK');
      locker.release();
    };
  }

  /** Waits until one of the app's queries waits for a lock; returns its backend's pid. */
  async function blockedBackend(): Promise<number> {
    for (let i = 0; i < 3000; i++) {
      const [pid] = await appBackends(`wait_event_type = 'Lock'`);
      if (pid !== undefined) {
        return pid;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error('the app query never waited for the lock');
  }

  it('idle connections ended with pg_terminate_backend: the process lives on and the next request works', async () => {
    const store = new PostgresSessionStore<AppValues>(pool, { table });
    const manager = new SessionManager<AppValues>(store);
    const browser = new Browser(manager);
    await browser.request((context) => manager.setValue(context, 'userId', 'ada'));
    // Several pooled connections, all idle afterwards.
    await Promise.all(Array.from({ length: 5 }, () => new Browser(manager, browser.cookie).load()));
    const ended = (await appBackends()).length;
    expect(ended).toBeGreaterThan(0);

    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [
      applicationName,
    ]);

    // A request may still meet a connection the pool has not yet seen die: it rejects
    // with SessionStoreError and the pool drops that connection. After at most one such
    // failure per ended connection, a request gets a new connection and works.
    const failures: unknown[] = [];
    let context;
    for (let attempt = 0; attempt <= ended && context === undefined; attempt++) {
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

  it('a save whose connection is ended mid-query rejects with SessionStoreError; nothing is half-written; the next request works', async () => {
    const store = new PostgresSessionStore<AppValues>(pool, { table });
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
      const pid = await blockedBackend();
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      failure = await pending;
    } finally {
      await release();
    }

    expect(failure).toBeInstanceOf(SessionStoreError);
    expect((failure as SessionStoreError).code).toBe('ERR_SESSION_STORE');
    expect((failure as SessionStoreError).cause).toBeInstanceOf(Error);
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

  it('a query that takes longer than timeout rejects with SessionStoreError (cause TimeoutError); the next request works', async () => {
    const store = new PostgresSessionStore<AppValues>(pool, { table, timeout: 300 });
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
