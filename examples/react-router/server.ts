// A React Router 7 app whose loaders and actions share one session per request, loaded
// and saved by kit-session/react-router's middleware on the root route. Served by
// node:http through @remix-run/node-fetch-server (Request in, Response out), with
// React Router's own request handler: document requests render HTML on the server,
// `.data` requests get React Router's single-fetch answers.
//
//   PORT=3000 SESSION_KEY=$(openssl rand -base64 32) node dist-examples/examples/react-router/server.js
//   SESSION_STORE=memory ...   # sessions kept in this process instead of in the cookie
//   REDIS_URL=redis://127.0.0.1:6379 ...   # sessions in Redis
//
// The pieces: app/session.ts (the manager and the context), app/root.ts (the middleware,
// the page, the session errors as 503 and 413), app/routes/ (home, login, logout, note),
// build.ts (the server build).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequestListener } from '@remix-run/node-fetch-server';
import { createRequestHandler } from 'react-router';
import { build } from './build.js';

const handle = createRequestHandler(build, 'production');
const server = createServer(createRequestListener((request) => handle(request)));

server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
