import * as fs from 'node:fs';
import * as path from 'node:path';
import type { HangFinding } from '../../src/core/model';
import { NOTHING_OWN_PENDING } from '../../src/core/wording';
import { schemaErrors } from '../helpers/report-schema';
import {
  FIXTURES,
  reportOf,
  runFixture,
  topFrameOf,
  type FixtureRun,
} from '../helpers/run-fixture';

/**
 * What an earlier test, a shared hook or the module scope left pending is listed but never blamed:
 * the error points at what the hung unit itself started, else at the hung test's or hook's line.
 */
let run: FixtureRun;
let report: { findings: HangFinding[] };
beforeAll(async () => {
  run = await runFixture('ranking', { args: ['--forceExit'] });
  report = JSON.parse(
    fs.readFileSync(path.join(FIXTURES, 'ranking', 'hangwatch-report.json'), 'utf8'),
  ) as { findings: HangFinding[] };
}, 120_000);

function hangIn(file: string, testName?: string): HangFinding {
  const found = report.findings.find(
    (finding) =>
      finding.kind === 'hang' &&
      finding.testPath.endsWith(`/${file}`) &&
      (testName === undefined || finding.testName === testName),
  );
  if (!found) throw new Error(`no hang in ${file}`);
  return found;
}

/** Two files have a test of the same name: find it in its file. */
function failureIn(file: string, testName: string): string {
  const result = run.files.find((entry) => entry.name.endsWith(`/${file}`));
  const test = result?.assertionResults.find((entry) => entry.fullName === testName);
  if (!test) throw new Error(`no test "${testName}" in ${file}`);
  return test.failureMessages.join('\n');
}

function fileMessage(file: string): string {
  const result = run.files.find((entry) => entry.name.endsWith(`/${file}`));
  if (!result) throw new Error(`no results for ${file}`);
  return result.message;
}

test('the report is valid against the schema', () => {
  expect(schemaErrors(report)).toEqual([]);
});

describe('an earlier test’s leftover interval, then a test awaiting an event nobody emits', () => {
  test('the interval is listed as the earlier test’s, never as something the test waits on', () => {
    const failure = failureIn('leftover-interval.test.js', 'waits for an event nobody emits');
    const text = reportOf(failure);
    expect(text).toContain(
      'test "waits for an event nobody emits" hung: still waiting after 1.0 s (timeout 1.0 s).',
    );
    expect(text).toContain('Left open by earlier tests (1):');
    expect(text).toMatch(
      /1\. setInterval every 200 ms, running for [\d.]+ m?s \(started by test "starts a poller and forgets it"\)\n\s+created at leftover-interval\.test\.js:4:3 {3}setInterval\(\(\) => \{\}, 200\);/,
    );
    expect(text).not.toContain('It is waiting on');
    expect(text).not.toContain('Nothing it started is still pending');
    expect(text).toContain(NOTHING_OWN_PENDING);
    expect(failure).not.toContain('Exceeded timeout');
  });

  test('the code frame is the hung test’s own await, not the interval’s line', () => {
    const failure = failureIn('leftover-interval.test.js', 'waits for an event nobody emits');
    expect(topFrameOf(failure)).toContain('leftover-interval.test.js:9:3');
    const finding = hangIn('leftover-interval.test.js');
    expect(finding).toMatchObject({ nothingOwnPending: true, nothingPending: false });
    expect(finding.unitSite?.top).toMatchObject({ line: 7, column: 1, origin: 'user' });
  });

  test('the summary row points at the test’s own await', () => {
    expect(run.stderr).toMatch(
      /hang {2}leftover-interval\.test\.js:9:3 {2}waits for an event nobody emits\n\s+test "waits for an event nobody emits" hung: still waiting after 1\.0 s \(timeout 1\.0 s\)\. Pending, started elsewhere: setInterval every 200 ms/,
    );
  });
});

test('an earlier test’s modern fake timer is named as that test’s, and does not frame the error', () => {
  const failure = failureIn('leftover-fake-timer.test.js', 'waits for an event nobody emits');
  const text = reportOf(failure);
  expect(text).toContain('Fake timers (modern) hold 1 pending timer:');
  expect(text).toContain(
    '- fake setTimeout 5000 ms, due in 5000 fake ms: never fires unless the clock is advanced (started by test "schedules a fake timer and never advances the clock")',
  );
  expect(text).toContain(
    'created at leftover-fake-timer.test.js:5:3   setTimeout(() => {}, 5000);',
  );
  expect(text).not.toContain('Nothing it started is still pending');
  expect(text).toContain(NOTHING_OWN_PENDING);
  expect(topFrameOf(failure)).toContain('leftover-fake-timer.test.js:10:3');
});

