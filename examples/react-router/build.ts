// The server build, written by hand: what `react-router build` generates as
// build/server/index.js from app/routes.ts, here for five route modules and no client
// bundle (the pages work with plain HTML forms; nothing is hydrated).
import type { ServerBuild } from 'react-router';
import { serverBuild } from './serverBuild.js';
import * as entry from './app/entry.server.js';
import * as root from './app/root.js';
import * as home from './app/routes/home.js';
import * as login from './app/routes/login.js';
import * as logout from './app/routes/logout.js';
import * as note from './app/routes/note.js';

/** The app for `createRequestHandler(build)`: session middleware on the root route. */
export const build: ServerBuild = serverBuild(
  entry,
  {
    root: [{ path: '' }, root],
    'routes/home': [{ parentId: 'root', index: true }, home],
    'routes/login': [{ parentId: 'root', path: 'login' }, login],
    'routes/logout': [{ parentId: 'root', path: 'logout' }, logout],
    'routes/note': [{ parentId: 'root', path: 'note' }, note],
  },
  true,
);
