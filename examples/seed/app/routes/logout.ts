// POST /logout : a resource route (no component) whose action ends the session and
// redirects to the log-in page; the redirect expires the cookie.
import { redirect } from 'react-router';
import { createAction, type Endpoint } from '../../kit.js';
import { loadSession, saveSession, sessionManager } from '../session.js';

const logoutEndpoint: Endpoint<Request, Response> = async ({ context }) => {
  sessionManager.destroyValues(context);
  return { success: true, context, response: redirect('/login') };
};

export const action = createAction({
  endpoint: logoutEndpoint,
  decodeRequest: (request) => request,
  beforeFunctions: [loadSession],
  afterFunctions: [saveSession],
});
