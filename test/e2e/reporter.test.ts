import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { HangFinding } from '../../src/core/model';
import type { HangwatchReport } from '../../src/report/document';
import { REPO_ROOT, runFixture, type FixtureRun } from '../helpers/run-fixture';
import { schemaErrors } from '../helpers/report-schema';

// Real Jest runs over the `reporter` fixture: four files, three of which hang (one only on its
// first attempt, then passes on retry). Each run writes its report to a temporary file.
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hangwatch-reporter-e2e-'));
const file = (name: string) => path.join(tmp, name);
const CLI = path.join(REPO_ROOT, 'dist', 'cli', 'main.js');
const NOT_GITHUB = { GITHUB_ACTIONS: '', GITHUB_STEP_SUMMARY: '' };
/** GitHub's documented form: `::command key=value,key=value::message`, on one line. */
const WORKFLOW_COMMAND =
  /^::(error|warning|notice)( [a-zA-Z]+=[^,:\n\r]*(,[a-zA-Z]+=[^,:\n\r]*)*)?::[^\n\r]*$/;

function readReport(name: string): HangwatchReport {
  return JSON.parse(fs.readFileSync(file(name), 'utf8')) as HangwatchReport;
}

/** What must not differ between runs of the same tests: no timings, ports or ages. */
function essence(report: HangwatchReport) {
  return (report.findings as HangFinding[]).map((finding) => ({
    kind: finding.kind,
    test: finding.forTest ?? finding.testName,
    file: path.relative(REPO_ROOT, finding.testPath),
    phase: finding.phase,
    attempt: finding.attempt,
    culprit: finding.pending.map(
      (resource) => `${resource.kind} @ ${resource.site?.top?.line}:${resource.site?.top?.column}`,
    ),
  }));
}

let full: FixtureRun;
const stepSummary = file('step-summary.md');

