import { DEFAULT_COOKIE_NAME } from 'kit-session';
import { CookieJar } from '../support/cookieJar.js';
import { RedisServerProcess } from '../support/redisCluster.js';
import { describeWith } from '../support/services.js';
import { startExample, stopChild, type RunningExample } from '../examples/processes.js';

/** A compiled adapter example, with what it printed on stdout and stderr as one text. */
interface RunningAdapterExample extends Omit<RunningExample, 'output'> {
  output(): string;
}

/**
 * Starts a compiled adapter example with PORT=0 and waits until it prints its URL.
 *
 * @param name - The example's name: `fetch`, `node`, `express`, `fastify` or `hono`.
 */
async function startAdapterExample(name: string): Promise<RunningAdapterExample> {
  const example = await startExample(`adapters/${name}`);
  return {
    url: example.url,
    child: example.child,
    output: () => {
      const { stdout, stderr } = example.output();
      return stdout + stderr;
    },
  };
}

describe('examples/adapters', () => {
  describe.each(['fetch', 'node', 'express', 'fastify', 'hono'])('%s', (name) => {
    let example: RunningAdapterExample | undefined;

    afterEach(async () => {
      if (example !== undefined) {
        await stopChild(example.child);
        example = undefined;
      }
    });

    it('serves a counter on 127.0.0.1 that counts with the cookie', async () => {
      example = await startAdapterExample(name);
      const jar = new CookieJar();
      for (const expected of ['visits: 1\n', 'visits: 2\n', 'visits: 3\n']) {
        const response = await jar.fetch(`${example.url}/`);
        expect(response.status).toBe(200);
        expect(await response.text()).toBe(expected);
      }
      // Another browser starts from zero.
      expect(await (await new CookieJar().fetch(`${example.url}/`)).text()).toBe('visits: 1\n');
      expect(example.output()).not.toMatch(/Error|Warning/);
    });
  });

  it('node: the streaming route commits before it writes the head', async () => {
    const example = await startAdapterExample('node');
    try {
      const jar = new CookieJar();
      expect(await (await jar.fetch(`${example.url}/stream`)).text()).toBe('visits: 1\n');
      expect(await (await jar.fetch(`${example.url}/`)).text()).toBe('visits: 2\n');
    } finally {
      await stopChild(example.child);
    }
  });

  /**
   * How the tests drive one adapter's example: where it is, how to read its counter, and
   * how to make its session too large for a cookie (a note, or a name, of 6,000 bytes).
   */
  interface Driver {
    /** The example's path under examples/, without extension. */
    readonly path: string;
    /** GET / with the jar's cookie: the response and the count it shows, if any. */
    count(jar: CookieJar, url: string): Promise<{ response: Response; visits: number | undefined }>;
    /** A request that puts 6,000 bytes into the session. */
    tooLarge(jar: CookieJar, url: string): Promise<Response>;
  }

  const BIG = 'x'.repeat(6000);
  const postNote = (jar: CookieJar, url: string) =>
    jar.fetch(`${url}/note`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: BIG });
  const postLogin = (jar: CookieJar, url: string) =>
    jar.fetch(`${url}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: BIG }) });
  const countText = async (jar: CookieJar, url: string) => {
    const response = await jar.fetch(`${url}/`);
    const match = /^visits: (\d+)\n$/.exec(await response.text());
    return { response, visits: match ? Number(match[1]) : undefined };
  };
  const countJson = async (jar: CookieJar, url: string) => {
    const response = await jar.fetch(`${url}/`);
    const body = (await response.json()) as { visits?: number };
    return { response, visits: response.status === 200 ? body.visits : undefined };
  };
  const countHtml = async (jar: CookieJar, url: string) => {
    const response = await jar.fetch(`${url}/`);
    const match = /<span class="visits">(\d+)<\/span>/.exec(await response.text());
    return { response, visits: match ? Number(match[1]) : undefined };
  };

  const drivers: Record<string, Driver> = {
    fetch: { path: 'adapters/fetch', count: countText, tooLarge: postNote },
    node: { path: 'adapters/node', count: countText, tooLarge: postNote },
    express: { path: 'adapters/express', count: countText, tooLarge: postNote },
    fastify: { path: 'adapters/fastify', count: countText, tooLarge: postNote },
    hono: { path: 'adapters/hono', count: countText, tooLarge: postNote },
    'react-router': { path: 'react-router/server', count: countHtml, tooLarge: postNote },
    nest: { path: 'nest', count: countJson, tooLarge: postLogin },
    'inversify-http': { path: 'inversify-http', count: countJson, tooLarge: postLogin },
  };

  describe.each(Object.keys(drivers))('%s: the error handler', (name) => {
    const driver = drivers[name]!;
    let example: RunningExample | undefined;

    afterEach(async () => {
      if (example !== undefined) {
        await stopChild(example.child);
        example = undefined;
      }
    });

    it('answers a session too large for its cookie with 413 and no cookie; the session stays as it was', async () => {
      example = await startExample(driver.path);
      const jar = new CookieJar();
      expect((await driver.count(jar, example.url)).visits).toBe(1);
      const cookie = jar.get(DEFAULT_COOKIE_NAME);
      expect(cookie).toBeDefined();

      const refused = await driver.tooLarge(jar, example.url);
      expect(refused.status).toBe(413);
      expect(refused.headers.getSetCookie()).toEqual([]);
      expect(jar.get(DEFAULT_COOKIE_NAME)).toBe(cookie);
      expect((await driver.count(jar, example.url)).visits).toBe(2);
      const { stdout, stderr } = example.output();
      expect(stdout + stderr).not.toMatch(/Error|Warning/);
    });

    describeWith('redis-binaries', 'on Redis', () => {
      let redis: RedisServerProcess;
      beforeAll(async () => {
        redis = await RedisServerProcess.start();
      }, 30_000);
      afterAll(async () => {
        await redis?.destroy();
      });

      it('answers 503 and no cookie while Redis is stopped, then serves the same session again', async () => {
        example = await startExample(driver.path, { REDIS_URL: `redis://127.0.0.1:${redis.port}` });
        const jar = new CookieJar();
        expect((await driver.count(jar, example.url)).visits).toBe(1);
        expect((await driver.count(jar, example.url)).visits).toBe(2);
        const cookie = jar.get(DEFAULT_COOKIE_NAME);

        await redis.stop({ save: true }); // kept on disk, so the session outlives the outage
        // Loading fails (a cookie to look up), and saving fails (a new browser, nothing to load).
        for (const browser of [jar, new CookieJar()]) {
          const { response } = await driver.count(browser, example.url);
          expect(response.status).toBe(503);
          expect(response.headers.getSetCookie()).toEqual([]);
          if (name !== 'react-router') {
            expect(response.headers.get('retry-after')).toBe('5');
          }
        }
        expect(jar.get(DEFAULT_COOKIE_NAME)).toBe(cookie); // nobody is logged out

        await redis.start();
        const deadline = Date.now() + 20_000; // ioredis reconnects on its own, after a back-off
        let again = await driver.count(jar, example.url);
        while (again.response.status === 503 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 200));
          again = await driver.count(jar, example.url);
        }
        expect(again.visits).toBe(3);
        expect(example.output().stderr).toMatch(/^redis: connection error \(ECONNREFUSED\)$/m);
      }, 60_000);
    });
  });
});
