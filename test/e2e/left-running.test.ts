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
/** Jest 29 fails whichever test is running when the earlier file's work throws. */
let jest29: FixtureRun;
beforeAll(async () => {
  run = await runFixture(fixture, { timeoutMs: 120_000 });
  report = reportFileOf(fixture);
  jest29 = await runFixture(fixture, { timeoutMs: 120_000, jestMajor: 29 });
}, 300_000);

const UPLOAD_NOTE =
  'hangwatch: thrown by work that test "uploads the daily report" of 1-cache.test.js left running after its file ended (Jest goes on to the next file while a file\'s timers, loops and requests still run), not by this file.';

const REFRESH_NOTE =
  'hangwatch: thrown by work that test "schedules a cache refresh" of 1-cache.test.js left running after its file ended';

test("an error the earlier file's work throws in the next one says whose work threw it", () => {
  // Jest 30 fails the file (nothing of it was running the work); its own frames stay. The upload
  // rejects (an unhandled rejection), the refresh timer throws (an uncaught exception).
  const orders = run.files.find((file) => file.name.endsWith('2-orders.test.js'))!;
  // Jest 29 fails the test running at that moment, which had nothing to do with it.
  const failure = jest29.failureOf('lists the orders');
  for (const text of [orders.message, failure]) {
    expect(text).toContain('upload of daily failed after 4 attempts');
    expect(text).toContain(UPLOAD_NOTE);
    expect(text).toMatch(/at uploadReport \(\S*1-cache\.test\.js:\d+:\d+\)/);
    expect(text).toContain('cache refresh failed: the cache is gone');
    expect(text).toContain(REFRESH_NOTE);
  }
});

test('under Jest 29 too: the later hang, its early failure and the end-of-run list', () => {
  const text = reportOf(jest29.failureOf('waits for a confirmation nobody sends'));
  expect(text).toContain('can never finish');
  expect(text).toContain('Also pending, made by work an earlier test file left running (1):');
  expect(jest29.stderr).toMatch(
    /created at 1-cache\.test\.js:10:30 by test "waits for the cache to warm", whose work went on after its file ended/,
  );
});

test("the next file's hang names the loop as the earlier test's, left running", () => {
  const text = reportOf(run.failureOf('waits for a confirmation nobody sends'));
  // The loop cannot settle it: it fails early, as it would in a file run alone.
  expect(text).toContain('can never finish');
  expect(text).toContain('Also pending, made by work an earlier test file left running (1):');
  expect(text).toMatch(
    /setTimeout 50 ms .*left running by test "waits for the cache to warm" of 1-cache\.test\.js after it timed out: Jest does not stop a timed-out test/,
  );
  expect(text).toContain('created at 1-cache.test.js:10:30');
  expect(text).not.toContain('started outside any test');
  expect(text).toContain("which holds none of this file's modules");
  expect(run.resultOf('lists the orders').status).toBe('passed');
});

test('the end-of-run list names the timed-out test whose loop holds the worker open', () => {
  expect(run.stderr).toContain('after the last test, 1 resource still holds the process open');
  expect(run.stderr).toMatch(
    /setTimeout 50 ms.*\n\s+created at 1-cache\.test\.js:10:30 by test "waits for the cache to warm", whose work went on after its file ended\n\s+it timed out, and Jest does not stop a timed-out test's timers, loops or requests/,
  );
  // The loop is the timed-out test's, already reported as its hang: no leak of either file. The
  // upload's and the refresh's timers are (gone by the end of the run: each threw).
  expect(report.findings.map((finding) => `${finding.kind}: ${finding.testName}`)).toEqual([
    'hang: waits for the cache to warm',
    'leak: uploads the daily report',
    'leak: schedules a cache refresh',
    'hang: waits for a confirmation nobody sends',
  ]);
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

describe('a client the module scope made and never closed, reconnecting in the next file', () => {
  // The module scope has no async context to release: its client is known as the earlier file's
  // work by the resources its callbacks run from.
  let client: FixtureRun;
  beforeAll(async () => {
    client = await runFixture('left-running-client', { args: ['--forceExit'] });
  }, 120_000);

  test('keeps no test of the next file waiting: one that waits on nothing else fails early', () => {
    expect(client.failureOf('waits for an order event nobody emits')).toMatch(
      /can never finish: after (?:\d+ ms|[\d.]+ s) nothing is left that could settle it \(failed early/,
    );
  });

  test('its reconnect timer is named as that file’s work, not as started outside any test', () => {
    const failure = client.failureOf('waits for a slow export');
    expect(failure).toContain('Also pending, made by work an earlier test file left running (1):');
    expect(failure).toMatch(
      /setTimeout \d+ ms \([^)]*\) \(left running by the module scope of 1-client\.test\.js\)/,
    );
    expect(failure).not.toContain('started outside any test');
  });
});
