import { performance } from 'node:perf_hooks';
import {
  setTimeout as realSetTimeout,
  clearTimeout as realClearTimeout,
  setInterval as realSetInterval,
  clearInterval as realClearInterval,
} from 'node:timers';
import type { Circus } from '@jest/types';
import { FetchRequestTracker } from '../core/fetch-requests';
import { HangError, LeakError } from '../core/hang-error';
import { buildLeakFinding, findLeaks, isLeakCandidate } from '../core/leaks';
import { renderLeakText } from '../core/render-text';
import { parseStack, toCreationSite } from '../core/stack';
import {
  buildHangFinding,
  collectPending,
  culpritFrame,
  type HungUnit,
  type ResourceView,
} from '../core/hang-report';
import type { CreationSite, HangFinding, Relation } from '../core/model';
import { renderHangText } from '../core/render-text';
import { currentAsyncContext, runAsOwner } from '../core/async-context';
import { withOrigin, wrapCoreEntryPoints } from '../core/origins';
import { ResourceTracker } from '../core/tracker';
import { WakeSources } from '../core/wake-sources';
import { FakeTimerProbe, type FakeTimerHost } from './fake-timers';
import { LockSession } from './lock-session';
import { publishFinding } from './findings-channel';
import type { HangwatchOptions } from './options';
import {
  describePath,
  fullTestName,
  isTimeoutError,
  ownerRef,
  replaceRecordedError,
  type Unit,
} from './units';

type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;
const ORIGINAL_FN = Symbol('hangwatch.originalFn');
type Wrappable = AnyFunction & { [ORIGINAL_FN]?: AnyFunction };

let warnedInternalError = false;

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

function describeThrown(error: unknown): { message: string; site?: CreationSite } {
  const message =
    error instanceof Error || (typeof error === 'object' && error !== null && 'message' in error)
      ? String((error as Error).message)
          .split('\n')
          .filter(Boolean)
          .slice(0, 3)
          .join(' ')
      : String(error);
  const site = toCreationSite(parseStack((error as Error | undefined)?.stack));
  return { message, ...(site ? { site } : {}) };
}

