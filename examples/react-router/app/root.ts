// The root route: the session middleware, a loader that counts visits, and the page
// around every other route. Components are written with createElement, so plain tsc
// compiles them; a real app writes JSX in .tsx files.
import { createElement as h, type ReactNode } from 'react';
import { isRouteErrorResponse, type LoaderFunctionArgs, Outlet, useLoaderData, useRouteError } from 'react-router';
import { sessionMiddleware } from 'kit-session/react-router';
import { manager, sessionContext } from './session.js';

/** Loads the session once per request, before any loader; saves it once, after all. */
export const middleware = [sessionMiddleware(manager, sessionContext)];

export function loader({ context }: LoaderFunctionArgs) {
  const session = context.get(sessionContext);
  const visits = (session.get('visits') ?? 0) + 1;
  session.set('visits', visits);
  return { user: session.get('user') ?? null, visits, flash: session.pop('flash') ?? null };
}

function Page(props: { title: string; children?: ReactNode }) {
  return h(
    'html',
    { lang: 'en' },
    h('head', null, h('meta', { charSet: 'utf-8' }), h('title', null, props.title)),
    h('body', null, h('h1', null, 'kit-session with React Router'), props.children),
  );
}

export default function Root() {
  const { user, visits, flash } = useLoaderData<typeof loader>();
  return h(
    Page,
    { title: 'kit-session with React Router' },
    flash === null ? null : h('p', { className: 'flash', role: 'status' }, flash),
    h('p', null, 'Visits: ', h('span', { className: 'visits' }, String(visits))),
    user === null
      ? h(
          'form',
          { method: 'post', action: '/login' },
          h('label', null, 'Your name ', h('input', { name: 'name', required: true, autoComplete: 'off' })),
          h('button', { type: 'submit' }, 'Log in'),
        )
      : h(
          'form',
          { method: 'post', action: '/logout' },
          h('p', null, 'Logged in as ', h('span', { className: 'user' }, user)),
          h('button', { type: 'submit' }, 'Log out'),
        ),
    h(Outlet),
  );
}

export function ErrorBoundary() {
  const error = useRouteError();
  const status = isRouteErrorResponse(error) ? error.status : 500;
  return h(Page, { title: 'Error' }, h('p', { role: 'alert' }, `Something went wrong (${status}).`));
}
