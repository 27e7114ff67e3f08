// /login : GET shows the flash message once and the form; POST logs in. Both are made
// by createLoader around the session functions; the action answers with a redirect,
// which carries the session's cookie.
import { createElement as h } from 'react';
import { redirect, useLoaderData } from 'react-router';
import { createAction, createLoader, type Endpoint, myDecoder } from '../../kit.js';
import { loadSession, saveSession, sessionManager } from '../session.js';

interface Flash {
  readonly type: string;
  readonly message: string;
}

/** Reads the flash message and removes it: it is shown once. */
const flashEndpoint: Endpoint<URL, { flash: Flash | null }> = async ({ context }) => ({
  success: true,
  context,
  response: { flash: sessionManager.popValue<Flash>(context, 'flash') ?? null },
});

/** Logs in with the name from the form: a new token (privileges change), then the user. */
const loginEndpoint: Endpoint<FormData, Response> = async ({ context, request: form }) => {
  const userId = String(form.get('name') ?? '').trim().slice(0, 64) || 'anonymous';
  sessionManager.renewToken(context);
  sessionManager.setValue(context, 'userId', userId);
  return { success: true, context, response: redirect('/') };
};

export const loader = createLoader({
  endpoint: flashEndpoint,
  decodeRequest: myDecoder,
  beforeFunctions: [loadSession],
  afterFunctions: [saveSession],
});

export const action = createAction({
  endpoint: loginEndpoint,
  decodeRequest: (request) => request.formData(),
  beforeFunctions: [loadSession],
  afterFunctions: [saveSession],
});

export default function LoginPage() {
  const { flash } = useLoaderData<{ flash: Flash | null }>();
  return h(
    'section',
    null,
    flash === null ? null : h('p', { className: 'flash', role: 'status' }, flash.message),
    h(
      'form',
      { method: 'post', action: '/login' },
      h('label', null, 'Your name ', h('input', { name: 'name', required: true, autoComplete: 'off' })),
      h('button', { type: 'submit' }, 'Log in'),
    ),
  );
}
