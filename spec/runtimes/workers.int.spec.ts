import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describeRuntime } from './scenarios.js';

const { version } = JSON.parse(readFileSync(path.resolve(__dirname, '../../node_modules/workerd/package.json'), 'utf8')) as {
  version: string;
};

// examples/runtimes/workerd.ts: examples/runtimes/worker.ts bundled by esbuild and run
// by workerd through Miniflare (started with node), the key from the Worker's env, and
// no nodejs_compat flag: Web Crypto is all there is.
describeRuntime({
  runtime: 'workerd',
  name: `Cloudflare Workers: examples/runtimes/worker.ts on workerd ${version}`,
  entry: 'runtimes/workerd',
  command: [process.execPath],
  reports: { runtime: 'workerd', crypto: 'webcrypto' },
});
