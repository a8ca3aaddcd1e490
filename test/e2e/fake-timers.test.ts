import * as fs from 'node:fs';
import * as path from 'node:path';
import type { HangFinding } from '../../src/core/model';
import { schemaErrors } from '../helpers/report-schema';
import {
  FIXTURES,
  reportOf,
  runFixture,
  topFrameOf,
  type FixtureRun,
} from '../helpers/run-fixture';

// One file per switch between Jest's two fake timer implementations: each report lists the
// timers of the implementation in use, with the advice its API allows.
const MODERN_ADVICE = 'await jest.advanceTimersByTimeAsync / jest.runAllTimersAsync';
const LEGACY_ADVICE =
  'Legacy fake timers have no async methods: call jest.advanceTimersByTime(ms), jest.runOnlyPendingTimers() or jest.runAllTimers() before awaiting the promise';

// What the ticker of a clock advancing with real time must never be: listed as the test's wait
// (a Node interval under the node environment, a jsdom timer re-armed every 20 ms under jsdom).
const TICKER_TEXTS = ['setInterval every 20 ms', 'setTimeout 20 ms', 'inside jsdom'];

function expectNoTicker(report: string): void {
  for (const text of TICKER_TEXTS) expect(report).not.toContain(text);
}

/** The three advancing tests of `fake-timers-mixed/advancing.test.js`, in any environment. */
function advancingTests(runOf: () => FixtureRun): void {
  test('modern timers that advance with real time: when the timer fires, and its line', () => {
    const failure = runOf().failureOf('advancing with real time: awaits a timer a minute ahead');
    const report = reportOf(failure);
    expect(report).toMatch(
      /fake setTimeout 60000 ms, due in \d+ fake ms: fires as the clock advances with real time/,
    );
    expect(report).toContain(
      'Fake timers (modern) advance with real time (advanceTimers): the pending fake timer fires on its own as time passes, in about',
    );
    expect(report).toContain('await jest.advanceTimersByTimeAsync(ms) or jest.runAllTimersAsync()');
    expect(report).not.toContain('never fires unless');
    expectNoTicker(report);
    expect(topFrameOf(failure)).toContain('advancing.test.js:5:34');
  });

  test('modern timers that advance with real time, none pending: the idle check fails it early', () => {
    const report = reportOf(
      runOf().failureOf('advancing with real time: awaits a promise nobody resolves'),
    );
    expect(report).toMatch(
      /can never finish: after (?:\d+ ms|[\d.]+ s) nothing is left that could settle it/,
    );
    expect(report).toContain('Nothing it started is still pending');
    expectNoTicker(report);
    expect(report).not.toContain('Fake timers');
  });

  test('a real timer started from a fake callback the ticker fired: listed, the ticker not', () => {
    const report = reportOf(
      runOf().failureOf('advancing with real time: awaits a real timer started from a fake one'),
    );
    expect(report).toMatch(/It is waiting on 1 thing it started[^\n]*\n\s+1\. setTimeout 3000 ms/);
    expect(report).toContain('created at advancing.test.js:22:22');
    expectNoTicker(report);
  });

  test('advancing timers installed before each test and never restored: no leak', () => {
    const run = runOf();
    expect(run.resultOf('left advancing: first').status).toBe('passed');
    expect(run.resultOf('left advancing: second').status).toBe('passed');
    expect(run.stderr).not.toMatch(/left \d+ resources? open/);
    const report = JSON.parse(
      fs.readFileSync(path.join(FIXTURES, 'fake-timers-mixed', 'hangwatch-report.json'), 'utf8'),
    ) as { findings: { kind: string }[] };
    expect(report.findings.filter((finding) => finding.kind === 'leak')).toEqual([]);
  });
}

describe.each([30, 29] as const)('mixed fake timer modes under Jest %i', (jestMajor) => {
  let run: FixtureRun;
  beforeAll(async () => {
    run = await runFixture('fake-timers-mixed', { jestMajor, args: ['--forceExit'] });
  }, 120_000);

  test('modern, then legacy: the legacy test’s own timer, legacy advice only', () => {
    expect(run.resultOf('modern: schedules a timer and passes').status).toBe('passed');
    const failure = run.failureOf('legacy after modern: awaits its own faked timer');
    const report = reportOf(failure);
    expect(report).toContain('Fake timers (legacy) hold 1 pending timer:');
    expect(report).toContain(
      'created at modern-then-legacy.test.js:9:34   await new Promise((resolve) => setTimeout(resolve, 250));',
    );
    expect(report).not.toContain('10000');
    expect(report).not.toContain('Nothing it started is still pending');
    expect(report).toContain(LEGACY_ADVICE);
    expect(report).not.toMatch(/advanceTimersByTimeAsync \/|runAllTimersAsync/);
    expect(topFrameOf(failure)).toContain('modern-then-legacy.test.js:9:34');
  });

  test('legacy, then modern: the modern test’s own timer, modern advice', () => {
    const report = reportOf(run.failureOf('modern after legacy: awaits its own faked timer'));
    expect(report).toContain('Fake timers (modern) hold 1 pending timer:');
    expect(report).toContain('fake setTimeout 350 ms');
    expect(report).not.toContain('20000');
    expect(report).toContain(MODERN_ADVICE);
    expect(report).not.toContain('Legacy fake timers');
  });

  advancingTests(() => run);

  test('useRealTimers in between: no fake timers, then the legacy ones', () => {
    const real = reportOf(
      run.failureOf('real timers in between: awaits a promise nobody resolves'),
    );
    expect(real).toContain('Nothing it started is still pending');
    expect(real).not.toContain('Fake timers');
    const legacy = reportOf(run.failureOf('legacy after real timers: awaits its own faked timer'));
    expect(legacy).toContain('Fake timers (legacy) hold 1 pending timer:');
    expect(legacy).toContain('created at real-in-between.test.js:13:34');
    expect(legacy).not.toContain('10000');
    expect(legacy).toContain(LEGACY_ADVICE);
  });
});

