// Renders a document request: React Router calls this with the matched routes' data,
// after every loader (and the action, on a POST) has run.
import { createElement } from 'react';
import { renderToReadableStream } from 'react-dom/server';
import { type EntryContext, ServerRouter } from 'react-router';

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
