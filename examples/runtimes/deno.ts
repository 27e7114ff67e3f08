// The app of app.ts on Deno, served by Deno.serve on 127.0.0.1.
//
//   PORT=3000 SESSION_KEY=$(openssl rand -base64 32) \
//     deno run --allow-net=127.0.0.1 --allow-env=SESSION_KEY,PORT dist-examples/examples/runtimes/deno.js
import { importKeyFromEnv } from 'kit-session';
import { createApp } from './app.js';

// Deno's global, declared here so that this file type-checks with Node's types alone.
declare const Deno: {
  readonly version: { readonly deno: string };
  readonly env: { get(name: string): string | undefined };
  serve(
    options: { hostname: string; port: number; onListen(address: { port: number }): void },
    handler: (request: Request) => Promise<Response>,
  ): unknown;
};

// Only the variables it needs, so that --allow-env can name them.
const env = { SESSION_KEY: Deno.env.get('SESSION_KEY'), PORT: Deno.env.get('PORT') };
const handle = createApp(await importKeyFromEnv('SESSION_KEY', env), `deno ${Deno.version.deno}`);
Deno.serve(
  {
    hostname: '127.0.0.1',
    port: Number(env.PORT ?? 0),
    onListen: ({ port }) => console.log(`listening on http://127.0.0.1:${port}`),
  },
  handle,
);
