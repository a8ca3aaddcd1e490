import * as fs from 'node:fs';
import * as path from 'node:path';
import type { HangwatchReport } from '../../src/report/document';
import { FIXTURES, runFixture } from '../helpers/run-fixture';

// The default report file (no outputFile) follows one documented rule: it holds the last run that
// found something; a full run with no findings removes it; a partial run keeps it when it finds
// nothing and replaces it when it finds something, and says so either way.
const FILE = path.join(FIXTURES, 'report-file', 'hangwatch-report.json');
const report = () => JSON.parse(fs.readFileSync(FILE, 'utf8')) as HangwatchReport;
const run = (args: string[], env: Record<string, string> = {}) =>
  runFixture('report-file', {
    args: ['--forceExit', ...args],
    env: { GITHUB_ACTIONS: '', ...env },
  });

beforeAll(() => fs.rmSync(FILE, { force: true }));
afterAll(() => fs.rmSync(FILE, { force: true }));

test('a full run with findings writes the file', async () => {
  const full = await run([]);
  expect(full.stderr).toContain('hangwatch: 2 findings in this run: 2 hangs');
  expect(full.stderr).toContain('Full report: hangwatch-report.json');
  expect(report().findings).toHaveLength(2);
}, 60_000);

test('a partial run without findings keeps it and says what it still holds', async () => {
  const before = report();
  const partial = await run(['passes.test.js']);
  expect(partial.exitCode).toBe(0);
  expect(partial.stderr).toContain(
    `hangwatch: no findings in this partial run (test files were filtered); hangwatch-report.json still holds the run of ${before.runs[0].startedAt} (2 hangs).`,
  );
  expect(report()).toEqual(before);
}, 60_000);

test('a partial run with findings replaces it and says what it replaced', async () => {
  const before = report();
  const partial = await run(['-t', 'another']);
  expect(partial.stderr).toContain(
    `hangwatch: hangwatch-report.json now holds this partial run (tests were filtered by name); it replaced the run of ${before.runs[0].startedAt} (2 hangs).`,
  );
  expect(report().findings.map((finding) => finding.testName)).toEqual([
    'awaits another long timer',
  ]);
}, 60_000);

test('a full run without findings removes it: the findings were fixed', async () => {
  const full = await run([], { HANGS_FIXED: '1' });
  expect(full.exitCode).toBe(0);
  expect(full.stderr).not.toContain('hangwatch');
  expect(fs.existsSync(FILE)).toBe(false);
}, 60_000);
