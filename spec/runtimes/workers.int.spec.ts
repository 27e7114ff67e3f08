import { describeRuntime } from './scenarios.js';

// examples/runtimes/workerd.ts: examples/runtimes/worker.ts bundled by esbuild and run
// by workerd through Miniflare (started with node), the key from the Worker's env, and
// no nodejs_compat flag: Web Crypto is all there is.
describeRuntime({
  runtime: 'workerd',
  name: 'Cloudflare Workers: examples/runtimes/worker.ts on workerd',
  entry: 'runtimes/workerd',
  command: () => [process.execPath],
  reports: { runtime: 'workerd', crypto: 'webcrypto' },
});
