// The demo's HTML. Every function here returns a whole document or a piece of one, and
// every piece of text that came from a user or from the session goes through
// `escapeHtml`. Plain forms, no JavaScript.

import type { OwnerSession } from 'kit-session';

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** When a session ends. */
export interface SessionTimes {
  /** When it ends if no other request comes (`session.expiresAt`). */
  readonly expires: Date;
  /** Its absolute end, which activity never moves (`session.deadline`). */
  readonly deadline: Date;
  /** The time of this request, to say "in 30 minutes". */
  readonly now: Date;
}

/** What the home page shows. */
export interface HomeView {
  /** How many times this session has loaded the home page, this load included. */
  readonly visits: number;
  /** The logged-in name, if any. */
  readonly user: string | undefined;
  /** A one-time message from the previous request, if any. */
  readonly flash: string | undefined;
  /** The length of the value stored by the big-value page, if any. */
  readonly bigBytes: number | undefined;
  /** When the session ends. */
  readonly times: SessionTimes;
  /** Where sessions are kept, in words. */
  readonly store: string;
  /** Whether sessions live on the server, so "log out everywhere" is offered. */
  readonly serverSide: boolean;
  /** Whether sessions live in revocable cookies, so "log out everywhere" is offered too. */
  readonly revocable: boolean;
  /** How recent a log-in "Delete my data" wants, in milliseconds. */
  readonly freshLogin: number;
}

/** What the "Your sessions" page shows. */
export interface SessionsView {
  /** The logged-in name. */
  readonly user: string;
  /** A one-time message from the previous request, if any. */
  readonly flash: string | undefined;
  /** The name's sessions, this one marked `current`; `undefined` when the store cannot list them (cookies). */
  readonly devices: readonly OwnerSession[] | undefined;
  /** Whether sessions live in revocable cookies, so "end all others" works without a list. */
  readonly revocable: boolean;
  /** Where sessions are kept, in words. */
  readonly store: string;
}

/** What the "re-enter your name" page shows. */
export interface ConfirmNameView {
  /** How recent a log-in the action wants, in milliseconds. */
  readonly freshLogin: number;
  /** Whether the name just entered was not the one logged in. */
  readonly wrongName: boolean;
}

/** What the big-value page shows. */
export interface BigView {
  /** A one-time message from the previous request, if any. */
  readonly flash: string | undefined;
  /** The length of the value stored now, if any. */
  readonly bigBytes: number | undefined;
  /** The length of the session cookie this request brought, if any. */
  readonly cookieBytes: number | undefined;
  /** The size the form offers. */
  readonly suggested: number;
  /** The largest size accepted. */
  readonly max: number;
  /** Where sessions are kept, in words. */
  readonly store: string;
  /** Whether sessions live on the server (only an id in the cookie). */
  readonly serverSide: boolean;
}

/** What an error page shows. */
export interface ErrorView {
  readonly status: number;
  readonly title: string;
  readonly message: string;
}

const STYLE = `
  body { font-family: system-ui, sans-serif; max-width: 36rem; margin: 3rem auto; padding: 0 1rem; line-height: 1.5; color: #1b1b1b; }
  h1 { font-size: 1.5rem; }
  .flash { background: #e8f3ff; border-left: 4px solid #2f6fdf; padding: 0.5rem 1rem; }
  .error { background: #fff0f0; border-left: 4px solid #c62828; padding: 0.5rem 1rem; }
  form { margin: 1rem 0; }
  form.inline { display: inline-block; margin: 0 1rem 0 0; }
  ul.devices { padding-left: 1.25rem; }
  ul.devices li { margin-bottom: 1rem; }
  nav { margin: 1rem 0; }
  label { display: block; font-weight: 600; margin-bottom: 0.25rem; }
  input { font: inherit; padding: 0.25rem 0.5rem; }
  .check label { display: inline; font-weight: normal; }
  button { font: inherit; padding: 0.25rem 1rem; }
  footer { margin-top: 3rem; color: #555; font-size: 0.875rem; }
`;

/** Wraps a page's body in a whole HTML document. */
export function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

/** A time as `2030-01-31 14:05:09 UTC`, in a `<time>` element a program can read. */
function renderTime(date: Date, className: string): string {
  const iso = date.toISOString();
  return `<time class="${className}" datetime="${iso}">${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC</time>`;
}

