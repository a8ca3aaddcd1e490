import * as path from 'node:path';
import type { BlockedLoopFinding } from '../../src/core/model';
import type { HangwatchReport } from '../../src/report/document';
import { schemaErrors } from '../helpers/report-schema';
import { FIXTURES, reportFileOf, runFixture, type FixtureRun } from '../helpers/run-fixture';

/**
 * A frozen loop whose rerun never reports it: the test's name changes from process to process, so
 * each new worker misses the marker the last one left, freezes again, and Jest gives up on the
 * file. Each freeze still reaches the summary and the JSON report, from its marker.
 */
const fixture = 'loop-frozen-renamed';
let run: FixtureRun;
let report: HangwatchReport;
beforeAll(async () => {
  run = await runFixture(fixture, { timeoutMs: 600_000 });
  report = reportFileOf(fixture);
}, 700_000);

test('Jest gives up on the file after its workers are ended, one per freeze', () => {
  expect(run.exitCode).toBe(1);
  expect(run.files[0].message).toMatch(/child process exceptions, exceeding retry limit/);
  const printed = run.stderr.match(
    /^hangwatch: test "spins in process \d+" froze the event loop/gm,
  );
  expect(printed?.length).toBeGreaterThanOrEqual(2);
});

test('each freeze the terminal showed is in the JSON report, at its line, saying no rerun reported it', () => {
  const printed = [...run.stderr.matchAll(/^hangwatch: test "(spins in process \d+)" froze/gm)].map(
    (match) => match[1],
  );
  const findings = report.findings as BlockedLoopFinding[];
  expect(findings.map((finding) => finding.testName)).toEqual(printed);
  for (const finding of findings) {
    expect(finding).toMatchObject({ kind: 'blocked-loop', frozen: true, severity: 'error' });
    expect(finding.site?.top).toMatchObject({ line: 2, origin: 'user' });
    expect(finding.site?.top?.file).toBe(path.join(FIXTURES, fixture, 'spin.test.js'));
    expect(finding.advice).toEqual([{ code: 'rerun-missing', unit: 'test', exitCode: 124 }]);
    expect(finding.notes?.[0]).toContain('but no rerun reported this test');
  }
  expect(schemaErrors(report)).toEqual([]);
});

test("the run's summary lists them", () => {
  const count = report.findings.length;
  expect(run.stderr).toContain(
    `hangwatch: ${count} findings in this run: ${count} blocked event loops`,
  );
  expect(
    run.stderr.match(/^ {2}blocked-loop {2}spin\.test\.js:2:\d+ {2}spins in process \d+$/gm),
  ).toHaveLength(count);
});
