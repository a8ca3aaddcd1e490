import type { MessagePort } from 'node:worker_threads';
import type { Frame } from '../model';
import type { NativeCallInfo } from './native-calls';
import type { BlockedLoopFinding } from './report';

/** What the watchdog thread is started with. */
export interface WatchdogThreadData {
  buffer: SharedArrayBuffer;
  epoch: number;
  /** The running tests' and hooks' descriptions (see `SharedUnitSlots`). */
  unitSlots: SharedArrayBuffer;
  /** Where the watchdog reports blocks; the test thread drains it synchronously. */
  reports: MessagePort;
  /** The tests run inside Jest's own process (`--runInBand`): nobody will retry the file. */
  inBand: boolean;
  /** The run's private directory for frozen-unit markers (worker processes only). */
  markerDir: string | undefined;
}

/** The test thread is about to enter a call that may block it in native code. */
export interface NativeCallStarted {
  type: 'native-call';
  token: number;
  id: number;
  info: NativeCallInfo;
  /** Where it was called, most recent call first. */
  frames: Frame[];
  /** `Date.now()` when it was called: a child process started after it is the call's. */
  startedAt: number;
}

export type ToWatchdog = NativeCallStarted;

/** First message on the thread's own port: whether it can watch at all. */
export type WatchdogStatus = { type: 'ready' } | { type: 'unavailable'; reason: string };

/** The loop has been blocked for `blockThreshold`: where it stood when the watchdog looked. */
export interface BlockSeen {
  type: 'block-seen';
  token: number;
  /** The heartbeat the loop stopped at: the block's start, and its identity. */
  blockStart: number;
  /** Source-mapped stack of the test thread, most recent call first; empty if none was caught. */
  frames: Frame[];
  /** The thread was inside this native call, where no pause lands: `frames` are its call site. */
  nativeCall?: NativeCallInfo;
}

/** The loop ran again: how long that block lasted. */
export interface BlockEnded {
  type: 'block-ended';
  token: number;
  blockStart: number;
  blockedMs: number;
}

/**
 * The unit stayed blocked in a native call past its timeout, and the watchdog ended the child
 * process that call was waiting on: the call returns (or throws) and the unit fails with this.
 */
export interface NativeCallEnded {
  type: 'native-call-ended';
  token: number;
  id: number;
  finding: BlockedLoopFinding;
}

export type FromWatchdog = BlockSeen | BlockEnded | NativeCallEnded;

export type { BlockedLoopFinding };

/**
 * Under this `Symbol.for` key, the test thread's globals (Node's and each test file's) hold a
 * function returning the token of the unit whose async context is current (0: none known). Called
 * by the watchdog through the debugger on a paused frame, it names the test a block is in when
 * `test.concurrent` tests run at once.
 */
export const RUNNING_UNIT_KEY = 'hangwatch.runningUnitToken';

/**
 * The exit code of a process the watchdog ended because its loop froze. Like GNU `timeout`'s; and
 * not a signal's, so Jest's worker pool restarts the process and runs the file again.
 */
export const FROZEN_LOOP_EXIT_CODE = 124;
