// POST /note: a resource route (no component) that keeps the note the client sends in
// the session. A long one no longer fits in a cookie: the root's middleware answers 413.
import type { ActionFunctionArgs } from 'react-router';
import { getSession } from 'kit-session/react-router';
import { sessionContext } from '../session.js';

export async function action({ request, context }: ActionFunctionArgs) {
  getSession(context, sessionContext).set('note', await request.text());
  return new Response('noted\n', { headers: { 'content-type': 'text/plain; charset=utf-8' } });
}
