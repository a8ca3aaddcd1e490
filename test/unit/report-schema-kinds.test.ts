import type {
  CreationSite,
  DeadlockFinding,
  Finding,
  Frame,
  HangFinding,
  LockOrderFinding,
  LockSection,
  LoopAdvice,
} from '../../src/core/model';
import { REPORT_SCHEMA_VERSION } from '../../src/core/model';
import type { BlockedLoopFinding } from '../../src/core/loop-watchdog/report';
import { adviceText } from '../../src/core/render/advice';
import { buildReport } from '../../src/report/document';
import { ROOT, sampleHang, sampleRun, userFrame as user } from '../helpers/findings';
import { schemaErrors } from '../helpers/report-schema';

// Findings of the lock and event-loop kinds, shaped as real runs of the `locks`, `loop-busy` and
// `loop-frozen` fixtures write them (trimmed to a frame or two), and typed with the model's own
// types so the compiler keeps them in step with it. The shipped schema must describe them in full.

const RUN = sampleRun({ tests: { suites: 1, total: 3, passed: 1, failed: 2 } });

/** The schema's complaints about a report holding just this finding. */
function errorsOf(finding: unknown): string[] {
  return schemaErrors(buildReport(RUN, [finding as Finding]));
}

function site(top: Frame, sourceLine: string): CreationSite {
  const dependency: Frame = {
    file: `${ROOT}/node_modules/async-mutex/lib/Mutex.js`,
    line: 25,
    column: 32,
    functionName: 'Mutex.runExclusive',
    origin: 'dependency',
    packageName: 'async-mutex',
  };
  return { top, frames: [dependency, top], sourceLine };
}

const test1 = 'transfers › moves money both ways';
const owner = { kind: 'test' as const, name: test1 };
const heldA = site(user('src/bank.js', 15, 20, 'runExclusive'), 'return from.lock.runExclusive(');
const wantsB = site(user('src/bank.js', 17, 20, 'runExclusive'), 'return to.lock.runExclusive(');

function cycleDeadlock(): DeadlockFinding {
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    kind: 'deadlock',
    testName: test1,
    testPath: `${ROOT}/src/bank.test.js`,
    message: 'Deadlock: 2 flows wait for each other\'s locks ("accounts:A", "accounts:B")...',
    deadlock: {
      kind: 'cycle',
      steps: [
        {
          flow: { id: 25, name: 'runExclusive flow #25', owner },
          holds: [{ lock: 'accounts:A', site: heldA }],
          waitsFor: { lock: 'accounts:B', mode: 'acquire', site: wantsB },
        },
        {
          flow: { id: 24, name: 'runExclusive flow #24', owner },
          holds: [{ lock: 'accounts:B', site: heldA }],
          waitsFor: { lock: 'accounts:A', mode: 'acquire', site: wantsB },
        },
      ],
      holders: [],
    },
  };
}

/** The holder ended without releasing: one step without holds, and the stuck holder. */
function abandonedDeadlock(): DeadlockFinding {
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    kind: 'deadlock',
    testName: 'runExclusive: the next user of the lock',
    testPath: `${ROOT}/src/cache.test.js`,
    message: 'Deadlock: lock "cache" is held by flow #37 that ended at the end of test ...',
    deadlock: {
      kind: 'abandoned',
      steps: [
        {
          flow: { id: 39, name: 'runExclusive flow #39', owner },
          holds: [],
          waitsFor: { lock: 'cache', mode: 'unlock' },
        },
      ],
      holders: [
        {
          lock: 'cache',
          hold: {
            flow: {
              id: 37,
              name: 'flow #37',
              owner: { kind: 'beforeEach', name: 'cache', testName: 'cache › refreshes' },
              endedAt: 'the end of test "cache › refreshes"',
            },
            weight: 1,
            site: site(user('src/cache.test.js', 6, 31, 'acquire'), 'await cache.acquire();'),
            heldMs: 15,
          },
        },
      ],
    },
  };
}

function lockOrder(): LockOrderFinding {
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    kind: 'lock-order',
    testName: 'orders, then users (never hangs here, but could)',
    testPath: `${ROOT}/src/inversion.test.js`,
    severity: 'warning',
    message: 'Possible deadlock: locks "users" and "orders" are taken in opposite orders...',
    inversion: {
      first: 'users',
      second: 'orders',
      forward: {
        heldSite: site(user('src/inversion.test.js', 7, 15), 'await users.runExclusive(...)'),
        takenSite: site(user('src/inversion.test.js', 7, 41), 'orders.runExclusive(...)'),
        flow: 'runExclusive flow #48',
      },
      // Sites are optional: a lock taken where no stack could be read still makes an inversion.
      backward: { flow: 'flow #50' },
    },
  };
}

