import { formatDuration } from '../format';
import type { ThreadCpuReader, ThreadCpuReading } from './thread-cpu';

/**
 * When a unit blocked past its timeout is frozen. The wall clock alone cannot say: on a busy
 * machine a healthy test's thread can sit runnable for seconds without a CPU, and the watchdog's
 * own look (the first `Debugger.enable` costs V8 about 0.1 s of CPU, seconds of wall time under
 * load; each stack sample pauses the thread) stops the thread too. So the time the watchdog held
 * the thread does not count, and past its timeout the thread must have had the CPU for the grace
 * (`blockThreshold`) and still not come back to its loop. A thread inside a blocking call
 * hangwatch records (execSync, Atomics.wait, a FIFO read) needs no CPU to be stuck: the wall clock
 * decides, as it does where the kernel does not say how much CPU the thread had.
 */

/** Of the grace past the timeout, the share the thread must have spent on a CPU. */
const CPU_SHARE_OF_GRACE = 0.9;
/** The least a thread that did not get the CPU (or slept outside a known call) is waited for. */
const MIN_STARVED_WAIT_MS = 10_000;

/** The test thread's CPU since it was last seen past its unit's timeout with its loop stopped. */
export interface CpuPastDeadline {
  /** Wall time measured, without the watchdog's own holds on the thread. */
  wallMs: number;
  /** Time on a CPU in it, without the watchdog's own work. */
  runMs: number;
  /** Time runnable but waiting for a CPU, where the kernel says. */
  waitMs?: number;
  /** Running or runnable at the last reading (not asleep in a system call). */
  runnable: boolean;
}

export interface FrozenEvidence {
  /** How far past its timeout the unit is, by the wall clock less the watchdog's holds. */
  pastDeadlineMs: number;
  thresholdMs: number;
  timeoutMs: number;
  /** The thread is inside a blocking call hangwatch records (./native-calls.ts). */
  inKnownNativeCall: boolean;
  /** `undefined` where the kernel does not say (not Linux). */
  cpu: CpuPastDeadline | undefined;
}

export type FrozenVerdict = { frozen: false } | { frozen: true; notes: string[] };

/** How much longer than the grace a thread kept off the CPU is given: its timeout again, ≥ 10 s. */
export function starvedWaitMs(timeoutMs: number, thresholdMs: number): number {
  return Math.max(MIN_STARVED_WAIT_MS, timeoutMs + thresholdMs);
}

export function frozenVerdict(evidence: FrozenEvidence): FrozenVerdict {
  const { pastDeadlineMs, thresholdMs, cpu } = evidence;
  if (pastDeadlineMs <= thresholdMs) return { frozen: false };
  if (evidence.inKnownNativeCall || cpu === undefined) return { frozen: true, notes: [] };
  if (cpu.runMs >= thresholdMs * CPU_SHARE_OF_GRACE) return { frozen: true, notes: [] };
  const waitMs = starvedWaitMs(evidence.timeoutMs, thresholdMs);
  if (pastDeadlineMs <= thresholdMs + waitMs) return { frozen: false };
  return { frozen: true, notes: [starvedNote(cpu, waitMs)] };
}

function starvedNote(cpu: CpuPastDeadline, waitedMs: number): string {
  const share = cpu.wallMs > 0 ? Math.round((cpu.runMs / cpu.wallMs) * 100) : 0;
  const waited = `hangwatch waited ${formatDuration(waitedMs)} longer than its blockThreshold before ending it`;
  const asleep =
    cpu.waitMs !== undefined ? (cpu.runMs + cpu.waitMs) / cpu.wallMs < 0.5 : !cpu.runnable;
  return asleep
    ? `Past its timeout the thread was neither running JavaScript nor in a blocking call hangwatch records (a native addon, or a synchronous call it does not know): ${waited}.`
    : `Past its timeout the thread got ${share}% of a CPU (the machine is busy): ${waited}, in case it was only slow.`;
}

interface Mark {
  token: number;
  beat: number;
  at: number;
  reading: ThreadCpuReading;
  held: Held;
}

interface Held {
  wallMs: number;
  runMs: number;
  waitMs: number;
}

/**
 * Keeps the measures the verdict needs on the watchdog thread: the time its own work held the test
 * thread, and the test thread's CPU past a unit's timeout. /proc is read only past a timeout with
 * the loop stopped, and around the watchdog's looks: never while tests run normally.
 */
export class ThreadCpuClock {
  private held: Held = { wallMs: 0, runMs: 0, waitMs: 0 };
  private mark: Mark | undefined;

  constructor(
    private readonly read: ThreadCpuReader | undefined,
    private readonly now: () => number,
  ) {}

  /** Total wall time the watchdog held the test thread: differences of it are a block's share. */
  heldWallMs(): number {
    return this.held.wallMs;
  }

  /**
   * Called on every poll: past the running unit's deadline, measuring starts at the first poll
   * after the loop's last beat (and starts again if it beats).
   */
  observe(token: number, deadline: number, beat: number): void {
    const now = this.now();
    if (!this.read || token === 0 || deadline <= 0 || now < deadline) {
      this.mark = undefined;
      return;
    }
    if (this.mark?.token === token && this.mark.beat === beat) return;
    const reading = this.read();
    this.mark = reading ? { token, beat, at: now, reading, held: { ...this.held } } : undefined;
  }

  /** The CPU past the deadline of `token`'s current block; `undefined` when not measured. */
  pastDeadline(token: number): CpuPastDeadline | undefined {
    const mark = this.mark;
    if (mark?.token !== token) return undefined;
    const reading = this.read?.();
    if (!reading) return undefined;
    const held = this.held;
    return {
      wallMs: Math.max(0, this.now() - mark.at - (held.wallMs - mark.held.wallMs)),
      runMs: Math.max(0, reading.runMs - mark.reading.runMs - (held.runMs - mark.held.runMs)),
      ...(reading.waitMs !== undefined && mark.reading.waitMs !== undefined
        ? {
            waitMs: Math.max(
              0,
              reading.waitMs - mark.reading.waitMs - (held.waitMs - mark.held.waitMs),
            ),
          }
        : {}),
      runnable: reading.runnable,
    };
  }

  /**
   * Runs the watchdog's own work on the test thread (a look through the inspector). When the
   * thread took part (`tookPart`: it answered), the time and CPU it spent are the watchdog's, not
   * the test's; when it did not answer, they were its own.
   */
  async aside<T>(work: () => Promise<T>, tookPart: (result: T) => boolean): Promise<T> {
    const startedAt = this.now();
    const before = this.read?.();
    const result = await work();
    if (tookPart(result)) {
      const after = before ? this.read?.() : undefined;
      this.held = {
        wallMs: this.held.wallMs + (this.now() - startedAt),
        runMs: this.held.runMs + (after && before ? after.runMs - before.runMs : 0),
        waitMs:
          this.held.waitMs +
          (after?.waitMs !== undefined && before?.waitMs !== undefined
            ? after.waitMs - before.waitMs
            : 0),
      };
    }
    return result;
  }
}
