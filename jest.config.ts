import type { Config } from 'jest';

/** How ts-jest compiles the specs, the sources and the ES-module-only packages: to CommonJS. */
const tsconfig = {
  module: 'commonjs',
  moduleResolution: 'node10',
  ignoreDeprecations: '6.0',
  allowJs: true,
  isolatedModules: true,
};

const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/spec'],
  testMatch: ['**/*.spec.ts'],
  setupFiles: ['reflect-metadata'],
  globalSetup: '<rootDir>/spec/support/globalSetup.ts',
  moduleNameMapper: {
    '^kit-session$': '<rootDir>/lib/index.ts',
    '^kit-session/(redis|postgres|mysql|sqlite|cloudflare|dynamodb)$': '<rootDir>/lib/stores/$1/index.ts',
    '^kit-session/store$': '<rootDir>/lib/stores/index.ts',
    '^kit-session/(fetch|node|express|fastify|hono|react-router|nest)$': '<rootDir>/lib/adapters/$1/index.ts',
    '^kit-session/di$': '<rootDir>/lib/di/index.ts',
    '^kit-session/inversify-http$': '<rootDir>/lib/di/inversify-http/index.ts',
    '^kit-session/storage/cookie$': '<rootDir>/lib/compat/storage/cookie.ts',
    '^kit-session/(encrypt|http)$': '<rootDir>/lib/compat/$1.ts',
    '^kit-session/otel$': '<rootDir>/lib/otel/index.ts',
    '^kit-session/adopt/(express-session|iron-session|react-router)$': '<rootDir>/lib/adopt/$1/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: {
    // Nest 12 ships ES modules only, one of which reads `import.meta.url`: see the transformer.
    '/node_modules/@nestjs/.+\\.js$': ['<rootDir>/spec/support/importMetaTransformer.cjs', { tsconfig }],
    // The XChaCha20-Poly1305 sealer loads sodium-native with a require made from its own `import.meta.url`.
    '/lib/crypto/SodiumSealer\\.ts$': ['<rootDir>/spec/support/importMetaTransformer.cjs', { tsconfig }],
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig }],
  },
  // inversify 8, Nest 12 and their packages (@inversifyjs/http-core, http-express and what they
  // load) ship ES modules only: let ts-jest turn them into CommonJS.
  transformIgnorePatterns: ['/node_modules/(?!(inversify|@inversifyjs|@nestjs)/)'],
  testTimeout: 30_000,
};

export default config;
