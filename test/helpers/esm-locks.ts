import type { FixtureRun } from './run-fixture';

/** The esm fixture's lock test, under either Jest: a self-deadlock found in an ES module's import. */
export function expectEsmLockDeadlock(run: FixtureRun): string {
  const failure = run.failureOf(
    'an ESM import of async-mutex is instrumented: nested runExclusive fails at once',
  );
  expect(failure).toMatch(
    /^DeadlockError: Deadlock: .* waits for lock "accounts" that it already holds/,
  );
  expect(failure).toMatch(/waits for "accounts" at \S*locks\.test\.js:7:20/);
  return failure;
}
