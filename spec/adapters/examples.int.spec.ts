import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { CookieJar } from '../support/cookieJar.js';

/** Where globalSetup compiles the examples. */
const compiled = path.resolve(__dirname, '../../dist-examples/examples/adapters');

/** A compiled example running as a child process. */
interface RunningExample {
  readonly url: string;
  readonly child: ChildProcess;
  output(): string;
}

/**
 * Starts a compiled adapter example with PORT=0 and waits until it prints its URL.
 *
 * @param name - The example's name: `fetch`, `node`, `express`, `fastify` or `hono`.
 */
async function startExample(name: string): Promise<RunningExample> {
  const file = path.join(compiled, `${name}.js`);
  if (!existsSync(file)) {
    throw new Error(`${file} is missing: jest's globalSetup builds it (npm run build && npm run build:examples)`);
  }
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0' };
  delete env.SESSION_KEY;
  const child = spawn(process.execPath, [file], { cwd: path.resolve(__dirname, '../..'), env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${name} did not print its URL within 15 s:\n${output}`)), 15_000);
    const onData = (): void => {
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) {
        cleanup();
        resolve(match[1]!);
      }
    };
    const onExit = (code: number | null): void => fail(new Error(`${name} exited with ${code} before listening:\n${output}`));
    function fail(error: Error): void {
      cleanup();
      child.kill('SIGKILL');
      reject(error);
    }
    function cleanup(): void {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
    }
    child.stdout!.on('data', onData);
    child.on('exit', onExit);
  });
  return { url, child, output: () => output };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

describe('examples/adapters', () => {
  describe.each(['fetch', 'node', 'express', 'fastify', 'hono'])('%s', (name) => {
    let example: RunningExample | undefined;

    afterEach(async () => {
      if (example !== undefined) {
        await stop(example.child);
        example = undefined;
      }
    });

    it('serves a counter on 127.0.0.1 that counts with the cookie', async () => {
      example = await startExample(name);
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
    const example = await startExample('node');
    try {
      const jar = new CookieJar();
      expect(await (await jar.fetch(`${example.url}/stream`)).text()).toBe('visits: 1\n');
      expect(await (await jar.fetch(`${example.url}/`)).text()).toBe('visits: 2\n');
    } finally {
      await stop(example.child);
    }
  });
});
