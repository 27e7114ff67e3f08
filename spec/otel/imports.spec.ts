import { readFileSync } from 'node:fs';
import path from 'node:path';
import { dist, packagesLoadedBy } from '../support/moduleGraph.js';

// Nothing of OpenTelemetry is loaded unless the app imports kit-session/otel: the core
// calls its telemetry hooks through an interface of its own, and only the subpath
// imports @opentelemetry/api (an optional peer dependency). Read from the build.

const manifest = JSON.parse(readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8')) as {
  exports: Record<string, string | { default?: string }>;
};

/** The compiled entry file of every subpath, but the manifest's. */
const entries = Object.entries(manifest.exports).flatMap(([subpath, target]) =>
  typeof target === 'object' && target.default !== undefined ? [[subpath, path.resolve(dist, '..', target.default)] as const] : [],
);

describe('kit-session/otel and the other subpaths', () => {
  it('finds every subpath, otel included (the check is not vacuous)', () => {
    expect(entries.map(([subpath]) => subpath)).toEqual(expect.arrayContaining(['.', './redis', './fetch', './otel']));
  });

  it.each(entries.filter(([subpath]) => subpath !== './otel'))('%s loads no @opentelemetry package', (_subpath, entry) => {
    const packages = [...packagesLoadedBy(entry)];
    expect(packages.filter((specifier) => specifier.startsWith('@opentelemetry/'))).toEqual([]);
  });

  it('kit-session/otel loads @opentelemetry/api and nothing else beyond node builtins and cookie (no SDK)', () => {
    const packages = [...packagesLoadedBy(path.join(dist, 'otel', 'index.js'))];
    expect(packages.filter((specifier) => !specifier.startsWith('node:') && specifier !== 'cookie')).toEqual(['@opentelemetry/api']);
  });
});