/** A span of time in words: "30 minutes", "23 hours 59 minutes", "less than a minute". */
function renderSpan(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 1) {
    return 'less than a minute';
  }
  const hours = Math.floor(minutes / 60);
  const parts = [
    ...(hours > 0 ? [`${hours} ${hours === 1 ? 'hour' : 'hours'}`] : []),
    ...(minutes % 60 > 0 ? [`${minutes % 60} ${minutes % 60 === 1 ? 'minute' : 'minutes'}`] : []),
  ];
  return parts.join(' ');
}

/** How recent a log-in must be, in words: "2 minutes", "90 seconds". */
function renderFreshLogin(ms: number): string {
  const seconds = ms / 1000;
  if (seconds % 60 === 0) {
    return `${seconds / 60} ${seconds === 60 ? 'minute' : 'minutes'}`;
  }
  return `${seconds} ${seconds === 1 ? 'second' : 'seconds'}`;
}

function renderFlash(flash: string | undefined): string {
  return flash === undefined ? '' : `<p class="flash" role="status">${escapeHtml(flash)}</p>\n`;
}

function renderFooter(store: string): string {
  return `<footer>Sessions are kept in ${escapeHtml(store)}.</footer>`;
}

/**
 * The home page: the flash message, the visit counter, when the session ends, and the
 * login or logout forms ("log out everywhere" only when sessions live on the server).
 */
export function renderHome(view: HomeView): string {
  const { times } = view;
  const everywhere = view.serverSide || view.revocable
    ? `
<form class="inline" method="post" action="/logout-everywhere">
  <button type="submit">Log out everywhere</button>
</form>`
    : '';
  const account =
    view.user === undefined
      ? `<p>You are not logged in.</p>
<form method="post" action="/login">
  <label for="name">Your name</label>
  <input id="name" name="name" autocomplete="username" required>
  <p class="check"><input id="remember" name="remember" type="checkbox"> <label for="remember">Keep me logged in when the browser closes</label></p>
  <button type="submit">Log in</button>
</form>`
      : `<p>Logged in as <strong class="user">${escapeHtml(view.user)}</strong>.</p>
<form class="inline" method="post" action="/logout">
  <button type="submit">Log out</button>
</form>${everywhere}
<form method="post" action="/delete-data">
  <button type="submit">Delete my data</button>
</form>
<p>Deleting your data starts the visit count over and removes the stored value. It cannot be undone,
so it wants a log-in from the last ${renderFreshLogin(view.freshLogin)}; older, it asks for your name again.</p>`;
  const big =
    view.bigBytes === undefined ? '' : `<p>Your session also holds a value of <strong class="big-bytes">${view.bigBytes}</strong> bytes.</p>\n`;
  return layout(
    'kit-session demo',
    `<h1>kit-session demo</h1>
${renderFlash(view.flash)}<p>Visits to this page in this session: <strong class="visits">${view.visits}</strong></p>
<p>This session ends at ${renderTime(times.expires, 'expires')} (in ${renderSpan(times.expires.getTime() - times.now.getTime())}) unless you come back before;
each visit moves that on, up to ${renderTime(times.deadline, 'deadline')}, its end at the latest.</p>
${big}${account}
<nav>${view.user === undefined ? '' : '<a href="/sessions">Your sessions</a> · '}<a href="/big">Store a value too large for a cookie</a></nav>
${renderFooter(view.store)}`,
  );
}

/** The big-value page: a form that stores a value of any size, and what happened. */
export function renderBig(view: BigView): string {
  const explanation = view.serverSide
    ? `<p>Sessions live on the server here, and the cookie holds only their encrypted id,
so a session can hold far more than a cookie could.</p>`
    : `<p>Sessions live inside an encrypted cookie here. Browsers drop cookies over 4096 bytes
without a word, so the demo gets <code>SessionCookieTooLargeError</code> instead and says so,
and your session stays as it was. With <code>SESSION_STORE=memory</code>, <code>redis</code>
or <code>postgres</code>, only an id goes into the cookie and any size fits.</p>`;
  const stored =
    view.bigBytes === undefined
      ? '<p>Your session holds no such value now.</p>'
      : `<p>Your session holds a value of <strong class="big-bytes">${view.bigBytes}</strong> bytes.</p>
<form method="post" action="/big/remove">
  <button type="submit">Remove it</button>
</form>`;
  const cookie =
    view.cookieBytes === undefined
      ? '<p>Your browser sent no session cookie with this page.</p>'
      : `<p>The session cookie your browser sent with this page is <strong class="cookie-bytes">${view.cookieBytes}</strong> bytes long.</p>`;
  return layout(
    'A value too large for a cookie - kit-session demo',
    `<h1>A value too large for a cookie</h1>
${renderFlash(view.flash)}${explanation}
${stored}
${cookie}
<form method="post" action="/big">
  <label for="size">Size of the value to store, in bytes (1 to ${view.max})</label>
  <input id="size" name="size" type="number" min="1" max="${view.max}" value="${view.suggested}" required>
  <button type="submit">Store it</button>
</form>
<nav><a href="/">Back to the demo</a></nav>
${renderFooter(view.store)}`,
  );
}

