import { schemaErrors } from '../helpers/report-schema';
import { reportFileOf, runFixture, topFrameOf, type FixtureRun } from '../helpers/run-fixture';

let run: FixtureRun;
beforeAll(async () => {
  run = await runFixture('hooks', { args: ['--forceExit'] });
}, 300_000);

test('beforeAll: the hook’s socket is the culprit, and the test is failed with the report', () => {
  const failure = run.failureOf('never runs: beforeAll hangs');
  expect(failure).toMatch(/^HangError: top-level beforeAll hook hung: still waiting after 1\.0 s/);
  // Its socket, and its server (whose side of the same connection is folded into the socket).
  expect(failure).toContain('It is waiting on 2 things the hook started; nothing else is pending:');
  expect(failure).toMatch(/1\. TCP socket to 127\.0\.0\.1:\d+/);
  expect(failure).toContain('created at before-all.test.js:7:16');
  expect(topFrameOf(failure)).toContain('before-all.test.js:7:16');
});

test('beforeEach: names the test it ran for', () => {
  const failure = run.failureOf('beforeEach hangs before this test');
  expect(failure).toContain(
    'HangError: beforeEach hook for test "beforeEach hangs before this test" hung',
  );
  expect(failure).toContain('created at before-each.test.js:2:34');
});

test('afterEach: what its test left open is what the hook waits on', () => {
  const failure = run.failureOf('leaves a connection open');
  expect(failure).toContain('HangError: afterEach hook for test "leaves a connection open" hung');
  expect(failure).toContain("Started by its test or the test's other hooks (2):");
  expect(failure).toMatch(
    /1\. TCP socket to 127\.0\.0\.1:\d+.*\(started by test "leaves a connection open"\)/,
  );
  expect(failure).toContain('created at after-each.test.js:13:16');
  expect(failure).not.toContain('Nothing it started is still pending');
});

test('afterAll: reported as the suite failure', () => {
  const file = run.files.find((result) => result.name.endsWith('after-all.test.js'));
  expect(file?.message).toContain(
    'HangError: top-level afterAll hook hung: still waiting after 1.0 s',
  );
  expect(file?.message).toContain('created at after-all.test.js:2:34');
  expect(file?.message).toContain(
    '> 2 |   await new Promise((resolve) => setTimeout(resolve, 25_000));',
  );
  expect(run.resultOf('passes, then afterAll hangs').status).toBe('passed');
});

test('what a hung beforeAll or afterAll left open is in its report, not reported again as a leak', () => {
  expect(run.stderr).toMatch(/hangwatch: 4 findings in this run: 4 hangs\n/);
  expect(run.stdout + run.stderr).not.toMatch(/(before|after)-all\.test\.js, after its last test/);
  // Still on the end-of-run list of what holds the process, as work Jest did not stop.
  expect(run.stderr).toMatch(
    /created at before-all\.test\.js:7:16 by the top-level beforeAll hook of before-all\.test\.js\n\s+it timed out, and Jest does not stop a timed-out hook's timers/,
  );
});

test('the end-of-run list: a test’s connection its afterEach hung waiting on names that hook', () => {
  expect(run.stderr).toMatch(
    /created at after-each\.test\.js:13:16 by test "leaves a connection open"\n\s+the afterEach hook for test "leaves a connection open" timed out waiting on it, and Jest does not stop what a timed-out hook waits on\n/,
  );
  const report = reportFileOf('hooks');
  expect(report.keptAlive?.map((entry) => entry.timedOutUnit?.kind)).toContain('afterEach');
  expect(schemaErrors(report)).toEqual([]);
});
