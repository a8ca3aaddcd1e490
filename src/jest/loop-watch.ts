import childProcess from 'node:child_process';
import fs from 'node:fs';
import { realClearInterval, realSetInterval, realSetTimeout } from '../core/real-timers';
import { receiveMessageOnPort } from 'node:worker_threads';
import { connectWatchdog, type WatchdogConnection } from '../core/loop-watchdog/connect';
import { anyFrozenMarker, readFrozenMarker } from '../core/loop-watchdog/frozen-markers';
import {
  setNativeCallRecorder,
  watchAtomicsWait,
  watchChildProcessCalls,
  watchFileSystemCalls,
  type NativeCallInfo,
  type NativeCallRecorder,
} from '../core/loop-watchdog/native-calls';
import type { BlockSeen, FromWatchdog } from '../core/loop-watchdog/protocol';
import { FROZEN_LOOP_EXIT_CODE, RUNNING_UNIT_KEY } from '../core/loop-watchdog/protocol';
import { currentAsyncContext } from '../core/async-context';
import type { BlockedLoopError, BlockedLoopFinding, LoopUnit } from '../core/loop-watchdog/report';
import type { Frame, LoopAdvice } from '../core/model';
import { Degradable } from './degrade';
import type { Lifecycle, UnitEvent } from './lifecycle';
import { publishLoopFinding } from './loop-findings';
import { noteOnce, warn } from './notices';
import type { HangwatchOptions } from './options';
import { loopReports } from './report-code';
import { hasDeadline, namingOf, type Unit } from './units';

export interface LoopWatchContext {
  testPath: string;
  rootDir: string;
  options: HangwatchOptions;
  /** The test file's global: its `Atomics` is its own. */
  global: typeof globalThis;
}

interface RunningUnit {
  token: number;
  unit: Unit;
  described: LoopUnit;
  deadline: number;
  blocks: Array<BlockSeen & { blockedMs?: number }>;
  /** The watchdog ended the child process of a native call that blocked this unit. */
  nativeFailure?: BlockedLoopError;
}

/** A unit that ended while the watchdog was still looking at its block (a slow first capture). */
interface PendingLook {
  ended: RunningUnit;
  lastBeat: number;
  endedAt: number;
}

/** How long a unit's end waits for the watchdog's look at its block to finish. */
const LOOK_WAIT_MS = 30_000;

/**
 * How often the test thread beats for a block threshold: five beats per threshold keep the
 * measured block within 20% of it.
 */
export function heartbeatEveryMs(thresholdMs: number): number {
  return Math.min(200, Math.max(5, Math.round(thresholdMs / 5)));
}

const RUNNING_UNIT_KEY_SYMBOL = Symbol.for(RUNNING_UNIT_KEY);

/** Tokens are unique in the process, so a late report about an earlier file's unit matches none. */
let nextToken = 1;
let nextCallId = 1;

/**
 * The event-loop watchdog for one test file: keeps the heartbeat going while the file runs, tells
 * the watchdog thread which test or hook is running and when its timeout expires, and when a unit
 * ends, reports any block the watchdog saw during it (a warning, or a failure with
 * `blockedLoop: 'error'`). A unit that froze the loop in an earlier run of this file (the watchdog
 * ended that process) fails at once from its marker instead of running again.
 */
export class LoopWatch implements NativeCallRecorder {
  private connection: WatchdogConnection | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  /**
   * The lifecycle's running units the watchdog was told about, in the order they started (an
   * array: see the lifecycle's `runningUnits`).
   */
  private running: RunningUnit[] = [];
  private pendingLooks: PendingLook[] = [];
  /** Units failed at once from a marker (a concurrent test as it was declared). */
  private readonly failedFromMarker = new WeakSet<Unit>();
  /** Tests described before they started (see `describedEarly`). */
  private readonly earlyUnits = new Map<Unit, RunningUnit>();
  /** The watchdog's report count when the port was last drained. */
  private reportsSeen = 0;
  /** Whether an earlier run of a file left a frozen unit's marker (looked up once per file). */
  private markersLeft = false;
  private readonly degradable = new Degradable(
    () => this.stop(),
    (reason) =>
      `internal error in the event-loop watchdog (${reason}); it is off for ${this.context.testPath}, tests run as plain Jest.`,
  );

  constructor(
    private readonly context: LoopWatchContext,
    private readonly lifecycle: Lifecycle,
  ) {
    lifecycle.subscribe(this.degradable, (event) => this.onUnitEvent(event));
  }

