/**
 * The TypeScript snippets of `@revas-hq/kit-session`'s README (the seed this package
 * implements), extracted from the seed file and turned into one module with only these
 * changes:
 *
 * - the package name: `@revas-hq/kit-session` → `kit-session`;
 * - the `@revas-hq/kit-*` packages it cannot have: `kit-context` → `kit-session` (its
 *   `Context`), `kit-endpoint` and `kit-http-react-router` → `examples/seed/kit.ts`;
 * - the endpoint's `Endpoint</* TRequest, TResponse *\/>` has an empty type argument
 *   list once the comment is gone, which no TypeScript accepts: the two types its
 *   comment names are filled in (`unknown`);
 * - order: the endpoint snippet goes before the loader snippet that uses it, and
 *   `myDecoder` (which the loader snippet says to import) is imported;
 * - to run it in a test, its imports are hoisted and the rest becomes the body of an
 *   async function that returns what the snippets define.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The seed's README, kept in the repository. */
export const SEED_FILE = path.resolve(__dirname, '../fixtures/revas-kit-session-0.0.16-README.txt');

/** One snippet: its first and last lines in the seed (whole lines, trimmed). */
interface Anchor {
  readonly name: string;
  readonly first: string;
  readonly last: string;
}

/** Every TypeScript snippet of the seed, in the order the module needs them. */
const ANCHORS: readonly Anchor[] = [
  {
    name: 'cookie store',
    first: "import { createCookieSessionStore } from '@revas-hq/kit-session/storage/cookie'; // Adjust path if needed",
    last: '// const cookieStore = createCookieSessionStore();',
  },
  {
    name: 'encryption',
    first: "import { createEncryptSessionStoreMiddleware, importRawKey } from '@revas-hq/kit-session/encrypt'; // Adjust path",
    last: 'const secureCookieStore = encryptMiddleware(cookieStore);',
  },
  {
    name: 'session manager',
    first: "import { createSessionManager, SessionManagerOptions, SessionCookieOptions } from '@revas-hq/kit-session';",
    last: 'const sessionManager = createSessionManager(managerOptions);',
  },
  {
    name: 'HTTP middleware',
    first: "import { createSessionRequestFunction, createSessionResponseFunction } from '@revas-hq/kit-session/http'; // Adjust path",
    last: 'const saveSession = createSessionResponseFunction(sessionManager);',
  },
  {
    name: 'endpoint',
    first: "import type { Endpoint, EndpointArgs } from '@revas-hq/kit-endpoint';",
    last: '};',
  },
  {
    name: 'loader',
    first: '// ~/main.ts (Example)',
    last: '// Register myLoader in the service container...',
  },
];

/** A snippet as found in the seed. */
export interface SeedSnippet {
  readonly name: string;
  /** Its first line's number in the seed file (1-based). */
  readonly line: number;
  readonly code: string;
}

/**
 * Finds every snippet in the seed by its first and last lines.
 *
 * @param text - The seed file's text.
 * @returns The snippets, in module order.
 * @throws Error when a snippet's first line is not found exactly once.
 */
export function seedSnippets(text: string): SeedSnippet[] {
  const lines = text.split('\n').map((line) => line.trimEnd());
  return ANCHORS.map((anchor) => {
    const starts = lines.flatMap((line, index) => (line.trim() === anchor.first ? [index] : []));
    if (starts.length !== 1) {
      throw new Error(`seed snippet "${anchor.name}": its first line is found ${starts.length} times`);
    }
    const start = starts[0]!;
    const end = lines.findIndex((line, index) => index > start && line.trim() === anchor.last);
    if (end === -1) {
      throw new Error(`seed snippet "${anchor.name}": its last line is not found`);
    }
    return { name: anchor.name, line: start + 1, code: lines.slice(start, end + 1).join('\n') };
  });
}

/** The changes listed above, for one snippet's text. */
function adapt(code: string): string {
  return code
    .replaceAll("'@revas-hq/kit-session", "'kit-session")
    .replaceAll("'@revas-hq/kit-context'", "'kit-session'")
    .replaceAll("'@revas-hq/kit-endpoint'", "'../../examples/seed/kit.js'")
    .replaceAll("'@revas-hq/kit-http-react-router'", "'../../examples/seed/kit.js'")
    .replaceAll('Endpoint</* TRequest, TResponse */>', 'Endpoint</* TRequest, TResponse */ unknown, unknown>');
}

/** Whether a line is (the start of) an import declaration. */
function isImport(line: string): boolean {
  return /^import\s/.test(line);
}

/**
 * The seed's snippets as one module: imports first, the rest inside `seed()`, which
 * returns what the snippets define.
 *
 * @param snippets - From {@link seedSnippets}.
 * @returns The module's text.
 */
export function seedModule(snippets: readonly SeedSnippet[]): string {
  const imports: string[] = ["import { myDecoder } from '../../examples/seed/kit.js';"];
  const body: string[] = [];
  for (const snippet of snippets) {
    body.push(`// ---- seed: ${snippet.name} (line ${snippet.line})`);
    for (const line of adapt(snippet.code).split('\n')) {
      (isImport(line) ? imports : body).push(line);
    }
  }
  return [
    ...imports,
    '',
    'export async function seed() {',
    ...body.map((line) => (line === '' ? '' : `  ${line}`)),
    '  return { cookieStore, secureCookieStore, sessionManager, loadSession, saveSession, myEndpoint, myLoader };',
    '}',
    '',
  ].join('\n');
}

/**
 * Reads the seed and makes its module.
 *
 * @returns The snippets and the module.
 */
export function readSeed(): { snippets: SeedSnippet[]; module: string } {
  const snippets = seedSnippets(readFileSync(SEED_FILE, 'utf8'));
  return { snippets, module: seedModule(snippets) };
}