/** One device on the "Your sessions" page; another device's has an "End this one" button. */
function renderDevice(device: OwnerSession): string {
  const end = device.current
    ? ''
    : `
  <form method="post" action="/sessions/end">
    <button type="submit" name="handle" value="${escapeHtml(device.handle)}">End this one</button>
  </form>`;
  const lastSeen = device.lastSeen === undefined ? 'not recorded' : renderTime(device.lastSeen, 'last-seen');
  return `<li class="device${device.current ? ' current' : ''}">
  <strong class="agent">${escapeHtml(device.userAgent ?? 'an unknown browser')}</strong>${device.current ? ' <em class="this-device">(this device)</em>' : ''}<br>
  Logged in ${renderTime(device.createdAt, 'created')}, last seen ${lastSeen}.${end}
</li>`;
}

/**
 * The "Your sessions" page: each device of the logged-in name with a way to end it,
 * and "End all others"; with cookies, what can be done without a list, and why.
 */
export function renderSessions(view: SessionsView): string {
  const endOthers = `<form method="post" action="/sessions/end-others">
  <button type="submit">End all others</button>
</form>`;
  let body: string;
  if (view.devices !== undefined) {
    body = `<p>Each browser where you logged in has its own session, kept on the server. Ending one logs that browser out at its next page.</p>
<ul class="devices">
${view.devices.map(renderDevice).join('\n')}
</ul>
${endOthers}`;
  } else if (view.revocable) {
    body = `<p>Your sessions live in encrypted cookies, one in each browser, and the server keeps no list of them,
so it cannot show your devices. It keeps one number for your name instead (a generation), sealed in each of your cookies.
"End all others" moves that number on and seals this browser's cookie again with it: every other cookie of yours stops opening.</p>
${endOthers}`;
  } else {
    body = `<p>Your sessions live in encrypted cookies, one in each browser, and the server keeps nothing about them:
it can neither list your devices nor end them. Start the demo with <code>SESSION_STORE=memory</code> (or <code>redis</code>,
<code>postgres</code>) to list and end each device, or <code>SESSION_STORE=revocable</code> to end all others.</p>`;
  }
  return layout(
    'Your sessions - kit-session demo',
    `<h1>Your sessions</h1>
${renderFlash(view.flash)}<p>Logged in as <strong class="user">${escapeHtml(view.user)}</strong>.</p>
${body}
<nav><a href="/">Back to the demo</a></nav>
${renderFooter(view.store)}`,
  );
}

/** Asks for the name again before an action that wants a recent log-in. */
export function renderConfirmName(view: ConfirmNameView): string {
  const wrong = view.wrongName
    ? '<p class="error" role="alert">That is not the name you logged in with.</p>\n'
    : '';
  return layout(
    'Confirm it is you - kit-session demo',
    `<h1>Confirm it is you</h1>
${wrong}<p>Deleting your data wants a log-in from the last ${renderFreshLogin(view.freshLogin)}, and yours is older.
Re-enter your name to continue: that logs you in again (a new token), then deletes your data.</p>
<form method="post" action="/delete-data">
  <label for="confirm-name">Your name</label>
  <input id="confirm-name" name="name" autocomplete="username" required>
  <button type="submit">Continue</button>
</form>
<nav><a href="/">Back to the demo</a></nav>`,
  );
}

/** A plain error page with a way back home. */
export function renderError(view: ErrorView): string {
  return layout(
    `${view.status} ${view.title}`,
    `<h1>${escapeHtml(view.title)}</h1>
<p class="error" role="alert">${escapeHtml(view.message)}</p>
<p><a href="/">Back to the demo</a></p>`,
  );
}
