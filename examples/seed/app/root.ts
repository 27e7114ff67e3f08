// The root route: the page around every other route, and the error page. No loader
// here: in this app only the matched leaf route's loader or action loads and saves the
// session (see ../server.ts for why).
import { createElement as h, type ReactNode } from 'react';
import { isRouteErrorResponse, Outlet, useRouteError } from 'react-router';

/** The document, with a title and the page's content. */
function Page(props: { title: string; children?: ReactNode }) {
  return h(
    'html',
    { lang: 'en' },
    h('head', null, h('meta', { charSet: 'utf-8' }), h('title', null, props.title)),
    h('body', null, h('h1', null, "The seed's createLoader with React Router"), props.children),
  );
}

export default function Root() {
  return h(Page, { title: "The seed's createLoader" }, h(Outlet));
}

/** What a thrown error renders (a loader's returned 401 is data: the page shows it). */
export function ErrorBoundary() {
  const error = useRouteError();
  const status = isRouteErrorResponse(error) ? error.status : 500;
  return h(Page, { title: 'Error' }, h('p', { role: 'alert' }, `Something went wrong (${status}).`));
}
