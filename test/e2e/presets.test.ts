import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expectEsmLockDeadlock } from '../helpers/esm-locks';
import { runFixture, topFrameOf } from '../helpers/run-fixture';

test('ts-jest preset: TypeScript lines, source-mapped, in every file of one process', async () => {
  // One process: the second file's report reuses the helper's frame the first one mapped.
  const run = await runFixture('ts-jest', { args: ['--forceExit', '--runInBand'] });
  const failure = run.failureOf('reads a stock level from a service that never replies');
  expect(failure).toMatch(/^HangError: /);
  expect(failure).toMatch(
    /1\. TCP socket to 127\.0\.0\.1:\d+, open [\d.]+ m?s, 17 B sent, no data received/,
  );
  const helperLine =
    "created at src/inventory.ts:10:34   const socket: net.Socket = net.connect(port, '127.0.0.1');";
  expect(failure).toContain(helperLine);
  expect(topFrameOf(failure)).toContain('src/inventory.ts:10:34');
  const second = run.failureOf('restocking asks a silent service for a level before ordering more');
  expect(second).toMatch(/^HangError: /);
  expect(second).toContain(helperLine);
  expect(topFrameOf(second)).toContain('src/inventory.ts:10:34');
  // The test's own line, mapped in its own file: restock.test.ts:12 (the TypeScript source line).
  expect(second).toMatch(/restock\.test\.ts:12:\d+/);
}, 300_000);

test('jsdom preset: window timers traced to the user, jsdom’s own timer for Jest left out', async () => {
  const run = await runFixture('jsdom', { args: ['--forceExit'] });
  const failure = run.failureOf('waits for a toast scheduled far in the future');
  expect(failure).toContain('It is waiting on 1 thing it started; nothing else is pending:');
  expect(failure).toContain('1. setTimeout 30000 ms');
  expect(failure).toContain('created at widget.test.js:3:12');
  expect(failure).not.toContain('Window.js');
  expect(run.resultOf('runs in jsdom').status).toBe('passed');
}, 300_000);

test('ES modules (native ESM under --experimental-vm-modules)', async () => {
  const run = await runFixture('esm', {
    args: ['--forceExit'],
    env: { NODE_OPTIONS: '--experimental-vm-modules --no-warnings' },
  });
  const failure = run.failureOf('an ES module test awaiting a long sleep');
  expect(failure).toMatch(/^HangError: /);
  expect(failure).toContain('1. setTimeout 40000 ms');
  expect(failure).toContain('created at esm.test.js:4:9   await sleep(40_000);');
  expectEsmLockDeadlock(run);
}, 300_000);

test('withHangwatch wraps a custom environment, which keeps its own setup', async () => {
  const run = await runFixture('custom-env', { args: ['--forceExit'] });
  expect(run.resultOf('the custom environment still runs its own setup').status).toBe('passed');
  const failure = run.failureOf('hangs on an invoice timer');
  expect(failure).toContain('created at billing.test.js:6:34');
}, 300_000);

test.each([30, 29] as const)(
  'Jest %i: a base environment whose handleTestEvent is a class field keeps its handler',
  async (jestMajor) => {
    const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'class-field-env-')), 'audit.log');
    const run = await runFixture('class-field-env', {
      jestMajor,
      args: ['--forceExit'],
      env: { AUDIT_LOG: log },
    });
    expect(run.resultOf('the environment’s class-field handler saw this test start').status).toBe(
      'passed',
    );
    expect(run.failureOf('hangs on a report that never arrives')).toMatch(
      /^HangError: test "hangs on a report that never arrives" hung/,
    );
    // The user's handler ran, and was awaited, for every test, the hanging one included.
    expect(fs.readFileSync(log, 'utf8').trim().split('\n')).toEqual([
      'test_start the environment’s class-field handler saw this test start',
      'test_done the environment’s class-field handler saw this test start',
      'test_start hangs on a report that never arrives',
      'test_done hangs on a report that never arrives',
    ]);
    fs.rmSync(path.dirname(log), { recursive: true, force: true });
  },
  60_000,
);

test("testEnvironment: 'hangwatch/environment' works without the preset", async () => {
  const run = await runFixture('custom-env', {
    args: ['--forceExit', '--config', 'jest.entry-point.config.js'],
  });
  expect(run.failureOf('hangs on an invoice timer')).toMatch(
    /^HangError: test "hangs on an invoice timer" hung/,
  );
}, 300_000);
