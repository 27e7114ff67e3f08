import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { hashedId } from '../../support/services.js';

// The store inside a Worker, as it runs on Cloudflare: lib/stores/cloudflare/d1.ts bundled
// by esbuild for the browser platform (no node: built-ins) with a small Worker, run by
// workerd with no nodejs_compat flag, so ids are hashed with @noble/hashes (no node:crypto), on the binding
// itself (`env.DB`) rather than a proxy.

const WORKER = `
import { D1SessionStore } from './d1.js';

export default {
  async fetch(request, env) {
    const { id, next } = await request.json();
    const store = new D1SessionStore(env.DB);
    await store.createTable();
    const now = Date.now();
    const expiry = { expireTime: now + 3600000, deadline: now + 7200000 };
    const steps = {};
    steps.set = await store.setSession(id, { values: { a: 1 }, ...expiry, meta: 'm' }, 'ada');
    steps.patch = await store.patchSession(id, { set: { b: 'two', 'q"': 3 }, unset: ['a'], ...expiry });
    steps.get = await store.getSession(id);
    steps.renew = await store.renewSession(id, next, { record: { values: { b: 'two' }, ...expiry }, owner: 'ada', grace: 30000 });
    steps.old = await store.getSession(id);
    steps.list = (await store.listOwnerSessions('ada')).map((session) => session.handle);
    steps.tokens = (await env.DB.prepare('SELECT token FROM sessions ORDER BY token').all()).results.map((row) => row.token);
    await store.deleteSession(id);
    steps.afterEnd = (await store.getSession(next)) ?? null;
    steps.hasProcess = typeof globalThis.process?.getBuiltinModule === 'function';
    return Response.json(steps);
  },
};
`;

let mf: Miniflare;

beforeAll(async () => {
  const bundle = await build({
    stdin: { contents: WORKER, resolveDir: path.resolve(__dirname, '../../../lib/stores/cloudflare'), loader: 'js' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  mf = new Miniflare({ modules: true, script: bundle.outputFiles[0]!.text, d1Databases: ['DB'], compatibilityDate: '2026-04-01' });
  await mf.ready;
}, 60_000);

afterAll(async () => {
  await mf.dispose();
});

describe('D1SessionStore inside a Worker on workerd (no node:crypto, env.DB)', () => {
  it('saves, patches, renews, lists and ends a session, keyed by the same SHA-256 handle as on Node', async () => {
    const id = randomBytes(32).toString('base64url');
    const next = randomBytes(32).toString('base64url');
    const response = await mf.dispatchFetch('http://worker.test/', { method: 'POST', body: JSON.stringify({ id, next }) });
    const steps = (await response.json()) as Record<string, unknown>;
    expect(steps.hasProcess).toBe(false);
    expect(steps.set).toBe(id);
    expect(steps.patch).toBe(id);
    expect(steps.get).toMatchObject({ id, values: { b: 'two', 'q"': 3 }, meta: 'm' });
    expect(steps.renew).toBe(next);
    expect(steps.old).toMatchObject({ id, superseded: true, values: { b: 'two', 'q"': 3 } });
    expect(steps.list).toEqual([hashedId(next)]);
    expect(steps.tokens).toEqual([hashedId(id), hashedId(next)].sort());
    expect(steps.afterEnd).toBeNull();
  });
});