function blockedLoop(): BlockedLoopFinding {
  const top = user('src/busy.test.js', 5, 3, 'spinUntil');
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    kind: 'blocked-loop',
    testName: 'busy-waits for 2.5 s, then passes',
    testPath: `${ROOT}/src/busy.test.js`,
    phase: 'test',
    blockedMs: 2504,
    timeoutMs: 5000,
    frozen: false,
    severity: 'warning',
    site: { top, frames: [top], sourceLine: 'while (Date.now() < end) {}' },
    stack: [
      top,
      {
        file: `${ROOT}/node_modules/jest-circus/build/jestAdapterInit.js`,
        line: 1774,
        column: 10,
        functionName: 'callAsyncCircusFn',
        origin: 'internal',
        packageName: 'jest-circus',
      },
    ],
    notes: [],
  };
}

/** Frozen in a beforeEach, inside a synchronous native call: no JavaScript stack, so no site. */
function frozenHook(): BlockedLoopFinding {
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    kind: 'blocked-loop',
    testName: 'a hook that never returns › never gets to run',
    testPath: `${ROOT}/src/frozen-hook.test.js`,
    phase: 'beforeEach',
    forTest: 'a hook that never returns › never gets to run',
    blockedMs: 2064,
    timeoutMs: 1000,
    frozen: true,
    severity: 'error',
    stack: [],
    notes: ["Jest's timeout cannot fire while the loop is blocked, so hangwatch ended the worker."],
  };
}

function lockSection(): LockSection {
  const flow = { id: 55, name: 'runExclusive flow #55', owner };
  return {
    locks: [
      {
        id: 1,
        name: 'session',
        kind: 'mutex',
        capacity: 1,
        site: site(user('src/session.test.js', 3, 17), 'const session = new Mutex();'),
        holders: [{ flow, weight: 1, site: heldA, heldMs: 2004 }],
        waiters: [
          { flow: { id: 56, name: 'flow #56' }, mode: 'acquire', weight: 1, waitingMs: 1998 },
        ],
      },
      { id: 2, name: 'ready', kind: 'event', capacity: 0, holders: [], waiters: [] },
    ],
    deadlock: abandonedDeadlock().deadlock,
    inversions: [lockOrder().inversion],
  };
}

describe('findings of every kind are described in full by the schema', () => {
  test.each([
    ['a deadlock with a wait-for cycle', cycleDeadlock()],
    ['a deadlock whose holder ended without releasing', abandonedDeadlock()],
    ['a lock-order inversion', lockOrder()],
    ['an event loop blocked for a while', blockedLoop()],
    ['an event loop frozen in a hook, outside JavaScript', frozenHook()],
    ['a hang with the locks it held and waited for', sampleHang({ locks: lockSection() })],
  ] as [string, Finding][])('%s is valid', (_name, finding) => {
    expect(errorsOf(finding)).toEqual([]);
  });

  test('a kind this schema version does not know is still valid with a kind and the version', () => {
    expect(errorsOf({ schemaVersion: REPORT_SCHEMA_VERSION, kind: 'future', anything: 1 })).toEqual(
      [],
    );
    expect(errorsOf({ schemaVersion: REPORT_SCHEMA_VERSION })).toContain(
      "/findings/0 must have required property 'kind'",
    );
  });
});

