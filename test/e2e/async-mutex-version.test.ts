import { runFixture } from '../helpers/run-fixture';

test('an async-mutex release outside the tested versions runs uninstrumented, said once', async () => {
  // Two test files in one process: the line is printed once, not once per file.
  const run = await runFixture('async-mutex-untested', { args: ['--runInBand'] });
  const notices = run.stderr
    .split('\n')
    .filter((line) => line.startsWith('hangwatch: async-mutex'));
  expect(notices).toEqual([
    'hangwatch: async-mutex 0.6.0 is outside the versions its lock tracking was tested with (>=0.5.0 <0.6.0): its locks run uninstrumented, so their deadlocks are not detected.',
  ]);
  expect(
    run.resultOf('an async-mutex lock outside the tested versions still works, uninstrumented')
      .status,
  ).toBe('passed');
  // Taken twice: no DeadlockError (nothing tracks the lock), but still no silent hang.
  const failure = run.failureOf(
    'a lock taken twice is reported as an idle hang, not as a deadlock',
  );
  expect(failure).toMatch(/^HangError: /);
  expect(failure).not.toContain('Deadlock');
}, 300_000);
