import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  REPO_ROOT,
  runFixture,
  reportOf,
  topFrameOf,
  type FixtureRun,
} from '../helpers/run-fixture';

/**
 * Loops that never end and calls that block inside native code: every run ends by itself, with
 * Jest's own results (JSON, reporters, exit code 1), in worker processes and in band alike.
 * No timing is asserted: each frozen unit is ended when the watchdog finds it past its timeout,
 * however long a loaded machine takes to get there.
 */
const FROZEN = {
  while: {
    name: 'never leaves its while loop',
    at: 'frozen-test.test.js:5:',
    after: 'passes after the loop',
  },
  microtasks: {
    name: 'spins on microtasks, waiting for a timer that cannot fire',
    at: 'frozen-microtask.test.js:4:',
    after: 'passes after the spin',
  },
  regex: {
    name: 'matches a catastrophic regular expression',
    at: 'frozen-regex.test.js:4:',
    after: 'passes after the regular expression',
  },
} as const;

let frozenInBand: FixtureRun;
let singleFile: FixtureRun;
let inProcess: FixtureRun;
let nativeInWorkers: FixtureRun;
let nativeInBand: FixtureRun;
let planted: FixtureRun;
let jest29: FixtureRun;
let unoptimised: FixtureRun;
/**
 * The FIFO fixture's temp directory: its worker is ended inside the read, so its own `afterAll`
 * never removes it.
 */
const nativeTemp = fs.mkdtempSync(path.join(os.tmpdir(), 'loop-native-e2e-'));
afterAll(() => fs.rmSync(nativeTemp, { recursive: true, force: true }));
beforeAll(async () => {
  // Generous: on a machine loaded many times over, each Jest worker start takes many seconds.
  const timeoutMs = 600_000;
  // A few Jest runs at a time: each frozen unit costs a worker restart, and the machine is shared.
  [frozenInBand, singleFile, inProcess] = await Promise.all([
    runFixture('loop-frozen', {
      args: ['--runInBand', 'frozen-(test|microtask|regex)|fine'],
      timeoutMs,
    }),
    runFixture('loop-frozen', { args: ['frozen-microtask'], timeoutMs }),
    runFixture('loop-frozen', {
      args: ['--runInBand', '--config', 'jest.in-process.config.js', 'frozen-test'],
      timeoutMs,
    }),
  ]);
  [nativeInWorkers, nativeInBand] = await Promise.all([
    runFixture('loop-native', { args: ['--maxWorkers=2'], env: { TMPDIR: nativeTemp }, timeoutMs }),
    runFixture('loop-native', { args: ['--runInBand'], env: { TMPDIR: nativeTemp }, timeoutMs }),
  ]);
  [planted, jest29, unoptimised] = await Promise.all([
    runFixture('loop-planted', { args: ['--runInBand'], timeoutMs }),
    runFixture('jest29', {
      jestMajor: 29,
      args: ['--config', 'jest.loop.config.js', '--runInBand'],
      timeoutMs,
    }),
    runFixture('loop-unoptimised', { nodeArgs: ['--no-opt'], args: ['--runInBand'], timeoutMs }),
  ]);
}, 1_800_000);

describe('in band (--runInBand, or one file): the run completes with Jest’s results', () => {
  test.each(Object.entries(FROZEN))(
    'a %s loop fails its test with the report at its line',
    (_, unit) => {
      const failure = frozenInBand.failureOf(unit.name);
      expect(reportOf(failure)).toMatch(
        new RegExp(
          `^BlockedLoopError: test "${escape(unit.name)}" froze the event loop: blocked for \\d+\\.\\d s, past its 1\\.0 s timeout, at ${escape(unit.at)}`,
        ),
      );
      expect(topFrameOf(failure)).toContain(unit.at);
      expect(frozenInBand.resultOf(unit.after).status).toBe('passed');
    },
  );

  test('the other files run, reporters write their output, and Jest exits 1', () => {
    expect(frozenInBand.resultOf('a file after the frozen ones still runs').status).toBe('passed');
    expect(frozenInBand.resultOf('passes before the loop').status).toBe('passed');
    expect(frozenInBand.stdout + frozenInBand.stderr).toMatch(/Tests:\s+3 failed, \d+ passed/);
    expect(frozenInBand.stderr).toContain(
      'hangwatch: 3 findings in this run: 3 blocked event loops',
    );
    expect(frozenInBand.exitCode).toBe(1);
  });

  test('one file on its own (Jest’s own in-band choice) ends the same way', () => {
    expect(singleFile.failureOf(FROZEN.microtasks.name)).toContain(FROZEN.microtasks.at);
    expect(singleFile.resultOf(FROZEN.microtasks.after).status).toBe('passed');
    expect(singleFile.exitCode).toBe(1);
  });

  test('inBandWorker: false keeps the tests in Jest’s process: the report, then exit code 124', () => {
    expect(inProcess.exitCode).toBe(124);
    expect(inProcess.stderr).toMatch(
      /hangwatch: test "never leaves its while loop" froze the event loop: .* at frozen-test\.test\.js:5:\d+\./,
    );
    expect(inProcess.stderr).toContain('the tests ran inside Jest itself');
    expect(inProcess.stderr).not.toContain('Waiting for the debugger');
  });
});

