import * as os from 'node:os';
import type { Config } from 'jest';

const tsJest: Config['transform'] = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
};

// Fixture projects, examples and benchmarks are run by spawned Jest processes, never collected here.
const ignored = [
  '<rootDir>/test/fixtures/',
  '<rootDir>/examples/',
  '<rootDir>/bench/',
  '<rootDir>/dist/',
];

const config: Config = {
  // Two at a time even on two cores: an end-to-end file spends much of its time waiting for its
  // fixture's Jest (timeouts running out, worker start-up), not computing.
  maxWorkers: Math.max(2, os.availableParallelism() - 1),
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
      transform: tsJest,
      modulePathIgnorePatterns: ignored,
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
      transform: tsJest,
      modulePathIgnorePatterns: ignored,
      slowTestThreshold: 60,
    },
  ],
};

export default config;
