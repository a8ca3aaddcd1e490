import { expectEsmLockDeadlock } from '../helpers/esm-locks';
import { runFixture, topFrameOf, type FixtureRun } from '../helpers/run-fixture';

// The same environment, wrapped around Jest 29's own jest-environment-node, run by Jest 29.
let run: FixtureRun;
beforeAll(async () => {
  run = await runFixture('jest29', { jestMajor: 29, args: ['--forceExit'] });
}, 300_000);

test('a timer hang is reported with its line', () => {
  const failure = run.failureOf('awaits a long timer');
  expect(failure).toMatch(/^HangError: test "awaits a long timer" hung/);
  expect(topFrameOf(failure)).toContain('timers.test.js:2:34');
});

test('test.concurrent, which Jest 29 starts before test_fn_start, keeps each test to its own', () => {
  const a = run.failureOf('concurrent A hangs on its own timer');
  const b = run.failureOf('concurrent B hangs on its own timer');
  expect(a).toContain('setTimeout 40000 ms');
  expect(a).not.toContain('setTimeout 50000 ms');
  expect(b).toContain('setTimeout 50000 ms');
  expect(b).not.toContain('setTimeout 40000 ms');
  expect(run.resultOf('concurrent C passes').status).toBe('passed');
});

test('hooks, done, retries and both fake timer kinds', () => {
  expect(run.failureOf('never runs: beforeAll hangs')).toContain(
    'test/fixtures/hooks/before-all.test.js:7:16',
  );
  expect(run.failureOf('leaves a connection open')).toContain(
    'test/fixtures/hooks/after-each.test.js:13:16',
  );
  expect(run.failureOf('done is never called')).toContain('`done` was never called');
  expect(run.failureOf('retried test hangs on every attempt')).toContain('hung on retry 1');
  expect(run.failureOf('awaits a debounced call under modern fake timers')).toContain(
    'test/fixtures/node-basic/fake-timers-modern.test.js:5:13',
  );
  expect(run.failureOf('awaits a timer under legacy fake timers')).toContain(
    'Fake timers (legacy) hold 1 pending timer:',
  );
});

test('locks: deadlocks fail at once, in both styles, with the acquisition lines; no false positives', () => {
  for (const style of ['runExclusive', 'bare acquire']) {
    const cycle = run.failureOf(`${style}: two transfers in opposite orders`);
    expect(cycle).toMatch(/^DeadlockError: Deadlock: 2 flows wait for each other's locks/);
    expect(cycle).toContain(style === 'runExclusive' ? 'bank.js:17:20' : 'bank.js:29:37');
    // Before the fixture's 1 s testTimeout: found when the cycle closed, not at the timeout.
    expect(run.resultOf(`${style}: two transfers in opposite orders`).duration).toBeLessThan(1000);
  }
  expect(run.failureOf('bare acquire: taken again through a helper')).toContain(
    'waits for lock "ledger" that it already holds',
  );
  expect(run.failureOf('runExclusive: the next user of the lock')).toContain(
    'that ended at the end of test "a refresh throws before releasing" without releasing it',
  );
  expect(
    run.failureOf(
      'bare acquire: a loader throws before releasing, then the same test waits while a server is open',
    ),
  ).toContain('whose release function was garbage-collected without being called');
  expect(run.resultOf('helpers started together under a held lock share another lock').status).toBe(
    'passed',
  );
  expect(run.stderr).toContain('hangwatch: Possible deadlock: locks "users" and "orders"');
});

test('locks: an ES module importing async-mutex (native ESM) is instrumented too', async () => {
  const esm = await runFixture('jest29', {
    jestMajor: 29,
    args: ['--config', 'jest.esm.config.js'],
    env: { NODE_OPTIONS: '--experimental-vm-modules --no-warnings' },
  });
  expect(expectEsmLockDeadlock(esm)).toContain('esm/locks.test.js:7:20');
}, 300_000);