function hungWith(test: Circus.TestEntry): boolean {
  return test.errors.some(
    (entry) => (Array.isArray(entry) ? entry[0] : entry) instanceof HangError,
  );
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

/** How often the idle check looks, and how many looks in a row must find nothing to wake. */
const IDLE_CHECK_INTERVAL_MS = 50;
const IDLE_CHECKS_TO_FAIL = 2;

/**
 * Failpoint for the degrade-to-plain-Jest path: `HANGWATCH_INJECT_FAULT=report` makes building a
 * report throw, as an internal bug would, so tests can prove a user's results survive it.
 */
function injectFault(where: 'report'): void {
  if (process.env.HANGWATCH_INJECT_FAULT === where) {
    throw new Error(`injected fault in ${where} (HANGWATCH_INJECT_FAULT)`);
  }
}

export interface SessionContext {
  testPath: string;
  rootDir: string;
  options: HangwatchOptions;
  host: FakeTimerHost;
  /** The test file's console: leak warnings appear under the file, as Jest shows console output. */
  console: Pick<Console, 'warn'>;
  /** The test file's global object, for wrapping entry points such as `fetch`. */
  global: Record<string, unknown>;
}

/**
 * Everything hangwatch does for one test file: tracks resources, knows which unit is running,
 * arms a watchdog per unit, and turns a timeout into a HangError. Any internal failure switches
 * it off for the rest of the file and leaves Jest's own behaviour untouched.
 */
export class HangwatchSession {
  private readonly tracker: ResourceTracker<Unit>;
  private readonly fakeTimers: FakeTimerProbe<Unit>;
  private readonly fetchRequests: FetchRequestTracker;
  /** The owner of what the test file creates while it loads, outside any test or hook. */
  private readonly moduleUnit: Unit;
  /** Units of this file: an owner left in the async context by an earlier file is not one. */
  private readonly units = new WeakSet<Unit>();
  private readonly running = new Map<Circus.TestEntry | Circus.Hook, Unit>();
  private readonly attempts = new WeakMap<Circus.TestEntry, number>();
  private readonly preassigned = new Map<Circus.TestEntry, Unit>();
  private readonly wakeSources = new WakeSources();
  /** Locks (hangwatch/sync, instrumented async-mutex): deadlocks, lock order, report section. */
  private readonly locks: LockSession;
  private idleCheck: NodeJS.Timeout | undefined;
  private idleStrikes = 0;
  private readonly watchdogs = new Map<Unit, { timer: NodeJS.Timeout; snapshot?: HangFinding }>();
  private nextUnitId = 1;
  private loading = true;
  private disabled = false;

  constructor(private readonly context: SessionContext) {
    this.moduleUnit = {
      id: 0,
      kind: 'module',
      name: context.testPath,
      startedAt: performance.now(),
      timeoutMs: 0,
      attempt: 0,
      running: false,
    };
    this.units.add(this.moduleUnit);
    this.tracker = new ResourceTracker<Unit>({
      promises: context.options.promises,
      stackDepth: context.options.stackDepth,
      ownerOf: (owner) => this.ownUnit(owner),
    });
    this.fetchRequests = new FetchRequestTracker(this.tracker as ResourceTracker<unknown>);
    this.fakeTimers = new FakeTimerProbe(context.host, () =>
      this.ownUnit(currentAsyncContext()?.owner),
    );
    this.locks = new LockSession({
      rootDir: context.rootDir,
      testPath: context.testPath,
      global: context.global,
      lockOrder: context.options.lockOrder,
      untracked: (fn) => this.tracker.untracked(fn),
      somethingElsePending: () => this.wakeSources.firstWaker(this.tracker) !== undefined,
      describeOwner: (owner) => {
        const unit = this.ownUnit(owner);
        return unit ? ownerRef(unit) : undefined;
      },
    });
    this.guard(() => {
      this.fakeTimers.install();
      this.wrapFetch();
      wrapCoreEntryPoints();
    });
  }

  start(): void {
    this.guard(() => {
      this.wakeSources.takeBaseline();
      this.tracker.enable();
      this.fetchRequests.enable();
    });
  }

  stop(): void {
    for (const { timer } of this.watchdogs.values()) realClearTimeout(timer);
    this.watchdogs.clear();
    this.stopIdleCheck();
    this.fetchRequests.disable();
    this.tracker.disable();
    this.locks.stop();
  }

  /** Returns a promise only when circus must wait (the leak check's grace period). */
  handleTestEvent(event: Circus.Event, state: Circus.State): Promise<void> | void {
    this.guard(() => this.onEvent(event, state));
    if (this.disabled || this.context.options.leaks === 'off') return;
    // A hung test's open resources are already in its report.
    if (event.name === 'test_done' && !hungWith(event.test)) return this.checkLeaks(event.test);
    if (event.name === 'run_finish') return this.checkLeaks(undefined);
  }

  /**
   * After a test and its afterEach hooks (or, without a test, after the file's afterAll), report
   * what they left open. Only when something could be a leak does it wait: two turns of the loop
   * and a few milliseconds, so closes that complete a tick later (`await server.close()`) are
   * not blamed.
   */
  private async checkLeaks(test: Circus.TestEntry | undefined): Promise<void> {
    const owns = (unit: Unit | undefined) =>
      unit !== undefined &&
      (test
        ? unit.test === test
        : unit.kind === 'module' || unit.kind === 'beforeAll' || unit.kind === 'afterAll');
    if (!isLeakCandidate(this.tracker, owns)) return;
    // Two turns of the loop: a close started as the test ended completes in the first.
    for (let turn = 0; turn < 2; turn++) {
      await this.tracker.untracked(() => new Promise<void>((resolve) => setImmediate(resolve)));
    }
    if (!isLeakCandidate(this.tracker, owns)) return;
    this.guard(() => {
      const leaks = findLeaks(
        this.tracker,
        owns,
        (unit) => (unit ? ownerRef(unit) : undefined),
        this.context.options.maxListed,
      );
      if (leaks.resources.length === 0) return;
      const fails = this.context.options.leaks === 'error' && test !== undefined;
      const finding = buildLeakFinding(
        {
          testName: test ? fullTestName(test) : '',
          testPath: this.context.testPath,
          scope: test ? 'test' : 'file',
          severity: fails ? 'error' : 'warning',
        },
        leaks,
      );
      publishFinding(finding);
      const text = renderLeakText(finding, { rootDir: this.context.rootDir });
      if (fails) test!.errors.push(new LeakError(text, finding));
      else withoutStack(() => this.context.console.warn(text));
    });
  }

  private ownUnit(owner: unknown): Unit | undefined {
    if (this.units.has(owner as Unit)) return owner as Unit;
    return this.loading ? this.moduleUnit : undefined;
  }

  private onEvent(event: Circus.Event, state: Circus.State): void {
    switch (event.name) {
      case 'run_start':
        this.loading = false;
        break;
      case 'error':
        this.recordCallbackError(event.error);
        break;
      case 'test_retry':
        this.attempts.set(event.test, (this.attempts.get(event.test) ?? 0) + 1);
        break;
      case 'add_test':
        if (event.concurrent) this.preassignConcurrent(event, state);
        break;
      case 'test_fn_start': {
        const timeoutMs = event.test.timeout || state.testTimeout;
        const preassigned = this.preassigned.get(event.test);
        this.preassigned.delete(event.test);
        const unit = preassigned
          ? this.restartUnit(preassigned, timeoutMs)
          : this.startUnit('test', fullTestName(event.test), timeoutMs, { test: event.test });
        this.running.set(event.test, unit);
        event.test.fn = this.wrap(event.test.fn as AnyFunction, unit) as typeof event.test.fn;
        break;
      }
      case 'test_fn_success':
      case 'test_fn_failure': {
        const unit = this.running.get(event.test);
        if (!unit) break;
        this.finishUnit(unit, event.test);
        if (event.name === 'test_fn_failure' && isTimeoutError(event.error)) {
          this.reportHang(unit, event.error, state);
        }
        break;
      }
      case 'hook_start': {
        const { hook } = event;
        const test = state.currentlyRunningTest ?? undefined;
        const isEach = hook.type === 'beforeEach' || hook.type === 'afterEach';
        const name = isEach && test ? fullTestName(test) : describePath(hook.parent).join(' › ');
        const unit = this.startUnit(hook.type, name, hook.timeout || state.testTimeout, {
          hook,
          ...(isEach && test ? { test } : {}),
        });
        this.running.set(hook, unit);
        hook.fn = this.wrap(hook.fn as AnyFunction, unit) as typeof hook.fn;
        break;
      }
      case 'hook_success':
      case 'hook_failure': {
        const unit = this.running.get(event.hook);
        if (!unit) break;
        this.finishUnit(unit, event.hook);
        if (event.name === 'hook_failure' && isTimeoutError(event.error)) {
          this.reportHang(unit, event.error, state);
        }
        break;
      }
      default:
        break;
    }
  }

  /**
   * An error thrown in a callback (an assertion in an event handler) while a `done`-style test or
   * hook runs is usually why `done()` was never reached: keep it for the report.
   */
  private recordCallbackError(error: unknown): void {
    const waiting = [...this.running.values()].filter((unit) => {
      const fn = (unit.kind === 'test' ? unit.test?.fn : unit.hook?.fn) as Wrappable | undefined;
      return ((fn?.[ORIGINAL_FN] ?? fn)?.length ?? 0) > 0;
    });
    if (waiting.length !== 1) return;
    (waiting[0].callbackErrors ??= []).push(error);
  }

  private startUnit(
    kind: Unit['kind'],
    name: string,
    timeoutMs: number,
    about: Pick<Unit, 'test' | 'hook'>,
  ): Unit {
    const unit: Unit = {
      id: this.nextUnitId++,
      kind,
      name,
      ...about,
      startedAt: performance.now(),
      timeoutMs,
      attempt: about.test && kind === 'test' ? (this.attempts.get(about.test) ?? 0) : 0,
      running: true,
    };
    this.units.add(unit);
    this.armWatchdog(unit);
    return unit;
  }

  /**
   * Jest 29 starts every `test.concurrent` function when the file's root block starts, long
   * before that test's `test_fn_start`: give it its unit as soon as it is declared, so what it
   * creates early is still its own.
   */
  private preassignConcurrent(
    event: Circus.Event & { name: 'add_test' },
    state: Circus.State,
  ): void {
    const children = state.currentDescribeBlock.children;
    const test = children[children.length - 1];
    if (test?.type !== 'test' || test.fn !== event.fn) return;
    const unit: Unit = {
      id: this.nextUnitId++,
      kind: 'test',
      name: fullTestName(test),
      test,
      startedAt: performance.now(),
      timeoutMs: 0,
      attempt: 0,
      running: true,
    };
    this.units.add(unit);
    this.preassigned.set(test, unit);
    test.fn = this.wrap(test.fn as AnyFunction, unit) as typeof test.fn;
  }

  /** The unit's timeout starts at `test_fn_start`, as Jest's own does. */
  private restartUnit(unit: Unit, timeoutMs: number): Unit {
    unit.startedAt = performance.now();
    unit.timeoutMs = timeoutMs;
    unit.running = true;
    this.armWatchdog(unit);
    return unit;
  }

  private finishUnit(unit: Unit, key: Circus.TestEntry | Circus.Hook): void {
    this.locks.endUnit(
      unit,
      `the end of ${unit.kind === 'test' ? 'test' : unit.kind} "${unit.name}"`,
    );
    this.locks.failInversions(unit, unit.test);
    unit.running = false;
    this.running.delete(key);
    const watchdog = this.watchdogs.get(unit);
    if (watchdog) realClearTimeout(watchdog.timer);
  }

  /**
   * Real timers from the outer realm: `jest.useFakeTimers()` only replaces the test file's globals,
   * so the watchdog keeps time whatever the test does to the clock. At the deadline it snapshots
   * what is pending, before Jest's own timeout handler (armed just after it) runs.
   */
  private armWatchdog(unit: Unit): void {
    if (!(unit.timeoutMs > 0) || !Number.isFinite(unit.timeoutMs)) return;
    const entry: { timer: NodeJS.Timeout; snapshot?: HangFinding } = {
      timer: this.tracker.untracked(() =>
        realSetTimeout(() => {
          this.guard(() => {
            if (unit.running) entry.snapshot = this.buildFinding(unit, false);
          });
        }, unit.timeoutMs),
      ),
    };
    entry.timer.unref();
    this.watchdogs.set(unit, entry);
    this.startIdleCheck();
  }

  /**
   * While any test or hook runs, look every 50 ms whether anything in the process could still
   * settle it; after two looks in a row find nothing, fail every running unit at once instead of
   * letting each wait out its timeout. Unref'd, so it never keeps the process alive itself.
   */
  private startIdleCheck(): void {
    if (this.context.options.idle === 'off' || this.idleCheck) return;
    this.idleStrikes = 0;
    this.idleCheck = this.tracker.untracked(() =>
      realSetInterval(() => this.guard(() => this.checkIdle()), IDLE_CHECK_INTERVAL_MS),
    );
    this.idleCheck.unref();
  }

  private stopIdleCheck(): void {
    if (this.idleCheck) realClearInterval(this.idleCheck);
    this.idleCheck = undefined;
  }

  private checkIdle(): void {
    const units = [...this.running.values()].filter((unit) => unit.abort);
    if (this.running.size === 0) return this.stopIdleCheck();
    const fakeTimers = this.fakeTimers.pending(() => 'unknown');
    const wakeable =
      units.length === 0 ||
      (fakeTimers?.pending.length ?? 0) > 0 ||
      this.wakeSources.firstWaker(this.tracker) !== undefined;
    this.idleStrikes = wakeable ? 0 : this.idleStrikes + 1;
    if (this.idleStrikes < IDLE_CHECKS_TO_FAIL) return;
    this.idleStrikes = 0;
    for (const unit of units) this.failIdle(unit);
  }

  private failIdle(unit: Unit): void {
    const abort = unit.abort;
    if (!abort || !unit.running) return;
    unit.abort = undefined;
    const finding = this.buildFinding(unit, true, 'idle');
    publishFinding(finding);
    abort(this.hangError(finding, unit));
  }

  /** Runs a test or hook function inside its unit's async context, keeping its arity (`done`). */
  private wrap(fn: AnyFunction, unit: Unit): AnyFunction {
    const original = (fn as Wrappable)[ORIGINAL_FN] ?? fn;
    if (original.constructor?.name === 'GeneratorFunction') return original;
    const wrapped: Wrappable = function (this: unknown, ...args: unknown[]) {
      if (original.length > 0 && typeof args[0] === 'function') {
        // `done` style: failing early means calling `done` with the error.
        const done = args[0] as (error?: unknown) => void;
        unit.abort = (error) => done(error);
        return runAsOwner(unit, () => original.apply(this, args));
      }
      const result = runAsOwner(unit, () => original.apply(this, args));
      if (!isThenable(result)) return result;
      // Race the function's promise against an early failure (the idle check).
      return new Promise((resolve, reject) => {
        unit.abort = reject;
        result.then(resolve, reject);
      });
    };
    Object.defineProperty(wrapped, 'length', { value: original.length });
    wrapped[ORIGINAL_FN] = original;
    return wrapped;
  }

  /** fetch opens its socket later, inside undici: record the user's call site for it. */
  private wrapFetch(): void {
    const original = this.context.global.fetch;
    if (typeof original === 'function') {
      this.context.global.fetch = withOrigin(original as AnyFunction, 'fetch');
    }
  }

  private reportHang(unit: Unit, timeoutError: unknown, state: Circus.State): void {
    const finding = this.watchdogs.get(unit)?.snapshot ?? this.buildFinding(unit, true);
    this.watchdogs.delete(unit);
    publishFinding(finding);
    replaceRecordedError(state, timeoutError, this.hangError(finding, unit));
  }

  /** The error a user sees: the rendered report, its stack starting at the culprit's line. */
  private hangError(finding: HangFinding, unit: Unit): HangError {
    const message = renderHangText(finding, { rootDir: this.context.rootDir });
    const culprit = culpritFrame(finding);
    const culpritSite = culprit
      ? [
          ...finding.pending,
          ...(finding.fakeTimers?.pending ?? []),
          ...(finding.pendingPromises ?? []),
        ].find((entry) => entry.site?.top === culprit)?.site
      : undefined;
    const frames = culpritSite ? culpritSite.frames.filter((frame) => frame.origin === 'user') : [];
    const asyncError = unit.kind === 'test' ? unit.test?.asyncError : unit.hook?.asyncError;
    return new HangError(message, finding, frames, (asyncError as Error | undefined)?.stack);
  }

  private buildFinding(
    unit: Unit,
    atFailure: boolean,
    trigger: HangFinding['trigger'] = 'timeout',
  ): HangFinding {
    injectFault('report');
    const view: ResourceView<Unit> = {
      relationOf: (owner) => this.relationOf(owner, unit),
      describeOwner: (owner) => (owner ? ownerRef(owner) : undefined),
    };
    const pending = collectPending(this.tracker, view, {
      maxListed: this.context.options.maxListed,
    });
    const fakeTimers = this.fakeTimers.pending((owner) => this.relationOf(owner, unit));
    const fn = (unit.test && unit.kind === 'test' ? unit.test.fn : unit.hook?.fn) as
      Wrappable | undefined;
    const original = fn?.[ORIGINAL_FN] ?? fn;
    const hung: HungUnit = {
      testName: unit.name,
      testPath: this.context.testPath,
      phase: unit.kind === 'module' ? 'test' : unit.kind,
      ...(unit.kind !== 'test' && unit.test ? { forTest: fullTestName(unit.test) } : {}),
      trigger,
      elapsedMs: atFailure ? performance.now() - unit.startedAt : unit.timeoutMs,
      timeoutMs: unit.timeoutMs,
      waitingForDone: (original?.length ?? 0) > 0,
      thrownBeforeDone: (unit.callbackErrors ?? []).map(describeThrown),
      attempt: unit.attempt,
    };
    return this.withLocks(
      buildHangFinding(hung, pending, {
        ...(fakeTimers ? { fakeTimers } : {}),
        promisesTracked: this.context.options.promises,
      }),
    );
  }

  /** Adds held and awaited locks to a hang report; a failure there must not lose the report. */
  private withLocks(finding: HangFinding): HangFinding {
    try {
      this.locks.addTo(finding);
    } catch {
      // the report without its lock section is still the report
    }
    return finding;
  }

  /** Ranks a resource's creator against the hung unit; `undefined` hides another running test's. */
  private relationOf(creator: Unit | undefined, hung: Unit): Relation | undefined {
    if (!creator) return 'unknown';
    if (creator === hung) return 'this-test';
    if (creator.kind === 'module') return 'earlier';
    if (creator.kind === 'test') {
      // Concurrent siblings started together with it: never "earlier", and never its culprits.
      if (creator.running || (creator.test?.concurrent && hung.test?.concurrent)) return undefined;
      // An afterEach waits on what its own test left behind: that is its likeliest culprit.
      return creator.test === hung.test && hung.kind === 'afterEach' ? 'hook' : 'earlier';
    }
    if (creator.kind === 'beforeAll' || creator.kind === 'afterAll') return 'hook';
    // beforeEach/afterEach: the hung test's own hooks, or leftovers from another test's.
    return creator.test !== undefined && creator.test === hung.test ? 'hook' : 'earlier';
  }

  private guard(action: () => void): void {
    if (this.disabled) return;
    try {
      action();
    } catch (error) {
      this.disabled = true;
      try {
        this.stop();
      } catch {
        // already failing: plain Jest behaviour is all that is left
      }
      if (!warnedInternalError) {
        warnedInternalError = true;
        const reason = error instanceof Error ? error.message : String(error);
        process.stderr.write(
          `hangwatch: internal error (${reason}); hang reports are off for ${this.context.testPath}, tests run as plain Jest.\n`,
        );
      }
    }
  }
}
