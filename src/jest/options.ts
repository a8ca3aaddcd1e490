import { DEFAULT_STACK_DEPTH } from '../core/stack';

/**
 * Options read from `testEnvironmentOptions.hangwatch`. Validated up front: a typo must stop the
 * run with a message naming the key, not be ignored silently.
 */
export interface HangwatchOptions {
  /** Turn hangwatch off without changing the preset. */
  enabled: boolean;
  /** Record where pending promises were created (costly: a stack per promise). */
  promises: boolean;
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
   * Resources a test leaves open after it and its afterEach hooks finish: `warn` prints them
   * under the file, `error` fails the test that leaked, `off` skips the check.
   */
  leaks: 'warn' | 'error' | 'off';
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
   * not the run. `false` keeps them in Jest's own process.
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
  maxListed: 10,
  stackDepth: DEFAULT_STACK_DEPTH,
  idle: 'fail',
  leaks: 'warn',
  blockedLoop: 'warn',
  blockThreshold: 1000,
  inBandWorker: true,
  lockOrder: 'warn',
  lockSites: 'sampled',
};

type Check = (value: unknown) => string | undefined;

const isBoolean: Check = (value) => (typeof value === 'boolean' ? undefined : 'a boolean');
const isPositiveInteger: Check = (value) =>
  Number.isInteger(value) && (value as number) > 0 ? undefined : 'a positive integer';
function oneOf(...allowed: string[]): Check {
  return (value) =>
    typeof value === 'string' && allowed.includes(value)
      ? undefined
      : `one of ${allowed.map((choice) => JSON.stringify(choice)).join(', ')}`;
}

const CHECKS: Record<keyof HangwatchOptions, Check> = {
  enabled: isBoolean,
  promises: isBoolean,
  maxListed: isPositiveInteger,
  stackDepth: isPositiveInteger,
  idle: oneOf('fail', 'off'),
  leaks: oneOf('warn', 'error', 'off'),
  blockedLoop: oneOf('warn', 'error', 'off'),
  blockThreshold: isPositiveInteger,
  inBandWorker: isBoolean,
  lockOrder: oneOf('warn', 'error', 'off'),
  lockSites: oneOf('sampled', 'all'),
};

export class HangwatchConfigError extends Error {
  override name = 'HangwatchConfigError';
}

const WHERE = 'testEnvironmentOptions.hangwatch';

export function parseOptions(raw: unknown): HangwatchOptions {
  if (raw === undefined) return { ...DEFAULT_OPTIONS };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new HangwatchConfigError(`hangwatch: ${WHERE} must be an object, got ${describe(raw)}.`);
  }
  const options: HangwatchOptions = { ...DEFAULT_OPTIONS };
  for (const [key, value] of Object.entries(raw)) {
    if (!Object.hasOwn(CHECKS, key)) {
      const suggestion = closest(key, Object.keys(CHECKS));
      throw new HangwatchConfigError(
        `hangwatch: unknown option "${key}" in ${WHERE}${suggestion ? ` (did you mean "${suggestion}"?)` : ''}. Known options: ${Object.keys(CHECKS).join(', ')}.`,
      );
    }
    const expected = CHECKS[key as keyof HangwatchOptions](value);
    if (expected) {
      throw new HangwatchConfigError(
        `hangwatch: option "${key}" in ${WHERE} must be ${expected}, got ${describe(value)}.`,
      );
    }
    (options as unknown as Record<string, unknown>)[key] = value;
  }
  return options;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return `${typeof value} ${String(value)}`;
}

function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      bestDistance = distance;
      best = candidate;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}
