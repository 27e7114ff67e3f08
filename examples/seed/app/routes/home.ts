// GET / : the seed's endpoint as the home page's loader. Not logged in, it leaves a
// flash message and answers 401 with `{ error }` (React Router renders a loader's
// returned Response as data, with its status: the page says to log in); logged in, it
// counts the visit.
import { createElement as h } from 'react';
import { useLoaderData } from 'react-router';
import { createLoader, type Endpoint, myDecoder } from '../../kit.js';
import { loadSession, saveSession, sessionManager } from '../session.js';

interface Home {
  readonly userId: string;
  readonly counter: number;
  readonly lastVisit: string;
}

/** The seed's `myEndpoint`. */
const homeEndpoint: Endpoint<URL, Home> = async ({ context }) => {
  const userId = sessionManager.getValue<string>(context, 'userId');
  const counter = sessionManager.getValue<number>(context, 'counter') ?? 0;

  if (!userId) {
    sessionManager.setValue(context, 'flash', { type: 'error', message: 'Please log in' });
    return { success: false, context, error: { code: 401, message: 'Unauthorized' } };
  }

  const lastVisit = new Date().toISOString();
  sessionManager.setValue(context, 'counter', counter + 1);
  sessionManager.setValue(context, 'lastVisit', lastVisit);
  return { success: true, context, response: { userId, counter: counter + 1, lastVisit } };
};

export const loader = createLoader({
  endpoint: homeEndpoint,
  decodeRequest: myDecoder,
  beforeFunctions: [loadSession],
  afterFunctions: [saveSession],
});

export default function HomePage() {
  const home = useLoaderData<Home | { error: string }>();
  if ('error' in home) {
    return h('section', null, h('p', { role: 'alert' }, 'Please log in: ', h('a', { href: '/login' }, 'log in')));
  }
  const { userId, counter, lastVisit } = home;
  return h(
    'section',
    null,
    h('p', null, 'Logged in as ', h('span', { className: 'user' }, userId)),
    h('p', null, 'Visits: ', h('span', { className: 'counter' }, String(counter))),
    h('p', null, 'This visit: ', h('time', { dateTime: lastVisit }, lastVisit)),
    h('form', { method: 'post', action: '/logout' }, h('button', { type: 'submit' }, 'Log out')),
  );
}
