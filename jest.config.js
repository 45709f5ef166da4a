const os = require('os');

/** @type {import('jest').Config} */
module.exports = {
  // jest's node environment, which also counts each file's CPU when scripts/slowest-tests.js asks.
  testEnvironment: '<rootDir>/__tests__/setup/cpu-accounting-environment.js',
  // Jest's default is one worker less than the cores, so one on the 2-core build machine. The suites spend
  // much of their time waiting on the daemons, Terraform and the timers they drive, so workers beyond the
  // cores keep both busy: two more than the cores left 6 s of CPU idle in a run (192 s), one more 25-28 s
  // (202 s) (scripts/slowest-tests.results.md). Suites share nothing but ports (below the ephemeral range,
  // see testing/harness/ports.ts) and the packed library (packed once per run, __tests__/setup/packed-library.ts).
  maxWorkers: (typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length) + 2,
  // Jest's default of 5 s per test is for unit tests on an idle machine. Here tests start sshd, PostgreSQL and
  // Terraform while three other workers do the same on 2 cores, and on a virtual machine where process starts are
  // dear a two-daemon test took over 5 s (scripts/slowest-tests.results.md, 2026-12-04). Suites that wait longer
  // set their own timeouts; a test that hangs still fails.
  testTimeout: 30_000,
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
