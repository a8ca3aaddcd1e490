import type { DeadlockFinding, Finding, Frame, HangFinding } from '../../src/core/model';
import type { RunInfo } from '../../src/report/document';
import { REPORT_SCHEMA_VERSION } from '../../src/core/model';

export const ROOT = '/repo';

/** A frame of the project's own code, `file` relative to ROOT. */
export function userFrame(
  file: string,
  line: number,
  column: number,
  functionName?: string,
): Frame {
  return {
    file: `${ROOT}/${file}`,
    line,
    column,
    ...(functionName ? { functionName } : {}),
    origin: 'user',
  };
}

/** A hang as the environment reports one: a test waiting on a timer it created. */
export function sampleHang(overrides: Partial<HangFinding> = {}): HangFinding {
  const top = {
    file: `${ROOT}/src/orders.test.js`,
    line: 12,
    column: 5,
    functionName: 'poll',
    origin: 'user' as const,
  };
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    kind: 'hang',
    testName: 'orders › refunds a payment',
    testPath: `${ROOT}/src/orders.test.js`,
    phase: 'test',
    trigger: 'timeout',
    elapsedMs: 5000,
    timeoutMs: 5000,
    waitingForDone: false,
    attempt: 0,
    pending: [
      {
        type: 'Timeout',
        kind: 'timer',
        summary: 'setTimeout 60000 ms (55.0 s left)',
        details: { delayMs: 60000, repeats: false },
        ageMs: 5000,
        keepsAlive: true,
        relation: 'this-test',
        owner: { kind: 'test', name: 'orders › refunds a payment' },
        site: { top, frames: [top], sourceLine: 'setTimeout(resolve, 60_000);' },
      },
    ],
    omittedCount: 0,
    nothingPending: false,
    nothingOwnPending: false,
    notes: [],
    ...overrides,
  };
}

/** A deadlock as the lock graph reports one: two transfers, each waiting for the other's lock. */
export function sampleDeadlockFinding(): DeadlockFinding {
  const site = {
    top: { file: `${ROOT}/src/bank.js`, line: 30, column: 9, origin: 'user' as const },
    frames: [],
  };
  const owner = { kind: 'test' as const, name: 'transfers › moves money both ways' };
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    kind: 'deadlock',
    testName: 'transfers › moves money both ways',
    testPath: `${ROOT}/src/bank.test.js`,
    deadlock: {
      kind: 'cycle',
      steps: [
        {
          flow: { id: 1, name: 'task "transfer A→B"', owner },
          holds: [{ lock: 'accounts:A', site }],
          waitsFor: { lock: 'accounts:B', mode: 'acquire', site },
        },
        {
          flow: { id: 2, name: 'task "transfer B→A"', owner },
          holds: [{ lock: 'accounts:B', site }],
          waitsFor: { lock: 'accounts:A', mode: 'acquire', site },
        },
      ],
      holders: [],
    },
  };
}

/** A test that left its timer running after it finished. */
export function sampleLeak(): Finding {
  const hang = sampleHang();
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    kind: 'leak',
    testName: hang.testName,
    testPath: hang.testPath,
    scope: 'test',
    severity: 'warning',
    resources: hang.pending,
    omittedCount: 0,
  };
}

/** A run entry as the reporter writes one; `overrides` changes what a test is about. */
export function sampleRun(overrides: Partial<RunInfo> = {}): Omit<RunInfo, 'findingCount'> {
  return {
    runId: 'run-1',
    startedAt: '2024-05-01T10:00:00.000Z',
    finishedAt: '2024-05-01T10:00:09.000Z',
    hangwatchVersion: '0.1.0',
    nodeVersion: 'v20.11.0',
    jestVersion: '30.0.0',
    platform: 'linux',
    rootDir: ROOT,
    shard: null,
    tests: { suites: 2, total: 5, passed: 4, failed: 1 },
    ...overrides,
  };
}
