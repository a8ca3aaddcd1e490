import { runFixture, type FixtureRun } from '../helpers/run-fixture';

describe('a test that nothing can ever settle fails at once, not at its timeout', () => {
  let run: FixtureRun;
  beforeAll(async () => {
    run = await runFixture('idle', { args: ['--forceExit'] });
  }, 300_000);

  const cases = [
    'awaits a promise nobody resolves',
    'hashes a password synchronously, then awaits a promise nobody resolves',
    'done is never called and nothing is pending',
    'two flows each wait for the other’s event',
    'a hook with an unused parameter never starts',
    'after a request, awaits an order event nobody emits',
  ];

  // Found early; the report then reads the test's await stacks from a heap snapshot, which takes
  // longer on a loaded machine, so the found-at time is the report's own.
  test.each(cases)('%s: found before its 5 s timeout, by the report’s own clock', (name) => {
    const result = run.resultOf(name);
    expect(result.status).toBe('failed');
    const message = result.failureMessages.join('\n');
    // "after 102 ms", or on a loaded machine "after 1.2 s".
    const early =
      /can never finish: after (\d+ ms|[\d.]+ s) nothing is left that could settle it \(failed early; its timeout is (5\.0) s\)/;
    // On a mismatch, the report itself is what says why.
    expect(message).toMatch(early);
    const [, after, timeout] = early.exec(message)!;
    const afterMs = after.endsWith(' ms') ? parseFloat(after) : parseFloat(after) * 1000;
    // Before the timeout the report states; how long before is the machine's load.
    expect(afterMs).toBeLessThan(Number(timeout) * 1000);
  });

  test('finished synchronous crypto jobs and zlib calls are not what it waits on', () => {
    const failure = run.failureOf(
      'hashes a password synchronously, then awaits a promise nobody resolves',
    );
    expect(failure).toContain('Nothing it started is still pending');
    expect(failure).not.toMatch(/SCRYPTREQUEST|RANDOMBYTESREQUEST|zlib/);
  });

  test('what a web framework keeps for a finished response is not pending work (Koa, on-finished)', () => {
    expect(run.resultOf('serves a health check').status).toBe('passed');
    const failure = run.failureOf('after a request, awaits an order event nobody emits');
    expect(failure).toContain('Nothing it started is still pending');
    expect(failure).not.toMatch(/onerror|on-finished|Left open by earlier tests/);
  });

  test('the done case and the hook case say that only `done` can end them', () => {
    expect(run.failureOf('done is never called and nothing is pending')).toContain(
      'Only a call to `done` can end it now',
    );
    const hook = run.failureOf('a hook with an unused parameter never starts');
    expect(hook).toContain(
      'HangError: beforeEach hook for test "a hook with an unused parameter › never starts" can never finish',
    );
    expect(hook).toContain('Only a call to `done` can end it now');
  });
});

test('tests waiting for something real are never failed as idle', async () => {
  const run = await runFixture('idle-real-waits', { args: ['--forceExit', 'real-waits.test'] });
  for (const file of run.files) {
    for (const result of file.assertionResults) {
      expect({ name: result.fullName, status: result.status }).toEqual({
        name: result.fullName,
        status: 'passed',
      });
    }
  }
  expect(run.files[0].assertionResults).toHaveLength(5);
}, 300_000);

test('a test waiting on an open stdin runs to its timeout', async () => {
  const run = await runFixture('idle-real-waits', {
    args: ['--forceExit', 'stdin'],
    stdin: 'pipe',
  });
  const failure = run.failureOf('waits on process.stdin until the timeout, never flagged as idle');
  expect(failure).toContain('still waiting after 1.5 s (timeout 1.5 s)');
  expect(failure).not.toContain('can never finish');
}, 300_000);

test("idle: 'off' leaves the wait to the timeout", async () => {
  const run = await runFixture('idle', {
    args: [
      '--forceExit',
      '--testTimeout=800',
      '-t',
      'awaits a promise nobody resolves',
      '--config',
      'jest.idle-off.config.js',
    ],
  });
  const failure = run.failureOf('awaits a promise nobody resolves');
  expect(failure).toContain('still waiting after 800 ms (timeout 800 ms)');
}, 300_000);