// Under jsdom, the ticker of a clock advancing with real time is a jsdom interval: a chain of Node
// timeouts, one every 20 ms. It is the clock's engine, as the Node timer ticking it is under the
// node environment: the same tests, the same fixture files.
describe.each([
  [30, 'jest.jsdom.config.js'],
  [29, 'jest.jsdom29.config.js'],
] as const)('timers advancing with real time under jsdom, Jest %i', (jestMajor, config) => {
  let run: FixtureRun;
  beforeAll(async () => {
    run = await runFixture('fake-timers-mixed', {
      jestMajor,
      args: ['--config', config, '--forceExit'],
    });
  }, 120_000);

  test('the advancing files ran: three hangs, no other finding', () => {
    expect(run.files.map((file) => path.basename(file.name)).sort()).toEqual([
      'advancing.test.js',
      'left-advancing.test.js',
    ]);
    expect(run.stderr).toContain('3 findings in this run: 3 hangs');
  });

  advancingTests(() => run);
});

// A fake clock of the user's own (@sinonjs/fake-timers, as sinon.useFakeTimers installs it) also
// replaces Node's `timers` functions and `performance.now`, which every realm shares. hangwatch's
// own timers and clock stay real, and the clock's `tickAsync` steps count as the test's wait.
describe('a sinon fake clock installed by the test', () => {
  let run: FixtureRun;
  beforeAll(async () => {
    run = await runFixture('sinon-clock', { args: ['--forceExit'] });
  }, 120_000);

  test.each([
    'awaits an async job across tickAsync calls',
    'steps a minute of a 1 ms interval with tickAsync',
    'moves its fake clock an hour past its own timeout',
  ])('%s: passes, as under plain Jest', (name) => {
    expect(run.resultOf(name).status).toBe('passed');
    expect(run.stderr).not.toContain(`test "${name}"`);
  });

  test('a clock never uninstalled does not stop the end-of-file leak check', () => {
    expect(run.resultOf('starts a server under a fake clock it never uninstalls').status).toBe(
      'passed',
    );
    expect(run.exitCode).toBe(0);
    expect(run.stderr).toMatch(
      /test "starts a server under a fake clock it never uninstalls" left 1 resource open[^\n]*\n\s+1\. TCP server listening on 127\.0\.0\.1:\d+/,
    );
    expect(run.stderr).toContain('2 findings in this run: 2 leaks');
  });

  test('an advancing clock never uninstalled: its interval is a leak, Jest does not stop it', () => {
    expect(run.resultOf('installs an advancing clock it never uninstalls').status).toBe('passed');
    expect(run.stderr).toMatch(
      /test "installs an advancing clock it never uninstalls" left 1 resource open[^\n]*\n\s+1\. setInterval every 20 ms[^\n]*\n\s+created at forgotten-advancing\.test\.js:6:14/,
    );
  });
});

