import type { Config } from '@jest/reporters';
import { partialRunReason } from '../../src/jest/report-file';

const config = (fields: Record<string, unknown>) => fields as unknown as Config.GlobalConfig;

test('a run without filters is a full run', () => {
  expect(partialRunReason(config({ testPathPatterns: { patterns: [] } }))).toBeUndefined();
  expect(partialRunReason(config({ testPathPattern: '' }))).toBeUndefined();
});

test.each([
  [
    'Jest 30 path patterns',
    { testPathPatterns: { patterns: ['orders'] } },
    'test files were filtered',
  ],
  ['Jest 29 path pattern', { testPathPattern: 'orders' }, 'test files were filtered'],
  ['-t', { testNamePattern: 'refunds' }, 'tests were filtered by name'],
  ['--onlyChanged', { onlyChanged: true }, 'only changed files ran'],
  ['--changedSince', { changedSince: 'main' }, 'only changed files ran'],
  ['--onlyFailures', { onlyFailures: true }, 'only failed tests ran'],
  ['--findRelatedTests', { findRelatedTests: true }, 'only related tests ran'],
  ['--shard', { shard: { shardIndex: 1, shardCount: 3 } }, 'one shard (1/3) ran'],
  ['--watch', { watch: true }, 'watch mode'],
  ['--selectProjects', { selectProjects: ['unit'] }, 'some projects were selected'],
])('%s makes a partial run', (_flag, fields, reason) => {
  expect(partialRunReason(config(fields))).toBe(reason);
});
