import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import {
  CookieTransport,
  EncryptingStoreDecorator,
  HeaderTransport,
  importRawKey,
  SessionManager,
  type SessionStore,
} from 'kit-session';
import { PostgresSessionStore } from 'kit-session/postgres';
import { RedisSessionStore } from 'kit-session/redis';
import { deleteRedisKeys } from '../support/redisCluster.js';
import { DATABASE_URL, describeWith, REDIS_URL, uniqueName } from '../support/services.js';
import { CookieClient, expectHeaderResponse, HeaderClient } from '../support/transportClients.js';

// One app serving browsers by cookie and native clients by header over a real server-side
// store: each client keeps its own session, a token never opens through the other
// transport, and a renewal and a log-out by header reach the server.

type AppValues = Record<string, unknown>;

/** The scenario, over one server-side store. */
function scenario(open: () => Promise<SessionStore<AppValues>>): void {
  it('serves a browser by cookie and a native client by header, keeping their tokens apart', async () => {
    const keys = [await importRawKey(randomBytes(32).toString('base64'))];
    const store = new EncryptingStoreDecorator(await open(), { keys, encryptValues: true });
    const manager = new SessionManager<AppValues>(store, {
      transport: [new CookieTransport(), new HeaderTransport()],
      ownerKey: 'userId',
    });
    const logIn = (userId: string) => (context: Parameters<typeof manager.setValue>[0]) => {
      manager.renewToken(context);
      manager.setValue(context, 'userId', userId);
    };

    const browser = new CookieClient(manager);
    const app = new HeaderClient(manager);
    await browser.request(logIn('ada'));
    await app.request((c) => manager.setValue(c, 'cart', 1));
    const anonymous = app.token!;
    const login = await app.request(logIn('bob'));
    expectHeaderResponse(login.headers);
    expect(app.token).not.toBe(anonymous);
    // Both live in the one store, each under its owner.
    expect(await manager.listOwnerSessions('ada')).toHaveLength(1);
    expect(await manager.listOwnerSessions('bob')).toHaveLength(1);

    // Each client opens its own session; neither token opens through the other transport.
    expect(manager.getValue((await browser.request()).context, 'userId')).toBe('ada');
    expect(manager.session((await app.request()).context).values).toEqual({ cart: 1, userId: 'bob' });
    expect(manager.getStatus(await new HeaderClient(manager, browser.token).load())).toBe('new');
    expect(manager.getStatus(await new CookieClient(manager, app.token).load())).toBe('new');

    // The anonymous token, retired by the log-in, is served read-only within the grace: no header.
    const late = await new HeaderClient(manager, anonymous).request((c) => {
      expect(manager.session(c).isStale).toBe(true);
      expect(manager.getValue(c, 'userId')).toBeUndefined();
      manager.setValue(c, 'cart', 9);
    });
    expect([...late.headers.keys()]).toEqual([]);
    expect(manager.getValue((await app.request()).context, 'cart')).toBe(1);

    // Log-out by header: said plainly, and the session is gone from the server.
    const token = app.token!;
    const logout = await app.request((c) => manager.destroyValues(c));
    expect(logout.headers.get('session-token')).toBe('');
    expect(logout.headers.get('session-token-max-age')).toBe('0');
    expect(app.token).toBeUndefined();
    expect(manager.getStatus(await new HeaderClient(manager, token).load())).toBe('new');
    expect(await manager.listOwnerSessions('bob')).toEqual([]);
    expect(await manager.listOwnerSessions('ada')).toHaveLength(1);
    expect(manager.getValue((await browser.request()).context, 'userId')).toBe('ada');
  });
}

describeWith('redis', 'SessionManager with a cookie and a header transport, over Redis', () => {
  let client: Redis;
  const prefix = `wt-header:${uniqueName('transport')}:`;

  beforeAll(() => {
    client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    client.on('error', () => {});
  });
  afterAll(async () => {
    await deleteRedisKeys(client, prefix);
    client.disconnect();
  });

  scenario(async () => new RedisSessionStore<AppValues>(client, { prefix }));
});

describeWith('postgres', 'SessionManager with a cookie and a header transport, over PostgreSQL', () => {
  let pool: pg.Pool;
  const table = uniqueName('wt_header_transport');

  beforeAll(() => {
    pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  });
  afterAll(async () => {
    await pool.query(`DROP TABLE IF EXISTS "${table}"`);
    await pool.end();
  });

  scenario(async () => {
    const store = new PostgresSessionStore<AppValues>(pool, { table });
    await store.createTable();
    return store;
  });
});
