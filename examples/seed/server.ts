// The seed's README as a React Router 7 app: every loader and action is made by
// `createLoader` (./kit.ts, the stand-in for @revas-hq/kit-http-react-router) with
// `beforeFunctions: [loadSession]` and `afterFunctions: [saveSession]`, around an
// endpoint that reads and changes the session through the manager (`getValue`,
// `setValue`, `popValue`, `renewToken`, `destroyValues`). The manager is built with the
// seed's factories (app/session.ts). Served by node:http through
// @remix-run/node-fetch-server with React Router's own request handler: document
// requests render HTML on the server, `.data` requests get single-fetch answers.
//
//   PORT=3000 SESSION_SECRET_KEY_BASE64=$(openssl rand -base64 32) node dist-examples/examples/seed/server.js
//
// GET / (the seed's endpoint: 401 and a flash message when not logged in, a counter
// when logged in), GET /login (the flash, once, and the form), POST /login (a new token
// and the user, then a redirect home), POST /logout (the session destroyed, then a
// redirect to /login).
//
// The limit of this shape: each createLoader loads the session from the request's cookie
// and saves its own copy into its own response. React Router runs the loaders of all
// matched routes for one request, in parallel, and merges their headers, so with a root
// loader and a child loader both made this way a response carries one `Set-Cookie` per
// loader, each holding only that loader's changes; the browser keeps the last one and
// the other changes are lost. Likewise a document POST to a page route whose action does
// not redirect runs the page's loaders after the action, on the request's old cookie.
// So here only one route per request loads and saves: the leaf routes have the loaders,
// the root has none, and every action redirects. For nested routes, use
// `sessionMiddleware` from kit-session/react-router (../react-router/), which loads
// and saves once per request.
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
