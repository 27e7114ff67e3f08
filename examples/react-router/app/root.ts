// The root route: the session middleware, a loader that counts visits, and the page
// around every other route. Components are written with createElement, so plain tsc
// compiles them; a real app writes JSX in .tsx files.
import { createElement as h, type ReactNode } from 'react';
import {
  data,
  isRouteErrorResponse,
  type LoaderFunctionArgs,
  type MiddlewareFunction,
  Outlet,
  useLoaderData,
  useRouteError,
} from 'react-router';
import { SessionStoreError, SessionTokenTooLargeError } from 'kit-session';
import { sessionMiddleware } from 'kit-session/react-router';
import { manager, sessionContext } from './session.js';

/** Loads the session once per request, before any loader; saves it once, after all. */
const sessions = sessionMiddleware(manager, sessionContext);

/**
 * The session's loading and saving errors as statuses: the store down is 503 (nobody is
 * logged out), a session too large for its cookie 413 (SessionCookieTooLargeError is a
 * SessionTokenTooLargeError). Thrown as `data(…, { status })`, they render the
 * ErrorBoundary below with that status and no session cookie; anything else stays a 500.
 * (A middleware's error never reaches the `next()` of the one before it, so this one
 * wraps the session middleware rather than run before it.)
 */
const sessionErrors: MiddlewareFunction<Response> = async (args, next) => {
  try {
    return await sessions(args, next);
  } catch (error) {
    if (error instanceof SessionStoreError) {
      throw data('try again shortly', { status: 503, headers: { 'Retry-After': '5' } });
    }
    if (error instanceof SessionTokenTooLargeError) {
      throw data('session too large', { status: 413 });
    }
    throw error;
  }
};

export const middleware = [sessionErrors];

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
