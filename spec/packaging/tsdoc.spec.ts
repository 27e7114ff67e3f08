import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

// The docs as published: read from the declarations the build emits (jest's globalSetup
// builds dist/ with `stripInternal`), not from the sources. Every public function and
// method carries an `@example`, and nothing documented `@internal` is left in them.
// Public means reachable from an entry point of package.json's exports map: exported
// there, or named by the declaration of something that is (a store contract, `Clock`).

const root = path.resolve(__dirname, '../..');
const dist = path.join(root, 'dist');
const lib = path.join(root, 'lib');

/** A path relative to the repository, with forward slashes, for messages. */
function relative(file: string): string {
  return path.relative(root, file).split(path.sep).join('/');
}

/** The declaration file the build emits for each source file of lib/. */
const declarationFiles = readdirSync(lib, { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
  .map((file) => ({
    source: path.join(lib, file),
    declaration: path.join(dist, file.replace(/\.ts$/, '.d.ts')),
  }));

/** The `types` file of every entry point in package.json's exports map. */
function entryPoints(): string[] {
  const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    exports: Record<string, string | { types?: string }>;
  };
  return Object.values(manifest.exports).flatMap((target) =>
    typeof target === 'object' && target.types !== undefined ? [path.join(root, target.types)] : [],
  );
}

/** The names of the tags in a node's doc comment. */
function tagsOf(node: ts.Node): string[] {
  return ts.getJSDocTags(node).map((tag) => tag.tagName.text);
}

/** Whether a node's doc comment has an `@example` holding a fenced code block. */
function hasExample(node: ts.Node): boolean {
  return ts
    .getJSDocTags(node)
    .some((tag) => tag.tagName.text === 'example' && (ts.getTextOfJSDocComment(tag.comment) ?? '').includes('```'));
}

/** The name of a declaration as a reader would write it: `RequestLike.headers.get`. */
function qualifiedName(node: ts.Node): string {
  const names: string[] = [];
  for (let at: ts.Node | undefined = node; at !== undefined && !ts.isSourceFile(at); at = at.parent) {
    const name = (at as { name?: ts.Node }).name;
    if (name !== undefined && (ts.isIdentifier(name) || ts.isPrivateIdentifier(name) || ts.isStringLiteral(name))) {
      names.unshift(name.text);
    }
  }
  return names.join('.');
}

/** Whether a declaration is a statement of its file (a variable: of its statement). */
function isTopLevel(declaration: ts.Node): boolean {
  if (ts.isVariableDeclaration(declaration)) {
    return ts.isSourceFile(declaration.parent.parent.parent);
  }
  return ts.isSourceFile(declaration.parent);
}

/** Whether a member is hidden from users of its class (`private` or `#name`). */
function isPrivate(member: ts.Node): boolean {
  const name = (member as { name?: ts.Node }).name;
  return (
    (name !== undefined && ts.isPrivateIdentifier(name)) ||
    (ts.getCombinedModifierFlags(member as ts.Declaration) & ts.ModifierFlags.Private) !== 0
  );
}

/**
 * The top-level declarations in dist/ that an entry point reaches: what it exports, and
 * every declaration named (in a type, a heritage clause, a `typeof`) by one it reaches.
 */
function publicDeclarations(program: ts.Program): Set<ts.Declaration> {
  const checker = program.getTypeChecker();
  const inDist = (declaration: ts.Node): boolean => declaration.getSourceFile().fileName.startsWith(dist + path.sep);
  const found = new Set<ts.Declaration>();
  const seen = new Set<ts.Symbol>();
  const queue: ts.Symbol[] = [];
  for (const entry of entryPoints()) {
    const file = program.getSourceFile(entry);
    const module = file && checker.getSymbolAtLocation(file);
    if (module === undefined) {
      throw new Error(`the entry point ${relative(entry)} is missing from dist/`);
    }
    queue.push(...checker.getExportsOfModule(module));
  }
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node)) {
      const symbol = checker.getSymbolAtLocation(node);
      if (symbol !== undefined) {
        queue.push(symbol);
      }
    }
    ts.forEachChild(node, visit);
  };
  for (let symbol = queue.pop(); symbol !== undefined; symbol = queue.pop()) {
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    if (seen.has(target)) {
      continue;
    }
    seen.add(target);
    for (const declaration of target.declarations ?? []) {
      if (inDist(declaration) && isTopLevel(declaration) && !found.has(declaration)) {
        found.add(declaration);
        visit(declaration);
      }
    }
  }
  return found;
}

interface Callable {
  /** `Class.method` or `function`. */
  readonly name: string;
  /** `dist/…d.ts: Class.method()`. */
  readonly label: string;
  readonly documented: boolean;
}

/**
 * The functions and methods the public declarations hold: functions, variables whose
 * type can be called (`sessionPlugin`), and the methods of classes, interfaces and the
 * object types inside them (`RequestLike.headers.get`), but no private member. Each
 * overload counts on its own: an editor shows each one's doc comment.
 */
