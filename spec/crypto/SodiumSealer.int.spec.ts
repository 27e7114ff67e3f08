// The built package where sodium-native is not installed, and where it is: a copy of
// dist/ in a folder of its own, with kit-session's own dependencies beside it (and
// sodium-native, in the second case), run by node in a child process. No stand-in for
// the loader or the sealer.

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CookieSessionStore, EncryptingStoreDecorator, importRawKey } from 'kit-session';

const run = promisify(execFile);
const root = path.resolve(__dirname, '../..');

const APP = `
import { CookieSessionStore, createCookieSessions, EncryptingStoreDecorator, importRawKey } from 'kit-session';
const key = await importRawKey(process.env.KEY);
const out = {};
try {
  createCookieSessions({ keys: [key], aead: 'xchacha20-poly1305' });
  out.construction = 'built';
} catch (error) {
  out.construction = error.constructor.name;
  out.namesOption = error.message.includes('aead');
  out.holdsKey = error.message.includes(process.env.KEY);
}
const aes = new EncryptingStoreDecorator(new CookieSessionStore(), { keys: [key] });
out.xchachaToken = (await aes.getSession(process.env.XCHACHA_TOKEN)) === undefined ? 'not found' : 'opened';
const own = await aes.setSession('', { values: { user: 'ada' }, expireTime: Date.now() + 60000, deadline: Date.now() + 120000 });
out.aesToken = (await aes.getSession(own))?.values.user;
console.log(JSON.stringify(out));
`;

describe('aead in the built package, with and without sodium-native installed', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kit-session-no-sodium-'));
    const pkg = path.join(dir, 'node_modules', 'kit-session');
    await mkdir(pkg, { recursive: true });
    await cp(path.join(root, 'dist'), path.join(pkg, 'dist'), { recursive: true });
    await cp(path.join(root, 'package.json'), path.join(pkg, 'package.json'));
    // kit-session's own dependencies, and nothing else.
    await mkdir(path.join(dir, 'node_modules', '@noble'));
    await symlink(path.join(root, 'node_modules', 'cookie'), path.join(dir, 'node_modules', 'cookie'), 'dir');
    await symlink(path.join(root, 'node_modules', '@noble', 'hashes'), path.join(dir, 'node_modules', '@noble', 'hashes'), 'dir');
    await writeFile(path.join(dir, 'app.mjs'), APP);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads sodium-native from dist/ where the app installed it beside kit-session', async () => {
    const other = await mkdtemp(path.join(tmpdir(), 'kit-session-sodium-'));
    try {
      await cp(dir, other, { recursive: true, verbatimSymlinks: true });
      await symlink(path.join(root, 'node_modules', 'sodium-native'), path.join(other, 'node_modules', 'sodium-native'), 'dir');
      const secret = randomBytes(32).toString('base64');
      const key = await importRawKey(secret);
      const xchacha = new EncryptingStoreDecorator(new CookieSessionStore(), { keys: [key], aead: 'xchacha20-poly1305' });
      const token = await xchacha.setSession('', { values: { user: 'ada' }, expireTime: Date.now() + 60_000, deadline: Date.now() + 120_000 });
      const { stdout } = await run(process.execPath, ['app.mjs'], {
        cwd: other,
        env: { PATH: process.env.PATH, KEY: secret, XCHACHA_TOKEN: token },
      });
      expect(JSON.parse(stdout)).toEqual({ construction: 'built', xchachaToken: 'opened', aesToken: 'ada' });
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it("refuses aead 'xchacha20-poly1305' at construction with a TypeError; the AES-GCM default runs, and an XChaCha20-Poly1305 cookie is not found", async () => {
    const secret = randomBytes(32).toString('base64');
    const key = await importRawKey(secret);
    const xchacha = new EncryptingStoreDecorator(new CookieSessionStore(), { keys: [key], aead: 'xchacha20-poly1305' });
    const token = await xchacha.setSession('', { values: { user: 'ada' }, expireTime: Date.now() + 60_000, deadline: Date.now() + 120_000 });
    const { stdout } = await run(process.execPath, ['app.mjs'], {
      cwd: dir,
      env: { PATH: process.env.PATH, KEY: secret, XCHACHA_TOKEN: token },
    });
    expect(JSON.parse(stdout)).toEqual({
      construction: 'TypeError',
      namesOption: true,
      holdsKey: false,
      xchachaToken: 'not found',
      aesToken: 'ada',
    });
  });
});
