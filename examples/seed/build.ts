// The server build, written by hand as in ../react-router/build.ts: what
// `react-router build` would generate from app/routes.ts, here for four route modules
// and no client bundle (the pages work with plain HTML forms; nothing is hydrated).
import type { ServerBuild } from 'react-router';
import { serverBuild } from '../react-router/serverBuild.js';
import * as entry from '../react-router/app/entry.server.js';
import * as root from './app/root.js';
import * as home from './app/routes/home.js';
import * as login from './app/routes/login.js';
import * as logout from './app/routes/logout.js';

/** The app for `createRequestHandler(build)`: the root has no loader; each request runs
 * one leaf route's loader or action, which loads and saves the session itself. */
export const build: ServerBuild = serverBuild(
  entry,
  {
    root: [{ path: '' }, root],
    'routes/home': [{ parentId: 'root', index: true }, home],
    'routes/login': [{ parentId: 'root', path: 'login' }, login],
    'routes/logout': [{ parentId: 'root', path: 'logout' }, logout],
  },
  false,
);
