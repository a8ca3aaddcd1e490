import { measureTimerLagMs, runFixture, reportOf, type FixtureRun } from '../helpers/run-fixture';

/**
 * `test.concurrent` tests run at once: a block is charged to the test whose code blocked the loop
 * (read from the async context current where the watchdog paused the thread), not to the test
 * that started last. Jest 30 starts a describe block's concurrent tests together; Jest 29 calls
 * their functions as the file starts, before each test starts.
 */
let jest30: FixtureRun;
let jest29: FixtureRun;
let frozen: FixtureRun;
let jest29Frozen: FixtureRun;
beforeAll(async () => {
  const lagMs = await measureTimerLagMs();
  const thresholdMs = Math.max(1000, Math.ceil((lagMs * 4) / 100) * 100);
  const env = { LOOP_FIXTURE_THRESHOLD_MS: String(thresholdMs) };
  [jest30, frozen, jest29, jest29Frozen] = await Promise.all([
    runFixture('loop-concurrent', { args: ['concurrent.test.js'], env, timeoutMs: 600_000 }),
    // Far less than the 600 s timeout of the test started last: judged by the frozen test's own.
    runFixture('loop-concurrent', { args: ['frozen.test.js'], env, timeoutMs: 300_000 }),
    runFixture('loop-concurrent', {
      args: ['early.test.js'],
      env,
      jestMajor: 29,
      timeoutMs: 600_000,
    }),
    runFixture('loop-concurrent', {
      args: ['early-frozen.test.js'],
      env,
      jestMajor: 29,
      timeoutMs: 600_000,
    }),
  ]);
}, 700_000);

describe('Jest 30', () => {
  test('a busy wait fails the concurrent test that waited, not the one started after it', () => {
    const failure = jest30.failureOf('a busy wait blocks the loop after a moment');
    expect(reportOf(failure)).toMatch(
      /^BlockedLoopError: test "a busy wait › blocks the loop after a moment" blocked the event loop for \d+\.\d s at wait\.js:\d+:\d+\./,
    );
    expect(reportOf(failure)).toMatch(/- concurrent\.test\.js:\d+:5/);
    expect(jest30.resultOf('a busy wait waits while the other blocks').status).toBe('passed');
  });

  test('a blocking native call is charged to the test that made it', () => {
    const failure = jest30.failureOf('a blocking native call sleeps in execSync after a moment');
    expect(reportOf(failure)).toMatch(
      /^BlockedLoopError: test "a blocking native call › sleeps in execSync after a moment" blocked the event loop for \d+\.\d s at concurrent\.test\.js:\d+:5\./,
    );
    expect(jest30.resultOf('a blocking native call waits while the other sleeps').status).toBe(
      'passed',
    );
  });
});

test('a concurrent test that freezes is judged by its own timeout, not the last started one’s', () => {
  const failure = frozen.failureOf('freezes the loop after a moment');
  const report =
    /^BlockedLoopError: test "freezes the loop after a moment" froze the event loop: blocked for (\d+\.\d) s, past its 1\.0 s timeout, at frozen\.test\.js:\d+:\d+\./;
  expect(reportOf(failure)).toMatch(report);
  expect(Number(report.exec(failure)![1])).toBeLessThan(300);
  expect(frozen.resultOf('waits with a long timeout').status).toBe('passed');
});

describe('Jest 29', () => {
  test('a concurrent test that blocks before it starts is charged, not the test running then', () => {
    const failure = jest29.failureOf('blocks the loop before it starts');
    expect(reportOf(failure)).toMatch(
      /^BlockedLoopError: test "blocks the loop before it starts" blocked the event loop for \d+\.\d s at wait\.js:\d+:\d+\./,
    );
    expect(reportOf(failure)).toMatch(/- early\.test\.js:\d+:3/);
    expect(jest29.resultOf('runs while a concurrent test blocks the loop').status).toBe('passed');
  });

  test('one that freezes it there is ended, and fails at once in the rerun before its code runs again', () => {
    const failure = jest29Frozen.failureOf('freezes the loop before it starts');
    expect(reportOf(failure)).toMatch(
      /^BlockedLoopError: test "freezes the loop before it starts" froze the event loop: blocked for \d+\.\d s, past the timeout of the test running then, at early-frozen\.test\.js:\d+:\d+\./,
    );
    expect(failure).toContain(
      'Jest ran the file again in a new worker, where this test was not called again.',
    );
    expect(jest29Frozen.resultOf('runs while a concurrent test freezes the loop').status).toBe(
      'passed',
    );
    expect(jest29Frozen.stderr).not.toContain('exceeding retry limit');
  });
});