  /** Resolves once the watchdog thread is watching, so it is online before the first test. */
  async start(): Promise<void> {
    const connection = await connectWatchdog();
    if (typeof connection === 'string') {
      noteOnce(`the event-loop watchdog is off: ${connection}. Hang reports still work.`);
      return;
    }
    this.guard(() => {
      const threshold = this.context.options.blockThreshold;
      connection.state.arm(threshold);
      // Real timers of the outer realm, unref'd: fake timers cannot stop it, and it never keeps
      // the process alive.
      this.heartbeat = realSetInterval(() => connection.state.beat(), heartbeatEveryMs(threshold));
      this.heartbeat.unref();
      this.connection = connection;
      this.markersLeft =
        !connection.inBand &&
        connection.markerDir !== undefined &&
        anyFrozenMarker(connection.markerDir);
      // Node's modules are shared by every realm: wrapped once per process, recorded only while
      // a unit of the file now running runs. Atomics is the test file's own.
      watchChildProcessCalls(childProcess);
      watchFileSystemCalls(fs);
      watchAtomicsWait(this.context.global.Atomics);
      setNativeCallRecorder(this);
      // Node's realm and the file's: a paused frame evaluates in its own.
      for (const global of [globalThis, this.context.global]) {
        Object.defineProperty(global, RUNNING_UNIT_KEY_SYMBOL, {
          value: this.runningUnitToken,
          configurable: true,
          writable: true,
        });
      }
    });
  }

  stop(): void {
    for (const global of [globalThis, this.context.global]) {
      const own = Object.getOwnPropertyDescriptor(global, RUNNING_UNIT_KEY_SYMBOL);
      if (own?.value === this.runningUnitToken)
        delete (global as Record<symbol, unknown>)[RUNNING_UNIT_KEY_SYMBOL];
    }
    setNativeCallRecorder(undefined);
    if (this.heartbeat) realClearInterval(this.heartbeat);
    this.heartbeat = undefined;
    this.connection?.state.disarm();
    this.running = [];
    this.earlyUnits.clear();
    this.pendingLooks = [];
    this.connection = undefined;
  }

  /**
   * Runs hangwatch's own long synchronous work (a report's heap snapshot) with the watchdog
   * looking away: the loop is busy on purpose, not blocked by the test.
   */
  aside<T>(work: () => T): T {
    const state = this.connection?.state;
    if (!state?.armed()) return work();
    const { token, deadline } = state.unit();
    state.disarm();
    try {
      return work();
    } finally {
      if (this.connection?.state === state) {
        state.arm(this.context.options.blockThreshold);
        state.setUnit(token, deadline);
      }
    }
  }

  watching(): boolean {
    return this.connection !== undefined && !this.degradable.disabled && this.running.length > 0;
  }

  /**
   * The running unit whose async context is current, else the last one started: `test.concurrent`
   * tests run at once, each in its own context. Never throws: the watchdog calls it on a paused
   * frame.
   */
  private readonly runningUnitToken = (): number => {
    try {
      return this.currentUnit()?.token ?? 0;
    } catch {
      return 0;
    }
  };

  private currentUnit(): RunningUnit | undefined {
    const owner = this.lifecycle.ownerOf(currentAsyncContext()?.owner);
    const running = owner && this.runningOf(owner);
    if (running) return running;
    // Jest 29 calls every `test.concurrent` function as the file starts, before its test starts.
    if (owner?.kind === 'test' && owner.running) return this.describedEarly(owner);
    return this.running[this.running.length - 1];
  }

  private runningOf(unit: Unit): RunningUnit | undefined {
    for (let index = this.running.length - 1; index >= 0; index--) {
      if (this.running[index].unit === unit) return this.running[index];
    }
    return undefined;
  }

  /**
   * A test whose code runs before it started (see `currentUnit`): described to the watchdog now,
   * so a block in that code is charged to it; it becomes the running unit when it starts.
   */
  private describedEarly(unit: Unit): RunningUnit {
    const known = this.earlyUnits.get(unit);
    if (known) return known;
    const token = nextToken++;
    const described = this.describeUnit(unit);
    this.connection!.units.write(token, described);
    const early: RunningUnit = { token, unit, described, deadline: 0, blocks: [] };
    this.earlyUnits.set(unit, early);
    return early;
  }

  /** Every unit the watchdog may report on: the running ones and those described early. */
  private describedUnits(): RunningUnit[] {
    return [...this.running, ...this.earlyUnits.values()];
  }

