import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

// The layers point one way: lib/core imports nothing but itself and `cookie`, and only
// lib/di knows Inversify. Read from the sources, type-only imports included.

const lib = path.resolve(__dirname, '../../lib');

/** Every `.ts` file under a folder of lib/, as a path relative to lib/. */
function sources(folder: string): string[] {
  return readdirSync(path.join(lib, folder), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => path.join(folder, file));
}

/** Every module specifier a source file names in an import, export-from or import(). */
function specifiers(file: string): string[] {
  const source = readFileSync(path.join(lib, file), 'utf8');
  const found = [
    ...source.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s+'([^']+)'/gm),
    ...source.matchAll(/^\s*import\s+'([^']+)'/gm),
    ...source.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g),
  ];
  return found.map((match) => match[1]!);
}

/** Where a specifier leads: a folder of lib/ (`core`, `stores`, …) or a package name. */
function destination(file: string, specifier: string): string {
  if (!specifier.startsWith('.')) {
    return specifier;
  }
  const target = path.relative(lib, path.resolve(lib, path.dirname(file), specifier));
  return target.startsWith('..') ? `outside lib: ${target}` : target.split(path.sep)[0]!;
}

describe('the layers of lib/', () => {
  const core = sources('core');

  it('finds the core files (the check is not vacuous)', () => {
    expect(core).toEqual(expect.arrayContaining(['core/SessionManager.ts', 'core/Session.ts', 'core/SessionStore.ts']));
    expect(core.flatMap((file) => specifiers(file))).toEqual(expect.arrayContaining(['cookie', './Session.js']));
  });

  it.each(core)('%s imports only lib/core and cookie', (file) => {
    const outside = specifiers(file)
      .map((specifier) => ({ specifier, to: destination(file, specifier) }))
      .filter(({ to }) => to !== 'core' && to !== 'cookie');
    expect({ file, outside }).toEqual({ file, outside: [] });
  });

  it('only lib/di imports inversify or reflect-metadata, or the service identifiers', () => {
    const offenders = ['core', 'crypto', 'stores', 'adapters']
      .flatMap((folder) => sources(folder))
      .flatMap((file) =>
        specifiers(file)
          .filter((specifier) => specifier === 'inversify' || specifier === 'reflect-metadata' || destination(file, specifier) === 'di')
          .map((specifier) => `${file} → ${specifier}`),
      );
    expect(offenders).toEqual([]);
  });

  it('kit-session/redis imports neither ioredis nor redis (node-redis), not even their types: an app on either client compiles without the other', () => {
    const files = sources('stores/redis');
    expect(files).toEqual(expect.arrayContaining(['stores/redis/RedisSessionStore.ts', 'stores/redis/redisClient.ts']));
    const clients = files.flatMap((file) =>
      [...readFileSync(path.join(lib, file), 'utf8').matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s+'(ioredis|redis|@redis\/[^']+)'/gm)].map(
        ([, specifier]) => ({ file, specifier }),
      ),
    );
    expect(clients).toEqual([]);
  });
});