function publicCallables(program: ts.Program): Callable[] {
  const checker = program.getTypeChecker();
  const callables: Callable[] = [];
  const add = (node: ts.Node): void => {
    const name = qualifiedName(node);
    callables.push({
      name,
      label: `${relative(node.getSourceFile().fileName)}: ${name}()`,
      documented: hasExample(node),
    });
  };
  const visitMembers = (members: ts.NodeArray<ts.ClassElement | ts.TypeElement>): void => {
    for (const member of members) {
      if ((ts.isMethodDeclaration(member) || ts.isMethodSignature(member)) && !isPrivate(member)) {
        add(member);
      } else if ((ts.isPropertyDeclaration(member) || ts.isPropertySignature(member)) && member.type !== undefined) {
        if (ts.isTypeLiteralNode(member.type) && !isPrivate(member)) {
          visitMembers(member.type.members);
        }
      }
    }
  };
  for (const declaration of publicDeclarations(program)) {
    if (ts.isFunctionDeclaration(declaration)) {
      add(declaration);
    } else if (ts.isVariableDeclaration(declaration)) {
      if (checker.getTypeAtLocation(declaration).getCallSignatures().length > 0) {
        add(declaration);
      }
    } else if (ts.isClassDeclaration(declaration) || ts.isInterfaceDeclaration(declaration)) {
      visitMembers(declaration.members);
    }
  }
  return callables;
}

interface InternalSymbol {
  /** The source file, relative to the repository. */
  readonly source: string;
  /** The declaration file the build emits for it. */
  readonly declaration: string;
  /** The class or interface it is a member of, for a member. */
  readonly container: string | undefined;
  /** Its name; `constructor` for a constructor. */
  readonly name: string;
}

/** Every declaration in lib/ whose doc comment says `@internal`. */
function internalSymbols(): InternalSymbol[] {
  const found: InternalSymbol[] = [];
  for (const { source, declaration } of declarationFiles) {
    const file = ts.createSourceFile(source, readFileSync(source, 'utf8'), ts.ScriptTarget.Latest, true);
    const add = (node: ts.Node, name: string, container: string | undefined): void => {
      if (tagsOf(node).includes('internal')) {
        found.push({ source: relative(source), declaration, container, name });
      }
    };
    for (const statement of file.statements) {
      if (ts.isVariableStatement(statement)) {
        for (const variable of statement.declarationList.declarations) {
          add(variable, variable.name.getText(file), undefined);
        }
        continue;
      }
      const name = (statement as { name?: ts.Node }).name;
      if (name === undefined || !ts.isIdentifier(name)) {
        continue;
      }
      add(statement, name.text, undefined);
      if (ts.isClassDeclaration(statement) || ts.isInterfaceDeclaration(statement)) {
        for (const member of statement.members) {
          if (ts.isConstructorDeclaration(member)) {
            add(member, 'constructor', name.text);
          } else if (member.name !== undefined && !ts.isPrivateIdentifier(member.name)) {
            add(member, member.name.getText(file), name.text);
          }
        }
      }
    }
  }
  return found;
}

/** The source of a declaration file a relative specifier names (`'../core/headers.js'`). */
function sourceNamed(declaration: string, specifier: string): string {
  const emitted = path.resolve(path.dirname(declaration), specifier);
  return relative(path.join(lib, path.relative(dist, emitted)).replace(/\.js$/, '.ts'));
}

