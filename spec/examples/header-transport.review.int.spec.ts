import { CookieJar } from '../support/cookieJar.js';
import { startExample, stopChild, type RunningExample } from './processes.js';

// Review of issue 21: the header-transport example's CSRF check, and docs/security.md's
// claim behind it ("A browser never adds `Authorization` ... by itself").
//
// Browsers do add `Authorization` by themselves: the credentials of HTTP authentication
// (Basic or Digest on a staging site, Negotiate/NTLM on an intranet) go with every request
// to the protection space, cross-site form posts and navigations included. The example
// skips its origin check for any request that carries `Authorization`, while that
// request's session still travels by cookie (the CookieTransport is listed first, and a
// Basic/Negotiate value is no Bearer token anyway), so another site can post to /logout
// (or anything else) with the user's cookie.

const json = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

describe('examples/header-transport (review)', () => {
  let example: RunningExample;
  const url = (path: string): string => `${example.url}${path}`;

  beforeAll(async () => {
    example = await startExample('header-transport');
  });
  afterAll(async () => {
    await stopChild(example.child);
  });

  it.each([
    ['Basic credentials (a site behind HTTP authentication)', 'Basic dXNlcjpwYXNz'],
    ['Negotiate credentials (an intranet with integrated sign-in)', 'Negotiate YIIBhwYGKwYBBQUCoIIBezCCAXeg'],
  ])('refuses a cross-site POST that comes by cookie with %s the browser added itself', async (_label, authorization) => {
    const browser = new CookieJar();
    await browser.fetch(url('/login'), json({ name: 'Grace' }));
    const forged = await browser.fetch(url('/logout'), {
      method: 'POST',
      headers: { origin: 'https://evil.test', authorization },
    });
    expect(forged.status).toBe(403);
    // The user is still logged in.
    expect(await (await browser.fetch(url('/me'))).json()).toEqual({ user: 'Grace', visits: 1 });
  });
});
