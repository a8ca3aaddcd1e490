import { runFixture } from '../helpers/run-fixture';

test('passing tests produce no output from hangwatch at all', async () => {
  const run = await runFixture('passing');
  expect(run.exitCode).toBe(0);
  expect(run.resultOf('answers a request').status).toBe('passed');
  expect(run.stderr).not.toMatch(/hangwatch|HangError/i);
  expect(run.stdout).not.toMatch(/hangwatch|HangError/i);
}, 300_000);

test('--forceExit leaves no trace of the watchdog thread (no "Waiting for the debugger")', async () => {
  const run = await runFixture('passing', { args: ['--forceExit'] });
  expect(run.exitCode).toBe(0);
  expect(run.stderr).not.toContain('Waiting for the debugger');
}, 300_000);

function occurrences(text: string, part: string): number {
  return text.split(part).length - 1;
}

describe.each([30, 29] as const)('config errors under Jest %i', (jestMajor) => {
  // The fixture has six test files: each would fail alone if the check ran per file.
  test('an unknown option stops the run once, before any test file runs, naming it', async () => {
    const run = await runFixture('bad-options', { jestMajor });
    expect(run.exitCode).toBe(1);
    expect(occurrences(run.stderr, 'hangwatch: Validation Error')).toBe(1);
    expect(run.stderr).toContain(
      'Unknown option "promise" with value true was found in testEnvironmentOptions.hangwatch. Did you mean "promises"?',
    );
    expect(run.stderr).not.toMatch(/PASS|FAIL|Test Suites:/);
    expect(run.files).toEqual([]);
  }, 300_000);

  test('a mistyped option value stops the run once, naming the key and what it must be', async () => {
    const run = await runFixture('bad-options', {
      jestMajor,
      args: ['--config', 'jest.wrong-type.config.js'],
    });
    expect(run.exitCode).toBe(1);
    expect(occurrences(run.stderr, 'hangwatch: Validation Error')).toBe(1);
    expect(run.stderr).toContain(
      'Option "maxListed" in testEnvironmentOptions.hangwatch must be a positive integer\n  but instead received:\n    "ten"',
    );
    expect(run.files).toEqual([]);
  }, 300_000);

  test('a reporter option typo stops the run once, with the same wording and a did-you-mean', async () => {
    const run = await runFixture('bad-options', {
      jestMajor,
      args: ['--config', 'jest.reporter-typo.config.js'],
    });
    expect(run.exitCode).toBe(1);
    expect(occurrences(run.stderr, 'hangwatch: Validation Error')).toBe(1);
    expect(run.stderr).toContain(
      'Unknown option "failon" with value ["hang"] was found in hangwatch/reporter\'s options. Did you mean "failOn"?',
    );
    expect(run.stderr).not.toMatch(/PASS|FAIL|Test Suites:/);
  }, 300_000);
});

test('promises: true names the innermost `new Promise` nobody resolved', async () => {
  const run = await runFixture('promises-mode', { args: ['--forceExit'] });
  const failure = run.failureOf('awaits a readiness promise nobody resolves');
  expect(failure).toContain('Pending promises it created (the innermost `new Promise` first):');
  expect(failure).toMatch(
    /- new Promise still pending after .*: nothing called its resolve or reject\n\s+created at ready\.test\.js:4:10/,
  );
  expect(failure.split('\n').find((line) => /^\s+at /.test(line))).toContain('ready.test.js:4:10');
}, 300_000);

test('an internal error degrades to plain Jest with one warning line, results intact', async () => {
  const run = await runFixture('fault', {
    args: ['--forceExit'],
    env: { HANGWATCH_INJECT_FAULT: 'report' },
  });
  const warnings = run.stderr
    .split('\n')
    .filter((line) => line.startsWith('hangwatch: internal error'));
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toContain('tests run as plain Jest');
  expect(run.resultOf('passes while hangwatch is broken').status).toBe('passed');
  expect(run.failureOf('still times out the plain Jest way')).toContain(
    'Exceeded timeout of 1000 ms',
  );
  expect(run.failureOf('fails on its own assertion')).toContain('expect(received).toBe(expected)');
}, 300_000);

test("a failing test's stack shows the user's frames and none of hangwatch's wrappers", async () => {
  const run = await runFixture('user-failures', { args: ['--forceExit'] });
  const names = [
    'fails on its own assertion',
    'fails in a listener its emitter calls',
    'fails in a server callback',
  ];
  for (const name of names) {
    const failure = run.failureOf(name);
    const frames = failure.split('\n').filter((line) => /^\s+at /.test(line));
    expect(frames[0]).toContain('failures.test.js');
    expect(frames.filter((line) => /hangwatch|[/\\]dist[/\\](jest|core)[/\\]/.test(line))).toEqual(
      [],
    );
  }
  expect(run.failureOf('fails in a listener its emitter calls')).toContain('the listener failed');
  // A stack the test itself logs: the user's frames, and `emit` as Node's, not hangwatch's wrapper.
  const logged = run.stderr.slice(run.stderr.indexOf('Error: logged from a listener'));
  const loggedFrames = logged.split('\n').filter((line) => /^\s+at /.test(line));
  expect(loggedFrames[0]).toContain('logged.test.js');
  expect(loggedFrames.some((line) => /at \S*emit \(node:events/.test(line))).toBe(true);
  expect(loggedFrames.filter((line) => /node:async_hooks/.test(line))).toEqual([]);
  expect(
    loggedFrames.filter((line) => /hangwatch|[/\\]dist[/\\](jest|core)[/\\]/.test(line)),
  ).toEqual([]);
}, 300_000);
