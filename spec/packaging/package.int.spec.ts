import { execFile } from 'node:child_process';
import { access, cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import semver from 'semver';
import ts from 'typescript';
import { fencedBlocks } from '../support/readmeSnippets.js';

const run = promisify(execFile);
const root = path.resolve(__dirname, '../..');
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');

/** What a fresh clone does not have: installed packages, build output, git's own folder. */
const NOT_IN_A_CLONE = new Set(['.git', 'node_modules', 'dist', 'dist-examples', 'dist-bench', 'coverage']);

/** The script a package's `bin` names, to run it with this node. */
async function binOf(name: string, command: string): Promise<string> {
  const folder = path.join(root, 'node_modules', name);
  const manifest = JSON.parse(await readFile(path.join(folder, 'package.json'), 'utf8')) as {
    bin: string | Record<string, string>;
  };
  const bin = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin[command]!;
  return path.join(folder, bin);
}

/** Runs a command; resolves to its exit code and output, whether it failed or not. */
async function outcome(file: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(file, args, { cwd, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code?: number; stdout?: string; stderr?: string }) => ({
      code: typeof error.code === 'number' ? error.code : -1,
      stdout: error.stdout ?? '',
      stderr: error.stderr ?? '',
    }),
  );
}

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

/**
 * The anchor GitHub gives a Markdown heading: lower case, the text of links and code
 * kept, other punctuation dropped, each space a hyphen.
 */
function headingSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/[^\p{L}\p{N}\p{M} _-]/gu, '')
    .replace(/ /g, '-');
}

