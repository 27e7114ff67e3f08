import { createElement } from 'react';
import { renderToReadableStream } from 'react-dom/server';
import { type EntryContext, type ServerBuild, ServerRouter } from 'react-router';

/** A route module as a server build holds it; a resource route has no `default`. */
export type RouteModule = Partial<NonNullable<ServerBuild['routes'][string]>['module']>;

/** One route of a hand-written build: where it sits, and its module. */
export interface RouteDefinition {
  readonly id: string;
  readonly parentId?: string;
  readonly path?: string;
  readonly index?: true;
  readonly module: RouteModule;
}

/** Options of {@link serverBuild}. */
export interface ServerBuildOptions {
  /** `future.v8_middleware`; on unless told. */
  readonly middleware?: boolean;
  /** Receives what React Router hands entry.server's `handleError`. */
  readonly onError?: (error: unknown) => void;
}

/**
 * Renders a document request as the default entry.server does, all at once (there is
 * no client bundle to stream to).
 */
async function handleDocumentRequest(
  request: Request,
  status: number,
  headers: Headers,
  context: EntryContext,
): Promise<Response> {
  const body = await renderToReadableStream(createElement(ServerRouter, { context, url: request.url }), {
    signal: request.signal,
  });
  await body.allReady;
  headers.set('Content-Type', 'text/html; charset=utf-8');
  return new Response(body, { status, headers });
}

/**
 * A server build written by hand: what `react-router build` makes of app/routes.ts and
 * the route modules, without a client bundle. Its `assets` describe each route as the
 * Vite plugin would (for server rendering, which builds its routes from them).
 *
 * @param routes - The routes, the root (`id: 'root'`) first.
 * @param options - The middleware flag and an error listener.
 * @returns The build, for `createRequestHandler(build)`.
 */
export function serverBuild(routes: readonly RouteDefinition[], options: ServerBuildOptions = {}): ServerBuild {
  const placement = ({ id, parentId, path, index }: RouteDefinition) => ({
    id,
    ...(parentId === undefined ? {} : { parentId }),
    ...(path === undefined ? {} : { path }),
    ...(index === undefined ? {} : { index }),
  });
  return {
    entry: {
      module: {
        default: handleDocumentRequest,
        handleError: (error) => options.onError?.(error),
      },
    },
    routes: Object.fromEntries(
      routes.map((route) => [
        route.id,
        { ...placement(route), module: route.module as NonNullable<ServerBuild['routes'][string]>['module'] },
      ]),
    ),
    assets: {
      entry: { module: '/assets/entry.client.js', imports: [] },
      routes: Object.fromEntries(
        routes.map((route) => [
          route.id,
          {
            ...placement(route),
            module: `/assets/${route.id}.js`,
            hasAction: route.module.action !== undefined,
            hasLoader: route.module.loader !== undefined,
            hasClientAction: false,
            hasClientLoader: false,
            hasClientMiddleware: false,
            hasErrorBoundary: route.module.ErrorBoundary !== undefined,
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
    future: {
      v8_middleware: options.middleware ?? true,
      v8_passThroughRequests: false,
      v8_trailingSlashAwareDataRequests: false,
    },
    ssr: true,
    isSpaMode: false,
    prerender: [],
    routeDiscovery: { mode: 'initial', manifestPath: '/__manifest' },
  };
}
