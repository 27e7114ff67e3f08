// POST /logout: a resource route (no component), answering with a redirect.
import { type ActionFunctionArgs, redirect } from 'react-router';
import { sessionContext } from '../session.js';

export function action({ context }: ActionFunctionArgs) {
  const session = context.get(sessionContext);
  session.destroy(); // the store forgets it and the cookie is expired...
  session.set('flash', 'You have logged out.'); // ...and a new session says goodbye once
  return redirect('/');
}