  beginCall(info: NativeCallInfo, frames: Frame[]): number {
    const connection = this.connection!;
    const current = this.currentUnit();
    const id = nextCallId++;
    if (!current) return id;
    connection.send({
      type: 'native-call',
      token: current.token,
      id,
      info,
      frames,
      startedAt: Date.now(),
    });
    connection.state.setNativeCall(id);
    return id;
  }

  endCall(id: number): void {
    const connection = this.connection;
    if (!connection) return;
    connection.state.setNativeCall(0);
    if (connection.state.callEnded() !== id) return;
    this.drainReports();
    const failure = this.describedUnits().find((entry) => entry.nativeFailure)?.nativeFailure;
    // The call's own error (killed child) is replaced by the report that explains it.
    if (failure) throw failure;
  }

  /** A promise when circus must wait for the watchdog's report on a unit that just ended. */
  private onUnitEvent(event: UnitEvent): Promise<void> | undefined {
    if (!this.connection) return undefined;
    switch (event.name) {
      case 'unit_declared':
        // Jest 29 calls a concurrent test's function as the file starts: fail it before that.
        this.failFrozenRerun(event.unit);
        return undefined;
      case 'unit_started':
        if (!this.failedFromMarker.has(event.unit) && !this.failFrozenRerun(event.unit)) {
          this.begin(event.unit);
        }
        return undefined;
      case 'unit_ended':
        this.end(event.unit);
        return undefined;
      case 'test_done':
      case 'file_done':
        return this.pendingLooks.length > 0 ? this.settlePendingLooks() : undefined;
      default:
        return undefined;
    }
  }

  /**
   * Waits (asynchronously: the test thread must stay free to answer the inspector) for the looks
   * still running at units' ends, then reports what they saw against those units; before
   * `test_done` completes, so a failure still counts in the test's result.
   */
  private async settlePendingLooks(): Promise<void> {
    const connection = this.connection;
    if (!connection) return;
    const waitUntil = Date.now() + LOOK_WAIT_MS;
    const tokens = new Set(this.pendingLooks.map((pending) => pending.ended.token));
    while (tokens.has(connection.state.looking()) && Date.now() < waitUntil) {
      await new Promise((resolve) => realSetTimeout(resolve, 10));
    }
    this.guard(() => {
      this.drainReports();
      const pending = this.pendingLooks;
      this.pendingLooks = [];
      for (const { ended, lastBeat, endedAt } of pending) {
        this.reportBlocks(ended, lastBeat, endedAt);
      }
    });
  }

  private describeUnit(unit: Unit): LoopUnit {
    const { phase, testName, forTest } = namingOf(unit);
    return {
      kind: phase,
      name: testName,
      ...(forTest ? { forTest } : {}),
      testPath: this.context.testPath,
      rootDir: this.context.rootDir,
      timeoutMs: unit.timeoutMs,
    };
  }

  private begin(unit: Unit): void {
    const connection = this.connection!;
    const early = this.earlyUnits.get(unit);
    this.earlyUnits.delete(unit);
    const token = early?.token ?? nextToken++;
    const described = this.describeUnit(unit);
    const deadline = hasDeadline(unit) ? connection.state.now() + unit.timeoutMs : 0;
    connection.units.write(token, described);
    connection.state.beat();
    this.running.push({
      token,
      unit,
      described,
      deadline,
      blocks: early?.blocks ?? [],
      ...(early?.nativeFailure ? { nativeFailure: early.nativeFailure } : {}),
    });
    this.shareRunning(connection);
  }

  /**
   * Tells the watchdog the unit started last and the earliest timeout among the running units:
   * with `test.concurrent` the loop is frozen once any of them would have timed out.
   */
  private shareRunning(connection: WatchdogConnection): void {
    let last: RunningUnit | undefined;
    let deadline = 0;
    for (const running of this.running) {
      last = running;
      if (running.deadline > 0 && (deadline === 0 || running.deadline < deadline)) {
        deadline = running.deadline;
      }
    }
    connection.state.setUnit(last?.token ?? 0, deadline);
  }

  private end(unit: Unit): void {
    const connection = this.connection!;
    const ended = this.runningOf(unit);
    if (!ended) return;
    // Read before beating: unchanged, it says the block the watchdog saw lasted until now.
    const lastBeat = connection.state.lastBeat();
    const now = connection.state.now();
    connection.state.beat();
    this.drainReports();
    const index = this.running.lastIndexOf(ended);
    if (index === this.running.length - 1) this.running.pop();
    else this.running.splice(index, 1);
    this.shareRunning(connection);
    if (ended.nativeFailure) {
      // Thrown where the call was; recorded here too in case the test caught it.
      this.lifecycle.recordFailure(unit, ended.nativeFailure);
      return;
    }
    if (connection.state.looking() === ended.token) {
      this.pendingLooks.push({ ended, lastBeat, endedAt: now });
      return;
    }
    this.reportBlocks(ended, lastBeat, now);
  }

