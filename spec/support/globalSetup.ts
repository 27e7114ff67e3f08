import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

const root = path.resolve(__dirname, '../..');
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const cache = path.join(root, 'node_modules', '.cache', 'kit-session');
/** Held while building, so two test runs in one tree do not write dist/ at once. */
const lockDir = path.join(cache, 'build.lock');
/** Touched after both builds succeed; newer than every input means nothing to do. */
const stamp = path.join(cache, 'build.stamp');
const LOCK_WAIT_MS = 180_000;

/** The builds, in order: the examples compile against dist/ through the package's self-reference. */
const builds = [
  { project: 'tsconfig.build.json', buildInfo: 'dist/tsconfig.build.tsbuildinfo', output: 'dist/index.js' },
  {
    project: 'tsconfig.examples.json',
    buildInfo: 'dist-examples/tsconfig.examples.tsbuildinfo',
    output: 'dist-examples/examples/demo.js',
  },
] as const;

/** What the builds read, besides node_modules. */
const inputs = ['lib', 'examples', 'package.json', 'tsconfig.json', 'tsconfig.build.json', 'tsconfig.examples.json'];

/**
 * Builds dist/ (the package as published) and dist-examples/ (the examples) once before
 * the suite, so that example and packaging tests can run the compiled files with node.
 *
 * Fast when nothing changed: no compiler runs at all when every input is older than the
 * last successful build, and the builds are incremental otherwise (their build info sits
 * in the output folders, which npm does not pack).
 *
 * @throws Error with the compiler's output when a build fails: the suite stops.
 */
export default async function globalSetup(): Promise<void> {
  await withLock(async () => {
    if (upToDate()) {
      return;
    }
    rmSync(stamp, { force: true });
    // Dated from the start, so a file saved while the compiler runs counts as newer.
    const started = new Date();
    for (const { project, buildInfo } of builds) {
      await build(project, buildInfo);
    }
    writeFileSync(stamp, '');
    utimesSync(stamp, started, started);
  });
}

function upToDate(): boolean {
  if (!existsSync(stamp) || builds.some(({ output }) => !existsSync(path.join(root, output)))) {
    return false;
  }
  const built = statSync(stamp).mtimeMs;
  return inputs.every((input) => newest(path.join(root, input)) < built);
}

/** The latest modification time of a file, or of anything in a folder (0 when missing). */
function newest(file: string): number {
  let stats;
  try {
    stats = statSync(file);
  } catch {
    return 0;
  }
  if (!stats.isDirectory()) {
    return stats.mtimeMs;
  }
  // A folder's own time changes when an entry is added, removed or renamed.
  let latest = stats.mtimeMs;
  for (const entry of readdirSync(file)) {
    latest = Math.max(latest, newest(path.join(file, entry)));
  }
  return latest;
}

async function build(project: string, buildInfo: string): Promise<void> {
  try {
    await run(process.execPath, [tsc, '-p', project, '--incremental', '--tsBuildInfoFile', buildInfo], {
      cwd: root,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    const output = `${stdout ?? ''}${stderr ?? ''}`.trim();
    throw new Error(
      `globalSetup: \`tsc -p ${project}\` failed, so the compiled files the tests run are missing or stale:\n${output}`,
      { cause: error },
    );
  }
}

async function withLock(work: () => Promise<void>): Promise<void> {
  mkdirSync(cache, { recursive: true });
  const started = Date.now();
  for (;;) {
    try {
      mkdirSync(lockDir);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw error;
      }
    }
    if (!holderAlive()) {
      rmSync(lockDir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() - started > LOCK_WAIT_MS) {
      throw new Error(`globalSetup: another test run has been building for over ${LOCK_WAIT_MS / 1000} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  writeFileSync(path.join(lockDir, 'pid'), String(process.pid));
  try {
    await work();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

/** Whether the process holding the lock still runs (a lock left by a killed run is stale). */
function holderAlive(): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(path.join(lockDir, 'pid'), 'utf8'));
  } catch {
    // Just made and the pid not written yet, unless it has been so for a while.
    try {
      return Date.now() - statSync(lockDir).mtimeMs < 10_000;
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
