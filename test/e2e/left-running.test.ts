import type { HangwatchReport } from '../../src/report/document';
import { schemaErrors } from '../helpers/report-schema';
import { reportFileOf, reportOf, runFixture, type FixtureRun } from '../helpers/run-fixture';

/**
 * A test times out while polling, and Jest does not stop its loop: in the same worker, the next
 * file's tests run beside it. What that loop makes there is named as the earlier file's work,
 * not as "started outside any test"; it keeps no test of that file waiting (the idle check fails
 * one that waits on nothing else early, as in a file run alone); and it is on the end-of-run list
 * of what holds the process.
 */
const fixture = 'left-running';
let run: FixtureRun;
let report: HangwatchReport;
beforeAll(async () => {
  run = await runFixture(fixture, { timeoutMs: 120_000 });
  report = reportFileOf(fixture);
}, 150_000);

test("the next file's hang names the loop as the earlier test's, left running", () => {
  const text = reportOf(run.failureOf('waits for a confirmation nobody sends'));
  // The loop cannot settle it: it fails early, as it would in a file run alone.
  expect(text).toContain('can never finish');
  expect(text).toContain('Also pending, made by work an earlier test file left running (1):');
  expect(text).toMatch(
    /setTimeout 50 ms .*left running by test "waits for the cache to warm" of 1-cache\.test\.js, which timed out and was not stopped/,
  );
  expect(text).toContain('created at 1-cache.test.js:8:30');
  expect(text).not.toContain('started outside any test');
  expect(text).toContain("which holds none of this file's modules");
  expect(run.resultOf('lists the orders').status).toBe('passed');
});

test('the end-of-run list names the timed-out test whose loop holds the worker open', () => {
  expect(run.stderr).toContain('after the last test, 1 resource still holds the process open');
  expect(run.stderr).toMatch(
    /setTimeout 50 ms.*\n\s+created at 1-cache\.test\.js:8:30 by test "waits for the cache to warm", whose work went on after its file ended\n\s+it timed out, and Jest does not stop a timed-out test's timers, loops or requests/,
  );
  // Neither file leaked: the loop is the timed-out test's, already reported as its hang.
  expect(report.findings.map((finding) => finding.kind)).toEqual(['hang', 'hang']);
});

test('the JSON report: leftBy on the pending resource, timedOut on the kept-alive entry', () => {
  expect(schemaErrors(report)).toEqual([]);
  const hang = report.findings.find(
    (finding) => finding.testName === 'waits for a confirmation nobody sends',
  );
  expect(hang).toMatchObject({
    kind: 'hang',
    pending: [
      {
        type: 'Timeout',
        relation: 'unknown',
        leftBy: {
          testPath: expect.stringMatching(/1-cache\.test\.js$/),
          owner: { kind: 'test', name: 'waits for the cache to warm' },
          timedOut: true,
        },
      },
    ],
  });
  expect(report.keptAlive).toEqual([
    expect.objectContaining({
      testPath: expect.stringMatching(/1-cache\.test\.js$/),
      testName: 'waits for the cache to warm',
      timedOut: true,
      resource: expect.objectContaining({ type: 'Timeout', relation: 'unknown' }),
    }),
  ]);
});