describe.each([
  ['in worker processes', () => nativeInWorkers],
  ['in band', () => nativeInBand],
])('blocked in a native call, %s', (_, run) => {
  test('execSync of a command that never returns: its child is ended, the test fails at the call, the file goes on', () => {
    const failure = run().failureOf('waits on a command that never returns');
    expect(reportOf(failure)).toMatch(
      /^BlockedLoopError: test "waits on a command that never returns" froze the event loop: blocked for \d+\.\d s, past its 1\.0 s timeout, in a native call, child_process\.execSync\(sleep 600\), at exec\.test\.js:8:3\./,
    );
    expect(failure).toContain('hangwatch ended the child process this call started');
    expect(topFrameOf(failure)).toContain('exec.test.js:8:3');
    expect(run().resultOf('passes before the command').status).toBe('passed');
    expect(run().resultOf('passes after the command').status).toBe('passed');
  });

  test('Atomics.wait on the main thread: named at its line; the process is ended and the file runs again', () => {
    const failure = run().failureOf('waits on a value nobody changes');
    expect(reportOf(failure)).toMatch(
      /in a native call, Atomics\.wait\(index 0, value 0, timeout none\), at atomics\.test\.js:3:\d+\./,
    );
    expect(failure).toContain('Jest ran the file again in a new worker');
    expect(run().resultOf('passes after the wait').status).toBe('passed');
  });

  test('a synchronous read of a FIFO nobody writes to: named with its path', () => {
    const failure = run().failureOf('reads a FIFO nobody writes to');
    expect(reportOf(failure)).toMatch(
      /in a native call, fs\.readFileSync\(.*requests \(FIFO\)\), at fifo\.test\.js:14:\d+\./,
    );
    expect(run().resultOf('passes after the read').status).toBe('passed');
  });

  test('another file passes and Jest exits 1 with its JSON results', () => {
    expect(run().resultOf('a file beside the blocked ones still runs').status).toBe('passed');
    expect(run().files).toHaveLength(4);
    expect(run().exitCode).toBe(1);
  });
});

test('no child process is left behind', async () => {
  const sleeping = await new Promise<string>((resolve) => {
    const ps = spawn('ps', ['-eo', 'args'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    ps.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    ps.on('close', () => resolve(out));
  });
  expect(sleeping.split('\n').filter((line) => line.trim() === 'sleep 600')).toEqual([]);
});

test('markers planted by another process, in the old shared location or the run’s own, are ignored', () => {
  expect(planted.resultOf('plants markers').status).toBe('passed');
  expect(planted.resultOf('runs although markers were planted for it').status).toBe('passed');
  expect(planted.stderr).not.toContain('FORGED REPORT');
  expect(planted.exitCode).toBe(0);
});

describe('code V8 has not optimised: pauses land on entering a loop’s callee', () => {
  test('a loop polling a callback is named at its own line, not in the callback', () => {
    const failure = unoptimised.failureOf('polls a flag nothing sets');
    expect(reportOf(failure)).toMatch(/froze the event loop: .* at poll\.test\.js:4:\d+\./);
    expect(failure).toMatch(/- waitUntil \(poll\.test\.js:4:\d+\)/);
  });

  test('a helper whose loop is its first statement is still named at that loop', () => {
    const failure = unoptimised.failureOf('calls a helper that loops from its first statement');
    expect(reportOf(failure)).toMatch(/froze the event loop: .* at poll\.test\.js:11:\d+\./);
    expect(failure).toMatch(/- spinForever \(poll\.test\.js:11:\d+\)/);
    expect(unoptimised.resultOf('passes after the loops').status).toBe('passed');
  });
});

test('Jest 29: frozen loops and native calls in band end with Jest’s results', () => {
  expect(jest29.failureOf(FROZEN.while.name)).toContain(FROZEN.while.at);
  expect(jest29.failureOf(FROZEN.microtasks.name)).toContain(FROZEN.microtasks.at);
  expect(jest29.failureOf('waits on a command that never returns')).toMatch(
    /child_process\.execSync\(sleep 600\), at \S*exec\.test\.js:8:3/,
  );
  expect(jest29.failureOf('waits on a value nobody changes')).toContain('Atomics.wait(');
  expect(jest29.resultOf('passes after the command').status).toBe('passed');
  expect(jest29.resultOf('a file after the frozen ones still runs').status).toBe('passed');
  expect(jest29.exitCode).toBe(1);
});

test('the microtask spin is named at its line in 20 looks out of 20', async () => {
  const probe = path.join(REPO_ROOT, 'test', 'helpers', 'microtask-spin-probe.js');
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [probe, '20', '200'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(err))));
  });
  const rounds = output
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { type: string; line: number | null });
  expect(rounds).toHaveLength(20);
  expect(rounds.map((round) => round.line)).toEqual(Array(20).fill(18));
}, 120_000);

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
