import type { MessagePort } from 'node:worker_threads';
import type { Frame } from '../model';
import type { BlockedLoopFinding } from './report';

/** What the watchdog thread is started with. */
export interface WatchdogThreadData {
  buffer: SharedArrayBuffer;
  epoch: number;
  /** The running units' descriptions (see `SharedUnitSlots`). */
  unitSlots: SharedArrayBuffer;
  /** Where the watchdog reports blocks; the test thread drains it synchronously. */
  reports: MessagePort;
  /** The tests run inside Jest's own process (`--runInBand`): nobody will retry the file. */
  inBand: boolean;
  /** Directory of frozen-unit markers for this Jest run (worker processes only). */
  markerDir: string;
}

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
}

/** The loop ran again: how long that block lasted. */
export interface BlockEnded {
  type: 'block-ended';
  token: number;
  blockStart: number;
  blockedMs: number;
}

export type FromWatchdog = BlockSeen | BlockEnded;

export type { BlockedLoopFinding };

/**
 * The exit code of a process the watchdog ended because its loop froze. Like GNU `timeout`'s; and
 * not a signal's, so Jest's worker pool restarts the process and runs the file again.
 */
export const FROZEN_LOOP_EXIT_CODE = 124;
