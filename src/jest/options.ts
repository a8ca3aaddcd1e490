import { DEFAULT_STACK_DEPTH } from '../core/stack';
import {
  isBoolean,
  isPositiveInteger,
  oneOf,
  validateOptions,
  type Check,
  type OptionSet,
} from './validate-options';

export { HangwatchConfigError } from './validate-options';

/**
 * Options read from `testEnvironmentOptions.hangwatch`. Validated up front: a typo must stop the
 * run with a message naming the key, not be ignored silently.
 */
export interface HangwatchOptions {
  /** Turn hangwatch off without changing the preset. */
  enabled: boolean;
  /** Record where pending promises were created (costly: a stack per promise). */
  promises: boolean;
  /**
   * Show what a hung test is awaiting, line by line (its await stacks, read from a heap snapshot
   * when it hangs: about a second per report, nothing while tests pass).
   */
  awaitStacks: boolean;
  /**
   * Await stacks are skipped (the report says so) when the test process's heap is larger than
   * this many MB: a snapshot takes about a second per 10 MB on a busy machine.
   */
  awaitStacksMaxHeapMb: number;
  /** How many pending resources a report lists before summarising the rest. */
  maxListed: number;
  /**
   * Stack frames recorded per resource. Raise it when a library creates timers or sockets so
   * deep that no frame of your code is left (the site then names the library's frame).
   */
  stackDepth: number;
  /**
   * `fail`: fail a test at once (within about 150 ms) when it waits and nothing left in the
   * process could ever settle it; `off`: let it wait for its timeout.
   */
  idle: 'fail' | 'off';
  /**
   * Resources a test (or the file) leaves open that are still open at the end of the file, after
   * afterAll: `warn` prints them under the file, naming the test, `error` fails the file, naming
   * the test, `off` skips the check.
   */
  leaks: 'warn' | 'error' | 'off';
  /**
   * Also note each resource a test left open that closed on its own before the end of its file
   * (not a leak), with how long after the test it closed. Off by default: a passing run prints
   * nothing (Jest turns `--verbose` on by itself for a one-file run, so it cannot be the switch).
   */
  leakNotes: boolean;
  /**
   * A test or hook that blocks the event loop for longer than `blockThreshold`: `warn` prints
   * where (the test still passes), `error` fails it, `off` turns the event-loop watchdog off,
   * including the rescue of a loop that never ends.
   */
  blockedLoop: 'warn' | 'error' | 'off';
  /** Milliseconds the event loop may stay blocked before the watchdog looks at what blocks it. */
  blockThreshold: number;
  /**
   * With the preset's runner: a run Jest would do in band (one file, `--runInBand`) runs its
   * files one at a time in one Jest worker process instead, so a frozen loop ends that worker,
   * not the run. `false` keeps the files in Jest's process (no extra process, `console.log`
   * printed as it happens), where a frozen loop can only end Jest.
   */
  inBandWorker: boolean;
  /**
   * Two locks taken in opposite orders (A then B here, B then A there), even if nothing hung:
   * `warn` prints it once per pair, `error` fails the test that closed the cycle, `off` skips it.
   */
  lockOrder: 'warn' | 'error' | 'off';
  /**
   * Acquisition sites of uncontended lock acquisitions: `sampled` records every acquisition of a
   * lock taken now and then and a sample of a busy one (a stack costs as much as the lock
   * operation); `all` records every one. Waits and new lock orders always record theirs.
   */
  lockSites: 'sampled' | 'all';
}

export const DEFAULT_OPTIONS: HangwatchOptions = {
  enabled: true,
  promises: false,
  awaitStacks: true,
  awaitStacksMaxHeapMb: 96,
  maxListed: 10,
  stackDepth: DEFAULT_STACK_DEPTH,
  idle: 'fail',
  leaks: 'warn',
  leakNotes: false,
  blockedLoop: 'warn',
  blockThreshold: 1000,
  inBandWorker: true,
  lockOrder: 'warn',
  lockSites: 'sampled',
};

const CHECKS: Record<keyof HangwatchOptions, Check> = {
  enabled: isBoolean,
  promises: isBoolean,
  awaitStacks: isBoolean,
  awaitStacksMaxHeapMb: isPositiveInteger,
  maxListed: isPositiveInteger,
  stackDepth: isPositiveInteger,
  idle: oneOf('fail', 'off'),
  leaks: oneOf('warn', 'error', 'off'),
  leakNotes: isBoolean,
  blockedLoop: oneOf('warn', 'error', 'off'),
  blockThreshold: isPositiveInteger,
  inBandWorker: isBoolean,
  lockOrder: oneOf('warn', 'error', 'off'),
  lockSites: oneOf('sampled', 'all'),
};

/** Where the options are set, and how each is checked. */
export const ENVIRONMENT_OPTIONS: OptionSet<HangwatchOptions> = {
  where: 'testEnvironmentOptions.hangwatch',
  checks: CHECKS,
  examples: DEFAULT_OPTIONS,
  docs: 'Options',
};

export function parseOptions(raw: unknown): HangwatchOptions {
  return validateOptions(raw, ENVIRONMENT_OPTIONS, DEFAULT_OPTIONS);
}
