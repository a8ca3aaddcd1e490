import { runFixture, reportOf, topFrameOf, type FixtureRun } from '../helpers/run-fixture';

// The runs are independent and mostly waiting on busy loops: start them together.
let busy: FixtureRun;
let busyAsError: FixtureRun;
let frozenInWorkers: FixtureRun;
let frozenInBand: FixtureRun;
let debugged: FixtureRun;
beforeAll(async () => {
  [busy, busyAsError, frozenInWorkers, frozenInBand, debugged] = await Promise.all([
    runFixture('loop-busy'),
    runFixture('loop-busy', {
      args: ['--config', 'jest.error.config.js', '-t', 'busy-waits for 2.5 s'],
    }),
    runFixture('loop-frozen', { args: ['--maxWorkers=2'] }),
    runFixture('loop-frozen', { args: ['--runInBand', 'frozen-test'] }),
    runFixture('loop-busy', {
      args: ['--runInBand', '-t', 'stay silent'],
      env: { NODE_OPTIONS: '--inspect=127.0.0.1:0' },
    }),
  ]);
}, 300_000);

describe('a loop blocked for a while, then released', () => {
  test('is named as a warning at the loop’s line, and the test passes', () => {
    expect(busy.exitCode).toBe(0);
    expect(busy.resultOf('busy-waits for 2.5 s, then passes').status).toBe('passed');
    expect(busy.stderr).toMatch(
      /hangwatch: test "busy-waits for 2\.5 s, then passes" blocked the event loop for (2\.[5-9]|3\.\d) s at busy\.test\.js:4:3\.\n\s+while \(Date\.now\(\) < until\) \{/,
    );
    expect(busy.stderr).toContain('- busyWait (busy.test.js:4:3)');
    expect(busy.stderr).toContain('- busy.test.js:10:3');
    expect(busy.stderr).toContain('A warning only: the test is not failed.');
  });

  test('a block between two awaits is measured on its own', () => {
    expect(busy.stderr).toMatch(
      /test "awaits, busy-waits, awaits again" blocked the event loop for (1\.[5-9]|2\.\d) s at busy\.test\.js:4:3/,
    );
  });

  test('each block is printed once, and short ones not at all', () => {
    // The warnings printed as they happen (the end-of-run summary repeats them once more).
    expect(busy.stderr.match(/^hangwatch: test "[^"]*" blocked the event loop/gm)).toHaveLength(2);
    expect(busy.stderr).not.toContain('test "short busy waits stay silent" blocked');
  });

  test("blockedLoop: 'error' fails the test with the report, pointing at the loop", () => {
    const failure = busyAsError.failureOf('busy-waits for 2.5 s, then passes');
    expect(reportOf(failure)).toMatch(
      /^BlockedLoopError: test "busy-waits for 2\.5 s, then passes" blocked the event loop for (2\.[5-9]|3\.\d) s at busy\.test\.js:4:3\./,
    );
    expect(topFrameOf(failure)).toContain('busy.test.js:4:3');
  });
});

describe('a loop that never ends', () => {
  test('in worker processes: the run ends, the report reaches the terminal and the results', () => {
    expect(frozenInWorkers.stderr).toContain(
      'hangwatch: test "never leaves its while loop" froze the event loop: blocked for ',
    );
    const failure = frozenInWorkers.failureOf('never leaves its while loop');
    expect(failure).toMatch(
      /^BlockedLoopError: test "never leaves its while loop" froze the event loop: blocked for \d+\.\d s, past its 1\.0 s timeout, at frozen-test\.test\.js:5:3\./,
    );
    expect(failure).toContain('while (!done()) {');
    expect(failure).toContain('- spinUntil (frozen-test.test.js:5:3)');
    expect(failure).toContain('- frozen-test.test.js:16:3');
    expect(failure).toContain('Jest ran the file again in a new worker');
    expect(topFrameOf(failure)).toContain('frozen-test.test.js:5:3');
  });

  test('the frozen file’s other tests and the other files still run', () => {
    expect(frozenInWorkers.resultOf('passes before the loop').status).toBe('passed');
    expect(frozenInWorkers.resultOf('passes after the loop').status).toBe('passed');
    expect(frozenInWorkers.resultOf('a file after the frozen ones still runs').status).toBe(
      'passed',
    );
    expect(frozenInWorkers.exitCode).toBe(1);
  });

  test('in a hook: the hook is named, and its test fails with the report', () => {
    const failure = frozenInWorkers.failureOf('a hook that never returns never gets to run');
    expect(failure).toMatch(
      /^BlockedLoopError: beforeEach hook for test "a hook that never returns › never gets to run" froze the event loop: .* at frozen-hook\.test\.js:3:5\./,
    );
  });

  test('with --runInBand: the report is printed and Jest ends with exit code 124', () => {
    expect(frozenInBand.exitCode).toBe(124);
    expect(frozenInBand.stderr).toMatch(
      /hangwatch: test "never leaves its while loop" froze the event loop: blocked for \d+\.\d s, past its 1\.0 s timeout, at frozen-test\.test\.js:5:3\.\n\s+while \(!done\(\)\) \{/,
    );
    expect(frozenInBand.stderr).toContain('with --runInBand the tests run inside Jest itself');
    expect(frozenInBand.stderr).not.toContain('Waiting for the debugger');
  });
});

test('under --inspect the watchdog steps aside with one line, and the tests run', () => {
  expect(debugged.exitCode).toBe(0);
  const notes = debugged.stderr
    .split('\n')
    .filter((line) => line.startsWith('hangwatch: the event-loop watchdog is off'));
  expect(notes).toEqual([
    'hangwatch: the event-loop watchdog is off: this process is being debugged (--inspect), and a pause at a breakpoint would look like a frozen loop. Hang reports still work.',
  ]);
});
