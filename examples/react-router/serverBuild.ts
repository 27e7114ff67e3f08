// What `react-router build` generates as build/server/index.js, written by hand for
// route modules placed by hand: shared by the React Router examples and their specs.
import type { ServerBuild } from 'react-router';

/** A route module, as the build holds it. */
export type RouteModule = NonNullable<ServerBuild['routes'][string]>['module'];
/** Where a route sits in the tree. */
export type Placement = { readonly parentId?: string; readonly path?: string; readonly index?: true };

/**
 * Writes the server build `react-router build` would, for route modules placed by hand.
 *
 * @param entryModule - The `entry.server` module.
 * @param modules - Each route's placement and module, by route id. A resource route
 *   has no component, which the type does not allow for: hence `Partial`.
 * @param middleware - Whether route `middleware` exports run (`future.v8_middleware`).
 * @returns The build, for `createRequestHandler(build)`.
 */
export function serverBuild(
  entryModule: ServerBuild['entry']['module'],
  modules: Record<string, readonly [Placement, Partial<RouteModule>]>,
  middleware: boolean,
): ServerBuild {
  return {
    entry: { module: entryModule },
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
    // Middleware runs only with v8_middleware (React Router 7.9 and later 7.x).
    future: { v8_middleware: middleware, v8_passThroughRequests: false, v8_trailingSlashAwareDataRequests: false },
    ssr: true,
    isSpaMode: false,
    prerender: [],
    routeDiscovery: { mode: 'initial', manifestPath: '/__manifest' },
  };
}