// A test that awaits a timer of its own fake clock and never advances that clock: the report lists
// the clock's pending timers (with their creation site once the clock was seen) and says how to
// advance it, instead of "nothing is pending".
describe('a fake clock of the test’s own that nobody advances', () => {
  const INSTALLED_ADVICE =
    "The test installed a fake clock of its own (@sinonjs/fake-timers' install(), sinon.useFakeTimers()): the pending fake timer only fires when the test advances that clock: await clock.tickAsync(ms)";
  let run: FixtureRun;
  let findings: HangFinding[];
  let report: unknown;
  beforeAll(async () => {
    run = await runFixture('sinon-clock-untickled', { args: ['--forceExit'] });
    report = JSON.parse(
      fs.readFileSync(
        path.join(FIXTURES, 'sinon-clock-untickled', 'hangwatch-report.json'),
        'utf8',
      ),
    );
    findings = (report as { findings: HangFinding[] }).findings;
  }, 120_000);

  const findingOf = (testName: string) => {
    const found = findings.find((finding) => finding.testName === testName);
    if (!found) throw new Error(`no finding for "${testName}"`);
    return found;
  };

  test('installed inside the test: its timer listed, the await names the line', () => {
    const name = 'installs a clock and awaits a timer nobody ticks';
    const text = reportOf(run.failureOf(name));
    expect(text).toContain(`test "${name}" can never finish`);
    expect(text).toContain('A fake clock the test installed itself holds 1 pending timer:');
    expect(text).toContain('fake setTimeout 2000 ms, due in 2000 fake ms');
    expect(text).toContain('untickled.test.js:8:3 await new Promise');
    expect(text).toContain(INSTALLED_ADVICE);
    expect(text).not.toContain('Nothing it started is still pending');
    expect(text).not.toContain('jest.advanceTimersByTime');
    const finding = findingOf(name);
    expect(finding.fakeTimers).toMatchObject({
      implementation: 'installed',
      pending: [{ kind: 'timeout', delayMs: 2000, relation: 'this-test' }],
    });
    expect(finding.advice).toContainEqual({
      code: 'advance-fake-timers',
      implementation: 'installed',
      timers: 1,
    });
  });

  test('installed in a beforeEach: the timer’s creation site is the culprit', () => {
    const failure = run.failureOf(
      'with the clock installed before each test awaits an interval that nobody ticks',
    );
    const text = reportOf(failure);
    expect(text).toContain('fake setInterval 500 ms, due in 500 fake ms');
    expect(text).toContain('created at untickled.test.js:18:20   const poll = setInterval(');
    expect(text).toContain(INSTALLED_ADVICE);
    expect(topFrameOf(failure)).toContain('untickled.test.js:18:20');
  });

  test('a clock that advances with real time: when its timer fires, not "never fires"', () => {
    const name = 'installs a clock that advances with real time and awaits a timer a minute ahead';
    const failure = run.failureOf(name);
    const text = reportOf(failure);
    expect(text).toContain('A fake clock the test installed itself holds 1 pending timer:');
    expect(text).toMatch(
      /fake setTimeout 60000 ms, due in \d+ fake ms: fires as the clock advances with real time/,
    );
    expect(text).toMatch(
      /The test's own fake clock advances with real time \(shouldAdvanceTime\): the pending fake timer fires on its own as time passes, in about \d+(\.\d)? s, later than the timeout allowed\. To get there sooner, await clock\.tickAsync\(ms\)/,
    );
    expect(text).not.toContain('never fires unless');
    expect(text).not.toContain(INSTALLED_ADVICE);
    // The clock's own real interval is its engine, not what the test waits on.
    expect(text).not.toContain('setInterval every 20 ms');
    expect(topFrameOf(failure)).toContain('untickled.test.js:36:3');
    const finding = findingOf(name);
    expect(finding.fakeTimers).toMatchObject({
      implementation: 'installed',
      advancesWithRealTime: true,
      pending: [{ kind: 'timeout', delayMs: 60_000, relation: 'this-test' }],
    });
    const advice = finding.advice?.find((entry) => entry.code === 'advance-fake-timers');
    expect(advice).toMatchObject({
      implementation: 'installed',
      timers: 1,
      advancesWithRealTime: true,
    });
    expect((advice as { nextDueInMs?: number }).nextDueInMs).toBeGreaterThan(50_000);
  });

  test('a clock that advances with real time and holds no timer: its ticks wake nothing', () => {
    const text = reportOf(
      run.failureOf(
        'installs a clock that advances with real time and awaits a promise nobody resolves',
      ),
    );
    expect(text).toMatch(
      /can never finish: after (?:\d+ ms|[\d.]+ s) nothing is left that could settle it/,
    );
    expect(text).not.toContain('setInterval every 20 ms');
  });

  test('a test that ticks its clock passes, and the report matches the schema', () => {
    expect(
      run.resultOf('with the clock installed before each test ticks its clock and passes').status,
    ).toBe('passed');
    expect(run.stderr).toContain('4 findings in this run: 4 hangs');
    expect(schemaErrors(report)).toEqual([]);
  });
});

// The same clock of the test's own, under jsdom: its ticker is a jsdom timer, found by the code
// that made it when hangwatch notices the clock.
describe.each([
  [30, 'jest.jsdom.config.js'],
  [29, 'jest.jsdom29.config.js'],
] as const)(
  'a fake clock of the test’s own advancing under jsdom, Jest %i',
  (jestMajor, config) => {
    let run: FixtureRun;
    beforeAll(async () => {
      run = await runFixture('sinon-clock-untickled', {
        jestMajor,
        args: ['--config', config, '--testNamePattern', 'advances with real time', '--forceExit'],
      });
    }, 120_000);

    test('a timer a minute ahead: when it fires, and no ticker listed', () => {
      const text = reportOf(
        run.failureOf(
          'installs a clock that advances with real time and awaits a timer a minute ahead',
        ),
      );
      expect(text).toMatch(
        /fake setTimeout 60000 ms, due in \d+ fake ms: fires as the clock advances with real time/,
      );
      expectNoTicker(text);
    });

    test('no fake timer pending: the idle check fails it early', () => {
      const text = reportOf(
        run.failureOf(
          'installs a clock that advances with real time and awaits a promise nobody resolves',
        ),
      );
      expect(text).toMatch(
        /can never finish: after (?:\d+ ms|[\d.]+ s) nothing is left that could settle it/,
      );
      expect(text).toContain('Nothing it started is still pending');
      expectNoTicker(text);
    });
  },
);
