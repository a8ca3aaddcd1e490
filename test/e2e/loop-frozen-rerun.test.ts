import type { HangwatchReport } from '../../src/report/document';
import { schemaErrors } from '../helpers/report-schema';
import { reportFileOf, reportOf, runFixture, type FixtureRun } from '../helpers/run-fixture';

/**
 * A test hangs, then the next one freezes the loop: the watchdog ends the worker, and Jest runs
 * the file again in a new one, where the hang happens a second time. The run's findings count
 * each unit once: the last attempt's.
 */
const fixture = 'loop-frozen-rerun';
let run: FixtureRun;
let report: HangwatchReport;
beforeAll(async () => {
  run = await runFixture(fixture, { timeoutMs: 600_000 });
  report = reportFileOf(fixture);
}, 700_000);

test('the file ran twice: the hang was reported in both processes, the freeze once', () => {
  expect(reportOf(run.failureOf('waits for a reply nobody sends'))).toContain('can never finish');
  expect(run.failureOf('never leaves its while loop')).toContain('froze the event loop');
  expect(run.resultOf('passes after the loop').status).toBe('passed');
  expect(run.stderr).toContain('Jest runs the file again in a new worker');
});

test('the summary and the JSON report hold each unit once', () => {
  expect(schemaErrors(report)).toEqual([]);
  const about = report.findings.map((finding) => `${finding.kind}: ${finding.testName}`);
  expect(about.sort()).toEqual([
    'blocked-loop: never leaves its while loop',
    'hang: waits for a reply nobody sends',
  ]);
  expect(run.stderr).toContain('hangwatch: 2 findings in this run: 1 hang, 1 blocked event loop');
});
