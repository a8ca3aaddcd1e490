import {
  measureTimerLagMs,
  runFixture,
  reportOf,
  topFrameOf,
  type FixtureRun,
} from '../helpers/run-fixture';
import { heartbeatEveryMs } from '../../src/jest/loop-watch';

// The runs are independent and mostly waiting on busy loops: start them together.
let busy: FixtureRun;
let busyAsError: FixtureRun;
let frozenInWorkers: FixtureRun;
let debugged: FixtureRun;
/** The busy fixture's threshold and block, from how late this machine's timers run now. */
let thresholdMs: number;
let blockMs: number;
beforeAll(async () => {
  const lagMs = await measureTimerLagMs();
  thresholdMs = Math.max(1000, Math.ceil((lagMs * 4) / 100) * 100);
  blockMs = Math.round(thresholdMs * 2.5 + 1500); // as test/fixtures/loop-busy/durations.js
  const env = { LOOP_FIXTURE_THRESHOLD_MS: String(thresholdMs) };
  [busy, busyAsError, frozenInWorkers, debugged] = await Promise.all([
    runFixture('loop-busy', { env, timeoutMs: 600_000 }),
    runFixture('loop-busy', {
      args: [
        '--config',
        'jest.error.config.js',
        '-t',
        '(warms the watchdog up|busy-waits past the threshold)',
      ],
      env,
      timeoutMs: 600_000,
    }),
    runFixture('loop-frozen', { args: ['--maxWorkers=2'], timeoutMs: 600_000 }),
    runFixture('loop-busy', {
      args: ['--runInBand', '-t', 'stay silent'],
      env: { ...env, NODE_OPTIONS: '--inspect=127.0.0.1:0' },
      timeoutMs: 600_000,
    }),
  ]);
}, 700_000);

/** The seconds of every "blocked the event loop for N s" a test's warning or failure gives. */
function blockedSeconds(text: string, testName: string): number[] {
  const pattern = new RegExp(
    `test "${testName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}" blocked the event loop for (\\d+\\.\\d) s`,
    'g',
  );
  return [...text.matchAll(pattern)].map((match) => Number(match[1]));
}

describe('a loop blocked for a while, then released', () => {
  test('is named as a warning at the loop’s line, and the test passes', () => {
    expect(busy.exitCode).toBe(0);
    expect(busy.resultOf('busy-waits past the threshold, then passes').status).toBe('passed');
    expect(busy.stderr).toMatch(
      /hangwatch: test "busy-waits past the threshold, then passes" blocked the event loop for \d+\.\d s at busy\.test\.js:4:3\.\n\s+while \(Date\.now\(\) < until \|\| process\.cpuUsage\(cpuAtStart\)\.user < ms \* 1000\) \{/,
    );
    // At least the block itself (rounded to a tenth of a second).
    for (const seconds of blockedSeconds(
      busy.stderr,
      'busy-waits past the threshold, then passes',
    )) {
      expect(seconds).toBeGreaterThanOrEqual(blockMs / 1000 - 0.05);
    }
    expect(busy.stderr).toContain('- busyWait (busy.test.js:4:3)');
    expect(busy.stderr).toContain('- busy.test.js:17:3');
    expect(busy.stderr).toContain('A warning only: the test is not failed.');
  });

  test('a block between two awaits is measured on its own', () => {
    expect(busy.stderr).toMatch(
      /test "awaits, busy-waits, awaits again" blocked the event loop for \d+\.\d s at busy\.test\.js:4:3/,
    );
    const [seconds] = blockedSeconds(busy.stderr, 'awaits, busy-waits, awaits again');
    expect(seconds).toBeGreaterThanOrEqual(blockMs / 1000 - 0.05);
    // The awaits around it are not part of it: no more than the block and a threshold's delay.
    expect(seconds).toBeLessThan(
      (busy.resultOf('awaits, busy-waits, awaits again').duration ?? Infinity) / 1000 + 0.05,
    );
  });

  test('each block is printed once, and short ones not at all', () => {
    // The warnings printed as they happen (the end-of-run summary repeats them once more).
    const warnings = busy.stderr.match(/^hangwatch: test "[^"]*" blocked the event loop/gm) ?? [];
    const long = ['busy-waits past the threshold, then passes', 'awaits, busy-waits, awaits again'];
    for (const name of long) {
      expect(warnings.filter((line) => line.includes(`"${name}"`))).toHaveLength(1);
    }
    // The short waits hold the loop a quarter of the threshold. A machine that stops the process
    // outright (a paused virtual CPU) can still hold a turn past the threshold: that is a real
    // block and may be reported, but only up to what the fixture itself measured.
    const turn = /longest short turn: (\d+) ms/.exec(busy.stdout + busy.stderr);
    expect(turn).not.toBeNull();
    const longestTurnMs = Number(turn![1]);
    const heartbeatMs = heartbeatEveryMs(thresholdMs);
    if (longestTurnMs + heartbeatMs < thresholdMs) {
      expect(busy.stderr).not.toContain('test "short busy waits stay silent" blocked');
    } else {
      for (const seconds of blockedSeconds(busy.stderr, 'short busy waits stay silent')) {
        expect(seconds).toBeLessThanOrEqual((longestTurnMs + heartbeatMs) / 1000 + 0.05);
      }
    }
  });

  test("blockedLoop: 'error' fails the test with the report, pointing at the loop", () => {
    const failure = busyAsError.failureOf('busy-waits past the threshold, then passes');
    expect(reportOf(failure)).toMatch(
      /^BlockedLoopError: test "busy-waits past the threshold, then passes" blocked the event loop for \d+\.\d s at busy\.test\.js:4:3\./,
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
      /^BlockedLoopError: test "never leaves its while loop" froze the event loop: blocked for \d+\.\d s, past its 1\.0 s timeout, at frozen-test\.test\.js:5:\d+\./,
    );
    expect(failure).toContain('while (!done()) {');
    expect(failure).toMatch(/- spinUntil \(frozen-test\.test\.js:5:\d+\)/);
    expect(failure).toContain('- frozen-test.test.js:16:3');
    expect(failure).toContain('Jest ran the file again in a new worker');
    expect(topFrameOf(failure)).toContain('frozen-test.test.js:5:');
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

  test('a microtask spin and a catastrophic regular expression: each named at its line', () => {
    expect(
      frozenInWorkers.failureOf('spins on microtasks, waiting for a timer that cannot fire'),
    ).toMatch(/froze the event loop: .* at frozen-microtask\.test\.js:4:\d+\./);
    expect(frozenInWorkers.failureOf('matches a catastrophic regular expression')).toMatch(
      /froze the event loop: .* at frozen-regex\.test\.js:4:\d+\./,
    );
    expect(frozenInWorkers.resultOf('passes after the spin').status).toBe('passed');
    expect(frozenInWorkers.resultOf('passes after the regular expression').status).toBe('passed');
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
