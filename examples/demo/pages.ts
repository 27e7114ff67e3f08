// The demo's HTML. Every function here returns a whole document or a piece of one, and
// every piece of text that came from a user or from the session goes through
// `escapeHtml`. Plain forms, no JavaScript; one column that fits a phone, buttons a
// finger can hit (44 px), and the ones that end sessions or delete data in red.

import type { OwnerSession } from 'kit-session';
import { describeUserAgent } from './userAgent.js';

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
  :root { color-scheme: light; --text: #1b1b1b; --muted: #555; --line: #c8c8c8; --accent: #2f5fbf; --danger: #b3261e; --ok: #1e6b34; }
  body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 2.5rem auto; padding: 0 1rem; line-height: 1.5; color: var(--text); overflow-wrap: anywhere; }
  @media (max-width: 30rem) { body { margin-top: 1rem; } }
  h1 { font-size: 1.5rem; line-height: 1.25; }
  .flash { background: #e8f3ff; border-left: 4px solid #2f6fdf; padding: 0.5rem 1rem; }
  .error { background: #fff0f0; border-left: 4px solid var(--danger); padding: 0.5rem 1rem; }
  form { margin: 1rem 0; }
  .actions { display: flex; flex-wrap: wrap; gap: 0.75rem; margin: 1rem 0; }
  .actions form { margin: 0; }
  .row { display: flex; flex-wrap: wrap; gap: 0.75rem; align-items: center; }
  .zone { border-top: 1px solid var(--line); margin-top: 1.5rem; padding-top: 0.5rem; }
  label { display: block; font-weight: 600; margin-bottom: 0.25rem; }
  input { font: inherit; min-height: 2.75rem; box-sizing: border-box; padding: 0.375rem 0.625rem; border: 1px solid #767676; border-radius: 0.375rem; }
  input:not([type]), input[type="number"] { width: 100%; max-width: 20rem; }
  .row input { flex: 1 1 10rem; width: auto; }
  .check { display: flex; align-items: center; gap: 0.625rem; margin: 0.5rem 0 1rem; }
  .check input { width: 1.375rem; height: 1.375rem; min-height: 0; margin: 0; flex: none; accent-color: var(--accent); }
  .check label { font-weight: normal; margin: 0; padding: 0.625rem 0; }
  button { font: inherit; min-height: 2.75rem; padding: 0.5rem 1.25rem; border-radius: 0.375rem; border: 1px solid #767676; background: #f3f3f3; color: var(--text); cursor: pointer; }
  button:hover { background: #e4e4e4; }
  button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
  button.primary:hover { background: #244a96; }
  button.danger { background: var(--danger); border-color: var(--danger); color: #fff; font-weight: 600; }
  button.danger:hover { background: #8c1d18; }
  button.danger-outline { background: #fff; border: 2px solid var(--danger); color: var(--danger); font-weight: 600; }
  button.danger-outline:hover { background: #fdecea; }
  :focus-visible { outline: 3px solid #2f6fdf; outline-offset: 2px; }
  ul.devices { list-style: none; padding: 0; margin: 1rem 0; }
  li.device { border: 1px solid var(--line); border-radius: 0.5rem; padding: 0.75rem 1rem; margin-bottom: 0.75rem; }
  li.device.current { border: 2px solid var(--ok); background: #f3faf5; }
  li.device p { margin: 0.25rem 0; }
  li.device form { margin: 0.75rem 0 0; }
  .device-name { font-size: 1.0625rem; font-weight: 600; margin-right: 0.5rem; }
  .this-device { display: inline-block; background: var(--ok); color: #fff; border-radius: 1rem; padding: 0 0.625rem; font-size: 0.875rem; font-weight: 600; }
  .when, .note { color: var(--muted); font-size: 0.9375rem; }
  nav { display: flex; flex-wrap: wrap; gap: 0 1.5rem; margin: 1.5rem 0 0; }
  nav a { display: inline-block; padding: 0.625rem 0; }
  a { color: #1a4fb0; }
  footer { margin-top: 2.5rem; color: var(--muted); font-size: 0.875rem; }
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

/**
 * A time as `2030-01-31 14:05:09 UTC`, in a `<time>` element a program can read; a
 * narrow screen may break it after the date, never before "UTC".
 */
function renderTime(date: Date, className: string): string {
  const iso = date.toISOString();
  return `<time class="${className}" datetime="${iso}">${iso.slice(0, 10)} ${iso.slice(11, 19)}&nbsp;UTC</time>`;
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

/** The way back to the home page, a link a finger can hit. */
const BACK = '<nav><a href="/">Back to the demo</a></nav>';

/**
 * The home page: the flash message, the visit counter, when the session ends, and the
 * login or logout forms ("log out everywhere" only when sessions live on the server or
 * in revocable cookies). What ends sessions or deletes data is red.
 */
export function renderHome(view: HomeView): string {
  const { times } = view;
  const everywhere = view.serverSide || view.revocable
    ? `
  <form method="post" action="/logout-everywhere">
    <button type="submit" class="danger">Log out everywhere</button>
  </form>`
    : '';
  const account =
    view.user === undefined
      ? `<p>You are not logged in.</p>
<form method="post" action="/login">
  <label for="name">Your name</label>
  <input id="name" name="name" autocomplete="username" required>
  <p class="check"><input id="remember" name="remember" type="checkbox"> <label for="remember">Keep me logged in when the browser closes</label></p>
  <button type="submit" class="primary">Log in</button>
</form>`
      : `<p>Logged in as <strong class="user">${escapeHtml(view.user)}</strong>.</p>
<div class="actions">
  <form method="post" action="/logout">
    <button type="submit">Log out</button>
  </form>${everywhere}
</div>
<div class="zone">
<p>Deleting your data starts the visit count over and removes the stored value. It cannot be undone,
so it wants a log-in from the last ${renderFreshLogin(view.freshLogin)}; older, it asks for your name again.</p>
<form method="post" action="/delete-data">
  <button type="submit" class="danger">Delete my data</button>
</form>
</div>`;
  const big =
    view.bigBytes === undefined ? '' : `<p>Your session also holds a value of <strong class="big-bytes">${view.bigBytes}</strong> bytes.</p>\n`;
  return layout(
    'kit-session demo',
    `<h1>kit-session demo</h1>
${renderFlash(view.flash)}<p>Visits to this page in this session: <strong class="visits">${view.visits}</strong></p>
<p>This session ends at ${renderTime(times.expires, 'expires')} (in ${renderSpan(times.expires.getTime() - times.now.getTime())}) unless you come back before;
each visit moves that on, up to ${renderTime(times.deadline, 'deadline')}, its end at the latest.</p>
${big}${account}
<nav>${view.user === undefined ? '' : '<a href="/sessions">Your sessions</a>'}<a href="/big">Store a value too large for a cookie</a></nav>
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
and your session stays as it was. With <code>SESSION_STORE=memory</code>, <code>redis</code>,
<code>postgres</code>, <code>mysql</code> or <code>sqlite</code>, only an id goes into the cookie and any size fits.</p>`;
  const stored =
    view.bigBytes === undefined
      ? '<p>Your session holds no such value now.</p>'
      : `<p>Your session holds a value of <strong class="big-bytes">${view.bigBytes}</strong> bytes.</p>
<form method="post" action="/big/remove">
  <button type="submit" class="danger-outline">Remove it</button>
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
  <div class="row">
    <input id="size" name="size" type="number" min="1" max="${view.max}" value="${view.suggested}" required>
    <button type="submit" class="primary">Store it</button>
  </div>
</form>
${BACK}
${renderFooter(view.store)}`,
  );
}

/**
 * One device on the "Your sessions" page, named as "Chrome on Linux" (the whole
 * User-Agent in its title). This device is marked and has no button (logging out ends
 * it); another has "End this session".
 */
function renderDevice(device: OwnerSession, index: number): string {
  const nameId = `device-${index}`;
  const end = device.current
    ? '\n  <p class="note">You are using this one: log out to end it.</p>'
    : `
  <form method="post" action="/sessions/end">
    <button type="submit" class="danger-outline" name="handle" value="${escapeHtml(device.handle)}" aria-describedby="${nameId}">End this session</button>
  </form>`;
  const lastSeen = device.lastSeen === undefined ? 'not recorded' : renderTime(device.lastSeen, 'last-seen');
  const title = device.userAgent === undefined ? '' : ` title="${escapeHtml(device.userAgent)}"`;
  return `<li class="device${device.current ? ' current' : ''}">
  <p><span class="device-name" id="${nameId}"${title}>${escapeHtml(describeUserAgent(device.userAgent))}</span>${device.current ? '<span class="this-device">This device</span>' : ''}</p>
  <p class="when">Logged in ${renderTime(device.createdAt, 'created')}, last seen ${lastSeen}.</p>${end}
</li>`;
}

/** "End all other sessions", with what it does. */
function renderEndOthers(what: string): string {
  return `<div class="zone">
<p>${what}</p>
<form method="post" action="/sessions/end-others">
  <button type="submit" class="danger">End all other sessions</button>
</form>
</div>`;
}

/**
 * The "Your sessions" page: each device of the logged-in name, this one first and
 * marked, with a way to end each other one and "End all other sessions"; with cookies,
 * what can be done without a list, and why.
 */
export function renderSessions(view: SessionsView): string {
  let body: string;
  if (view.devices !== undefined) {
    // Most recently seen first, as listed; this device before them all.
    const devices = [...view.devices].sort((a, b) => Number(b.current) - Number(a.current));
    const others = devices.some((device) => !device.current);
    body = `<p>Each browser where you logged in has its own session, kept on the server. Ending one logs that browser out at its next page.</p>
<ul class="devices">
${devices.map(renderDevice).join('\n')}
</ul>
${others ? renderEndOthers('Logs out every browser on this list but this one.') : '<p>You are logged in nowhere else.</p>'}`;
  } else if (view.revocable) {
    body = `<p>Your sessions live in encrypted cookies, one in each browser, and the server keeps no list of them,
so it cannot show your devices. It keeps one number for your name instead (a generation), sealed in each of your cookies.</p>
${renderEndOthers('"End all other sessions" moves that number on and seals this browser\'s cookie again with it: every other cookie of yours stops opening.')}`;
  } else {
    body = `<p>Your sessions live in encrypted cookies, one in each browser, and the server keeps nothing about them:
it can neither list your devices nor end them. Start the demo with <code>SESSION_STORE=memory</code> (or <code>redis</code>,
<code>postgres</code>, <code>mysql</code>, <code>sqlite</code>) to list and end each device, or <code>SESSION_STORE=revocable</code> to end all others.</p>`;
  }
  return layout(
    'Your sessions - kit-session demo',
    `<h1>Your sessions</h1>
${renderFlash(view.flash)}<p>Logged in as <strong class="user">${escapeHtml(view.user)}</strong>.</p>
${body}
${BACK}
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
Re-enter your name to continue: that logs you in again (a new token), then deletes your data: the visit count
and the stored value. It cannot be undone.</p>
<form method="post" action="/delete-data">
  <label for="confirm-name">Your name</label>
  <input id="confirm-name" name="name" autocomplete="username" required>
  <div class="actions">
    <button type="submit" class="danger">Delete my data</button>
  </div>
</form>
${BACK}`,
  );
}

/** A plain error page with a way back home. */
export function renderError(view: ErrorView): string {
  return layout(
    `${view.status} ${view.title}`,
    `<h1>${escapeHtml(view.title)}</h1>
<p class="error" role="alert">${escapeHtml(view.message)}</p>
${BACK}`,
  );
}
