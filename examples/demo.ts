// The kit-session demo: a node:http server with a visit counter, a login form, logout,
// flash messages, the session's expiry, a page that stores a value too large for a
// cookie, a "Your sessions" page (each device of the logged-in name, when the store can
// list them), "log out everywhere", and an action that wants a recent log-in.
//
//   npm run demo                       # http://127.0.0.1:3000/, encrypted cookie store
//   PORT=8080 SESSION_KEY="$(openssl rand -base64 32)" npm run demo
//   SESSION_STORE=memory npm run demo  # or redis, postgres, mysql, sqlite: "Your sessions" lists devices
//   SESSION_STORE=revocable npm run demo  # cookies that "end all others" can revoke
//
// PORT: the port on 127.0.0.1 (default 3000; 0 picks a free one).
// SESSION_KEY: base64 key, or several, newest first, separated by commas (read with
//   importKeysFromEnv: the first seals, all open).
//   Unset: a random key, and sessions end when the demo restarts.
// SESSION_STORE: cookie (default), revocable, memory, redis, postgres, mysql or sqlite.
// REDIS_URL: for redis (default redis://127.0.0.1:6379).
// DATABASE_URL: for postgres (default postgres://postgres@127.0.0.1:5432/test).
// MYSQL_URL: for mysql (default mysql://root@127.0.0.1:3306/test).
// SQLITE_PATH: for sqlite (default kit-session-demo.sqlite in the system's temporary folder).
// FRESH_LOGIN_SECONDS: how recent a log-in "Delete my data" wants (default 120); older,
//   it asks for the name again.
//
// The pieces: demo/store.ts builds the store, demo/routes.ts holds the routes,
// demo/pages.ts renders the HTML, demo/app.ts ties them to node:http.

import 'reflect-metadata';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_COOKIE_NAME, SessionManager } from 'kit-session';
import { createApp } from './demo/app.js';
import { OWNER_KEY, type DemoSession } from './demo/routes.js';
import { createDemoStore, StoreUnavailableError, type DemoStore } from './demo/store.js';

const HOST = '127.0.0.1';
/** A session ends after this long without a request. */
const IDLE_TIMEOUT = 30 * 60 * 1000;
/** How recent a log-in "Delete my data" wants, unless FRESH_LOGIN_SECONDS says otherwise. */
const FRESH_LOGIN_SECONDS = 120;

function readPort(value: string | undefined): number {
  const port = value === undefined || value.trim() === '' ? 3000 : Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new TypeError('PORT must be a whole number from 0 to 65535');
  }
  return port;
}

function readFreshLogin(value: string | undefined): number {
  const seconds = value === undefined || value.trim() === '' ? FRESH_LOGIN_SECONDS : Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new TypeError('FRESH_LOGIN_SECONDS must be a number of seconds above 0');
  }
  return seconds * 1000;
}

let port: number;
let freshLogin: number;
let demoStore: DemoStore;
try {
  port = readPort(process.env.PORT);
  freshLogin = readFreshLogin(process.env.FRESH_LOGIN_SECONDS);
  demoStore = await createDemoStore(process.env, DEFAULT_COOKIE_NAME);
} catch (error) {
  // These two messages hold no key and no password; anything else is named only.
  const known = error instanceof TypeError || error instanceof StoreUnavailableError;
  console.error(`demo: ${known ? error.message : `could not start (${error instanceof Error ? error.name : 'error'})`}`);
  process.exit(1);
}

for (const warning of demoStore.warnings) {
  console.warn(`warning: ${warning}`);
}

// The defaults: a __Host- cookie, HttpOnly, Secure, SameSite=Lax, 24 hours at most.
// Browsers treat http://127.0.0.1 and http://localhost as secure, so Secure works here
// too; reached under another name over plain http, the browser drops the cookie, and
// the first such response prints a KIT_SESSION_INSECURE_COOKIE warning naming the fix. On top: half an hour without a visit ends a session. With a server-side store,
// the logged-in name owns the session, so "Your sessions" and "log out everywhere" can
// find them all; with revocable cookies, the name's generation is sealed in its cookie.
const { serverSide, revocation } = demoStore;
const sessions = new SessionManager<DemoSession>(demoStore.store, {
  idleTimeout: IDLE_TIMEOUT,
  ...(serverSide || revocation !== undefined ? { ownerKey: OWNER_KEY } : {}),
  ...(revocation === undefined ? {} : { revocation }),
});
const server = createServer(
  createApp({ sessions, store: demoStore.description, serverSide, revocable: revocation !== undefined, freshLogin }),
);

server.on('error', (error: NodeJS.ErrnoException) => {
  console.error(`demo: cannot listen on ${HOST}:${port} (${error.code ?? error.name})`);
  process.exit(1);
});
server.listen(port, HOST, () => {
  const { port: listening } = server.address() as AddressInfo;
  console.log(`SESSION_STORE=${demoStore.kind}: sessions are kept in ${demoStore.description}`);
  console.log(`kit-session demo listening on http://${HOST}:${listening}/`);
});

function stop(): void {
  server.close(() => {
    demoStore.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
  server.closeAllConnections();
}
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
