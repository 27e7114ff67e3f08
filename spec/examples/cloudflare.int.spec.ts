import { randomBytes } from 'node:crypto';
import { DEFAULT_COOKIE_NAME } from 'kit-session';
import { CookieJar } from '../support/cookieJar.js';
import { startExample, stopChild, type RunningExample } from './processes.js';

// examples/cloudflare: a Worker whose sessions live in a Durable Object, served on
// workerd by Miniflare (serve.ts), driven over HTTP as browsers would.

describe('examples/cloudflare: server-side sessions in a Durable Object, on workerd', () => {
  let example: RunningExample;

  beforeAll(async () => {
    example = await startExample('cloudflare/serve', { SESSION_KEY: randomBytes(32).toString('base64') });
  }, 30_000);

  afterAll(async () => {
    await stopChild(example.child);
  });

  afterEach(() => {
    expect(example.output().stderr).not.toMatch(/error|warn/i);
  });

  async function json(response: Response): Promise<unknown> {
    expect(response.status).toBe(200);
    return response.json();
  }

  it('counts visits per browser', async () => {
    const jar = new CookieJar();
    expect(await json(await jar.fetch(`${example.url}/`))).toEqual({ visits: 1 });
    expect(await json(await jar.fetch(`${example.url}/`))).toEqual({ visits: 2 });
    expect(await json(await new CookieJar().fetch(`${example.url}/`))).toEqual({ visits: 1 });
  });

  it('lists the devices of a user, ends one by its handle, and a copy of its cookie opens nothing', async () => {
    const name = `user-${randomBytes(6).toString('hex')}`;
    const laptop = new CookieJar();
    const phone = new CookieJar();
    for (const jar of [laptop, phone]) {
      expect(await json(await jar.fetch(`${example.url}/login`, { method: 'POST', body: new URLSearchParams({ name }) }))).toEqual({ userId: name });
    }
    const devices = (await json(await laptop.fetch(`${example.url}/devices`))) as { handle: string }[];
    expect(devices).toHaveLength(2);
    const stolen = phone.get(DEFAULT_COOKIE_NAME)!;

    const copy = new CookieJar();
    copy.set(DEFAULT_COOKIE_NAME, stolen);
    expect(await json(await copy.fetch(`${example.url}/session`))).toEqual({ userId: name, visits: 0 });

    // The laptop ends sessions by their handles until the phone is logged out.
    for (const { handle } of devices) {
      const form = new URLSearchParams({ handle });
      await laptop.fetch(`${example.url}/devices/end`, { method: 'POST', body: form });
      const phoneNow = (await json(await phone.fetch(`${example.url}/session`))) as { userId: string | null };
      if (phoneNow.userId === null) {
        break;
      }
    }
    expect(await json(await copy.fetch(`${example.url}/session`))).toEqual({ userId: null, visits: 0 });
  });

  it('bounds a user to five sessions and logs them all out at once', async () => {
    const name = `user-${randomBytes(6).toString('hex')}`;
    const jars = Array.from({ length: 7 }, () => new CookieJar());
    for (const jar of jars) {
      await json(await jar.fetch(`${example.url}/login`, { method: 'POST', body: new URLSearchParams({ name }) }));
    }
    const last = jars.at(-1)!;
    expect(((await json(await last.fetch(`${example.url}/devices`))) as unknown[]).length).toBe(5);
    // The two oldest were evicted.
    expect(await json(await jars[0]!.fetch(`${example.url}/session`))).toEqual({ userId: null, visits: 0 });
    expect(await json(await last.fetch(`${example.url}/logout-all`, { method: 'POST' }))).toEqual({ ended: 5 });
    for (const jar of jars.slice(2)) {
      expect(await json(await jar.fetch(`${example.url}/session`))).toEqual({ userId: null, visits: 0 });
    }
  });
});
