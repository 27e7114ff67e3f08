// The app of app.ts on Bun, served by Bun.serve on 127.0.0.1.
//
//   PORT=3000 SESSION_KEY=$(openssl rand -base64 32) bun dist-examples/examples/runtimes/bun.js
import { importKeyFromEnv } from 'kit-session';
import { createApp } from './app.js';

// Bun's global, declared here so that this file type-checks with Node's types alone.
declare const Bun: {
  readonly version: string;
  serve(options: { hostname: string; port: number; fetch(request: Request): Promise<Response> }): { readonly port: number };
};

// Bun has process.env: importKeyFromEnv reads it by default.
const handle = createApp(await importKeyFromEnv('SESSION_KEY'), `bun ${Bun.version}`);
const server = Bun.serve({ hostname: '127.0.0.1', port: Number(process.env.PORT ?? 0), fetch: handle });
console.log(`listening on http://127.0.0.1:${server.port}`);
