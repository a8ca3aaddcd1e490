// The benchmarks' per-thread CPU (bench/thread-cpu.js): how the watchdog thread's share is told.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const { threadCpuByName, WORKER_THREAD_NAME, mainAndV8WorkerCpu } =
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('../../bench/thread-cpu') as {
    threadCpuByName: (taskDir?: string) => Record<string, number>;
    WORKER_THREAD_NAME: string;
    mainAndV8WorkerCpu: (usage: {
      threadCpuMs?: Record<string, number>;
    }) => { mainMs: number; v8WorkerMs: number } | undefined;
  };

const made: string[] = [];
afterAll(() => made.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

/** A /proc/<pid>/task directory with one `stat` per thread: name, utime and stime in ticks. */
function fakeTasks(threads: [tid: number, name: string, utime: number, stime: number][]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangwatch-tasks-'));
  made.push(dir);
  for (const [tid, name, utime, stime] of threads) {
    fs.mkdirSync(path.join(dir, String(tid)));
    // Fields after the name: state, ppid, pgrp, session, tty, tpgid, flags, minflt, cminflt,
    // majflt, cmajflt, utime, stime, ...
    const rest = ['S', 1, 1, 1, 0, -1, 4194560, 10, 0, 0, 0, utime, stime, 0, 0, 20, 0, 8];
    fs.writeFileSync(path.join(dir, String(tid), 'stat'), `${tid} (${name}) ${rest.join(' ')}\n`);
  }
  return dir;
}

describe('threadCpuByName', () => {
  it('sums user and system ticks per thread name, in milliseconds', () => {
    const dir = fakeTasks([
      [100, 'MainThread', 500, 50],
      [101, 'V8Worker', 20, 1],
      [102, 'V8Worker', 10, 0],
      [103, WORKER_THREAD_NAME, 6, 1],
    ]);
    expect(threadCpuByName(dir)).toEqual({
      MainThread: 5500,
      V8Worker: 310,
      [WORKER_THREAD_NAME]: 70,
    });
  });

  it('reads a name with spaces and parentheses, and skips a thread that is gone', () => {
    const dir = fakeTasks([[200, 'odd (name) here', 3, 2]]);
    fs.mkdirSync(path.join(dir, '201')); // ended between the listing and the read: no stat
    expect(threadCpuByName(dir)).toEqual({ 'odd (name) here': 50 });
  });

  it('is empty where there is no /proc', () => {
    expect(threadCpuByName(path.join(os.tmpdir(), 'no-such-proc-task-dir'))).toEqual({});
  });

  it("reads this process's own threads on Linux", () => {
    if (process.platform !== 'linux') return;
    const threads = threadCpuByName();
    expect(Object.keys(threads).length).toBeGreaterThan(0);
    expect(Object.values(threads).every((ms) => ms >= 0)).toBe(true);
  });
});

describe('mainAndV8WorkerCpu', () => {
  it('splits a run between the test thread and V8’s helper threads', () => {
    const usage = { threadCpuMs: { MainThread: 3000, V8Worker: 1500, WorkerThread: 40 } };
    expect(mainAndV8WorkerCpu(usage)).toEqual({ mainMs: 3000, v8WorkerMs: 1500 });
  });

  it('is undefined where Node does not name its threads (Node 20: all "node")', () => {
    expect(mainAndV8WorkerCpu({ threadCpuMs: { node: 4500 } })).toBeUndefined();
    expect(mainAndV8WorkerCpu({})).toBeUndefined();
  });
});
