import * as fs from 'node:fs';
import { adviceText } from '../../src/core/render/advice';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  mainThreadCpuReader,
  type ThreadCpuReading,
} from '../../src/core/loop-watchdog/thread-cpu';
import {
  ThreadCpuClock,
  frozenVerdict,
  starvedWaitMs,
  worthLooking,
  type FrozenEvidence,
} from '../../src/core/loop-watchdog/verdict';

const base: FrozenEvidence = {
  pastDeadlineMs: 1500,
  thresholdMs: 1000,
  timeoutMs: 2000,
  inKnownNativeCall: false,
  cpu: { wallMs: 1400, runMs: 1350, waitMs: 40, runnable: true },
};

describe('the frozen verdict', () => {
  test('within the grace past the timeout: not frozen, whatever the thread does', () => {
    expect(frozenVerdict({ ...base, pastDeadlineMs: 1000 })).toEqual({ frozen: false });
    expect(frozenVerdict({ ...base, pastDeadlineMs: 900, inKnownNativeCall: true })).toEqual({
      frozen: false,
    });
  });

  test('a thread that had the CPU for the grace and did not come back is frozen, with no note', () => {
    expect(frozenVerdict(base)).toEqual({ frozen: true, advice: [] });
  });

  test('a known blocking call, or a platform that does not say, is judged by the wall clock', () => {
    const asleep = { wallMs: 1400, runMs: 0, waitMs: 0, runnable: false };
    expect(frozenVerdict({ ...base, inKnownNativeCall: true, cpu: asleep })).toEqual({
      frozen: true,
      advice: [],
    });
    expect(frozenVerdict({ ...base, cpu: undefined })).toEqual({ frozen: true, advice: [] });
  });

  test('a thread kept off the CPU is waited for, then ended with a note saying so', () => {
    const starved = { wallMs: 1400, runMs: 140, waitMs: 1200, runnable: true };
    const waitMs = starvedWaitMs(base.timeoutMs, base.thresholdMs, false);
    expect(waitMs).toBe(30_000);
    expect(frozenVerdict({ ...base, cpu: starved })).toEqual({ frozen: false });
    expect(
      frozenVerdict({ ...base, pastDeadlineMs: base.thresholdMs + waitMs, cpu: starved }),
    ).toEqual({ frozen: false });
    const ended = frozenVerdict({
      ...base,
      pastDeadlineMs: base.thresholdMs + waitMs + 1,
      cpu: starved,
    });
    expect(ended).toEqual({
      frozen: true,
      advice: [{ code: 'starved-thread', asleep: false, cpuPercent: 10, waitedMs: 30_000 }],
    });
    expect(ended.frozen && ended.advice.map(adviceText)).toEqual([
      'Past its timeout the thread got 10% of a CPU (the machine is busy): hangwatch waited 30.0 s longer than its blockThreshold before ending it, in case it was only slow.',
    ]);
  });

  test('asleep outside any call hangwatch records: waited for too, and named so', () => {
    const asleep = { wallMs: 12_000, runMs: 5, waitMs: 10, runnable: false };
    const ended = frozenVerdict({ ...base, pastDeadlineMs: 20_000, cpu: asleep });
    expect(ended.frozen && adviceText(ended.advice[0])).toMatch(
      /^Past its timeout the thread was neither running JavaScript nor in a blocking call hangwatch records/,
    );
    // Without schedstat, the state at the last reading says it.
    const { waitMs: _, ...fromStat } = asleep;
    const fromStatEnded = frozenVerdict({ ...base, pastDeadlineMs: 20_000, cpu: fromStat });
    expect(fromStatEnded.frozen && adviceText(fromStatEnded.advice[0])).toContain(
      'neither running',
    );
  });

  test('a long timeout is waited for in proportion', () => {
    expect(starvedWaitMs(30_000, 1000, true)).toBe(31_000);
    expect(starvedWaitMs(30_000, 1000, false)).toBe(124_000);
    expect(starvedWaitMs(2000, 1000, true)).toBe(10_000);
  });
});

describe('whether a block is worth a look through the inspector', () => {
  test('a thread that spent half the threshold on the CPU, or sleeps in a system call: yes', () => {
    expect(worthLooking({ wallMs: 520, runMs: 510, waitMs: 5, runnable: true }, 1000)).toBe(true);
    expect(worthLooking({ wallMs: 2000, runMs: 10, waitMs: 20, runnable: false }, 1000)).toBe(true);
    expect(worthLooking({ wallMs: 2000, runMs: 10, runnable: false }, 1000)).toBe(true);
    expect(worthLooking(undefined, 1000)).toBe(true);
  });

  test('a thread a busy machine keeps off the CPU: not yet, a look would starve it further', () => {
    expect(worthLooking({ wallMs: 2000, runMs: 300, waitMs: 1690, runnable: true }, 1000)).toBe(
      false,
    );
    expect(worthLooking({ wallMs: 2000, runMs: 300, runnable: true }, 1000)).toBe(false);
  });
});

