import childProcess from 'node:child_process';
import fs from 'node:fs';
import {
  setInterval as realSetInterval,
  clearInterval as realClearInterval,
  setTimeout as realSetTimeout,
} from 'node:timers';
import { receiveMessageOnPort } from 'node:worker_threads';
import type { Circus } from '@jest/types';
import { connectWatchdog, type WatchdogConnection } from '../core/loop-watchdog/connect';
import { readFrozenMarker } from '../core/loop-watchdog/frozen-markers';
import {
  setNativeCallRecorder,
  watchAtomicsWait,
  watchChildProcessCalls,
  watchFileSystemCalls,
  type NativeCallInfo,
  type NativeCallRecorder,
} from '../core/loop-watchdog/native-calls';
import type { BlockSeen, FromWatchdog } from '../core/loop-watchdog/protocol';
import { FROZEN_LOOP_EXIT_CODE } from '../core/loop-watchdog/protocol';
import {
  BlockedLoopError,
  buildBlockedLoopFinding,
  renderBlockedLoopText,
  type BlockedLoopFinding,
  type LoopUnit,
} from '../core/loop-watchdog/report';
import type { Frame } from '../core/model';
import { publishLoopFinding } from './loop-findings';
import type { HangwatchOptions } from './options';
import { fullTestName, hookSubject } from './units';
import { Degradable, noteOnce } from './degrade';

export interface LoopWatchContext {
  testPath: string;
  rootDir: string;
  options: HangwatchOptions;
  /** The test file's global: its `Atomics` is its own. */
  global: typeof globalThis;
}

interface RunningUnit {
  token: number;
  unit: LoopUnit;
  deadline: number;
  blocks: Array<BlockSeen & { blockedMs?: number }>;
  /** The watchdog ended the child process of a native call that blocked this unit. */
  nativeFailure?: BlockedLoopError;
}

type Runnable = Circus.TestEntry | Circus.Hook;

/** A unit that ended while the watchdog was still looking at its block (a slow first capture). */
interface PendingLook {
  ended: RunningUnit;
  runnable: Runnable;
  state: Circus.State;
  lastBeat: number;
  endedAt: number;
}

