import { performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { collectGarbage } from '../core/collect-garbage';
import { formatBytes, formatDuration } from '../core/format';
import { setTimeout as realSetTimeout, clearTimeout as realClearTimeout } from 'node:timers';
import type { Circus } from '@jest/types';
import { FetchRequestTracker } from '../core/fetch-requests';
import { HangError } from '../core/hang-error';
import { parseStack, toCreationSite } from '../core/stack';
import {
  buildHangFinding,
  collectPending,
  culpritFrame,
  type HungUnit,
  type ResourceView,
} from '../core/hang-report';
import type { AwaitFlow, CreationSite, HangFinding, Relation } from '../core/model';
import { renderHangText } from '../core/render-text';
import { awaitCulpritFrames } from '../core/await-stacks/render';
import { readAwaitStacks } from '../core/await-stacks/read-await-stacks';
import {
  installEventRecording,
  recordExplicitPromises,
  uninstallEventRecording,
} from '../core/await-stacks/recorder';
import { currentAsyncContext } from '../core/async-context';
import { withOrigin, wrapCoreEntryPoints } from '../core/origins';
import { ResourceTracker } from '../core/tracker';
import { WakeSources } from '../core/wake-sources';
import { FakeTimerProbe, type FakeTimerHost } from './fake-timers';
import { Degradable } from './degrade';
import { IdleCheck } from './idle-check';
import { LeakWatch } from './leak-check';
import { declaresDone, wrapUnitFunction } from './unit-functions';
import { LockSession } from './lock-session';
import { publishFinding } from './findings-channel';
import type { HangwatchOptions } from './options';
import {
  hookSubject,
  fullTestName,
  isTimeoutError,
  ownerRef,
  replaceRecordedError,
  type Unit,
} from './units';

/** Heap snapshots stop once one file's reports have spent this much CPU on them (many hangs in a file). */
const AWAIT_STACKS_FILE_BUDGET_MS = 60_000;

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

/** The block a unit runs in: a test's (also for its per-test hooks), else the hook's own. */
function blockOf(unit: Unit): Circus.DescribeBlock | undefined {
  return unit.test?.parent ?? unit.hook?.parent;
}

/** Whether `outer` is `inner` or one of its enclosing describe blocks. */
function encloses(
  outer: Circus.DescribeBlock | undefined,
  inner: Circus.DescribeBlock | undefined,
): boolean {
  if (!outer) return true;
  for (let block = inner; block; block = block.parent) if (block === outer) return true;
  return false;
}

function hungWith(test: Circus.TestEntry): boolean {
  return test.errors.some(
    (entry) => (Array.isArray(entry) ? entry[0] : entry) instanceof HangError,
  );
}

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
  console: Pick<Console, 'warn' | 'info'>;
  /** `leakNotes`: say what a test left open that closed on its own later. */
  verbose?: boolean;
  /** The test file's global object, for wrapping entry points such as `fetch`. */
  global: Record<string, unknown>;
  /** Runs long synchronous work of hangwatch's own without the event-loop watchdog counting it. */
  aside?: <T>(work: () => T) => T;
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
  private readonly idleCheck: IdleCheck;
  private readonly leakWatch: LeakWatch;
  private readonly watchdogs = new Map<Unit, { timer: NodeJS.Timeout; snapshot?: HangFinding }>();
  private nextUnitId = 1;
  private recordingEvents = false;
  private awaitStacksSpentMs = 0;
  private loading = true;
  private readonly degradable = new Degradable(
    () => this.stop(),
    (reason) =>
      `hangwatch: internal error (${reason}); hang reports are off for ${this.context.testPath}, tests run as plain Jest.`,
  );

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
      lockSites: context.options.lockSites,
      untracked: (fn) => this.tracker.untracked(fn),
      somethingElsePending: () => this.wakeSources.firstWaker(this.tracker) !== undefined,
      describeOwner: (owner) => {
        const unit = this.ownUnit(owner);
        return unit ? ownerRef(unit) : undefined;
      },
    });
    this.idleCheck = new IdleCheck({
      running: () => this.running.values(),
      anythingCouldWake: () =>
        (this.fakeTimers.pending(() => 'unknown')?.pending.length ?? 0) > 0 ||
        this.wakeSources.firstWaker(this.tracker) !== undefined,
      fail: (unit) => this.failIdle(unit),
      failLockWaits: () => this.locks.graph.failStalledWaits(true),
      untracked: (fn) => this.tracker.untracked(fn),
      guard: (action) => this.guard(action),
    });
    this.leakWatch = new LeakWatch(this.tracker, {
      ...context,
      verbose: context.verbose ?? false,
      alreadyReported: hungWith,
      untracked: (fn) => this.tracker.untracked(fn),
      guard: (action) => this.guard(action),
    });
    this.guard(() => {
      this.fakeTimers.install();
      this.wrapFetch();
      wrapCoreEntryPoints();
      if (context.options.awaitStacks) recordExplicitPromises(context.global);
    });
  }

  start(): void {
    this.guard(() => {
      // The file's module scope runs next: trace its ticks until the first test (see tracker).
      this.tracker.traceTicks = this.loading;
      this.wakeSources.takeBaseline();
      this.tracker.enable();
      this.fetchRequests.enable();
      if (this.context.options.awaitStacks && !this.recordingEvents) {
        installEventRecording();
        this.recordingEvents = true;
      }
    });
  }

  stop(): void {
    for (const { timer } of this.watchdogs.values()) realClearTimeout(timer);
    this.watchdogs.clear();
    this.idleCheck.stop();
    this.fetchRequests.disable();
    this.tracker.disable();
    this.locks.stop();
    if (this.recordingEvents) uninstallEventRecording();
    this.recordingEvents = false;
  }

  /** Returns a promise only when circus must wait (the leak check at the end of the file). */
  handleTestEvent(event: Circus.Event, state: Circus.State): Promise<void> | void {
    this.guard(() => this.onEvent(event, state));
    if (this.degradable.disabled || this.context.options.leaks === 'off') return;
    // A hung test's open resources are already in its report.
    if (event.name === 'test_done' && !hungWith(event.test)) {
      this.guard(() => this.leakWatch.testDone(event.test));
    }
    if (event.name === 'run_finish') return this.leakWatch.fileDone(state);
  }

  private ownUnit(owner: unknown): Unit | undefined {
    if (this.units.has(owner as Unit)) return owner as Unit;
    return this.loading ? this.moduleUnit : undefined;
  }

  private onEvent(event: Circus.Event, state: Circus.State): void {
    switch (event.name) {
      case 'run_start':
        this.loading = false;
        this.tracker.traceTicks = false;
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
        event.test.fn = wrapUnitFunction(event.test.fn, unit, () =>
          this.locks.takeOrderError(unit),
        );
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
        const { name, test } = hookSubject(hook, state);
        const unit = this.startUnit(hook.type, name, hook.timeout || state.testTimeout, {
          hook,
          ...(test ? { test } : {}),
        });
        this.running.set(hook, unit);
        // Shared clients are made here too: trace its ticks, as the module scope's (see tracker).
        if (hook.type === 'beforeAll') this.tracker.traceTicks = true;
        hook.fn = wrapUnitFunction(hook.fn, unit, () => this.locks.takeOrderError(unit));
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
    const waiting = [...this.running.values()].filter((unit) =>
      declaresDone(unit.kind === 'test' ? unit.test?.fn : unit.hook?.fn),
    );
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
    test.fn = wrapUnitFunction(test.fn, unit, () => this.locks.takeOrderError(unit));
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
    if (unit.kind === 'beforeAll') this.tracker.traceTicks = false;
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
    if (this.context.options.idle !== 'off') this.idleCheck.start();
  }

  private failIdle(unit: Unit): void {
    const abort = unit.abort;
    if (!abort || !unit.running) return;
    unit.abort = undefined;
    const finding = this.buildFinding(unit, true, 'idle');
    publishFinding(finding);
    abort(this.hangError(finding, unit));
  }

  /** fetch opens its socket later, inside undici: record the user's call site for it. */
  private wrapFetch(): void {
    const original = this.context.global.fetch;
    if (typeof original === 'function') {
      this.context.global.fetch = withOrigin(original as (...args: unknown[]) => unknown, 'fetch');
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
    // Without a culprit of its own, the innermost user await; else the unit's declaration: Jest's
    // own frame, kept whole.
    const awaitFrames = awaitCulpritFrames(finding);
    const frames = culpritSite
      ? culpritSite.frames.filter((frame) => frame.origin === 'user')
      : culprit && awaitFrames[0] === culprit
        ? awaitFrames
        : [];
    return new HangError(message, finding, frames, this.declarationError(unit)?.stack);
  }

  /** The error Jest made where the test or hook was declared: its stack starts at that line. */
  private declarationError(unit: Unit): Error | undefined {
    return (unit.kind === 'test' ? unit.test?.asyncError : unit.hook?.asyncError) as
      Error | undefined;
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
    const fakeTimers = this.fakeTimers.pending(
      (owner) => this.relationOf(owner, unit),
      (owner) => (owner ? ownerRef(owner) : undefined),
    );
    const unitSite = toCreationSite(parseStack(this.declarationError(unit)?.stack));
    const hung: HungUnit = {
      testName: unit.name,
      testPath: this.context.testPath,
      phase: unit.kind === 'module' ? 'test' : unit.kind,
      ...(unit.kind !== 'test' && unit.test ? { forTest: fullTestName(unit.test) } : {}),
      trigger,
      elapsedMs: atFailure ? performance.now() - unit.startedAt : unit.timeoutMs,
      timeoutMs: unit.timeoutMs,
      waitingForDone: declaresDone(unit.kind === 'test' ? unit.test?.fn : unit.hook?.fn),
      thrownBeforeDone: (unit.callbackErrors ?? []).map(describeThrown),
      attempt: unit.attempt,
    };
    // Locks are described before the await stacks' snapshot, which takes a while: how long a lock
    // was held is as of the hang, not as of the end of the report.
    const locks = this.lockSection();
    const { awaits, skipped } = this.awaitStacks(unit);
    const finding = buildHangFinding(hung, pending, {
      ...(fakeTimers ? { fakeTimers } : {}),
      promisesTracked: this.context.options.promises,
      ...(unitSite?.top?.origin === 'user' ? { unitSite } : {}),
      ...(awaits.length > 0 ? { awaits } : {}),
    });
    if (skipped) finding.notes.push(skipped);
    if (locks) finding.locks = locks;
    return finding;
  }

  /** The unit's await stacks; a failure there must not lose the report. */
  private awaitStacks(unit: Unit): { awaits: AwaitFlow[]; skipped?: string } {
    if (!this.context.options.awaitStacks || unit.returned === undefined) return { awaits: [] };
    // Measured after a collection: garbage (an earlier report's snapshot text) is not heap the
    // snapshot has to walk, and the snapshot would collect it first anyway.
    this.tracker.untracked(() => collectGarbage());
    const heapBytes = getHeapStatistics().used_heap_size;
    const limitMb = this.context.options.awaitStacksMaxHeapMb;
    if (heapBytes > limitMb * 1024 * 1024) {
      return {
        awaits: [],
        skipped: `Await stacks were not read: the heap (${formatBytes(heapBytes)}) is over \`awaitStacksMaxHeapMb\` (${limitMb} MB), and a heap snapshot takes about a second per 10 MB (a ts-jest run in band loads TypeScript into it). Raise the limit, or set \`promises: true\` to record where pending promises were created.`,
      };
    }
    if (this.awaitStacksSpentMs > AWAIT_STACKS_FILE_BUDGET_MS) {
      return {
        awaits: [],
        skipped: `Await stacks were not read: this file's hang reports already spent ${formatDuration(this.awaitStacksSpentMs)} of CPU on heap snapshots.`,
      };
    }
    // CPU time, not wall time: a loaded machine must not change what a report contains.
    const cpuBefore = process.cpuUsage();
    try {
      const read = () => this.tracker.untracked(() => readAwaitStacks(unit.returned));
      return { awaits: this.context.aside ? this.context.aside(read) : read() };
    } catch {
      return { awaits: [] };
    } finally {
      const cpu = process.cpuUsage(cpuBefore);
      this.awaitStacksSpentMs += (cpu.user + cpu.system) / 1000;
    }
  }

  /** Adds held and awaited locks to a hang report; a failure there must not lose the report. */
  private lockSection(): HangFinding['locks'] {
    try {
      return this.locks.snapshot();
    } catch {
      // the report without its lock section is still the report
      return undefined;
    }
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
    if (creator.kind === 'beforeAll' || creator.kind === 'afterAll') {
      // A describe block's hooks serve the tests and hooks inside it, no others.
      return encloses(creator.hook?.parent, blockOf(hung)) ? 'hook' : 'earlier';
    }
    // beforeEach/afterEach: the hung test's own hooks, or leftovers from another test's.
    return creator.test !== undefined && creator.test === hung.test ? 'hook' : 'earlier';
  }

  private guard(action: () => void): void {
    this.degradable.run(action);
  }
}
