// The home page, nested in the root: its loader runs beside the root's, in parallel,
// and changes another value of the same session.
import { createElement as h } from 'react';
import { type LoaderFunctionArgs, useLoaderData } from 'react-router';
import { sessionContext } from '../session.js';

export function loader({ context }: LoaderFunctionArgs) {
  const session = context.get(sessionContext);
  const homeViews = (session.get('homeViews') ?? 0) + 1;
  session.set('homeViews', homeViews);
  return { homeViews, expiresAt: session.expiresAt.toISOString() };
}

export default function Home() {
  const { homeViews, expiresAt } = useLoaderData<typeof loader>();
  return h(
    'section',
    null,
    h('p', null, 'Home page views: ', h('span', { className: 'home-views' }, String(homeViews))),
    h('p', null, 'The session ends at ', h('time', { dateTime: expiresAt }, expiresAt), ' without another visit.'),
  );
}
