import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The compiled package, built by jest's globalSetup. */
export const dist = path.resolve(__dirname, '../../dist');

/** Every module specifier a compiled file imports at run time (type imports are gone). */
export function runtimeImports(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  return [...source.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s+'([^']+)'|^\s*import\s+'([^']+)'/gm)].map(
    (match) => (match[1] ?? match[2])!,
  );
}

/** The bare specifiers (packages) a compiled module loads, following its relative imports. */
export function packagesLoadedBy(entry: string): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) {
      return;
    }
    seen.add(file);
    for (const specifier of runtimeImports(file)) {
      if (specifier.startsWith('.')) {
        visit(path.resolve(path.dirname(file), specifier));
      } else {
        packages.add(specifier);
      }
    }
  };
  visit(entry);
  return packages;
}
