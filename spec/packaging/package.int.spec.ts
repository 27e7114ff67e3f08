import { execFile } from 'node:child_process';
import { access, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = path.resolve(__dirname, '../..');
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');

/** The version of a package installed in this repository, so npm finds it in its cache. */
async function installedVersion(name: string): Promise<string> {
  const manifest = JSON.parse(await readFile(path.join(root, 'node_modules', name, 'package.json'), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

/** Every file under a folder, as paths relative to it. */
async function listFiles(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(folder, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'));
}

interface PackageJson {
  readonly name: string;
  readonly exports: Record<string, string | Record<string, string>>;
}

describe('the packed package', () => {
  let work: string;
  let scratch: string;
  /** Paths inside the tarball, relative to its `package/` folder. */
  let packed: string[];
  /** Where the tarball was installed in the scratch project. */
  let installed: string;
  let manifest: PackageJson;

  /** Runs node in the scratch project; resolves to what it printed, failing on a non-zero exit. */
  async function node(args: string[]): Promise<{ stdout: string; stderr: string }> {
    return run(process.execPath, args, { cwd: scratch, timeout: 30_000 });
  }

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'kit-session-pack-'));
    scratch = path.join(work, 'scratch');

    // globalSetup has built dist/; pack what `files` in package.json selects.
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: root });
    const [info] = JSON.parse(stdout) as [{ filename: string; files: { path: string }[] }];
    packed = info.files.map((file) => file.path);

    await mkdir(scratch);
    await writeFile(path.join(scratch, 'package.json'), JSON.stringify({ name: 'scratch', private: true }));
    await run(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        path.join(work, info.filename),
      ],
      { cwd: scratch, timeout: 120_000 },
    );
    installed = path.join(scratch, 'node_modules', 'kit-session');
    manifest = JSON.parse(await readFile(path.join(installed, 'package.json'), 'utf8')) as PackageJson;
  }, 180_000);

  afterAll(async () => {
    if (work !== undefined) {
      await rm(work, { recursive: true, force: true });
    }
  });

  describe('contents', () => {
    it('holds the compiled entry point and its types', () => {
      expect(packed).toEqual(expect.arrayContaining(['package.json', 'dist/index.js', 'dist/index.d.ts']));
    });

    it('holds nothing but dist/, the manifest and the docs: no sources, specs, examples or build info', () => {
      const others = packed.filter(
        (file) => !file.startsWith('dist/') && !/^(package\.json|README\.md|LICENSE(\.\w+)?|CHANGELOG\.md)$/i.test(file),
      );
      expect(others).toEqual([]);
      expect(packed.filter((file) => /^(lib|spec|examples|bench)\//.test(file))).toEqual([]);
      expect(packed.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))).toEqual([]);
      expect(packed.filter((file) => file.endsWith('.tsbuildinfo'))).toEqual([]);
    });

    it('names no path of the machine that built it, in source maps or anywhere else', async () => {
      const files = await listFiles(installed);
      expect(files.length).toBe(packed.length);
      for (const file of files) {
        const text = await readFile(path.join(installed, file), 'utf8');
        expect({ file, hasRoot: text.includes(root) }).toEqual({ file, hasRoot: false });
        if (file.endsWith('.map')) {
          const map = JSON.parse(text) as { sources: string[]; sourceRoot?: string };
          const absolute = [map.sourceRoot ?? '', ...map.sources].filter(
            (source) => path.isAbsolute(source) || /^[a-z]+:/i.test(source),
          );
          expect({ file, absolute }).toEqual({ file, absolute: [] });
        }
      }
    });

    it('points every export at a file it holds, with types listed first', () => {
      for (const [subpath, target] of Object.entries(manifest.exports)) {
        const conditions = typeof target === 'string' ? { default: target } : target;
        if (subpath !== './package.json') {
          expect({ subpath, first: Object.keys(conditions)[0] }).toEqual({ subpath, first: 'types' });
        }
        for (const file of Object.values(conditions)) {
          expect({ subpath, file, packed: packed.includes(file.replace(/^\.\//, '')) }).toEqual({
            subpath,
            file,
            packed: true,
          });
        }
      }
    });
  });

  describe('use', () => {
    it('imports from an ES module and seals and opens a session through the published entry point', async () => {
      // Installed alone: neither inversify nor reflect-metadata is there.
      await expect(access(path.join(scratch, 'node_modules', 'inversify'))).rejects.toThrow();
      await expect(access(path.join(scratch, 'node_modules', 'reflect-metadata'))).rejects.toThrow();
      const script = `
        import { randomBytes } from 'node:crypto';
        import {
          Context, CookieSessionStore, EncryptingStoreDecorator, importRawKey, SessionManager,
        } from 'kit-session';

        const keys = [await importRawKey(randomBytes(32).toString('base64'))];
        const store = new EncryptingStoreDecorator(new CookieSessionStore(), { keys });
        const expireTime = Date.now() + 60_000;
        const token = await store.setSession('', { values: { user: 'Ada' }, expireTime, deadline: expireTime });
        const opened = await store.getSession(token);
        const tampered = await store.getSession(token.slice(0, -2) + (token.endsWith('AA') ? 'BA' : 'AA'));

        const manager = new SessionManager(store);
        let context = await manager.extractSession(Context.background, new Request('https://app.example/'));
        manager.setValue(context, 'user', 'Grace');
        const headers = new Headers();
        await manager.injectSession(context, headers);
        const cookie = headers.getSetCookie()[0].split(';')[0];
        context = await manager.extractSession(Context.background, new Request('https://app.example/', { headers: { cookie } }));

        console.log(JSON.stringify({
          opened: opened?.values,
          tampered: tampered === undefined,
          sealedPlain: Buffer.from(token, 'base64url').includes('Ada'),
          cookieName: cookie.split('=')[0],
          user: manager.getValue(context, 'user'),
        }));
      `;
      const { stdout, stderr } = await node(['--input-type=module', '-e', script]);
      expect(stderr).toBe('');
      expect(JSON.parse(stdout)).toEqual({
        opened: { user: 'Ada' },
        tampered: true,
        sealedPlain: false,
        cookieName: '__Host-session',
        user: 'Grace',
      });
    });

    it('loads with require() from CommonJS on this Node (require of an ES module), without a warning', async () => {
      await writeFile(
        path.join(scratch, 'check.cjs'),
        `const { SessionManager, MemorySessionStore } = require('kit-session');
         const manager = new SessionManager(new MemorySessionStore());
         console.log(JSON.stringify({ name: manager.name }));`,
      );
      const { stdout, stderr } = await node(['check.cjs']);
      expect(stderr).toBe('');
      expect(JSON.parse(stdout)).toEqual({ name: '__Host-session' });
    });

    it('binds the classes in an Inversify container through kit-session/di once inversify and reflect-metadata are installed', async () => {
      await run(
        'npm',
        [
          'install',
          '--no-audit',
          '--no-fund',
          '--prefer-offline',
          `inversify@${await installedVersion('inversify')}`,
          `reflect-metadata@${await installedVersion('reflect-metadata')}`,
        ],
        { cwd: scratch, timeout: 120_000 },
      );
      const script = `
        import 'reflect-metadata';
        import { randomBytes } from 'node:crypto';
        import { Container } from 'inversify';
        import { importRawKey, SessionManager } from 'kit-session';
        import { createSessionModule, SESSION_MANAGER } from 'kit-session/di';

        const container = new Container();
        container.load(createSessionModule({ keys: [await importRawKey(randomBytes(32).toString('base64'))] }));
        const manager = container.get(SESSION_MANAGER);
        console.log(JSON.stringify({ manager: manager instanceof SessionManager, id: SESSION_MANAGER.description }));
      `;
      const esm = await node(['--input-type=module', '-e', script]);
      expect(esm.stderr).toBe('');
      expect(JSON.parse(esm.stdout)).toEqual({ manager: true, id: 'kit-session.SessionManager' });
      await writeFile(
        path.join(scratch, 'check-di.cjs'),
        `require('reflect-metadata');
         const { SESSION_MANAGER } = require('kit-session/di');
         console.log(JSON.stringify({ id: SESSION_MANAGER.description }));`,
      );
      const cjs = await node(['check-di.cjs']);
      expect(cjs.stderr).toBe('');
      expect(JSON.parse(cjs.stdout)).toEqual({ id: 'kit-session.SessionManager' });
    });

    it('gives TypeScript its types from the exports map, for ES modules and CommonJS alike', async () => {
      const usage = `import { Context, CookieSessionStore, EncryptingStoreDecorator, importRawKey, SessionManager } from 'kit-session';

export async function use(context: Context): Promise<string | undefined> {
  const keys = [await importRawKey('')];
  const manager = new SessionManager<{ user: string }>(
    new EncryptingStoreDecorator<{ user: string }>(new CookieSessionStore<{ user: string }>(), { keys }),
  );
  // @ts-expect-error: the value type is checked, so the types are real, not any.
  manager.setValue(context, 'user', 42);
  return manager.getValue(context, 'user');
}
`;
      await writeFile(path.join(scratch, 'check.mts'), usage);
      await writeFile(path.join(scratch, 'check.cts'), usage);
      const args = [
        tsc,
        '--noEmit',
        '--strict',
        '--skipLibCheck',
        '--target', 'es2022',
        '--module', 'node20',
        '--lib', 'es2023,dom',
        '--types', 'node',
        '--typeRoots', path.join(root, 'node_modules', '@types'),
        'check.mts',
        'check.cts',
      ];
      const result = await run(process.execPath, args, { cwd: scratch }).then(
        ({ stdout }) => ({ code: 0, stdout }),
        (error: { code?: number; stdout?: string }) => ({ code: error.code, stdout: error.stdout ?? '' }),
      );
      expect(result).toEqual({ code: 0, stdout: '' });
    });
  });
});