describe('the clock of the test thread’s CPU', () => {
  function fakeThread() {
    let now = 0;
    const reading: ThreadCpuReading = { runMs: 0, waitMs: 0, runnable: true };
    const clock = new ThreadCpuClock(
      () => ({ ...reading }),
      () => now,
    );
    return {
      clock,
      reading,
      advance(ms: number, share: number) {
        now += ms;
        reading.runMs += ms * share;
        reading.waitMs! += ms * (1 - share);
      },
      now: () => now,
    };
  }

  test('measures from the first poll past the deadline, and again after each beat', () => {
    const thread = fakeThread();
    thread.advance(1000, 1);
    thread.clock.observe(7, 1500, 900, 1000); // before the deadline: nothing measured
    expect(thread.clock.pastDeadline(7)).toBeUndefined();
    thread.advance(600, 1);
    thread.clock.observe(7, 1500, 900, 1000);
    thread.advance(500, 0.2);
    expect(thread.clock.pastDeadline(7)).toEqual({
      wallMs: 500,
      runMs: 100,
      waitMs: 400,
      runnable: true,
    });
    thread.clock.observe(7, 1500, 900, 1000); // same block: same start
    expect(thread.clock.pastDeadline(7)?.wallMs).toBe(500);
    thread.clock.observe(7, 1500, 2050, 1000); // the loop beat: a new block
    expect(thread.clock.pastDeadline(7)?.wallMs).toBe(0);
    expect(thread.clock.pastDeadline(8)).toBeUndefined();
  });

  test('the watchdog’s own look does not count, when the thread answered it', async () => {
    const thread = fakeThread();
    thread.advance(2000, 1);
    thread.clock.observe(1, 1000, 500, 1000);
    await thread.clock.aside(
      async () => thread.advance(3000, 0.1), // a slow Debugger.enable on a busy machine
      () => true,
    );
    expect(thread.clock.heldWallMs()).toBe(3000);
    thread.advance(400, 1);
    expect(thread.clock.pastDeadline(1)).toEqual({
      wallMs: 400,
      runMs: 400,
      waitMs: 0,
      runnable: true,
    });
    // A look the thread never answered (stuck in native code) held nothing.
    await thread.clock.aside(
      async () => thread.advance(1000, 0),
      () => false,
    );
    expect(thread.clock.heldWallMs()).toBe(3000);
    expect(thread.clock.pastDeadline(1)?.wallMs).toBe(1400);
  });

  test('a block is measured from the poll its loop had been silent for half the threshold', () => {
    const thread = fakeThread();
    thread.advance(1000, 1);
    thread.clock.observe(3, 0, 800, 1000); // silent 200 ms: not yet
    expect(thread.clock.inSilence(3)).toBeUndefined();
    thread.advance(400, 1);
    thread.clock.observe(3, 0, 800, 1000);
    thread.advance(500, 0.1);
    expect(thread.clock.inSilence(3)).toEqual({
      wallMs: 500,
      runMs: 50,
      waitMs: 450,
      runnable: true,
    });
    expect(thread.clock.pastDeadline(3)).toBeUndefined(); // no deadline
    thread.clock.observe(3, 0, 2350, 1000); // it beat: no silence now
    expect(thread.clock.inSilence(3)).toBeUndefined();
  });

  test('without a reader (not Linux) nothing is measured', () => {
    const clock = new ThreadCpuClock(undefined, () => 5000);
    clock.observe(1, 1000, 10, 1000);
    expect(clock.pastDeadline(1)).toBeUndefined();
  });
});

describe('reading the main thread from /proc', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'proc-'));
    fs.mkdirSync(path.join(root, 'self', 'task', '42'), { recursive: true });
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));
  const write = (name: string, text: string) =>
    fs.writeFileSync(path.join(root, 'self', 'task', '42', name), text);
  // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
  const stat = (state: string, utime: number, stime: number) =>
    `42 (node (jest) 1) ${state} 1 42 42 0 -1 4194560 100 0 0 0 ${utime} ${stime} 0 0 20 0 11 0\n`;

  test('schedstat gives nanoseconds on and waiting for a CPU; stat the state', () => {
    write('stat', stat('R', 300, 20));
    write('schedstat', '3200000000 1500000000 812\n');
    expect(mainThreadCpuReader(42, root)?.()).toEqual({
      runMs: 3200,
      waitMs: 1500,
      runnable: true,
    });
  });

  test('without schedstat (or with a kernel that keeps none), stat’s ticks', () => {
    write('stat', stat('S', 300, 20));
    expect(mainThreadCpuReader(42, root)?.()).toEqual({ runMs: 3200, runnable: false });
    write('schedstat', '0 0 0\n');
    expect(mainThreadCpuReader(42, root)?.()).toEqual({ runMs: 3200, runnable: false });
  });

  test('no /proc (macOS, Windows): no reader', () => {
    expect(mainThreadCpuReader(43, root)).toBeUndefined();
  });

  test('this process’s own main thread, where /proc has it', () => {
    const reader = mainThreadCpuReader();
    if (process.platform !== 'linux') {
      expect(reader).toBeUndefined();
      return;
    }
    const reading = reader?.();
    expect(reading?.runMs).toBeGreaterThan(0);
    expect(reading?.runnable).toBe(true);
  });
});
