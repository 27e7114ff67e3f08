import { CookieJar } from '../support/cookieJar.js';
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
});
