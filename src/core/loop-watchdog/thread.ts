/**
 * The watchdog thread. It runs beside the test thread, reads the heartbeat the test thread leaves
 * in shared memory, and when the loop has stopped beating for `blockThreshold` it looks at what
 * the test thread is doing through the inspector. A loop still blocked past its unit's timeout
 * can never finish by itself, so the watchdog reports it and ends the process; what counts as
 * still blocked on a busy machine is ./verdict.ts's to say.
 */
import * as fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import type { Frame, LoopAdvice } from '../model';
import { MainThreadInspector } from './inspect-main-thread';
import {
  FROZEN_LOOP_EXIT_CODE,
  type FromWatchdog,
  type NativeCallStarted,
  type ToWatchdog,
  type WatchdogStatus,
  type WatchdogThreadData,
} from './protocol';
import type { LoopUnit } from './report';
import { agreedSample } from './samples';
import { SharedLoopState } from './shared-state';
import { SharedUnitSlots } from './unit-slots';
import { mainThreadCpuReader } from './thread-cpu';
import { ThreadCpuClock, frozenVerdict, worthLooking } from './verdict';

/**
 * What ends a unit (reports, markers, child processes), loaded the first time a unit is ended:
 * the thread starts in every test process, and almost none ever ends one.
 */
async function loadEndingTools() {
  const [children, exit, markers, report] = await Promise.all([
    import('./child-processes'),
    import('./exit-process'),
    import('./frozen-markers'),
    import('./report'),
  ]);
  return { ...children, ...exit, ...markers, ...report };
}

/** The watchdog's polling pace, between these bounds. */
const FASTEST_POLL_MS = 10;
const SLOWEST_POLL_MS = 100;
/** How long a pause may take to land before the thread is taken to be inside a native call. */
const PAUSE_TIMEOUT_MS = 1000;
/** Stack samples per look: up to 8, 15 ms apart, until 3 agree on the project's own frame. */
const SAMPLING = { maxSamples: 8, enough: 3, intervalMs: 15, timeoutMs: PAUSE_TIMEOUT_MS };
/** If ending the process through the debugger has not worked by then, it is killed. */
const EXIT_FALLBACK_MS = 2000;
/** How long an ended child's call has to return after SIGTERM, then after SIGKILL. */
const CHILD_END_GRACE_MS = 2000;

interface Block {
  /** The heartbeat the loop stopped at. */
  start: number;
  /** The unit last started when it began (the shared state's). */
  token: number;
  /**
   * The unit it is charged to: the one whose code the look found running (with `test.concurrent`
   * not always the last started), or whose native call it is in; else `token`.
   */
  owner: number;
  looked: boolean;
  /** What the first look found, for the final report when a later look gets no pause in. */
  frames?: Frame[];
  /** The watchdog's holds on the thread so far when the block began (`ThreadCpuClock`). */
  heldAtStart: number;
}

type NativeCall = NativeCallStarted & { endAttempted?: boolean };

class Watchdog {
  /** Native calls of running units, by id; the shared state says which one is in progress. */
  private readonly calls = new Map<number, NativeCall>();
  private block: Block | undefined;
  private busy = false;

  constructor(
    private readonly state: SharedLoopState,
    /** The running units' descriptions, written by the test thread as each starts. */
    private readonly units: SharedUnitSlots,
    private readonly inspector: MainThreadInspector,
    private readonly data: WatchdogThreadData,
    private readonly cpu: ThreadCpuClock,
  ) {}

  onMessage(message: ToWatchdog): void {
    // Only the latest matters: the thread is in one call at a time, so the earlier ones returned.
    this.calls.clear();
    this.calls.set(message.id, message);
  }

  /**
   * Polls often enough to notice a block within a tenth of the threshold. Before the first unit
   * arms it (no threshold yet: Jest is still loading and transforming the first file, which may
   * take seconds on a cold cache) there is nothing to notice: the slowest pace.
   */
  pollDelay(): number {
    const threshold = this.state.thresholdMs();
    if (threshold <= 0) return SLOWEST_POLL_MS;
    return Math.min(SLOWEST_POLL_MS, Math.max(FASTEST_POLL_MS, Math.round(threshold / 10)));
  }

  /** The native call the test thread is inside now, if it announced one (ids are never reused). */
  private activeCall(): NativeCall | undefined {
    return this.calls.get(this.state.nativeCall());
  }

