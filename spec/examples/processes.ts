import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

/** The repository's root. */
export const root = path.resolve(__dirname, '../..');

/** Where globalSetup compiles the examples. */
const compiled = path.join(root, 'dist-examples', 'examples');

/** The environment the examples get: this one, without a session key from outside. */
function exampleEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  if (!('SESSION_KEY' in extra)) {
    delete env.SESSION_KEY;
  }
  return env;
}

/** What a finished example printed. */
export interface ExampleRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a compiled example with node, as a user would, and waits for it to end.
 *
 * @param name - The example's file name without extension, e.g. `'container-module'`.
 * @param env - Extra environment variables.
 * @returns Its exit code and output.
 */
export async function runExample(name: string, env?: Record<string, string>): Promise<ExampleRun> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [path.join(compiled, `${name}.js`)], {
      cwd: root,
      env: exampleEnv(env),
      timeout: 20_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

/** One request and its answer, as an example's transcript shows them. */
export interface Exchange {
  /** The request line after `> `, e.g. `POST /login name=Ada`. */
  readonly request: string;
  readonly status: number;
  /** The JSON body. */
  readonly body: Record<string, unknown>;
  /** The Set-Cookie lines, token values replaced by a placeholder. */
  readonly setCookies: string[];
  /** Other headers the transcript shows, by lower-case name. */
  readonly headers: Record<string, string>;
}

/**
 * Reads an example's transcript: `> request` lines, each followed by `< status body` and
 * `< Header: value` lines.
 *
 * @param stdout - What the example printed.
 * @returns The exchanges in order.
 */
export function parseTranscript(stdout: string): Exchange[] {
  const exchanges: { request: string; status: number; body: Record<string, unknown>; setCookies: string[]; headers: Record<string, string> }[] = [];
  for (const line of stdout.split('\n')) {
    if (line.startsWith('> ')) {
      exchanges.push({ request: line.slice(2), status: 0, body: {}, setCookies: [], headers: {} });
      continue;
    }
    const current = exchanges.at(-1);
    if (current === undefined || !line.startsWith('< ')) {
      continue;
    }
    const status = /^< (\d{3}) (.*)$/.exec(line);
    const header = /^< ([A-Za-z-]+): (.*)$/.exec(line);
    if (status) {
      current.status = Number(status[1]);
      current.body = JSON.parse(status[2]!) as Record<string, unknown>;
    } else if (header && header[1]!.toLowerCase() === 'set-cookie') {
      current.setCookies.push(header[2]!);
    } else if (header) {
      current.headers[header[1]!.toLowerCase()] = header[2]!;
    }
  }
  return exchanges;
}

/** A compiled example running as a child process. */
export interface RunningExample {
  /** The base URL it printed, without a trailing slash. */
  readonly url: string;
  /** The process; {@link stopChild} stops it. */
  readonly child: ChildProcess;
  /** Everything it printed so far on stdout and stderr. */
  output(): { stdout: string; stderr: string };
}

/**
 * Starts a compiled example that serves HTTP on a free port (PORT=0) and waits until it
 * prints `listening on http://127.0.0.1:<port>`.
 *
 * @param name - The example's path under examples/ without extension, e.g. `'demo'` or
 *   `'adapters/fetch'`.
 * @param env - Extra environment variables (SESSION_KEY, say).
 * @param command - The program that runs the file, and its arguments before the file's
 *   path: this node unless given (`[bun]`, `[deno, 'run', …]`).
 * @returns The running example.
 * @throws Error when it is not compiled, or exits or stays silent instead of listening.
 */
export async function startExample(
  name: string,
  env: Record<string, string> = {},
  command: readonly [string, ...string[]] = [process.execPath],
): Promise<RunningExample> {
  const file = path.join(compiled, `${name}.js`);
  if (!existsSync(file)) {
    throw new Error(`${file} is missing: jest's globalSetup builds it (npm run build && npm run build:examples)`);
  }
  const [program, ...args] = command;
  const child = spawn(program, [...args, file], {
    cwd: root,
    env: exampleEnv({ PORT: '0', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${name} did not print its URL within 15 s:\n${stdout}${stderr}`)), 15_000);
    const onData = (): void => {
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
      if (match) {
        cleanup();
        resolve(match[1]!);
      }
    };
    const onExit = (code: number | null): void => fail(new Error(`${name} exited with ${code} before listening:\n${stdout}${stderr}`));
    function fail(error: Error): void {
      cleanup();
      child.kill('SIGKILL');
      reject(error);
    }
    function cleanup(): void {
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.off('exit', onExit);
    }
    child.stdout.on('data', onData);
    child.on('exit', onExit);
  });

  return { url, child, output: () => ({ stdout, stderr }) };
}

/** The compiled demo running as a child process. */
export interface RunningDemo {
  /** The base URL it printed, without the trailing slash. */
  readonly url: string;
  /** Everything it printed so far on stdout and stderr. */
  output(): { stdout: string; stderr: string };
  /** Stops it (SIGTERM) and waits for it to exit; resolves to its exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts the compiled demo on a free port (PORT=0) and waits until it prints its URL.
 *
 * @param env - Extra environment variables (SESSION_KEY, say).
 * @returns The running demo.
 * @throws Error when it exits or stays silent instead of listening.
 */
export async function startDemo(env: Record<string, string> = {}): Promise<RunningDemo> {
  const { url, child, output } = await startExample('demo', env);
  return { url, output, stop: () => stopChild(child) };
}

/**
 * Stops a child process (SIGTERM) and waits for it to exit.
 *
 * @returns Its exit code (`null` when a signal ended it).
 */
export async function stopChild(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return child.exitCode;
  }
  const exited = once(child, 'exit') as Promise<[number | null]>;
  child.kill('SIGTERM');
  const [code] = await exited;
  return code;
}
