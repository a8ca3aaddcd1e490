import * as fs from 'node:fs';

/**
 * What the kernel says of the test thread's CPU: how long it has run, and whether it wants to run.
 * A loop spinning in the test's code runs; a thread a busy machine keeps off the CPU waits for one
 * (runnable, not running); a thread inside a blocking system call sleeps. From another thread the
 * heartbeat alone cannot tell these apart.
 */
export interface ThreadCpuReading {
  /** Time the thread has spent on a CPU since it started, in ms. */
  runMs: number;
  /** Time it has spent runnable but waiting for a CPU, in ms, where the kernel keeps it. */
  waitMs?: number;
  /** Its state now: running or runnable (`true`), or asleep in the kernel (`false`). */
  runnable: boolean;
}

export type ThreadCpuReader = () => ThreadCpuReading | undefined;

/** Linux's USER_HZ: /proc tick counts are in these on every architecture Node runs on. */
const TICKS_PER_SECOND = 100;

/**
 * Reads the CPU of the process's main thread (on Linux its thread id is the process id) from
 * /proc: `schedstat` (nanoseconds on the CPU and waiting for one) and `stat` (state, and tick
 * counts where `schedstat` is missing). `undefined` where /proc does not say (macOS, Windows, a
 * kernel without it): the watchdog then judges by the wall clock alone.
 */
export function mainThreadCpuReader(
  pid: number = process.pid,
  procRoot = '/proc',
): ThreadCpuReader | undefined {
  const task = `${procRoot}/self/task/${pid}`;
  const read: ThreadCpuReader = () => {
    try {
      const stat = parseStat(fs.readFileSync(`${task}/stat`, 'utf8'));
      const sched = readSchedstat(`${task}/schedstat`);
      return sched ? { ...sched, runnable: stat.runnable } : stat;
    } catch {
      return undefined;
    }
  };
  return read() ? read : undefined;
}

function parseStat(text: string): ThreadCpuReading {
  // The command name (in parentheses) may hold spaces: the fields start after its last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0] ?? '';
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
  if (!Number.isFinite(ticks)) throw new Error('unreadable stat');
  // R: running or runnable. S and D: asleep in a system call. Anything else (stopped, traced):
  // not the test's doing, treated as wanting to run.
  return { runMs: (ticks * 1000) / TICKS_PER_SECOND, runnable: state !== 'S' && state !== 'D' };
}

function readSchedstat(file: string): Omit<ThreadCpuReading, 'runnable'> | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const [runNs, waitNs] = text.trim().split(/\s+/).map(Number);
  // "0 0 0": the kernel keeps no scheduler statistics.
  if (!runNs || !Number.isFinite(runNs) || !Number.isFinite(waitNs)) return undefined;
  return { runMs: runNs / 1e6, waitMs: (waitNs ?? 0) / 1e6 };
}
