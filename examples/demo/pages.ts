// The demo's HTML. Every function here returns a whole document or a piece of one, and
// every piece of text that came from a user or from the session goes through
// `escapeHtml`. Plain forms, no JavaScript.

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** What the home page shows. */
export interface HomeView {
  /** How many times this session has loaded the home page, this load included. */
  readonly visits: number;
  /** The logged-in name, if any. */
  readonly user: string | undefined;
  /** A one-time message from the previous request, if any. */
  readonly flash: string | undefined;
  /** Where sessions are kept, in words. */
  readonly store: string;
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
  label { display: block; font-weight: 600; margin-bottom: 0.25rem; }
  input { font: inherit; padding: 0.25rem 0.5rem; }
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

/** The home page: the flash message, the visit counter, and the login or logout form. */
export function renderHome(view: HomeView): string {
  const flash = view.flash === undefined ? '' : `<p class="flash" role="status">${escapeHtml(view.flash)}</p>\n`;
  const account =
    view.user === undefined
      ? `<p>You are not logged in.</p>
<form method="post" action="/login">
  <label for="name">Your name</label>
  <input id="name" name="name" autocomplete="username" required>
  <button type="submit">Log in</button>
</form>`
      : `<p>Logged in as <strong class="user">${escapeHtml(view.user)}</strong>.</p>
<form method="post" action="/logout">
  <button type="submit">Log out</button>
</form>`;
  return layout(
    'kit-session demo',
    `<h1>kit-session demo</h1>
${flash}<p>Visits to this page in this session: <strong class="visits">${view.visits}</strong></p>
${account}
<footer>Sessions are kept in ${escapeHtml(view.store)}.</footer>`,
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
