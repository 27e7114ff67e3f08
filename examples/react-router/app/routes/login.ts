// POST /login: the form's action. A page route (it has a component), so a failed
// log-in could render here; this one always succeeds and redirects home.
import { createElement as h } from 'react';
import { type ActionFunctionArgs, redirect } from 'react-router';
import { getSession } from 'kit-session/react-router';
import { sessionContext } from '../session.js';

export async function action({ request, context }: ActionFunctionArgs) {
  const name = String((await request.formData()).get('name') ?? '').trim().slice(0, 64) || 'anonymous';
  const session = getSession(context, sessionContext);
  session.renew(); // privileges change, so the session id changes
  session.set('user', name);
  session.set('flash', `Welcome, ${name}!`);
  throw redirect('/'); // a thrown redirect keeps the session's cookie
}

export default function Login() {
  return h('p', null, 'Log in from the home page.');
}
