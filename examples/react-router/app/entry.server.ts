// Renders a document request: React Router calls this with the matched routes' data,
// after every loader (and the action, on a POST) has run.
import { createElement } from 'react';
import { renderToReadableStream } from 'react-dom/server';
import { type EntryContext, type HandleErrorFunction, isRouteErrorResponse, ServerRouter } from 'react-router';

export default async function handleRequest(
  request: Request,
  status: number,
  headers: Headers,
  context: EntryContext,
): Promise<Response> {
  let failed = false;
  const body = await renderToReadableStream(createElement(ServerRouter, { context, url: request.url }), {
    signal: request.signal,
    onError(error: unknown) {
      failed = true;
      console.error(error);
    },
  });
  // No client bundle here, and so no streaming to wait for in the browser: send it whole.
  await body.allReady;
  headers.set('Content-Type', 'text/html; charset=utf-8');
  return new Response(body, { status: failed ? 500 : status, headers });
}

/** Errors of loaders, actions and middleware (kit-session's saving errors among them). */
export const handleError: HandleErrorFunction = (error, { request }) => {
  // An aborted request, or a URL no route matches (a browser asking for /favicon.ico),
  // is not a server error.
  if (request.signal.aborted || (isRouteErrorResponse(error) && error.status === 404)) {
    return;
  }
  console.error(error);
};
