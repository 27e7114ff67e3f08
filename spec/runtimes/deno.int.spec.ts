import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runtimeBinary } from '../support/services.js';
import { describeRuntime } from './scenarios.js';

const root = path.resolve(__dirname, '../..');
const { version } = JSON.parse(readFileSync(path.join(root, 'node_modules/deno/package.json'), 'utf8')) as {
  version: string;
};

// examples/runtimes/deno.ts: Deno.serve, the key from Deno.env, and node:crypto, which
// Deno provides. Only the permissions it needs; no lock file written, no update check,
// and Deno's cache kept inside node_modules.
describeRuntime({
  runtime: 'deno',
  name: 'Deno: examples/runtimes/deno.ts',
  entry: 'runtimes/deno',
  command: [runtimeBinary('deno'), 'run', '--no-lock', '--no-prompt', '--allow-net=127.0.0.1', '--allow-env=SESSION_KEY,PORT'],
  env: { DENO_NO_UPDATE_CHECK: '1', DENO_DIR: path.join(root, 'node_modules', '.cache', 'deno') },
  reports: { runtime: `deno ${version}`, crypto: 'node:crypto' },
});
