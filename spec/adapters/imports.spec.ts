import path from 'node:path';
import { dist, packagesLoadedBy } from '../support/moduleGraph.js';

describe('adapter subpaths', () => {
  it.each(['fetch', 'node', 'express', 'fastify', 'hono', 'react-router'])(
    'kit-session/%s loads no package at run time but node builtins and cookie (no framework)',
    (name) => {
      const packages = [...packagesLoadedBy(path.join(dist, 'adapters', name, 'index.js'))];
      expect(packages.filter((specifier) => !specifier.startsWith('node:') && specifier !== 'cookie')).toEqual([]);
    },
  );

  // The exception: Inversify's HTTP framework has no hook that an adapter could fill in
  // without it. `@SessionParam()` registers through http-core's
  // `createCustomParameterDecorator` (the metadata format is http-core's own), the
  // interceptor tells an answer from a failure with its `isHttpResponse`, and it is
  // `@injectable()` through inversify. Still no web framework: neither express nor
  // @inversifyjs/http-express, which the app picks.
  it('kit-session/inversify-http loads @inversifyjs/http-core, inversify and reflect-metadata, and no web framework', () => {
    const packages = [...packagesLoadedBy(path.join(dist, 'di', 'inversify-http', 'index.js'))];
    expect(packages.filter((specifier) => !specifier.startsWith('node:') && specifier !== 'cookie').sort()).toEqual([
      '@inversifyjs/http-core',
      'inversify',
      'reflect-metadata',
    ]);
  });

  // Nest reads a module, a middleware and a parameter decorator from metadata that its own
  // decorators (`@Module`, `@Inject`, `createParamDecorator`) and tokens (`APP_INTERCEPTOR`)
  // write at run time, and its interceptors speak rxjs: kit-session/nest cannot be types only.
  it('kit-session/nest loads Nest (@nestjs/common, @nestjs/core) and rxjs at run time, and no other framework', () => {
    const packages = [...packagesLoadedBy(path.join(dist, 'adapters', 'nest', 'index.js'))];
    expect(packages.filter((specifier) => !specifier.startsWith('node:') && specifier !== 'cookie').sort()).toEqual([
      '@nestjs/common',
      '@nestjs/core',
      'rxjs',
    ]);
  });

  it('the check sees the packages the core loads (it is not vacuous)', () => {
    expect([...packagesLoadedBy(path.join(dist, 'index.js'))]).toEqual(expect.arrayContaining(['cookie']));
  });

  it('the root entry point loads neither inversify nor reflect-metadata; kit-session/di loads both', () => {
    const root = [...packagesLoadedBy(path.join(dist, 'index.js'))];
    expect(root.filter((name) => name === 'inversify' || name === 'reflect-metadata')).toEqual([]);
    expect([...packagesLoadedBy(path.join(dist, 'di', 'index.js'))]).toEqual(
      expect.arrayContaining(['inversify', 'reflect-metadata']),
    );
  });
});
