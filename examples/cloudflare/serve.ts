// Serves worker.ts on workerd through Miniflare, as `wrangler dev` would: esbuild
// bundles the Worker and the library into one ES module (Web Crypto only, no
// nodejs_compat), and the SESSIONS binding is a SQLite-backed Durable Object namespace
// kept in memory.
//
//   PORT=8787 SESSION_KEY=$(openssl rand -base64 32) node dist-examples/examples/cloudflare/serve.js
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';

const bundle = await build({
  entryPoints: [fileURLToPath(new URL('./worker.js', import.meta.url))],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  conditions: ['workerd', 'worker', 'browser'],
  target: 'es2022',
  write: false,
  logLevel: 'warning',
});

const sessionKey = process.env.SESSION_KEY;
if (sessionKey === undefined) {
  throw new TypeError('SESSION_KEY is not set: give it 32 random bytes as base64 (openssl rand -base64 32)');
}

const mf = new Miniflare({
  modules: true,
  script: bundle.outputFiles[0]!.text,
  compatibilityDate: '2026-04-01',
  bindings: { SESSION_KEY: sessionKey },
  durableObjects: { SESSIONS: { className: 'SessionStoreObject', useSQLite: true } },
  host: '127.0.0.1',
  port: Number(process.env.PORT ?? 0),
  cf: false,
});

const url = await mf.ready;
console.log(`listening on ${url.origin}`);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void mf.dispose().finally(() => process.exit(0));
  });
}
