/**
 * The README's code, checked: pulls every fenced block out of a Markdown file and
 * type-checks the ```ts ones with the TypeScript compiler API, each as a program of its
 * own, so that a snippet a reader copies compiles as it stands.
 *
 * A snippet resolves `kit-session` and its subpaths to the source in `lib/` through the
 * `paths` of tsconfig.json, as the rest of the repository does, and is checked as an ES
 * module (top-level `await` allowed) under `strict`, with only Node's types and
 * Inversify's decorator settings.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** One fenced code block of a Markdown file. */
export interface FencedBlock {
  /** The fence's language (`ts`, `sh`, …), `''` when none is given. */
  readonly language: string;
  /** The 1-based line of the Markdown file that holds the block's first line of code. */
  readonly line: number;
  /** The block's code, without the fences. */
  readonly code: string;
  /** The block's first line that is not blank, trimmed: how a failure names the snippet. */
  readonly firstLine: string;
}

/** A line of a snippet that opts it out of the type check, when nothing else will do. */
export const SKIP_TYPECHECK_MARKER = '// @readme-skip-typecheck';

/**
 * Finds the fenced code blocks of a Markdown text (backtick or tilde fences of three or
 * more, as CommonMark reads them; a fence inside a list may be indented).
 *
 * @param markdown - The Markdown text.
 * @returns The blocks in the order they appear.
 * @throws TypeError when a fence is never closed.
 */
export function fencedBlocks(markdown: string): FencedBlock[] {
  const lines = markdown.split(/\r?\n/);
  const blocks: FencedBlock[] = [];
  for (let index = 0; index < lines.length; index += 1) {
    const open = /^( {0,3})(`{3,}|~{3,})\s*([^\s`]*)/.exec(lines[index]!);
    if (open === null) {
      continue;
    }
    const [, indent = '', fence = '', language = ''] = open;
    const close = new RegExp(`^ {0,3}${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`);
    const body: string[] = [];
    let end = index + 1;
    while (end < lines.length && !close.test(lines[end]!)) {
      const line = lines[end]!;
      body.push(line.startsWith(indent) ? line.slice(indent.length) : line.trimStart());
      end += 1;
    }
    if (end === lines.length) {
      throw new TypeError(`the code fence opened on line ${index + 1} is never closed`);
    }
    const code = body.join('\n');
    blocks.push({
      language,
      line: index + 2,
      code,
      firstLine: body.find((line) => line.trim() !== '')?.trim() ?? '',
    });
    index = end;
  }
  return blocks;
}

/**
 * The compiler options a snippet is checked with: tsconfig.json's, with its `paths`,
 * narrowed to what an app that copies the snippet would have.
 *
 * @param root - The repository's root, where tsconfig.json lives.
 * @returns The options.
 * @throws TypeError when tsconfig.json cannot be read.
 */
export function snippetCompilerOptions(root: string): ts.CompilerOptions {
  const configPath = path.join(root, 'tsconfig.json');
  const read = ts.readConfigFile(configPath, (file) => ts.sys.readFile(file));
  if (read.error !== undefined) {
    throw new TypeError(`tsconfig.json: ${ts.flattenDiagnosticMessageText(read.error.messageText, '\n')}`);
  }
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, root, undefined, configPath);
  return {
    ...parsed.options,
    strict: true,
    noEmit: true,
    types: ['node'],
    module: ts.ModuleKind.Node20,
    moduleResolution: ts.ModuleResolutionKind.Node16,
    moduleDetection: ts.ModuleDetectionKind.Force,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    skipLibCheck: true,
    declaration: false,
    sourceMap: false,
    incremental: false,
  };
}

/** What the compiler says about one snippet. */
export interface SnippetCheck {
  readonly block: FencedBlock;
  /** Each error, as `README.md:<line>:<column> TS<code>: <message>`, lines those of the Markdown file. */
  readonly errors: string[];
}

/**
 * Type-checks snippets in one compiler program (shared work, separate modules: each
 * snippet is a virtual file of its own beside the Markdown file).
 *
 * @param root - The repository's root.
 * @param markdownName - The Markdown file's name relative to `root`, for the messages.
 * @param blocks - The snippets to check.
 * @returns One result per snippet, in order.
 */
export function typecheckSnippets(root: string, markdownName: string, blocks: readonly FencedBlock[]): SnippetCheck[] {
  const options = snippetCompilerOptions(root);
  const base = path.join(root, markdownName.replace(/\.md$/i, ''));
  // A snippet that names its file on its first line (`// app/sessions.server.ts`) is that
  // file, so that another snippet can import it; the others are files of their own.
  const fileOf = (block: FencedBlock): string => {
    const named = /^\/\/ ((?:[\w.-]+\/)*[\w.-]+\.tsx?)(?:\s|$)/.exec(block.firstLine)?.[1];
    return path.normalize(named === undefined ? `${base}.snippet-line-${block.line}.ts` : path.join(`${base}.snippets`, named));
  };
  const files = new Map(blocks.map((block) => [fileOf(block), block]));
  const host = ts.createCompilerHost(options, true);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (file) => files.has(path.normalize(file)) || fileExists.call(host, file);
  const { directoryExists } = host;
  host.directoryExists = (directory) =>
    [...files.keys()].some((file) => file.startsWith(path.normalize(directory) + path.sep)) ||
    (directoryExists?.call(host, directory) ?? ts.sys.directoryExists(directory));
  host.readFile = (file) => files.get(path.normalize(file))?.code ?? readFile.call(host, file);
  host.getSourceFile = (file, languageVersion, onError, shouldCreate) => {
    const block = files.get(path.normalize(file));
    return block === undefined
      ? getSourceFile.call(host, file, languageVersion, onError, shouldCreate)
      : ts.createSourceFile(file, block.code, languageVersion, true);
  };
  const program = ts.createProgram({ rootNames: [...files.keys()], options, host });
  const global = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()].map((diagnostic) =>
    `${markdownName}: TS${diagnostic.code}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`,
  );
  return [...files].map(([file, block]) => {
    const sourceFile = program.getSourceFile(file)!;
    const diagnostics = [...program.getSyntacticDiagnostics(sourceFile), ...program.getSemanticDiagnostics(sourceFile)];
    const errors = diagnostics
      .filter((diagnostic) => diagnostic.category === ts.DiagnosticCategory.Error)
      .map((diagnostic) => {
        const at =
          diagnostic.start === undefined ? { line: 0, character: 0 } : sourceFile.getLineAndCharacterOfPosition(diagnostic.start);
        const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n    ');
        return `${markdownName}:${block.line + at.line}:${at.character + 1} TS${diagnostic.code}: ${message}`;
      });
    return { block, errors: [...global, ...errors] };
  });
}

/**
 * Reads a Markdown file of the repository.
 *
 * @param root - The repository's root.
 * @param markdownName - The file's name relative to `root`.
 * @returns Its text.
 */
export function readMarkdown(root: string, markdownName: string): string {
  return fs.readFileSync(path.join(root, markdownName), 'utf8');
}
