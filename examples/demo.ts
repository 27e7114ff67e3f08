// The kit-session demo: a node:http server with a visit counter, a login form, logout
// and a flash message, on the encrypted cookie store.
//
//   npm run demo                       # http://127.0.0.1:3000/
//   PORT=8080 SESSION_KEY="$(openssl rand -base64 32)" npm run demo
//
// PORT: the port on 127.0.0.1 (default 3000; 0 picks a free one).
// SESSION_KEY: base64 key, or several separated by commas (the first seals, all open).
//   Unset: a random key, and sessions end when the demo restarts.
//
// The pieces: demo/store.ts builds the store, demo/routes.ts holds the routes,
// demo/pages.ts renders the HTML, demo/app.ts ties them to node:http.

import 'reflect-metadata';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_COOKIE_NAME, SessionManager } from 'kit-session';
import { createApp } from './demo/app.js';
import type { DemoSession } from './demo/routes.js';
import { createDemoStore, type DemoStore } from './demo/store.js';

const HOST = '127.0.0.1';

function readPort(value: string | undefined): number {
  const port = value === undefined || value.trim() === '' ? 3000 : Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new TypeError('PORT must be a whole number from 0 to 65535');
  }
  return port;
}

let port: number;
let demoStore: DemoStore;
try {
  port = readPort(process.env.PORT);
  demoStore = await createDemoStore(process.env, DEFAULT_COOKIE_NAME);
} catch (error) {
  console.error(`demo: ${error instanceof TypeError ? error.message : 'could not start'}`);
  process.exit(1);
}

for (const warning of demoStore.warnings) {
  console.warn(`warning: ${warning}`);
}

// The defaults: a __Host- cookie, HttpOnly, Secure, SameSite=Lax, 24 hours. Browsers
// treat http://127.0.0.1 and http://localhost as secure, so Secure works here too.
const sessions = new SessionManager<DemoSession>(demoStore.store);
const server = createServer(createApp({ sessions, store: demoStore.description }));

server.on('error', (error: NodeJS.ErrnoException) => {
  console.error(`demo: cannot listen on ${HOST}:${port} (${error.code ?? error.name})`);
  process.exit(1);
});
server.listen(port, HOST, () => {
  const { port: listening } = server.address() as AddressInfo;
  console.log(`kit-session demo listening on http://${HOST}:${listening}/`);
});

function stop(): void {
  server.close(() => process.exit(0));
  server.closeAllConnections();
}
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
