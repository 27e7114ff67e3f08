import { once } from 'node:events';
import { Redis } from 'ioredis';
import { SessionManager, SessionStoreError } from 'kit-session';
import { RedisSessionStore } from 'kit-session/redis';
import { RedisServerProcess } from '../../support/redisCluster.js';
import { type AppValues, Browser, describeWith, hashedId } from '../../support/services.js';

/** Everything an error says about itself, its cause's fields included, as text. */
function textOf(error: unknown): string {
  const parts: string[] = [];
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    parts.push(current.message, current.stack ?? '');
    try {
      parts.push(JSON.stringify({ ...current }));
    } catch {
      parts.push(String(Object.keys(current)));
    }
  }
  return parts.join('\n');
}

describeWith('redis-binaries', 'RedisSessionStore when its server fails (a redis-server of its own)', () => {
  let server: RedisServerProcess;
  let client: Redis;
  // A rejection nobody handles would fail the running test (jest reports it), as it
  // would crash a real process: these tests also check that none happens.

  beforeAll(async () => {
    server = await RedisServerProcess.start();
    // As an app would configure it: reconnect quickly, never crash on connection errors.
    client = new Redis({ host: '127.0.0.1', port: server.port, retryStrategy: () => 100 });
    client.on('error', () => {});
    if (client.status !== 'ready') {
      await once(client, 'ready');
    }
  }, 120_000);

  afterAll(async () => {
    client?.disconnect();
    await server?.destroy();
  });

  async function ready(): Promise<void> {
    if (client.status !== 'ready') {
      await once(client, 'ready');
    }
  }

  it(
    'stopped mid-traffic: requests reject with SessionStoreError (code, cause, no token); restarted: the next request works, nothing half-written',
    async () => {
      const store = new RedisSessionStore<AppValues>(client, { prefix: 'app:', timeout: 3_000 });
      const manager = new SessionManager<AppValues>(store);
      const browser = new Browser(manager);
      await browser.request((context) => manager.setValue(context, 'userId', 'ada'));
      const cookie = browser.cookie!;
      expect(cookie).toBeDefined();

      const succeeded: number[] = [];
      const failures: unknown[] = [];
      let stopping: Promise<void> | undefined;
      for (let i = 0; i < 500 && failures.length < 2; i++) {
        if (i === 5) {
          // Stop the server (saving its data, as a restart after maintenance would find
          // it) while the next requests are already on their way.
          stopping = server.stop({ save: true });
        }
        try {
          await new Browser(manager, cookie).request((context) => manager.setValue(context, `t${i}`, i));
          succeeded.push(i);
        } catch (error) {
          failures.push(error);
        }
      }
      await stopping;

      expect(succeeded.length).toBeGreaterThanOrEqual(5);
      expect(failures).toHaveLength(2);
      for (const error of failures) {
        expect(error).toBeInstanceOf(SessionStoreError);
        expect((error as SessionStoreError).code).toBe('ERR_SESSION_STORE');
        expect((error as SessionStoreError).cause).toBeInstanceOf(Error);
        expect(textOf(error)).not.toContain(cookie);
        expect(textOf(error)).not.toContain(hashedId(cookie));
      }

      await server.start();
      await ready();

      // The same app, the same client: the session is back, with every change that was
      // acknowledged before the stop, and whole.
      const after = await new Browser(manager, cookie).load();
      expect(manager.getStatus(after)).toBe('unmodified');
      expect(manager.getValue(after, 'userId')).toBe('ada');
      for (const i of succeeded) {
        expect(manager.getValue(after, `t${i}`)).toBe(i);
      }
      const next = new Browser(manager, cookie);
      await next.request((context) => manager.setValue(context, 'back', true));
      const reloaded = await new Browser(manager, next.cookie).load();
      expect(manager.getValue(reloaded, 'back')).toBe(true);
    },
    120_000,
  );

  it('not answering within the timeout: rejects with SessionStoreError (cause TimeoutError); answering again: works', async () => {
    await ready();
    const store = new RedisSessionStore<AppValues>(client, { prefix: 'paused:', timeout: 500 });
    const manager = new SessionManager<AppValues>(store);
    const browser = new Browser(manager);
    await browser.request((context) => manager.setValue(context, 'n', 1));
    const cookie = browser.cookie!;

    server.pause();
    let failure: unknown;
    try {
      await new Browser(manager, cookie).load();
    } catch (error) {
      failure = error;
    } finally {
      server.resume();
    }
    expect(failure).toBeInstanceOf(SessionStoreError);
    expect((failure as SessionStoreError).code).toBe('ERR_SESSION_STORE');
    expect(((failure as SessionStoreError).cause as Error).name).toBe('TimeoutError');
    expect(textOf(failure)).not.toContain(cookie);
    expect(textOf(failure)).not.toContain(hashedId(cookie));

    const context = await new Browser(manager, cookie).load();
    expect(manager.getValue(context, 'n')).toBe(1);
  }, 60_000);

  it('a Redis error reply (a key of the wrong type) rejects with SessionStoreError whose cause holds no key', async () => {
    await ready();
    const store = new RedisSessionStore<AppValues>(client, { prefix: 'wrongtype:' });
    const id = 'A'.repeat(43);
    const key = `wrongtype:${hashedId(id)}`;
    await client.set(key, 'not a hash');
    try {
      const failures = await Promise.all([
        store.getSession(id).catch((error: unknown) => error),
        store.patchSession(id, { set: { a: 1 }, unset: [], expireTime: Date.now() + 60_000, deadline: Date.now() + 60_000 })
          .catch((error: unknown) => error),
      ]);
      for (const failure of failures) {
        expect(failure).toBeInstanceOf(SessionStoreError);
        expect(textOf(failure)).not.toContain(id);
        expect(textOf(failure)).not.toContain(hashedId(id));
      }
    } finally {
      await client.del(key);
    }
  });
});
