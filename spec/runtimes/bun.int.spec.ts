import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runtimeBinary } from '../support/services.js';
import { describeRuntime } from './scenarios.js';

const { version } = JSON.parse(readFileSync(path.resolve(__dirname, '../../node_modules/bun/package.json'), 'utf8')) as {
  version: string;
};

// examples/runtimes/bun.ts: Bun.serve, the key from process.env, and node:crypto, which
// Bun provides.
describeRuntime({
  runtime: 'bun',
  name: 'Bun: examples/runtimes/bun.ts',
  entry: 'runtimes/bun',
  command: [runtimeBinary('bun')],
  reports: { runtime: `bun ${version}`, crypto: 'node:crypto' },
});
