import { createElement } from 'react';
import { renderToReadableStream } from 'react-dom/server';
import { type EntryContext, type ServerBuild, ServerRouter } from 'react-router';
import { serverBuild as sharedServerBuild } from '../../examples/react-router/serverBuild.js';

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
 * The server build of a test app: its routes, the shared hand-written build, and a
 * document renderer that reports errors to `onError`.
 *
 * @param routes - The routes, parents first.
 * @param options - Whether route middleware runs, and where errors go.
 * @returns The build, for `createRequestHandler(build)`.
 */
export function serverBuild(routes: readonly RouteDefinition[], options: ServerBuildOptions = {}): ServerBuild {
  const modules = Object.fromEntries(
    routes.map(({ id, parentId, path, index, module }) => [
      id,
      [
        {
          ...(parentId === undefined ? {} : { parentId }),
          ...(path === undefined ? {} : { path }),
          ...(index === undefined ? {} : { index }),
        },
        module,
      ] as const,
    ]),
  );
  const entry = { default: handleDocumentRequest, handleError: (error: unknown) => options.onError?.(error) };
  return sharedServerBuild(entry, modules, options.middleware ?? true);
}
