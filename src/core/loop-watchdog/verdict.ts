import type { LoopAdvice } from '../model';
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
/**
 * How long past the grace a thread is waited for when it did not spend the grace on a CPU. Asleep
 * outside any call hangwatch records (a native addon): the least of the two, it will not wake. Kept
 * off the CPU by a busy machine: it is judged by its CPU, and the wall clock only bounds the wait
 * (a thread that got 5% of a CPU needs 18 s for a grace of 1 s).
 */
const MIN_ASLEEP_WAIT_MS = 10_000;
const MIN_STARVED_WAIT_MS = 30_000;

/** The test thread's CPU since a point of a block (past its unit's timeout, or into the block). */
export interface CpuUse {
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
  cpu: CpuUse | undefined;
}

export type FrozenVerdict = { frozen: false } | { frozen: true; advice: LoopAdvice[] };

/**
 * How much longer than the grace a thread that did not spend it on a CPU is given: asleep, its
 * timeout and threshold again (at least 10 s); kept off the CPU, four times that (at least 30 s).
 */
export function starvedWaitMs(timeoutMs: number, thresholdMs: number, asleep: boolean): number {
  return asleep
    ? Math.max(MIN_ASLEEP_WAIT_MS, timeoutMs + thresholdMs)
    : Math.max(MIN_STARVED_WAIT_MS, 4 * (timeoutMs + thresholdMs));
}

export function frozenVerdict(evidence: FrozenEvidence): FrozenVerdict {
  const { pastDeadlineMs, thresholdMs, cpu } = evidence;
  if (pastDeadlineMs <= thresholdMs) return { frozen: false };
  if (evidence.inKnownNativeCall || cpu === undefined) return { frozen: true, advice: [] };
  if (cpu.runMs >= thresholdMs * CPU_SHARE_OF_GRACE) return { frozen: true, advice: [] };
  const waitMs = starvedWaitMs(evidence.timeoutMs, thresholdMs, isAsleep(cpu));
  if (pastDeadlineMs <= thresholdMs + waitMs) return { frozen: false };
  return { frozen: true, advice: [starvedAdvice(cpu, waitMs)] };
}

/**
 * Whether the watchdog looks at a block through the inspector now. A look costs the test thread
 * CPU (V8 replays every script to the debugger) and stops it: worth it for a thread that spent
 * half the threshold of CPU in the block without coming back to its loop, or one asleep outside
 * JavaScript (a pause never lands there: it costs nothing). A thread a busy machine keeps off the
 * CPU is not blocking anything itself, and a look would only starve it further: not yet.
 */
export function worthLooking(cpu: CpuUse | undefined, thresholdMs: number): boolean {
  return cpu === undefined || cpu.runMs >= thresholdMs / 2 || isAsleep(cpu);
}

/** Mostly neither running nor waiting for a CPU: inside a system call that blocks. */
function isAsleep(cpu: CpuUse): boolean {
  if (cpu.waitMs === undefined) return !cpu.runnable;
  return cpu.wallMs > 0 && (cpu.runMs + cpu.waitMs) / cpu.wallMs < 0.5;
}

function starvedAdvice(cpu: CpuUse, waitedMs: number): LoopAdvice {
  const cpuPercent = cpu.wallMs > 0 ? Math.round((cpu.runMs / cpu.wallMs) * 100) : 0;
  return { code: 'starved-thread', asleep: isAsleep(cpu), cpuPercent, waitedMs };
}

interface Mark {
  /** The unit, and the heartbeat the loop stopped at: a new one of either starts a new mark. */
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
 * thread, and the test thread's CPU once its loop has been silent for half the threshold, and past
 * a unit's timeout. /proc is read only then and around the watchdog's looks: never while the loop
 * beats.
 */
export class ThreadCpuClock {
  private held: Held = { wallMs: 0, runMs: 0, waitMs: 0 };
  private mark: Mark | undefined;
  private silence: Mark | undefined;

  constructor(
    private readonly read: ThreadCpuReader | undefined,
    private readonly now: () => number,
  ) {}

  /** The kernel says how much CPU the test thread has: /proc is there. */
  measures(): boolean {
    return this.read !== undefined;
  }

  /** Total wall time the watchdog held the test thread: differences of it are a block's share. */
  heldWallMs(): number {
    return this.held.wallMs;
  }

  /**
   * Called on every poll: past the running unit's deadline, measuring starts at the first poll
   * after the loop's last beat (and starts again if it beats).
   */
  observe(token: number, deadline: number, beat: number, thresholdMs: number): void {
    const now = this.now();
    const silent = token !== 0 && now - beat > thresholdMs / 2;
    this.silence = silent ? this.markAt(this.silence, token, beat) : undefined;
    const past = token !== 0 && deadline > 0 && now >= deadline;
    this.mark = past ? this.markAt(this.mark, token, beat) : undefined;
  }

  private markAt(mark: Mark | undefined, token: number, beat: number): Mark | undefined {
    if (mark?.token === token && mark.beat === beat) return mark;
    const reading = this.read?.();
    return reading ? { token, beat, at: this.now(), reading, held: { ...this.held } } : undefined;
  }

  /** The CPU past the deadline of `token`'s current block; `undefined` when not measured. */
  pastDeadline(token: number): CpuUse | undefined {
    return this.since(this.mark, token);
  }

  /**
   * The CPU of `token`'s current block since its loop had been silent for half the threshold;
   * `undefined` when not measured.
   */
  inSilence(token: number): CpuUse | undefined {
    return this.since(this.silence, token);
  }

  private since(mark: Mark | undefined, token: number): CpuUse | undefined {
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