/** A Markdown text without its fenced code blocks and code spans, where links are not links. */
function withoutCode(markdown: string): string {
  return withoutFences(markdown).replace(/`[^`\n]*`/g, '');
}

/** A Markdown text without its fenced code blocks, each line of one left blank. */
function withoutFences(markdown: string): string {
  const lines = markdown.split('\n');
  for (const block of fencedBlocks(markdown)) {
    // From the opening fence (0-based block.line - 2) to the closing one.
    const closing = block.line - 1 + (block.code === '' ? 0 : block.code.split('\n').length);
    for (let line = block.line - 2; line <= closing && line < lines.length; line++) {
      lines[line] = '';
    }
  }
  return lines.join('\n');
}

/**
 * The anchors of a Markdown text: its headings' (the second of a name suffixed `-1`, as
 * GitHub does) and those HTML elements name with `id`.
 */
function headingAnchors(markdown: string): Set<string> {
  const text = withoutFences(markdown);
  const anchors = new Set<string>([...text.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)].map(([, id]) => id!));
  const counts = new Map<string, number>();
  for (const [, heading] of text.matchAll(/^#{1,6}\s+(.*?)\s*#*\s*$/gm)) {
    const slug = headingSlug(heading!);
    const seen = counts.get(slug) ?? 0;
    counts.set(slug, seen + 1);
    anchors.add(seen === 0 ? slug : `${slug}-${seen}`);
  }
  return anchors;
}

/** The fenced block of a Markdown text whose first line is the given comment. */
function blockOpening(markdown: string, firstLine: string): string {
  const found = fencedBlocks(markdown).filter((block) => block.code.split('\n')[0]!.trim() === firstLine);
  if (found.length !== 1) {
    throw new Error(`the Markdown file has ${found.length} code blocks opening with ${firstLine}, not one`);
  }
  return found[0]!.code;
}

interface PackageJson {
  readonly name: string;
  readonly exports: Record<string, string | Record<string, string>>;
  readonly peerDependencies?: Record<string, string>;
  readonly peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

/** The package a bare module specifier names: `@scope/name` or `name`. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/**
 * The package that gives TypeScript the types of a bare specifier, resolved from this
 * repository as an ES module consumer would: the package itself when it ships them,
 * else its `@types` package; `node:` modules are typed by `@types/node`.
 */
function typesPackageOf(specifier: string): string {
  if (specifier.startsWith('node:')) {
    return '@types/node';
  }
  const { resolvedModule } = ts.resolveModuleName(
    specifier,
    path.join(root, 'consumer.mts'),
    { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext },
    ts.sys,
  );
  return resolvedModule?.packageId?.name ?? `(${specifier}: no types found)`;
}

describe('the packed package', () => {
  let work: string;
  /** A copy of the working tree as a fresh clone has it: no dist/. */
  let clone: string;
  /** Whether the copy held a dist/ before `npm pack` ran. */
  let builtBeforePack: boolean;
  let tarball: string;
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
    clone = path.join(work, 'clone');
    scratch = path.join(work, 'scratch');

    // Pack a fresh clone, not this tree: its `prepack` must build dist/ (and the dist/
    // the other test files run is left alone). The clone shares node_modules, as
    // `npm ci` would have filled it.
    await cp(root, clone, {
      recursive: true,
      filter: (source) => !NOT_IN_A_CLONE.has(path.relative(root, source).split(path.sep)[0]!),
    });
    await symlink(path.join(root, 'node_modules'), path.join(clone, 'node_modules'), 'dir');
    builtBeforePack = await access(path.join(clone, 'dist')).then(
      () => true,
      () => false,
    );
    // prepack's build prints to stderr; stdout is npm's JSON.
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], {
      cwd: clone,
      timeout: 150_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    const [info] = JSON.parse(stdout) as [{ filename: string; files: { path: string }[] }];
    packed = info.files.map((file) => file.path);
    tarball = path.join(work, info.filename);

    await mkdir(scratch);
    await writeFile(path.join(scratch, 'package.json'), JSON.stringify({ name: 'scratch', private: true }));
    await run(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        tarball,
      ],
      { cwd: scratch, timeout: 120_000 },
    );
    installed = path.join(scratch, 'node_modules', 'kit-session');
    manifest = JSON.parse(await readFile(path.join(installed, 'package.json'), 'utf8')) as PackageJson;
  }, 300_000);

  afterAll(async () => {
    if (work !== undefined) {
      await rm(work, { recursive: true, force: true });
    }
  });

  describe('contents', () => {
    it('holds the compiled entry point and its types, built by prepack from a clone with no dist/', () => {
      expect(builtBeforePack).toBe(false);
      expect(packed).toEqual(expect.arrayContaining(['package.json', 'dist/index.js', 'dist/index.d.ts']));
    });

    it('holds dist/, the manifest, and the docs and examples the README links to: no lib sources, specs, benchmarks or build info', () => {
      const others = packed.filter(
        (file) =>
          !file.startsWith('dist/') &&
          !/^(package\.json|README\.md|LICENSE(\.\w+)?|CHANGELOG\.md)$/i.test(file) &&
          !/^docs\/[^/]+\.md$/.test(file) &&
          !/^examples\/.+\.ts$/.test(file) &&
          !/^bench\/(README|results\/summary)\.md$/.test(file),
      );
      expect(others).toEqual([]);
      expect(packed).toEqual(expect.arrayContaining(['docs/options.md', 'examples/demo.ts', 'bench/README.md']));
      expect(packed.filter((file) => /^(lib|spec)\//.test(file))).toEqual([]);
      expect(packed.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts') && !file.startsWith('examples/'))).toEqual([]);
      expect(packed.filter((file) => file.endsWith('.tsbuildinfo'))).toEqual([]);
    });

    it('resolves every relative link of its Markdown files (the README first) to a file or folder it holds, and each #anchor to a heading', async () => {
      // The package has no repository address to resolve links against (none is set:
      // the repository has no remote), so what the README links to travels with it.
      const markdown = packed.filter((file) => file.endsWith('.md'));
      expect(markdown).toEqual(expect.arrayContaining(['README.md']));
      const texts = new Map<string, string>();
      for (const file of markdown) {
        texts.set(file, await readFile(path.join(installed, file), 'utf8'));
      }
      const broken: string[] = [];
      let checked = 0;
      for (const [file, text] of texts) {
        for (const [, target] of withoutCode(text).matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
          if (/^[a-z][a-z0-9+.-]*:/i.test(target!)) {
            continue;
          }
          checked++;
          const [relative = '', anchor] = target!.split('#');
          const resolved = relative === '' ? file : path.posix.normalize(path.posix.join(path.posix.dirname(file), relative)).replace(/\/$/, '');
          const isFile = packed.includes(resolved);
          const isFolder = packed.some((other) => other.startsWith(`${resolved}/`));
          if (!isFile && !isFolder) {
            broken.push(`${file}: ${target} (no ${resolved} in the package)`);
          } else if (anchor !== undefined && resolved.endsWith('.md') && !headingAnchors(texts.get(resolved)!).has(anchor)) {
            broken.push(`${file}: ${target} (no heading #${anchor} in ${resolved})`);
          }
        }
      }
      expect(checked).toBeGreaterThan(30);
      expect(broken).toEqual([]);
    });

    it('names no path of the machine that built it, in source maps or anywhere else', async () => {
      const files = await listFiles(installed);
      expect(files.length).toBe(packed.length);
      for (const file of files) {
        const text = await readFile(path.join(installed, file), 'utf8');
        expect({ file, hasRoot: text.includes(root) || text.includes(clone) }).toEqual({ file, hasRoot: false });
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

  describe('checked by publint and Are the Types Wrong', () => {
    it('passes publint, suggestions included', async () => {
      // publint's own API, run by node from this repository (publint is an ES module).
      const script = `
        import { readFile } from 'node:fs/promises';
        import { publint } from 'publint';
        import { formatMessage } from 'publint/utils';
        const bytes = await readFile(process.argv[1]);
        const { messages, pkg } = await publint({
          pack: { tarball: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) },
          level: 'suggestion',
          strict: true,
        });
        console.log(JSON.stringify(messages.map((message) => ({ type: message.type, code: message.code, text: formatMessage(message, pkg) }))));
      `;
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script, tarball], {
        cwd: root,
        timeout: 60_000,
      });
      expect(JSON.parse(stdout)).toEqual([]);
    });

    it('passes Are the Types Wrong under the esm-only profile, on every subpath', async () => {
      // Profile esm-only: ES module consumers under TypeScript's node16 and bundler
      // resolution. It sets aside node10 (which cannot read the exports map) and
      // CommonJS under node16 (TS1479: TypeScript's node16 predates require() of ES
      // modules): the package is ES modules only on purpose, and the README's recipes
      // for CommonJS, TypeScript and Jest are run below.
      const attw = await binOf('@arethetypeswrong/cli', 'attw');
      const result = await outcome(process.execPath, [attw, tarball, '--profile', 'esm-only', '--format', 'json'], root);
      const report = JSON.parse(result.stdout) as {
        analysis: {
          entrypoints: Record<string, unknown>;
          problems: { kind: string; entrypoint: string; resolutionKind?: string }[];
        };
      };
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
      expect(Object.keys(report.analysis.entrypoints).sort()).toEqual(Object.keys(manifest.exports).sort());
      // What the profile sets aside, and nothing else.
      const setAside = report.analysis.problems.filter(
        ({ resolutionKind }) => resolutionKind !== 'node16-cjs' && resolutionKind !== 'node10',
      );
      expect(setAside).toEqual([]);
    });

    it("declares every package its declarations import as an optional peer: the package, or its @types when it has none", async () => {
      const needed = new Map<string, string>();
      for (const file of packed.filter((name) => name.endsWith('.d.ts'))) {
        const text = await readFile(path.join(installed, file), 'utf8');
        // Statements only: the @example code in comments starts with ' * '.
        for (const [, specifier] of text.matchAll(/^(?:import|export)\s[^;]*?\sfrom\s+'([^'.][^']*)'/gm)) {
          if (packageOf(specifier!) !== manifest.name) {
            needed.set(typesPackageOf(specifier!), file);
          }
        }
      }
      expect([...needed.keys()]).toEqual(expect.arrayContaining(['@types/express', '@types/pg', '@types/node']));
      for (const [peer, file] of needed) {
        expect({ peer, file, range: typeof manifest.peerDependencies?.[peer], optional: manifest.peerDependenciesMeta?.[peer]?.optional }).toEqual({
          peer,
          file,
          range: 'string',
          optional: true,
        });
      }
    });
  });

  describe('use', () => {
    // kit-session/di, /inversify-http and /nest load their framework at run time (the
    // imports spec says which), /otel loads @opentelemetry/api, /adopt/iron-session and
    // /adopt/react-router load the library they adopt from, and the scratch project has
    // none installed here; /dynamodb loads @aws-sdk/client-dynamodb's command classes.
    it('loads every subpath but those that need their framework at run time with import and with require(), without a warning', async () => {
      const needFramework = ['./di', './inversify-http', './nest', './otel', './adopt/iron-session', './adopt/react-router', './dynamodb'];
      const subpaths = Object.keys(manifest.exports)
        .filter((subpath) => subpath !== './package.json' && !needFramework.includes(subpath))
        .map((subpath) => `kit-session${subpath.slice(1)}`);
      const esm = await node([
        '--input-type=module',
        '-e',
        `const names = ${JSON.stringify(subpaths)};
         const counts = {};
         for (const name of names) counts[name] = Object.keys(await import(name)).length;
         console.log(JSON.stringify(counts));`,
      ]);
      await writeFile(
        path.join(scratch, 'subpaths.cjs'),
        `const counts = {};
         for (const name of ${JSON.stringify(subpaths)}) counts[name] = Object.keys(require(name)).length;
         console.log(JSON.stringify(counts));`,
      );
      const cjs = await node(['subpaths.cjs']);
      for (const { stdout, stderr } of [esm, cjs]) {
        expect(stderr).toBe('');
        const counts = JSON.parse(stdout) as Record<string, number>;
        expect(Object.keys(counts)).toEqual(subpaths);
        for (const [name, count] of Object.entries(counts)) {
          expect({ name, exports: count > 0 }).toEqual({ name, exports: true });
        }
      }
    });

    it('imports from an ES module and seals and opens a session through the published entry point', async () => {
      // Installed alone: neither inversify nor reflect-metadata is there.
      await expect(async () => access(path.join(scratch, 'node_modules', 'inversify'))).rejects.toThrow();
      await expect(async () => access(path.join(scratch, 'node_modules', 'reflect-metadata'))).rejects.toThrow();
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

    it('loads kit-session/otel only once @opentelemetry/api is installed, and then runs a manager over its no-op', async () => {
      // An optional peer: the tarball's install did not bring it.
      await expect(async () => access(path.join(scratch, 'node_modules', '@opentelemetry', 'api'))).rejects.toThrow();
      const missing = await outcome(process.execPath, ['--input-type=module', '-e', "await import('kit-session/otel')"], scratch);
      expect(missing.code).not.toBe(0);
      expect(missing.stderr).toMatch(/ERR_MODULE_NOT_FOUND[\s\S]*@opentelemetry\/api|@opentelemetry\/api[\s\S]*ERR_MODULE_NOT_FOUND/);

      await run(
        'npm',
        ['install', '--no-audit', '--no-fund', '--prefer-offline', `@opentelemetry/api@${await installedVersion('@opentelemetry/api')}`],
        { cwd: scratch, timeout: 120_000 },
      );
      const script = `
        import { Context, MemorySessionStore, SessionManager } from 'kit-session';
        import { SessionOpenTelemetry } from 'kit-session/otel';

        const manager = new SessionManager(new MemorySessionStore(), { telemetry: new SessionOpenTelemetry() });
        const context = await manager.extractSession(Context.background, new Request('https://app.example/'));
        manager.setValue(context, 'user', 'Ada');
        const headers = new Headers();
        await manager.injectSession(context, headers);
        console.log(JSON.stringify({ cookie: headers.getSetCookie().length }));
      `;
      const { stdout, stderr } = await node(['--input-type=module', '-e', script]);
      expect(stderr).toBe('');
      expect(JSON.parse(stdout)).toEqual({ cookie: 1 });
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

  describe("the recipes for CommonJS tools (docs/deployment.md, which the README links)", () => {
    let readme: string;

    beforeAll(async () => {
      readme = await readFile(path.join(installed, 'docs', 'deployment.md'), 'utf8');
    });

    /** Compiles files of the scratch project with the repository's TypeScript; resolves to its exit code and output. */
    function compile(module: string, files: string[], outDir?: string): Promise<{ code: number; stdout: string }> {
      const args = [
        tsc,
        '--strict',
        '--skipLibCheck',
        '--target', 'es2022',
        '--module', module,
        '--types', 'node',
        '--typeRoots', path.join(root, 'node_modules', '@types'),
        ...(outDir === undefined ? ['--noEmit'] : ['--outDir', outDir]),
        ...files,
      ];
      return outcome(process.execPath, args, scratch).then(({ code, stdout }) => ({ code, stdout }));
    }

    it('TypeScript under module node16 refuses a static import in CommonJS (TS1479), and compiles and runs the .cts recipe', async () => {
      await writeFile(
        path.join(scratch, 'static.cts'),
        `import { SessionManager } from 'kit-session';\nexport const Manager = SessionManager;\n`,
      );
      const refused = await compile('node16', ['static.cts']);
      expect(refused.code).not.toBe(0);
      expect(refused.stdout).toContain('TS1479');
      expect(await compile('node20', ['static.cts'])).toEqual({ code: 0, stdout: '' });

      await writeFile(path.join(scratch, 'session.cts'), blockOpening(readme, '// session.cts, under "module": "node16"'));
      expect(await compile('node16', ['session.cts'], 'out-node16')).toEqual({ code: 0, stdout: '' });
      await writeFile(
        path.join(scratch, 'run-session.cjs'),
        `require('./out-node16/session.cjs').createManager().then((manager) => console.log(JSON.stringify({ name: manager.name })));`,
      );
      const { stdout, stderr } = await node(['run-session.cjs']);
      expect(stderr).toBe('');
      expect(JSON.parse(stdout)).toEqual({ name: '__Host-session' });
    });

    describe('Jest in CommonJS mode', () => {
      /** A project of its own beside the scratch one: Jest and ts-jest from this repository, kit-session as installed. */
      let project: string;

      beforeAll(async () => {
        project = path.join(work, 'jest-project');
        await mkdir(path.join(project, 'node_modules', '@types'), { recursive: true });
        await symlink(installed, path.join(project, 'node_modules', 'kit-session'), 'dir');
        for (const name of ['jest', 'ts-jest', 'typescript', '@types/jest', '@types/node']) {
          await symlink(path.join(root, 'node_modules', name), path.join(project, 'node_modules', name), 'dir');
        }
        await writeFile(path.join(project, 'package.json'), JSON.stringify({ name: 'jest-project', private: true }));
        await writeFile(
          path.join(project, 'tsconfig.json'),
          JSON.stringify({ compilerOptions: { module: 'commonjs', esModuleInterop: true, strict: true, skipLibCheck: true, types: ['jest', 'node'] } }),
        );
        await writeFile(
          path.join(project, 'session.spec.ts'),
          `import { MemorySessionStore, SessionManager } from 'kit-session';

test('kit-session loads', () => {
  expect(new SessionManager<{ user: string }>(new MemorySessionStore()).name).toBe('__Host-session');
});
`,
        );
        await writeFile(
          path.join(project, 'plain.spec.js'),
          `const { MemorySessionStore, SessionManager } = require('kit-session');

test('kit-session loads', () => {
  expect(new SessionManager(new MemorySessionStore()).name).toBe('__Host-session');
});
`,
        );
      });

      /** Runs Jest in the project, on this node, as a user's \`npx jest\` would; resolves to its exit code and output. */
      function jest(args: string[], nodeOptions?: string): Promise<{ code: number; output: string }> {
        const env: NodeJS.ProcessEnv = {};
        for (const [name, value] of Object.entries(process.env)) {
          // Not this run's own Jest settings.
          if (!name.startsWith('JEST_') && name !== 'NODE_OPTIONS') {
            env[name] = value;
          }
        }
        if (nodeOptions !== undefined) {
          env.NODE_OPTIONS = nodeOptions;
        }
        const cli = path.join(root, 'node_modules', 'jest', 'bin', 'jest.js');
        return run(process.execPath, [cli, '--ci', '--watchman=false', '--cacheDirectory', path.join(project, '.jest-cache'), ...args], {
          cwd: project,
          env,
          timeout: 120_000,
          maxBuffer: 16 * 1024 * 1024,
        }).then(
          ({ stdout, stderr }) => ({ code: 0, output: `${stdout}${stderr}` }),
          (error: { code?: number; stdout?: string; stderr?: string }) => ({
            code: typeof error.code === 'number' ? error.code : -1,
            output: `${error.stdout ?? ''}${error.stderr ?? ''}`,
          }),
        );
      }

      it('without the recipe, refuses to require() the ES module ("Must use import")', async () => {
        const result = await jest(['--config', JSON.stringify({ testEnvironment: 'node' }), 'plain.spec.js']);
        expect(result.code).not.toBe(0);
        expect(result.output).toContain('Must use import to load ES Module');
      }, 120_000);

      it("with the README's jest.config.js, runs a TypeScript test that imports kit-session", async () => {
        await writeFile(path.join(project, 'jest.config.js'), blockOpening(readme, '// jest.config.js'));
        const result = await jest(['session.spec.ts']);
        expect({ code: result.code, passed: /Tests:\s+1 passed, 1 total/.test(result.output) }).toEqual({ code: 0, passed: true });
      }, 120_000);

      it(`with --experimental-vm-modules, loads it without a transform on Node >= 24.9 only (this is ${process.version})`, async () => {
        const result = await jest(['--config', JSON.stringify({ testEnvironment: 'node' }), 'plain.spec.js'], '--experimental-vm-modules');
        if (semver.gte(process.version, '24.9.0')) {
          expect({ code: result.code, passed: /Tests:\s+1 passed, 1 total/.test(result.output) }).toEqual({ code: 0, passed: true });
        } else {
          expect(result.code).not.toBe(0);
          expect(result.output).toContain('Must use import to load ES Module');
        }
      }, 120_000);
    });
  });
});