/** Where the emitted declarations still name a symbol documented `@internal`. */
function internalMentions(internals: readonly InternalSymbol[]): string[] {
  const mentions: string[] = [];
  const topLevel = (source: string): Set<string> =>
    new Set(
      internals
        .filter((symbol) => symbol.source === source && symbol.container === undefined)
        .map((symbol) => symbol.name),
    );
  const files = declarationFiles.map(({ source, declaration }) => ({
    source,
    declaration,
    file: ts.createSourceFile(declaration, readFileSync(declaration, 'utf8'), ts.ScriptTarget.Latest, true),
  }));
  // A `{@link}` to an internal name that no declaration file declares any more leads nowhere.
  const stripped = new Set(internals.filter((symbol) => symbol.container === undefined).map((symbol) => symbol.name));
  for (const { file } of files) {
    for (const statement of file.statements) {
      const declared = ts.isVariableStatement(statement)
        ? statement.declarationList.declarations.map((variable) => variable.name.getText(file))
        : [(statement as { name?: ts.Node }).name?.getText(file)];
      for (const name of declared) {
        stripped.delete(name ?? '');
      }
    }
  }
  for (const { source, declaration, file } of files) {
    const at = relative(declaration);
    for (const [, name] of file.text.matchAll(/\{@link(?:code|plain)?\s+([A-Za-z_$][\w$]*)/g)) {
      if (stripped.has(name!)) {
        mentions.push(`${at}: {@link ${name}} (@internal, stripped)`);
      }
    }
    const own = topLevel(relative(source));
    // What it declares itself, and what it names of its own declarations.
    const visit = (node: ts.Node): void => {
      if (ts.isIdentifier(node) && own.has(node.text)) {
        mentions.push(`${at}: ${node.text} (@internal in ${relative(source)})`);
      }
      ts.forEachChild(node, visit);
    };
    for (const statement of file.statements) {
      if (!ts.isImportDeclaration(statement) && !ts.isExportDeclaration(statement)) {
        visit(statement);
      }
    }
    // What it imports or re-exports from another file of the package, by name or by import('…').
    const named = (specifier: ts.Node | undefined, names: readonly string[]): void => {
      if (specifier === undefined || !ts.isStringLiteral(specifier) || !specifier.text.startsWith('.')) {
        return;
      }
      const from = sourceNamed(declaration, specifier.text);
      const hidden = topLevel(from);
      for (const name of names.filter((name) => hidden.has(name))) {
        mentions.push(`${at}: ${name} (@internal in ${from})`);
      }
    };
    const visitImports = (node: ts.Node): void => {
      if (ts.isImportDeclaration(node)) {
        const bindings = node.importClause?.namedBindings;
        const names = bindings !== undefined && ts.isNamedImports(bindings) ? bindings.elements : [];
        named(node.moduleSpecifier, names.map((element) => (element.propertyName ?? element.name).text));
      } else if (ts.isExportDeclaration(node)) {
        const clause = node.exportClause;
        const names = clause !== undefined && ts.isNamedExports(clause) ? clause.elements : [];
        named(node.moduleSpecifier, names.map((element) => (element.propertyName ?? element.name).getText(file)));
      } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && node.qualifier !== undefined) {
        named(node.argument.literal, [node.qualifier.getText(file).split('.')[0]!]);
      }
      ts.forEachChild(node, visitImports);
    };
    visitImports(file);
    // The members it still declares.
    for (const symbol of internals.filter((s) => s.declaration === declaration && s.container !== undefined)) {
      for (const statement of file.statements) {
        if (
          (ts.isClassDeclaration(statement) || ts.isInterfaceDeclaration(statement)) &&
          statement.name?.text === symbol.container
        ) {
          const members = statement.members as ts.NodeArray<ts.ClassElement | ts.TypeElement>;
          const kept = members.some((member) =>
            symbol.name === 'constructor'
              ? ts.isConstructorDeclaration(member)
              : member.name !== undefined && member.name.getText(file) === symbol.name,
          );
          if (kept) {
            mentions.push(`${at}: ${symbol.container}.${symbol.name} (@internal in ${symbol.source})`);
          }
        }
      }
    }
  }
  return mentions;
}

describe('the published declarations', () => {
  let program: ts.Program;
  let callables: Callable[];
  let internals: InternalSymbol[];

  beforeAll(() => {
    program = ts.createProgram({
      rootNames: declarationFiles.map((file) => file.declaration),
      options: {
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
        types: ['node'],
        typeRoots: [path.join(root, 'node_modules', '@types')],
        strict: true,
        noEmit: true,
        // Declaration files are what this checks.
        skipLibCheck: false,
      },
    });
    callables = publicCallables(program);
    internals = internalSymbols();
  });

  it('sees the public callables and the @internal symbols (the checks are not vacuous)', () => {
    expect(callables.map((callable) => callable.name)).toEqual(
      expect.arrayContaining([
        'SessionManager.extractSession',
        'SessionStore.getSession',
        'OwnerIndexedSessionStore.deleteOwnerSessions',
        'Clock.now',
        'HeadersLike.append',
        'RequestLike.headers.get',
        'RedisSessionStore.patchSession',
        'PostgresSessionStore.stopCleanup',
        'fromNodeRequest',
        'sessionPlugin',
        'createSessionModule',
      ]),
    );
    expect(callables.map((callable) => callable.name)).not.toContain('hashId');
    const internalNames = internals.map((symbol) =>
      symbol.container === undefined ? symbol.name : `${symbol.container}.${symbol.name}`,
    );
    expect(internalNames).toEqual(
      expect.arrayContaining(['hashId', 'PendingHeaders', 'createSealer', 'SessionLifecycle', 'Session.id']),
    );
    expect(internalNames).toContain('Session.constructor');
  });

  it('give every public function and method an @example with code', () => {
    const missing = callables
      .filter((callable) => !callable.documented)
      .map((callable) => callable.label);
    expect(missing).toEqual([]);
  });

  it('mention no symbol documented @internal', () => {
    expect(internalMentions(internals)).toEqual([]);
  });

  it('type-check without skipLibCheck: no public declaration names one that was stripped', () => {
    const errors = declarationFiles.flatMap(({ declaration }) => {
      const file = program.getSourceFile(declaration);
      if (file === undefined) {
        return [`${relative(declaration)}: not emitted`];
      }
      return [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)].map(
        (diagnostic) => `${relative(declaration)}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ')}`,
      );
    });
    const global = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()].map((diagnostic) =>
      ts.flattenDiagnosticMessageText(diagnostic.messageText, ' '),
    );
    expect({ errors, global }).toEqual({ errors: [], global: [] });
  });
});
