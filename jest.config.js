/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts'],
  // Type-checking happens once in `tsc -p tsconfig.test.json`; here ts-jest only transpiles.
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.jest.json' }] },
  setupFilesAfterEnv: ['<rootDir>/__tests__/setup/jest-setup.ts'],
  globalSetup: '<rootDir>/__tests__/setup/global-setup.js',
  globalTeardown: '<rootDir>/__tests__/setup/global-teardown.js',
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/cdktf.out/'],
  // A suite whose cleanup fails can leave a server or a child process behind: the run still ends when its
  // tests have, and says so (suites clean up in afterAll; global-setup.js is the last resort for a hang).
  forceExit: true,
};
