import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildReport, type HangwatchReport, type RunInfo } from '../../src/report/document';
import { sampleDeadlockFinding, sampleHang, sampleLeak, sampleRun } from '../helpers/findings';
import { schemaErrors } from '../helpers/report-schema';
import { REPO_ROOT } from '../helpers/run-fixture';

// The built CLI, as `npx hangwatch` runs it from package.json's "bin".
const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
  bin: Record<string, string>;
};
const CLI = path.join(REPO_ROOT, manifest.bin.hangwatch);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hangwatch-cli-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function hangwatch(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd: tmp, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function write(name: string, content: unknown): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

function run(runId: string, shard: RunInfo['shard']): Omit<RunInfo, 'findingCount'> {
  return sampleRun({ runId, shard });
}

const shard1 = write(
  'shard-1.json',
  buildReport(run('one', { index: 1, count: 2 }), [sampleHang(), sampleLeak()]),
);
const shard2 = write(
  'shard-2.json',
  buildReport(run('two', { index: 2, count: 2 }), [sampleDeadlockFinding()]),
);

test('the bin is the built CLI, runnable as a script', () => {
  expect(fs.readFileSync(CLI, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
});

test('--help explains the commands and exits 0', () => {
  const { code, stdout } = hangwatch('--help');
  expect(code).toBe(0);
  expect(stdout).toContain('Usage: hangwatch <command> [options]');
  expect(stdout).toContain('show [report.json]');
  expect(stdout).toContain('(default: ./hangwatch-report.json)');
  expect(stdout).toContain('merge <a.json> <b.json> [...]');
});

test('show renders a saved report as the terminal did: each finding in full, then the summary', () => {
  const { code, stdout, stderr } = hangwatch('show', shard1);
  expect(stderr).toBe('');
  expect(code).toBe(0);
  expect(stdout).toContain(
    'hangwatch report: 1 run (shard 1/2), 5 tests, Jest 30.0.0, Node v20.11.0, hangwatch 0.1.0',
  );
  expect(stdout).toContain('test "orders › refunds a payment" hung: still waiting after 5.0 s');
  expect(stdout).toContain('created at src/orders.test.js:12:5   setTimeout(resolve, 60_000);');
  expect(stdout).toContain('hangwatch: test "orders › refunds a payment" left 1 resource open');
  expect(stdout).toContain('hangwatch: 2 findings in this run: 1 hang, 1 leak');
  // Each finding under a heading naming its test file and test.
  expect(stdout).toMatch(/^── hang in .*orders\.test\.js › orders › refunds a payment$/m);
  expect(stdout).toMatch(/^── leak in .*orders\.test\.js › orders › refunds a payment$/m);
});

test('show draws the source around each culprit line while the file is there, as Jest did', () => {
  const source = write(
    'orders.test.js',
    Array.from({ length: 14 }, (_, i) =>
      i === 11 ? '    setTimeout(resolve, 60_000);' : `// line ${i + 1}`,
    ).join('\n'),
  );
  const top = { file: source, line: 12, column: 5, origin: 'user' as const };
  const hang = sampleHang();
  hang.pending[0].site = { top, frames: [top], sourceLine: 'setTimeout(resolve, 60_000);' };
  const report = write('with-source.json', buildReport(run('three', null), [hang]));
  const { code, stdout } = hangwatch('show', report);
  expect(code).toBe(0);
  expect(stdout).toContain(
    [
      '  10 | // line 10',
      '  11 | // line 11',
      '> 12 |     setTimeout(resolve, 60_000);',
      '     |     ^',
      '  13 | // line 13',
    ].join('\n'),
  );
  // A finding whose file is gone (the shard reports' /repo paths) gets its text alone.
  expect(hangwatch('show', shard1).stdout).not.toContain('> 12 |');
});

test('merge combines shard reports into one valid report, on stdout or into --output', () => {
  const { code, stdout } = hangwatch('merge', shard2, shard1);
  expect(code).toBe(0);
  const merged = JSON.parse(stdout) as HangwatchReport;
  expect(schemaErrors(merged)).toEqual([]);
  expect(merged.runs.map((r) => r.runId)).toEqual(['one', 'two']);
  expect(merged.findings.map((f) => f.kind)).toEqual(['deadlock', 'hang', 'leak']); // by test file

  const out = path.join(tmp, 'all.json');
  expect(hangwatch('merge', shard1, shard2, '-o', out).code).toBe(0);
  expect(JSON.parse(fs.readFileSync(out, 'utf8'))).toEqual(merged);
  expect(hangwatch('show', out).stdout).toContain('2 runs (shards 1/2, 2/2)');
});

test.each([
  ['a missing file', ['show', 'nope.json'], 'hangwatch: nope.json: no such file.'],
  ['malformed JSON', ['show', write('bad.json', '{"format": ')], 'bad.json is not valid JSON ('],
  [
    'another tool’s JSON',
    ['show', write('jest.json', { numTotalTests: 3 })],
    'is not a hangwatch report (expected "format": "hangwatch-report").',
  ],
  [
    'a schema version it does not read',
    ['merge', shard1, write('v99.json', { format: 'hangwatch-report', schemaVersion: 99 })],
    'v99.json has schema version 99; this hangwatch reads version 2.',
  ],
  [
    'the same shard twice',
    ['merge', shard1, shard1],
    'run one (shard 1/2) appears in more than one input',
  ],
  [
    'an unknown command',
    ['shwo', shard1],
    'hangwatch: unknown command "shwo" (commands: show, merge).',
  ],
  [
    'an unknown flag',
    ['show', '--frobnicate', shard1],
    'hangwatch: unknown option "--frobnicate" (options: -h/--help, -v/--version, -o/--output).\n',
  ],
  [
    '--output without a file',
    ['merge', shard1, '-o'],
    'hangwatch: --output (-o) needs a file name',
  ],
  ['no command', [], 'hangwatch: no command given.'],
  ['show with two files', ['show', shard1, shard2], 'hangwatch: show takes one report file.'],
  [
    'show without a file, none here',
    ['show'],
    "hangwatch: no report file given, and there is no hangwatch-report.json here (hangwatch/reporter writes it in Jest's rootDir when a run has findings).",
  ],
])('%s: a clear message and exit code 2', (_case, args, message) => {
  const { code, stdout, stderr } = hangwatch(...args);
  expect(code).toBe(2);
  expect(stdout).toBe('');
  expect(stderr).toContain(message);
  // Its own words: none of Node's argument or JSON parser sentences.
  expect(stderr).not.toMatch(
    /To specify a positional argument|in JSON at position|is not valid JSON:/,
  );
});

test('show reads ./hangwatch-report.json when given no file', () => {
  fs.copyFileSync(shard1, path.join(tmp, 'hangwatch-report.json'));
  try {
    const { code, stdout } = hangwatch('show');
    expect(code).toBe(0);
    expect(stdout).toContain('hangwatch: 2 findings in this run: 1 hang, 1 leak');
  } finally {
    fs.rmSync(path.join(tmp, 'hangwatch-report.json'));
  }
});
