import type { Circus } from '@jest/types';
import type { OwnerRef } from '../core/model';

/**
 * A unit is one execution of a test function or hook: what resources are attributed to, what a
 * watchdog watches and what a failure is recorded on. A retried test or a `beforeEach` run for
 * the next test is a new unit. The lifecycle (`lifecycle.ts`) makes them; everything else reads.
 */
export interface Unit {
  id: number;
  kind: OwnerRef['kind'];
  /** Full test name, or the describe path of a `beforeAll`/`afterAll` hook. */
  name: string;
  /** The test it runs as or for (a `beforeEach`/`afterEach` runs for one). */
  test?: Circus.TestEntry;
  hook?: Circus.Hook;
  /** The describe block it runs in: its test's (per-test hooks too), else the hook's own. */
  block?: Circus.DescribeBlock;
  /** `performance.now()` (as it was when hangwatch loaded) when its function was called. */
  startedAt: number;
  /** Jest's rule: the test's or hook's own timeout, else the file's `testTimeout`; 0 for none. */
  timeoutMs: number;
  attempt: number;
  running: boolean;
  /** Fails the running function now (set while it runs; see the idle check). */
  abort?: (error: Error) => void;
  /** What its function returned (a promise): the end of its await chains, for await stacks. */
  returned?: unknown;
  /** The `done` its function received, for a `done`-style one: who would call it, for reports. */
  doneCallback?: unknown;
  /** Ends keeping the emitters its listeners are added to (see `keepListeners`). */
  stopKeepingListeners?: () => void;
  /** Errors thrown in callbacks while it ran (uncaught, or rejections nobody handled). */
  callbackErrors?: unknown[];
  /** Errors its function throws when it returns, oldest first (lockOrder: 'error'). */
  failOnReturn?: Error[];
}

/** Whether the unit has a timeout that will expire (Jest allows 0 or Infinity for none). */
export function hasDeadline(unit: Pick<Unit, 'timeoutMs'>): boolean {
  return unit.timeoutMs > 0 && Number.isFinite(unit.timeoutMs);
}

const ROOT_BLOCK_NAME = 'ROOT_DESCRIBE_BLOCK';

export function describePath(block: Circus.DescribeBlock | undefined): string[] {
  const names: string[] = [];
  for (let current = block; current && current.name !== ROOT_BLOCK_NAME; current = current.parent) {
    names.unshift(current.name);
  }
  return names;
}

/** A test's name and blocks are fixed once declared; its hooks and findings ask for it often. */
const fullNames = new WeakMap<Circus.TestEntry, string>();

export function fullTestName(test: Circus.TestEntry): string {
  let name = fullNames.get(test);
  if (name === undefined) {
    name = [...describePath(test.parent), test.name].join(' › ');
    fullNames.set(test, name);
  }
  return name;
}

/**
 * What a hook runs for: a beforeEach/afterEach for the running test (named by it), a
 * beforeAll/afterAll for its describe block (named by the block's path).
 */
export function hookSubject(
  hook: Circus.Hook,
  state: Circus.State,
): { name: string; test?: Circus.TestEntry } {
  const test = state.currentlyRunningTest ?? undefined;
  const isEach = hook.type === 'beforeEach' || hook.type === 'afterEach';
  return isEach && test
    ? { name: fullTestName(test), test }
    : { name: describePath(hook.parent).join(' › ') };
}

export function ownerRef(unit: Unit): OwnerRef {
  const isEachHook = unit.kind === 'beforeEach' || unit.kind === 'afterEach';
  return {
    kind: unit.kind,
    name: unit.name,
    ...(isEachHook && unit.test ? { testName: fullTestName(unit.test) } : {}),
  };
}

/** How findings name the unit (hang reports and blocked-loop reports alike). */
export function namingOf(unit: Unit): {
  phase: Exclude<OwnerRef['kind'], 'module'>;
  testName: string;
  forTest?: string;
} {
  return {
    phase: unit.kind === 'module' ? 'test' : unit.kind,
    testName: unit.name,
    ...(unit.kind !== 'test' && unit.test ? { forTest: fullTestName(unit.test) } : {}),
  };
}

export function isTimeoutError(error: unknown): boolean {
  const message =
    typeof error === 'string' ? error : (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' && message.startsWith('Exceeded timeout of');
}
