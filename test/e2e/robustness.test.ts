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

test('an unknown option stops the run at start-up, naming it', async () => {
  const run = await runFixture('bad-options');
  expect(run.exitCode).not.toBe(0);
  expect(run.stderr).toContain(
    'hangwatch: unknown option "promise" in testEnvironmentOptions.hangwatch (did you mean "promises"?)',
  );
  expect(run.resultOf).toBeDefined();
}, 300_000);

test('a mistyped option value stops the run, naming the key and the expected type', async () => {
  const run = await runFixture('bad-options', { args: ['--config', 'jest.wrong-type.config.js'] });
  expect(run.exitCode).not.toBe(0);
  expect(run.stderr).toContain(
    'hangwatch: option "maxListed" in testEnvironmentOptions.hangwatch must be a positive integer, got the string "ten".',
  );
}, 300_000);

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