/** How long a unit's end waits for the watchdog's look at its block to finish. */
const LOOK_WAIT_MS = 30_000;

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
  private readonly running = new Map<Runnable, RunningUnit>();
  private pendingLooks: PendingLook[] = [];
  private readonly degradable = new Degradable(
    () => this.stop(),
    (reason) =>
      `hangwatch: internal error in the event-loop watchdog (${reason}); it is off for ${this.context.testPath}, tests run as plain Jest.`,
  );

  constructor(private readonly context: LoopWatchContext) {}

  /** Resolves once the watchdog thread is watching, so it is online before the first test. */
  async start(): Promise<void> {
    const connection = await connectWatchdog();
    if (typeof connection === 'string') {
      noteOnce(
        `hangwatch: the event-loop watchdog is off: ${connection}. Hang reports still work.`,
      );
      return;
    }
    this.guard(() => {
      const threshold = this.context.options.blockThreshold;
      connection.state.arm(threshold);
      // Real timers of the outer realm, unref'd: fake timers cannot stop it, and it never keeps
      // the process alive. Five beats per threshold keep the measured block within 20% of it.
      const beatEvery = Math.min(200, Math.max(5, Math.round(threshold / 5)));
      this.heartbeat = realSetInterval(() => connection.state.beat(), beatEvery);
      this.heartbeat.unref();
      this.connection = connection;
      // Node's modules are shared by every realm: wrapped once per process, recorded only while
      // a unit of the file now running runs. Atomics is the test file's own.
      watchChildProcessCalls(childProcess);
      watchFileSystemCalls(fs);
      watchAtomicsWait(this.context.global.Atomics);
      setNativeCallRecorder(this);
    });
  }

  stop(): void {
    setNativeCallRecorder(undefined);
    if (this.heartbeat) realClearInterval(this.heartbeat);
    this.heartbeat = undefined;
    this.connection?.state.disarm();
    this.running.clear();
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
    return this.connection !== undefined && !this.degradable.disabled && this.running.size > 0;
  }

  beginCall(info: NativeCallInfo, frames: Frame[]): number {
    const connection = this.connection!;
    const current = [...this.running.values()].pop();
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
    const failure = [...this.running.values()].find((entry) => entry.nativeFailure)?.nativeFailure;
    // The call's own error (killed child) is replaced by the report that explains it.
    if (failure) throw failure;
  }

  /** A promise when circus must wait for the watchdog's report on a unit that just ended. */
  handleTestEvent(event: Circus.Event, state: Circus.State): Promise<void> | undefined {
    if (!this.connection || this.degradable.disabled) return undefined;
    this.guard(() => this.onEvent(event, state));
    if (
      this.pendingLooks.length > 0 &&
      (event.name === 'test_done' || event.name === 'run_finish')
    ) {
      return this.settlePendingLooks();
    }
    return undefined;
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
      for (const { ended, runnable, state, lastBeat, endedAt } of pending) {
        this.reportBlocks(ended, runnable, state, lastBeat, endedAt);
      }
    });
  }

  private onEvent(event: Circus.Event, state: Circus.State): void {
    switch (event.name) {
      case 'test_fn_start': {
        const unit = this.describeUnit('test', fullTestName(event.test));
        unit.timeoutMs = event.test.timeout || state.testTimeout;
        if (!this.failFrozenRerun(event.test, unit)) this.begin(event.test, unit);
        break;
      }
      case 'test_fn_success':
      case 'test_fn_failure':
        this.end(event.test, state);
        break;
      case 'hook_start': {
        const { hook } = event;
        const { name, test } = hookSubject(hook, state);
        const unit = this.describeUnit(hook.type, name, test ? name : undefined);
        unit.timeoutMs = hook.timeout || state.testTimeout;
        if (!this.failFrozenRerun(hook, unit)) this.begin(hook, unit);
        break;
      }
      case 'hook_success':
      case 'hook_failure':
        this.end(event.hook, state);
        break;
      default:
        break;
    }
  }

  private describeUnit(kind: LoopUnit['kind'], name: string, forTest?: string): LoopUnit {
    return {
      kind,
      name,
      ...(forTest ? { forTest } : {}),
      testPath: this.context.testPath,
      rootDir: this.context.rootDir,
      timeoutMs: 0,
    };
  }

  private begin(runnable: Runnable, unit: LoopUnit): void {
    const connection = this.connection!;
    const token = nextToken++;
    const hasDeadline = unit.timeoutMs > 0 && Number.isFinite(unit.timeoutMs);
    const deadline = hasDeadline ? connection.state.now() + unit.timeoutMs : 0;
    connection.units.write(token, unit);
    connection.state.setUnit(token, deadline);
    connection.state.beat();
    this.running.set(runnable, { token, unit, deadline, blocks: [] });
  }

  private end(runnable: Runnable, state: Circus.State): void {
    const connection = this.connection!;
    const ended = this.running.get(runnable);
    if (!ended) return;
    // Read before beating: unchanged, it says the block the watchdog saw lasted until now.
    const lastBeat = connection.state.lastBeat();
    const now = connection.state.now();
    connection.state.beat();
    this.drainReports();
    this.running.delete(runnable);
    const stillRunning = [...this.running.values()].pop();
    connection.state.setUnit(stillRunning?.token ?? 0, stillRunning?.deadline ?? 0);
    if (ended.nativeFailure) {
      // Thrown where the call was; recorded here too in case the test caught it.
      if (!hasError(runnable, ended.nativeFailure, state)) {
        recordFailure(ended.nativeFailure, runnable, state);
      }
      return;
    }
    if (connection.state.looking() === ended.token) {
      this.pendingLooks.push({ ended, runnable, state, lastBeat, endedAt: now });
      return;
    }
    this.reportBlocks(ended, runnable, state, lastBeat, now);
  }

  private reportBlocks(
    ended: RunningUnit,
    runnable: Runnable,
    state: Circus.State,
    lastBeat: number,
    now: number,
  ): void {
    for (const block of ended.blocks) {
      const blockedMs =
        block.blockedMs ?? (lastBeat === block.blockStart ? now : lastBeat) - block.blockStart;
      if (blockedMs >= this.context.options.blockThreshold && isWorthReporting(block.frames)) {
        this.reportBlock(ended.unit, blockedMs, block.frames, runnable, state);
      }
    }
  }

  /** Reports wait in the port until now: reading them synchronously keeps them in order. */
  private drainReports(): void {
    const reports = this.connection!.reports;
    for (let received = receiveMessageOnPort(reports); received;) {
      const message = received.message as FromWatchdog;
      const unit =
        [...this.running.values()].find((entry) => entry.token === message.token) ??
        this.pendingLooks.find((pending) => pending.ended.token === message.token)?.ended;
      if (message.type === 'native-call-ended') {
        if (unit) {
          publishLoopFinding(message.finding);
          unit.nativeFailure = new BlockedLoopError(
            renderBlockedLoopText(message.finding, this.context.rootDir),
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

  private reportBlock(
    unit: LoopUnit,
    blockedMs: number,
    frames: Frame[],
    runnable: Runnable,
    state: Circus.State,
  ): void {
    const { blockedLoop, blockThreshold } = this.context.options;
    const severity = blockedLoop === 'error' ? 'error' : 'warning';
    const notes =
      severity === 'warning'
        ? [
            `A warning only: the ${unit.kind === 'test' ? 'test' : 'hook'} is not failed. Nothing else runs while the loop is blocked (timers, I/O, other tests' callbacks); set blockedLoop: 'error' in testEnvironmentOptions.hangwatch to fail it, or raise blockThreshold (${blockThreshold} ms).`,
          ]
        : [];
    const finding = buildBlockedLoopFinding(
      unit,
      { blockedMs, frames, frozen: false, severity },
      notes,
    );
    publishLoopFinding(finding);
    const text = renderBlockedLoopText(finding, this.context.rootDir);
    if (severity === 'warning') {
      process.stderr.write(`hangwatch: ${text}\n`);
      return;
    }
    recordFailure(new BlockedLoopError(text, finding), runnable, state);
  }

  /**
   * This file runs again because the watchdog ended the process its unit froze: fail the unit
   * at once with that report rather than freeze the new process too.
   */
  private failFrozenRerun(runnable: Runnable, unit: LoopUnit): boolean {
    const connection = this.connection!;
    if (connection.inBand || connection.markerDir === undefined) return false;
    const frozen = readFrozenMarker(connection.markerDir, unit);
    if (!frozen) return false;
    const finding: BlockedLoopFinding = { ...frozen, notes: [rerunNote(unit)] };
    publishLoopFinding(finding);
    const error = new BlockedLoopError(
      renderBlockedLoopText(finding, this.context.rootDir),
      finding,
    );
    runnable.fn = function frozenInAnEarlierRun() {
      throw error;
    } as typeof runnable.fn;
    return true;
  }

  private guard(action: () => void): void {
    this.degradable.run(action);
  }
}

function rerunNote(unit: LoopUnit): string {
  const what = unit.kind === 'test' ? 'test' : 'hook';
  return `Jest's timeout cannot fire while the loop is blocked, so hangwatch ended the worker process running it (exit code ${FROZEN_LOOP_EXIT_CODE}); Jest ran the file again in a new worker, where this ${what} was not called again.`;
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

function hasError(runnable: Runnable, error: Error, state: Circus.State): boolean {
  const test =
    'type' in runnable && runnable.type === 'test'
      ? runnable
      : (state.currentlyRunningTest ?? undefined);
  return (
    (test?.errors ?? []).some((entry) =>
      Array.isArray(entry) ? entry.includes(error) : entry === error,
    ) || state.unhandledErrors.includes(error)
  );
}

/** Where circus keeps a unit's failures: the test's errors, or the file's for `*All` hooks. */
function recordFailure(error: Error, runnable: Runnable, state: Circus.State): void {
  const test =
    'type' in runnable && runnable.type === 'test'
      ? runnable
      : (state.currentlyRunningTest ?? undefined);
  const isAllHook =
    'type' in runnable && (runnable.type === 'beforeAll' || runnable.type === 'afterAll');
  if (test && !isAllHook) {
    test.errors.push([error, error]);
  } else {
    state.unhandledErrors.push(error);
  }
}
