import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import semver from 'semver';

const run = promisify(execFile);
const root = path.resolve(__dirname, '../..');

interface Manifest {
  readonly engines: { readonly node: string };
}

interface Lockfile {
  readonly packages: Record<string, { readonly version?: string; readonly engines?: { readonly node?: string } | string[] }>;
}

/** The Node lines CI runs the suite on (.ci/run), each by its first release that kit-session's range admits. */
const SUPPORTED_FLOORS = ['20.19.0', '22.12.0', '24.0.0'];

/**
 * Dev dependencies whose engines name the Node majors they ship a native addon for (so
 * a future major is not admitted until they release for it): each must admit every line
 * CI tests, and must stay a dev dependency (an app brings its own, as an optional peer).
 */
const NAMED_MAJORS: Record<string, string> = {
  'node_modules/better-sqlite3': 'the SQLite store tests; its engines list each Node major it builds for',
};

describe('the Node lines kit-session supports', () => {
  let manifest: Manifest;
  let lockfile: Lockfile;

  beforeAll(async () => {
    manifest = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as Manifest;
    lockfile = JSON.parse(await readFile(path.join(root, 'package-lock.json'), 'utf8')) as Lockfile;
  });

  it('engines admits the first release of each line CI tests, and not the lines before require() of ES modules', () => {
    for (const version of SUPPORTED_FLOORS) {
      expect({ version, admitted: semver.satisfies(version, manifest.engines.node) }).toEqual({ version, admitted: true });
    }
    // Before 20.19 and 22.12, a CommonJS app cannot require() this package without
    // --experimental-require-module; 23 is an odd line, past its end, that jest 30 refuses.
    for (const version of ['18.20.0', '20.18.3', '22.11.0', '23.11.0']) {
      expect({ version, admitted: semver.satisfies(version, manifest.engines.node) }).toEqual({ version, admitted: false });
    }
  });

  it('every installed package, dev dependencies included, admits every Node version that engines admits', () => {
    const narrower = Object.entries(lockfile.packages)
      .filter(([location, entry]) => location !== '' && !Array.isArray(entry.engines) && entry.engines?.node !== undefined)
      .filter(([location]) => !(location in NAMED_MAJORS))
      .filter(([, entry]) => !semver.subset(manifest.engines.node, (entry.engines as { node: string }).node))
      .map(([location, entry]) => `${location}@${entry.version}: node ${(entry.engines as { node: string }).node}`);
    expect(narrower).toEqual([]);
  });

  it('a dev dependency that names the Node majors it is built for admits every line CI tests', () => {
    for (const [location, why] of Object.entries(NAMED_MAJORS)) {
      const entry = lockfile.packages[location];
      expect({ location, why, dev: (entry as { dev?: boolean } | undefined)?.dev }).toEqual({ location, why, dev: true });
      const range = (entry!.engines as { node: string }).node;
      for (const version of SUPPORTED_FLOORS) {
        expect({ location, version, admitted: semver.satisfies(version, range) }).toEqual({ location, version, admitted: true });
      }
    }
  });

  it(`npm ci on this Node (${process.version}) finds no unsupported engine`, async () => {
    // A dry run reads the lockfile and checks every package's engines as a real install
    // does, fetching nothing; --engine-strict turns the warning into a failure.
    const work = await mkdtemp(path.join(tmpdir(), 'kit-session-engines-'));
    try {
      await copyFile(path.join(root, 'package.json'), path.join(work, 'package.json'));
      await copyFile(path.join(root, 'package-lock.json'), path.join(work, 'package-lock.json'));
      // npm's own script runs on this node, so it checks this node's version.
      const env = { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}` };
      const result = await run('npm', ['ci', '--dry-run', '--ignore-scripts', '--engine-strict', '--no-audit', '--no-fund'], {
        cwd: work,
        env,
        timeout: 60_000,
        maxBuffer: 16 * 1024 * 1024,
      }).then(
        ({ stdout, stderr }) => ({ code: 0, output: `${stdout}${stderr}` }),
        (error: { code?: number; stdout?: string; stderr?: string }) => ({
          code: error.code,
          output: `${error.stdout ?? ''}${error.stderr ?? ''}`,
        }),
      );
      const engineLines = result.output.split('\n').filter((line) => /EBADENGINE|unsupported engine/i.test(line));
      expect({ code: result.code, engineLines }).toEqual({ code: 0, engineLines: [] });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