  async poll(): Promise<void> {
    if (this.busy) return;
    if (!this.state.armed()) {
      this.block = undefined;
      return;
    }
    const beat = this.state.lastBeat();
    const now = this.state.now();
    const threshold = this.state.thresholdMs();
    if (this.block && beat !== this.block.start) {
      if (this.block.looked) {
        this.report({
          type: 'block-ended',
          token: this.block.owner,
          blockStart: this.block.start,
          blockedMs: beat - this.block.start,
        });
      }
      this.block = undefined;
    }
    const { token, deadline } = this.state.unit();
    this.cpu.observe(token, deadline, beat, threshold);
    // Half-way to a look: load what a capture needs now, not while the test thread is paused.
    if (token !== 0 && now - beat > threshold / 2) this.inspector.prepareCapture();
    if (now - beat <= threshold) return;
    this.block ??= {
      start: beat,
      token,
      owner: token,
      looked: false,
      heldAtStart: this.cpu.heldWallMs(),
    };
    // Between tests the loop is Jest's: loading and transforming files blocks it, legitimately.
    if (token === 0 || token !== this.block.token) return;
    this.busy = true;
    try {
      const block = this.block;
      if (!block.looked && this.worthLooking(token, threshold)) {
        block.looked = true;
        const call = this.activeCall();
        if (call) {
          // No pause lands inside a native call: its call site is what the thread is doing.
          block.owner = call.token;
          this.report({
            type: 'block-seen',
            token: block.owner,
            blockStart: beat,
            frames: call.frames,
            nativeCall: call.info,
          });
        } else {
          // The unit may end before a slow first look does: it then waits for this report.
          this.state.setLooking(token);
          try {
            const frames = await this.look(beat, block);
            // A block that ended before the first pause landed is not reported at a wrong place.
            if (frames !== null) {
              if (frames?.length) block.frames = frames;
              this.report({
                type: 'block-seen',
                token: block.owner,
                blockStart: beat,
                frames: frames ?? [],
              });
            }
          } finally {
            this.state.setLooking(0);
          }
        }
      } else if (deadline > 0) {
        // Jest would have failed it at `deadline` if its timer could fire; `threshold` more is
        // the grace for a synchronous test that ends a little after its timeout (Jest passes it).
        const verdict = frozenVerdict({
          pastDeadlineMs: now - (this.cpu.heldWallMs() - this.block.heldAtStart) - deadline,
          thresholdMs: threshold,
          timeoutMs: this.units.get(block.owner)?.timeoutMs ?? 0,
          inKnownNativeCall: this.activeCall() !== undefined,
          cpu: this.cpu.pastDeadline(token),
        });
        if (verdict.frozen)
          await this.endBlockedUnit(block.owner, now - block.start, verdict.advice);
      }
    } finally {
      this.busy = false;
    }
  }

  /**
   * A thread kept off the CPU by a busy machine is not looked at (yet): the look would cost it CPU
   * and stop it. Measured from the first poll the loop had been silent for half the threshold: a
   * poll that has no measure yet waits for the next one.
   */
  private worthLooking(token: number, threshold: number): boolean {
    if (!this.cpu.measures()) return true;
    const use = this.cpu.inSilence(token);
    return use !== undefined && worthLooking(use, threshold);
  }

  /**
   * The agreed stack of a few samples taken while the loop is still stopped at `blockStart`;
   * `undefined` when no pause landed (native code), `null` when the block ended first (a slow
   * first capture on a loaded machine): nothing is known of where it was.
   */
  private async look(blockStart: number, block?: Block): Promise<Frame[] | undefined | null> {
    const { samples, landed } = await this.cpu.aside(
      () =>
        this.inspector.sample({
          ...SAMPLING,
          stillBlocked: () => this.state.lastBeat() === blockStart,
          // The unit whose code runs (asked on a first look): its end, not the last started
          // one's, waits for this look.
          ...(block && {
            onUnit: (unit: number) => {
              if (unit === block.owner || !this.units.get(unit)) return;
              block.owner = unit;
              this.state.setLooking(unit);
            },
          }),
        }),
      (result) => result.answered,
    );
    if (samples.length > 0) return agreedSample(samples);
    return landed ? null : undefined;
  }

  private report(message: FromWatchdog): void {
    this.data.reports.postMessage(message);
    // Counted once posted: the test thread looks in the port only when the count moved.
    this.state.countReport();
  }