beforeAll(async () => {
  // Worker processes (-w 2, no timing cache so Jest cannot choose to run in band) and GitHub on.
  full = await runFixture('reporter', {
    args: ['--forceExit', '-w', '2', `--cacheDirectory=${file('cache-full')}`],
    env: {
      HANGWATCH_TEST_REPORT: file('full.json'),
      GITHUB_ACTIONS: 'true',
      GITHUB_STEP_SUMMARY: stepSummary,
      GITHUB_WORKSPACE: REPO_ROOT,
    },
  });
}, 300_000);

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('a run with findings', () => {
  test('writes a JSON report that its schema accepts, with every finding and the run', () => {
    const report = readReport('full.json');
    expect(schemaErrors(report)).toEqual([]);
    expect(essence(report)).toEqual([
      {
        kind: 'hang',
        test: 'hangs once, then passes on retry',
        file: 'test/fixtures/reporter/flaky.test.js',
        phase: 'test',
        attempt: 0,
        culprit: ['timer @ 10:62'],
      },
      {
        kind: 'hang',
        test: 'orders › lists orders',
        file: 'test/fixtures/reporter/hooks.test.js',
        phase: 'beforeEach',
        attempt: 0,
        culprit: ['interval @ 7:14'],
      },
      {
        kind: 'hang',
        test: 'awaits a long timer',
        file: 'test/fixtures/reporter/timers.test.js',
        phase: 'test',
        attempt: 0,
        culprit: ['timer @ 5:43'],
      },
    ]);
    expect(report.runs).toEqual([
      expect.objectContaining({
        nodeVersion: process.version,
        jestVersion: expect.stringMatching(/^30\./),
        rootDir: path.join(REPO_ROOT, 'test', 'fixtures', 'reporter'),
        shard: null,
        tests: { suites: 4, total: 5, passed: 3, failed: 2 },
        findingCount: 3,
      }),
    ]);
  });

  test('prints a short summary: test, file:line and one line of why per finding', () => {
    const start = full.stderr.indexOf('hangwatch: 3 findings in this run: 3 hangs');
    expect(start).toBeGreaterThan(-1);
    const summary = full.stderr.slice(start).split('\n').slice(0, 8);
    expect(summary).toEqual([
      'hangwatch: 3 findings in this run: 3 hangs',
      '  hang  flaky.test.js:10:62  hangs once, then passes on retry',
      expect.stringMatching(
        /^ {8}test "hangs once, then passes on retry" hung: still waiting after 5\d\d ms \(timeout 500 ms\)\. Waiting on: setTimeout 60000 ms/,
      ),
      '  hang  hooks.test.js:7:14  orders › lists orders',
      expect.stringMatching(/^ {8}beforeEach hook for test "orders › lists orders" hung/),
      '  hang  timers.test.js:5:43  awaits a long timer',
      expect.stringMatching(/^ {8}test "awaits a long timer" hung/),
      `Full report: ${file('full.json')}`,
    ]);
  });

  test('annotates the culprit lines in GitHub Actions, in the documented command format', () => {
    const commands = full.stderr.split('\n').filter((line) => line.startsWith('::'));
    expect(commands).toHaveLength(3);
    for (const command of commands) expect(command).toMatch(WORKFLOW_COMMAND);
    expect(commands[2]).toMatch(
      /^::error file=test\/fixtures\/reporter\/timers\.test\.js,line=5,col=43,title=hangwatch%3A hang in "awaits a long timer"::test "awaits a long timer" hung: still waiting after 5\d\d ms \(timeout 500 ms\)\.%0AIt is awaiting \(innermost first\):%0A.*%0AIt is waiting on 1 thing it started/,
    );
  });

  test('appends a markdown job summary to $GITHUB_STEP_SUMMARY', () => {
    const markdown = fs.readFileSync(stepSummary, 'utf8');
    expect(markdown).toContain('## hangwatch: 3 findings: 3 hangs');
    expect(markdown).toContain('| Kind | Test | Where | Why |');
    expect(markdown).toContain('| hang | awaits a long timer | `timers.test.js:5:43` |');
    expect(markdown).toContain('<summary>hang: orders › lists orders</summary>');
  });

  test('failure messages stay plain text: no workflow commands or markdown in them', () => {
    const failure = full.failureOf('awaits a long timer');
    expect(failure).toMatch(/^HangError: test "awaits a long timer" hung/);
    expect(failure).not.toMatch(/::error|%0A|###/);
  });
});

test('two shards merged with `hangwatch merge` equal the unsharded run', async () => {
  const shards = await Promise.all(
    [1, 2].map((index) =>
      runFixture('reporter', {
        args: ['--forceExit', `--shard=${index}/2`, `--cacheDirectory=${file(`cache-${index}`)}`],
        env: { ...NOT_GITHUB, HANGWATCH_TEST_REPORT: file(`shard-${index}.json`) },
      }),
    ),
  );
  expect(shards.map((shard) => shard.files.length)).toEqual([2, 2]);
  const merged = execFileSync(
    process.execPath,
    [CLI, 'merge', file('shard-2.json'), file('shard-1.json')],
    { encoding: 'utf8' },
  );
  const report = JSON.parse(merged) as HangwatchReport;
  expect(schemaErrors(report)).toEqual([]);
  expect(report.runs.map((run) => run.shard)).toEqual([
    { index: 1, count: 2 },
    { index: 2, count: 2 },
  ]);
  expect(essence(report)).toEqual(essence(readReport('full.json')));
}, 300_000);

describe('the failOn gate', () => {
  test('fails the run on a gated finding even when every test passed', async () => {
    const run = await runFixture('reporter', {
      args: ['--forceExit', 'flaky'],
      env: { ...NOT_GITHUB, HANGWATCH_TEST_REPORT: file('flaky.json'), HANGWATCH_FAIL_ON: 'hang' },
    });
    expect(run.resultOf('hangs once, then passes on retry').status).toBe('passed');
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('hangwatch failed the run: 1 hang (failOn: hang).');
  }, 300_000);

  test('without it the same finding is reported and the run passes', async () => {
    const run = await runFixture('reporter', {
      args: ['--forceExit', 'flaky'],
      env: { ...NOT_GITHUB, HANGWATCH_TEST_REPORT: file('flaky-ungated.json') },
    });
    expect(run.exitCode).toBe(0);
    expect(run.stderr).toContain('hangwatch: 1 finding in this run: 1 hang');
    expect(run.stderr).not.toContain('hangwatch failed the run');
  }, 300_000);

  test('Jest 29, in band: findings reach the reporter and the gate fails the run', async () => {
    const run = await runFixture('reporter', {
      jestMajor: 29,
      args: ['--forceExit', '--runInBand', 'flaky'],
      env: { ...NOT_GITHUB, HANGWATCH_TEST_REPORT: file('jest29.json'), HANGWATCH_FAIL_ON: 'hang' },
    });
    expect(run.resultOf('hangs once, then passes on retry').status).toBe('passed');
    expect(run.exitCode).toBe(1);
    const report = readReport('jest29.json');
    expect(schemaErrors(report)).toEqual([]);
    expect(report.runs[0].jestVersion).toMatch(/^29\./);
    expect(report.findings).toHaveLength(1);
  }, 300_000);
});

test('silent on a passing run: no summary, no annotations, no job summary, no report file', async () => {
  const summary = file('passing-summary.md');
  const run = await runFixture('passing', {
    env: { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary },
  });
  expect(run.exitCode).toBe(0);
  expect(run.stderr).not.toMatch(/hangwatch|^::/m);
  expect(fs.existsSync(summary)).toBe(false);
  expect(fs.existsSync(path.join(REPO_ROOT, 'test/fixtures/passing/hangwatch-report.json'))).toBe(
    false,
  );
}, 300_000);

test('an unknown reporter option stops the run at start-up, naming it', async () => {
  const run = await runFixture('reporter', {
    args: ['--config', 'jest.bad-reporter-options.config.js'],
    env: NOT_GITHUB,
  });
  expect(run.exitCode).not.toBe(0);
  expect(run.stderr).toContain(
    'Unknown option "outputFle" with value "report.json" was found in hangwatch/reporter\'s options. Did you mean "outputFile"?',
  );
}, 300_000);
