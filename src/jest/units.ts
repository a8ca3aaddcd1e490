import type { Circus } from '@jest/types';
import type { OwnerRef } from '../core/model';

/**
 * A unit is one execution of a test function or hook: what resources are attributed to, and what
 * a watchdog watches. A retried test or a `beforeEach` run for the next test is a new unit.
 */
export interface Unit {
  id: number;
  kind: OwnerRef['kind'];
  /** Full test name, or the describe path of a `beforeAll`/`afterAll` hook. */
  name: string;
  test?: Circus.TestEntry;
  hook?: Circus.Hook;
  startedAt: number;
  timeoutMs: number;
  attempt: number;
  running: boolean;
  /** Fails the running function now (set while it runs; see the idle check). */
  abort?: (error: Error) => void;
  /** What its function returned (a promise): the end of its await chains, for await stacks. */
  returned?: unknown;
  /** Errors thrown in callbacks while it ran (uncaught, or rejections nobody handled). */
  callbackErrors?: unknown[];
}

const ROOT_BLOCK_NAME = 'ROOT_DESCRIBE_BLOCK';

export function describePath(block: Circus.DescribeBlock | undefined): string[] {
  const names: string[] = [];
  for (let current = block; current && current.name !== ROOT_BLOCK_NAME; current = current.parent) {
    names.unshift(current.name);
  }
  return names;
}

export function fullTestName(test: Circus.TestEntry): string {
  return [...describePath(test.parent), test.name].join(' › ');
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

export function isTimeoutError(error: unknown): boolean {
  const message =
    typeof error === 'string' ? error : (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' && message.startsWith('Exceeded timeout of');
}

/** Replaces `original` wherever circus stored it (per-test errors, `beforeAll` fan-out, unhandled). */
export function replaceRecordedError(
  state: Circus.State,
  original: unknown,
  replacement: Error,
): void {
  const swap = (errors: unknown[]) => {
    for (let index = 0; index < errors.length; index++) {
      const entry = errors[index];
      if (entry === original) errors[index] = replacement;
      else if (Array.isArray(entry) && entry[0] === original)
        errors[index] = [replacement, entry[1]];
    }
  };
  swap(state.unhandledErrors as unknown[]);
  const blocks: Circus.DescribeBlock[] = [state.rootDescribeBlock];
  while (blocks.length > 0) {
    const block = blocks.pop()!;
    for (const child of block.children) {
      if (child.type === 'describeBlock') blocks.push(child);
      else swap(child.errors as unknown[]);
    }
  }
}