  /**
   * A unit blocked past its timeout. Inside a synchronous child-process call, ending that child
   * (and only it, with what it started) makes the call return and the run go on; otherwise the
   * process has to end.
   */
  private async endBlockedUnit(
    token: number,
    blockedMs: number,
    advice: LoopAdvice[],
  ): Promise<void> {
    const unit = this.units.get(token);
    if (!unit) return;
    const call = this.activeCall();
    const { childTreeOfCall, signalAll, buildBlockedLoopFinding } = await loadEndingTools();
    if (call?.info.childPrograms && !call.endAttempted) {
      call.endAttempted = true;
      const tree = childTreeOfCall(call.startedAt, call.info.childPrograms);
      if (tree.length > 0) {
        const finding = buildBlockedLoopFinding(
          unit,
          {
            blockedMs,
            frames: call.frames,
            frozen: true,
            severity: 'error',
            nativeCall: call.info,
            childEnded: true,
          },
          [{ code: 'ended-child-process', unit: unitWord(unit), pid: tree[0] }],
        );
        // The report first, so the thread finds it as soon as the call returns.
        this.report({ type: 'native-call-ended', token, id: call.id, finding });
        this.state.markCallEnded(call.id);
        for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
          signalAll(tree, signal);
          if (await this.callReturns(call.id, CHILD_END_GRACE_MS)) return;
        }
      }
    }
    await this.endFrozenProcess(unit, blockedMs, call, advice);
  }

  private async callReturns(id: number, withinMs: number): Promise<boolean> {
    const until = Date.now() + withinMs;
    while (Date.now() < until) {
      if (this.state.nativeCall() !== id) return true;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.state.nativeCall() !== id;
  }

  private async endFrozenProcess(
    unit: LoopUnit,
    blockedMs: number,
    call: NativeCall | undefined,
    advice: LoopAdvice[],
  ): Promise<void> {
    const {
      childTreeOfCall,
      signalAll,
      exitProcessFromThread,
      readFrozenMarker,
      writeFrozenMarker,
      buildBlockedLoopFinding,
      renderBlockedLoopText,
    } = await loadEndingTools();
    let frames: Frame[] | undefined = call?.frames;
    let paused = false;
    if (!call) {
      // On a loaded machine the last look may get no pause in: the first look's stack stands.
      const firstLook = this.block?.frames;
      frames = (await this.look(this.state.lastBeat())) ?? undefined;
      if (!frames?.some((frame) => frame.origin === 'user') && firstLook) frames = firstLook;
      // Paused, the thread can still run the code that ends the process with an exit code.
      paused = frames !== undefined && (await this.inspector.pause(PAUSE_TIMEOUT_MS)) !== undefined;
    }
    const { inBand, markerDir } = this.data;
    // A marker already there means the rerun did not stop this unit early: do not loop forever.
    const frozenBefore =
      !inBand && markerDir !== undefined && readFrozenMarker(markerDir, unit) !== undefined;
    const canRerun = !inBand && markerDir !== undefined && !frozenBefore;
    const finding = buildBlockedLoopFinding(
      unit,
      {
        blockedMs,
        frames: frames ?? [],
        frozen: true,
        severity: 'error',
        ...(call ? { nativeCall: call.info } : {}),
      },
      [...advice, endingAdvice(unit, inBand, canRerun)],
    );
    fs.writeSync(2, `\nhangwatch: ${renderBlockedLoopText(finding, unit.rootDir)}\n\n`);
    let rerun = canRerun;
    if (canRerun) {
      try {
        writeFrozenMarker(markerDir, unit, finding);
      } catch {
        // Without its marker the rerun would freeze again: end the process the way Jest won't retry.
        rerun = false;
      }
    }
    // The call's own child would outlive the process otherwise.
    if (call?.info.childPrograms) {
      signalAll(childTreeOfCall(call.startedAt, call.info.childPrograms), 'SIGKILL');
    }
    setTimeout(killProcess, EXIT_FALLBACK_MS).unref();
    if (!rerun && !inBand) {
      killProcess();
      return;
    }
    if (paused) {
      // Node prints "Waiting for the debugger to disconnect..." when a process ends with a session
      // attached; the report is out, so nothing else is wanted on stderr from this process.
      fs.closeSync(2);
      this.inspector.exitProcess(FROZEN_LOOP_EXIT_CODE);
      return;
    }
    // Blocked in native code: nothing runs on the test thread, so the exit comes from here.
    try {
      exitProcessFromThread(FROZEN_LOOP_EXIT_CODE);
    } catch {
      killProcess();
    }
  }
}

function unitWord(unit: LoopUnit): 'test' | 'hook' {
  return unit.kind === 'test' ? 'test' : 'hook';
}

function endingAdvice(unit: LoopUnit, inBand: boolean, withExitCode: boolean): LoopAdvice {
  return {
    code: 'ended-process',
    unit: unitWord(unit),
    how: inBand ? 'in-band' : withExitCode ? 'worker-rerun' : 'worker-killed',
    exitCode: FROZEN_LOOP_EXIT_CODE,
  };
}

/** SIGKILL: Jest's worker pool does not retry a process killed by a signal. */
function killProcess(): void {
  process.kill(process.pid, 'SIGKILL');
}

function main(): void {
  const port = parentPort;
  if (!port) return;
  const data = workerData as WatchdogThreadData;
  const status = (message: WatchdogStatus) => port.postMessage(message);
  let inspector: MainThreadInspector;
  try {
    inspector = new MainThreadInspector();
  } catch (error) {
    status({ type: 'unavailable', reason: `no inspector (${(error as Error).message})` });
    return;
  }
  const state = new SharedLoopState(data.buffer, data.epoch);
  const cpu = new ThreadCpuClock(mainThreadCpuReader(), () => state.now());
  const watchdog = new Watchdog(state, new SharedUnitSlots(data.unitSlots), inspector, data, cpu);
  port.on('message', (message: ToWatchdog) => watchdog.onMessage(message));
  const tick = () => {
    watchdog
      .poll()
      .catch((error: unknown) => {
        // The watchdog must never take the tests down with it: stop watching, say so once.
        fs.writeSync(2, `hangwatch: the event-loop watchdog stopped (${String(error)}).\n`);
        process.exit(0);
      })
      .finally(() => setTimeout(tick, watchdog.pollDelay()));
  };
  tick();
  status({ type: 'ready' });
}

main();