describe('a hung afterAll', () => {
  test('is headed as the hook, lists the beforeAll’s server as another hook’s, and is framed at its own line', () => {
    const message = fileMessage('after-all.test.js');
    expect(message).toContain(
      'HangError: top-level afterAll hook hung: still waiting after 1.0 s (timeout 1.0 s).',
    );
    expect(message).toContain(
      'Started by other beforeAll/afterAll hooks of its describe blocks (1):',
    );
    expect(message).toMatch(
      /1\. TCP server listening on 127\.0\.0\.1:\d+, 0 open connections \(started in beforeAll\)\n\s+created at after-all\.test\.js:7:41/,
    );
    expect(message).not.toContain("Started by its test or the test's other hooks");
    expect(message).not.toContain('Nothing it started is still pending');
    expect(message).toContain("> 11 |   await once(server, 'drained');");
    expect(topFrameOf(message)).toContain('after-all.test.js:11:3');
    expect(run.resultOf('passes, then afterAll hangs').status).toBe('passed');
  });

  test('its summary row names the hook and points at its line', () => {
    expect(run.stderr).toMatch(/hang {2}after-all\.test\.js:11:3 {2}top-level afterAll hook\n/);
  });
});

describe('a hung beforeAll in a describe block', () => {
  test('is headed as its describe block’s hook and framed at its own line, not the outer server', () => {
    const failure = run.failureOf('orders never runs: its beforeAll hangs');
    const text = reportOf(failure);
    expect(text).toContain(
      'HangError: beforeAll hook of describe "orders" hung: still waiting after 1.0 s (timeout 1.0 s).',
    );
    expect(text).toContain('Started by other beforeAll/afterAll hooks of its describe blocks (1):');
    expect(text).toContain('created at before-all.test.js:7:41');
    expect(text).not.toContain('It is waiting on');
    expect(text).toContain(NOTHING_OWN_PENDING);
    expect(topFrameOf(failure)).toContain('before-all.test.js:25:5');
    expect(run.stderr).toMatch(
      /hang {2}before-all\.test\.js:25:5 {2}beforeAll hook of describe "orders"\n/,
    );
  });
});

describe('ioredis reconnecting to a closed port', () => {
  const attributed =
    /\d\. (?:setTimeout \d+ ms|TCP socket)[^\n]*\(started while the test file was loading\)\n\s+created at redis-module\.test\.js:4:15 {3}const cache = new Redis\(\{ port: 1, host: '127\.0\.0\.1' \}\);\n\s+made on its behalf inside ioredis, at \S*node_modules\/ioredis\/built\/\S+:\d+:\d+/;

  test('a module-level client: its reconnect work is attributed to the `new Redis` line', () => {
    const failure = run.failureOf('reads a cached value');
    const text = reportOf(failure);
    expect(text).toContain("Started by the test file's module scope");
    expect(text).toMatch(attributed);
    expect(text).not.toContain('Nothing it started is still pending');
    expect(text).toContain(NOTHING_OWN_PENDING);
    expect(topFrameOf(failure)).toContain('redis-module.test.js:9:10');
    const listed = hangIn('redis-module.test.js').pending[0];
    expect(listed.site?.top).toMatchObject({ line: 4, column: 15, origin: 'user' });
    expect(listed.madeBy).toMatchObject({ origin: 'dependency', packageName: 'ioredis' });
    expect(listed.owner).toEqual({ kind: 'module', name: expect.stringMatching(/redis-module/) });
  });

  test('a client made in beforeAll: attributed to its line in the hook', () => {
    const text = reportOf(run.failureOf('reads a session'));
    expect(text).toContain('Started by its hooks (');
    expect(text).toMatch(
      /\d\. (?:setTimeout \d+ ms|TCP socket)[^\n]*\(started in beforeAll\)\n\s+created at redis-hook\.test\.js:5:14 {3}sessions = new Redis\(\{ port: 1, host: '127\.0\.0\.1' \}\);\n\s+made on its behalf inside ioredis/,
    );
    expect(text).not.toContain('Nothing it started is still pending');
  });
});

test('Jest 29: the leftover interval and the hung afterAll are ranked and framed the same way', async () => {
  const run29 = await runFixture('ranking', {
    jestMajor: 29,
    args: ['--forceExit', '--config', 'jest.29.config.js', 'leftover-interval|after-all'],
  });
  const failure = run29.failureOf('waits for an event nobody emits');
  expect(reportOf(failure)).toContain('Left open by earlier tests (1):');
  expect(reportOf(failure)).toContain(NOTHING_OWN_PENDING);
  expect(topFrameOf(failure)).toContain('leftover-interval.test.js:9:3');
  const afterAll = run29.files.find((entry) => entry.name.endsWith('/after-all.test.js'))!;
  expect(afterAll.message).toContain('HangError: top-level afterAll hook hung');
  expect(topFrameOf(afterAll.message)).toContain('after-all.test.js:11:3');
}, 120_000);
