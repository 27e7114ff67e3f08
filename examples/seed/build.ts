// The server build, written by hand as in ../react-router/build.ts: what
// `react-router build` would generate from app/routes.ts, here for four route modules
// and no client bundle (the pages work with plain HTML forms; nothing is hydrated).
import type { ServerBuild } from 'react-router';
import * as entry from '../react-router/app/entry.server.js';
import * as root from './app/root.js';
import * as home from './app/routes/home.js';
import * as login from './app/routes/login.js';
import * as logout from './app/routes/logout.js';

type RouteModule = NonNullable<ServerBuild['routes'][string]>['module'];
type Placement = { readonly parentId?: string; readonly path?: string; readonly index?: true };

// The root has no loader; each request runs one leaf route's loader or action.
const modules: Record<string, readonly [Placement, Partial<RouteModule>]> = {
  root: [{ path: '' }, root],
  'routes/home': [{ parentId: 'root', index: true }, home],
  'routes/login': [{ parentId: 'root', path: 'login' }, login],
  'routes/logout': [{ parentId: 'root', path: 'logout' }, logout],
};

/** The app for `createRequestHandler(build)`. */
export const build: ServerBuild = {
  entry: { module: entry },
  routes: Object.fromEntries(
    Object.entries(modules).map(([id, [placement, module]]) => [id, { id, ...placement, module: module as RouteModule }]),
  ),
  assets: {
    entry: { module: '/assets/entry.client.js', imports: [] },
    routes: Object.fromEntries(
      Object.entries(modules).map(([id, [placement, module]]) => [
        id,
        {
          id,
          ...placement,
          module: `/assets/${id}.js`,
          hasAction: module.action !== undefined,
          hasLoader: module.loader !== undefined,
          hasClientAction: false,
          hasClientLoader: false,
          hasClientMiddleware: false,
          hasErrorBoundary: module.ErrorBoundary !== undefined,
          clientActionModule: undefined,
          clientLoaderModule: undefined,
          clientMiddlewareModule: undefined,
          hydrateFallbackModule: undefined,
        },
      ]),
    ),
    url: '/assets/manifest.js',
    version: '1',
  },
  publicPath: '/',
  assetsBuildDirectory: 'build/client',
  // No route middleware: the session is loaded and saved by each createLoader.
  future: { v8_middleware: false, v8_passThroughRequests: false, v8_trailingSlashAwareDataRequests: false },
  ssr: true,
  isSpaMode: false,
  prerender: [],
  routeDiscovery: { mode: 'initial', manifestPath: '/__manifest' },
};
