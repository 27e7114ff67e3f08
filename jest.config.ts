import type { Config } from 'jest';

const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/spec'],
  testMatch: ['**/*.spec.ts'],
  setupFiles: ['reflect-metadata'],
  globalSetup: '<rootDir>/spec/support/globalSetup.ts',
  moduleNameMapper: {
    '^kit-session$': '<rootDir>/lib/index.ts',
    '^kit-session/(redis|postgres)$': '<rootDir>/lib/stores/$1/index.ts',
    '^kit-session/(fetch|node|express|fastify|hono|react-router)$': '<rootDir>/lib/adapters/$1/index.ts',
    '^kit-session/di$': '<rootDir>/lib/di/index.ts',
    '^kit-session/inversify-http$': '<rootDir>/lib/di/inversify-http/index.ts',
    '^kit-session/storage/cookie$': '<rootDir>/lib/compat/storage/cookie.ts',
    '^kit-session/(encrypt|http)$': '<rootDir>/lib/compat/$1.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: {
    '^.+\\.[tj]s$': [
      'ts-jest',
      {
        tsconfig: {
          module: 'commonjs',
          moduleResolution: 'node10',
          ignoreDeprecations: '6.0',
          allowJs: true,
          isolatedModules: true,
        },
      },
    ],
  },
  // inversify 8 and its packages (@inversifyjs/http-core, http-express and what they load) ship
  // ES modules only: let ts-jest turn them into CommonJS.
  transformIgnorePatterns: ['/node_modules/(?!(inversify|@inversifyjs)/)'],
  testTimeout: 30_000,
};

export default config;