  private reportBlocks(ended: RunningUnit, lastBeat: number, now: number): void {
    for (const block of ended.blocks) {
      const blockedMs =
        block.blockedMs ?? (lastBeat === block.blockStart ? now : lastBeat) - block.blockStart;
      if (blockedMs >= this.context.options.blockThreshold && isWorthReporting(block.frames)) {
        this.reportBlock(ended, blockedMs, block.frames);
      }
    }
  }

  /** Reports wait in the port until now: reading them synchronously keeps them in order. */
  private drainReports(): void {
    const { reports, state } = this.connection!;
    // Read before draining: a report posted meanwhile moves the count again for the next drain.
    const sent = state.reportsSent();
    if (sent === this.reportsSeen) return;
    this.reportsSeen = sent;
    for (let received = receiveMessageOnPort(reports); received;) {
      const message = received.message as FromWatchdog;
      const unit =
        this.describedUnits().find((entry) => entry.token === message.token) ??
        this.pendingLooks.find((pending) => pending.ended.token === message.token)?.ended;
      if (message.type === 'native-call-ended') {
        if (unit) {
          publishLoopFinding(message.finding);
          unit.nativeFailure = new (loopReports().BlockedLoopError)(
            loopReports().renderBlockedLoopText(message.finding, this.context.rootDir),
            message.finding,
          );
        }
      } else if (message.type === 'block-seen') {
        unit?.blocks.push(message);
      } else {
        const block = unit?.blocks.find((seen) => seen.blockStart === message.blockStart);
        if (block) block.blockedMs = message.blockedMs;
      }
      received = receiveMessageOnPort(reports);
    }
  }

  private reportBlock(ended: RunningUnit, blockedMs: number, frames: Frame[]): void {
    const unit = ended.described;
    const { blockedLoop, blockThreshold } = this.context.options;
    const severity = blockedLoop === 'error' ? 'error' : 'warning';
    const advice: LoopAdvice[] =
      severity === 'warning'
        ? [
            {
              code: 'blocked-loop-warning',
              unit: unit.kind === 'test' ? 'test' : 'hook',
              blockThresholdMs: blockThreshold,
            },
          ]
        : [];
    const finding = loopReports().buildBlockedLoopFinding(
      unit,
      { blockedMs, frames, frozen: false, severity },
      advice,
    );
    publishLoopFinding(finding);
    const text = loopReports().renderBlockedLoopText(finding, this.context.rootDir);
    if (severity === 'warning') {
      warn(text);
      return;
    }
    this.lifecycle.recordFailure(ended.unit, new (loopReports().BlockedLoopError)(text, finding));
  }

  /**
   * This file runs again because the watchdog ended the process its unit froze: fail the unit
   * at once with that report rather than freeze the new process too.
   */
  private failFrozenRerun(unit: Unit): boolean {
    const connection = this.connection!;
    if (!this.markersLeft || connection.markerDir === undefined) return false;
    const described = this.describeUnit(unit);
    const frozen = readFrozenMarker(connection.markerDir, described);
    if (!frozen) return false;
    // The marker holds the finding as the ended process wrote it: its advice is replaced.
    const { notes: _written, ...facts } = frozen;
    const finding: BlockedLoopFinding = {
      ...facts,
      advice: [
        {
          code: 'rerun-after-freeze',
          unit: described.kind === 'test' ? 'test' : 'hook',
          exitCode: FROZEN_LOOP_EXIT_CODE,
        },
      ],
    };
    publishLoopFinding(finding);
    const error = new (loopReports().BlockedLoopError)(
      loopReports().renderBlockedLoopText(finding, this.context.rootDir),
      finding,
    );
    this.lifecycle.failBeforeRunning(unit, error);
    this.failedFromMarker.add(unit);
    return true;
  }

  private guard(action: () => void): void {
    this.degradable.run(action);
  }
}

/**
 * A stack of only the runner's frames is Jest's own work (or a stalled machine): not the
 * test's doing. Jest compiling a module the test required is not either. An empty stack means the
 * thread never reached JavaScript: a native call blocked it, which is worth naming.
 */
function isWorthReporting(frames: Frame[]): boolean {
  if (frames.length === 0) return true;
  if (frames.some((frame) => frame.packageName === '@jest/transform')) return false;
  return frames.some((frame) => frame.origin !== 'internal');
}
