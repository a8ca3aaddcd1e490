import type { Circus } from '@jest/types';
import { LeakError } from '../core/hang-error';
import { buildLeakFinding, findLeaks, isLeakCandidate } from '../core/leaks';
import { renderLeakText } from '../core/render-text';
import type { ResourceTracker } from '../core/tracker';
import { publishFinding } from './findings-channel';
import type { HangwatchOptions } from './options';
import { fullTestName, ownerRef, type Unit } from './units';

export interface LeakCheckContext {
  testPath: string;
  rootDir: string;
  options: Pick<HangwatchOptions, 'leaks' | 'maxListed'>;
  /** The test file's console: warnings appear under the file, as Jest shows console output. */
  console: Pick<Console, 'warn'>;
  guard(action: () => void): void;
}

/**
 * After a test and its afterEach hooks (or, for `undefined`, after the file's afterAll), reports
 * what they left open and keeping the process alive. It waits only when a finished test still
 * holds something: two turns of the loop, so a close started as the test ended (`await
 * server.close()` without a callback) completes and is not blamed.
 */
export async function checkLeaks(
  tracker: ResourceTracker<Unit>,
  test: Circus.TestEntry | undefined,
  context: LeakCheckContext,
): Promise<void> {
  const owns = (unit: Unit | undefined) =>
    unit !== undefined &&
    (test
      ? unit.test === test
      : unit.kind === 'module' || unit.kind === 'beforeAll' || unit.kind === 'afterAll');
  if (!isLeakCandidate(tracker, owns)) return;
  for (let turn = 0; turn < 2; turn++) {
    await tracker.untracked(() => new Promise<void>((resolve) => setImmediate(resolve)));
  }
  if (!isLeakCandidate(tracker, owns)) return;
  context.guard(() => {
    const leaks = findLeaks(
      tracker,
      owns,
      (unit) => (unit ? ownerRef(unit) : undefined),
      context.options.maxListed,
    );
    if (leaks.resources.length === 0) return;
    const fails = context.options.leaks === 'error' && test !== undefined;
    const finding = buildLeakFinding(
      {
        testName: test ? fullTestName(test) : '',
        testPath: context.testPath,
        scope: test ? 'test' : 'file',
        severity: fails ? 'error' : 'warning',
      },
      leaks,
    );
    publishFinding(finding);
    const text = renderLeakText(finding, { rootDir: context.rootDir });
    if (fails) test!.errors.push(new LeakError(text, finding));
    else withoutStack(() => context.console.warn(text));
  });
}

/**
 * Jest's console prints where each call came from; for hangwatch's own warning that would be a
 * frame inside hangwatch. The report already names the user's lines, so the call site is hidden.
 */
function withoutStack(action: () => void): void {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    action();
  } finally {
    Error.stackTraceLimit = limit;
  }
}