describe('and are rejected when they differ from it', () => {
  test('deadlock: an undocumented field, a missing one, an unknown deadlock kind', () => {
    expect(errorsOf({ ...cycleDeadlock(), summary: 'deadlock' })).toContain(
      '/findings/0 must NOT have additional properties',
    );
    // The report's builder adds the words; a report written without them is invalid.
    const withoutMessage = buildReport(RUN, [cycleDeadlock()]);
    delete (withoutMessage.findings[0] as { message?: string }).message;
    expect(schemaErrors(withoutMessage)).toContain(
      "/findings/0 must have required property 'message'",
    );
    const ring = cycleDeadlock();
    (ring.deadlock as { kind: string }).kind = 'ring';
    expect(errorsOf(ring)).toContain(
      '/findings/0/deadlock/kind must be equal to one of the allowed values',
    );
  });

  test('lock-order: an undocumented field, a missing one deep inside, an unknown severity', () => {
    expect(errorsOf({ ...lockOrder(), cycle: [] })).toContain(
      '/findings/0 must NOT have additional properties',
    );
    const noFlow = lockOrder();
    delete (noFlow.inversion.backward as { flow?: string }).flow;
    expect(errorsOf(noFlow)).toContain(
      "/findings/0/inversion/backward must have required property 'flow'",
    );
    expect(errorsOf({ ...lockOrder(), severity: 'info' })).toContain(
      '/findings/0/severity must be equal to one of the allowed values',
    );
  });

  test('blocked-loop: an undocumented field, a missing one, a phase that is not a hook', () => {
    expect(errorsOf({ ...blockedLoop(), blockedFor: '2.5 s' })).toContain(
      '/findings/0 must NOT have additional properties',
    );
    const { stack: _stack, ...withoutStack } = blockedLoop();
    expect(errorsOf(withoutStack)).toContain("/findings/0 must have required property 'stack'");
    expect(errorsOf({ ...blockedLoop(), phase: 'module' })).toContain(
      '/findings/0/phase must be equal to one of the allowed values',
    );
  });

  test('hang locks: the lock section is checked down to its flows', () => {
    const extra = lockSection();
    (extra.locks[0].holders[0].flow as unknown as Record<string, unknown>).thread = 1;
    expect(errorsOf(sampleHang({ locks: extra }))).toContain(
      '/findings/0/locks/locks/0/holders/0/flow must NOT have additional properties',
    );
    const { inversions: _inversions, ...withoutInversions } = lockSection();
    expect(errorsOf(sampleHang({ locks: withoutInversions as LockSection }))).toContain(
      "/findings/0/locks must have required property 'inversions'",
    );
    const badMode = lockSection();
    (badMode.locks[0].waiters[0] as { mode: string }).mode = 'read';
    expect(errorsOf(sampleHang({ locks: badMode }))).toContain(
      '/findings/0/locks/locks/0/waiters/0/mode must be equal to one of the allowed values',
    );
  });
});

describe('facts as found are written with their words', () => {
  /** A hang as the environment builds it: facts and advice codes, no sentences. */
  function hangAsFound(): HangFinding {
    const { notes: _notes, ...hang } = sampleHang({
      advice: [
        { code: 'advance-fake-timers', implementation: 'modern', timers: 2 },
        { code: 'await-stacks-budget', spentMs: 61_000 },
      ],
    });
    const { summary: _summary, ...timer } = hang.pending[0];
    return { ...hang, pending: [{ ...timer, details: { delayMs: 60_000, leftMs: 55_000 } }] };
  }

  test('a hang: each pending resource gets its summary, the advice its notes', () => {
    const report = buildReport(RUN, [hangAsFound()]);
    expect(schemaErrors(report)).toEqual([]);
    const written = report.findings[0] as HangFinding;
    expect(written.pending[0].summary).toBe('setTimeout 60000 ms (55.0 s left)');
    expect(written.advice).toEqual(hangAsFound().advice);
    expect(written.notes).toEqual([
      expect.stringMatching(
        /^Fake timers \(modern\) are installed: the pending fake timers only fire/,
      ),
      "Await stacks were not read: this file's hang reports already spent 1 min 1 s of CPU on heap snapshots.",
    ]);
    expect(written.notes).toEqual(hangAsFound().advice!.map(adviceText));
  });

  test('a blocked loop: its advice becomes its notes', () => {
    const { notes: _notes, ...found } = frozenHook();
    const advice: LoopAdvice[] = [
      { code: 'ended-process', unit: 'hook', how: 'worker-rerun', exitCode: 86 },
    ];
    const report = buildReport(RUN, [{ ...found, advice }]);
    expect(schemaErrors(report)).toEqual([]);
    expect((report.findings[0] as BlockedLoopFinding).notes).toEqual([
      "Jest's timeout cannot fire while the loop is blocked, so hangwatch ended this Jest worker process (exit code 86). Jest runs the file again in a new worker, where this hook fails at once with this report.",
    ]);
  });

  test('a report read back keeps the words it was written with', () => {
    const written = buildReport(RUN, [sampleHang({ notes: ['as written'] })]);
    const again = buildReport(RUN, written.findings);
    expect(again.findings).toEqual(written.findings);
  });

  test('a known advice code without what its sentence needs is rejected', () => {
    expect(errorsOf(sampleHang({ advice: [{ code: 'advance-fake-timers' } as never] }))).toContain(
      "/findings/0/advice/0 must have required property 'implementation'",
    );
    expect(
      errorsOf({
        ...frozenHook(),
        advice: [{ code: 'ended-process', unit: 'hook', how: 'elsewhere', exitCode: 1 }],
      }),
    ).toContain('/findings/0/advice/0/how must be equal to one of the allowed values');
  });
});
