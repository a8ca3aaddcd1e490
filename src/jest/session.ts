import { realClearTimeout, realSetTimeout } from '../core/real-timers';
import type { Circus } from '@jest/types';
import { FetchRequestTracker } from '../core/fetch-requests';
import { HangError, LeftOverError } from '../core/hang-error';
import type { HangFinding } from '../core/model';
import {
  installEventRecording,
  recordExplicitPromises,
  uninstallEventRecording,
} from '../core/await-stacks/recorder';
import { currentAsyncContext, releaseAsyncContexts } from '../core/async-context';
import { isLeftOver, LeftOver } from '../core/left-over';
import { withOrigin, wrapCoreEntryPoints } from '../core/origins';
import { watchWorkersComingOnline } from '../core/worker-threads';
import { ResourceTracker } from '../core/tracker';
import { StallClock } from '../core/stall-clock';
import { WakeSources } from '../core/wake-sources';
import { isCircusTimeoutTimer } from './circus-timers';
import { FakeTimerProbe, type FakeTimerHost } from './fake-timers';
import { Degradable } from './degrade';
import { HangReports } from './hang-reports';
import { IdleCheck } from './idle-check';
import { LeakWatch } from './leak-check';
import type { Lifecycle, UnitEvent } from './lifecycle';
import { LockSession } from './lock-session';
import { publishFinding } from './findings-channel';
import type { HangwatchOptions } from './options';
import { renderText } from './report-code';
import { ownerRef, type Unit } from './units';

function hungWith(test: Circus.TestEntry): boolean {
  return test.errors.some(
    (entry) => (Array.isArray(entry) ? entry[0] : entry) instanceof HangError,
  );
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
 * Everything hangwatch does for one test file's hangs: tracks resources, attributes them to the
 * lifecycle's units, snapshots what is pending when a unit's timeout expires, and turns Jest's
 * timeout into a HangError. Its lock session, idle check and leak check subscribe to the
 * lifecycle with it, as one part: any internal failure switches them all off for the rest of the
 * file and leaves Jest's own behaviour untouched.
 */
export class HangwatchSession {
  private readonly tracker: ResourceTracker<Unit>;
  private readonly fakeTimers: FakeTimerProbe<Unit>;
  private readonly fetchRequests: FetchRequestTracker;
  private readonly wakeSources = new WakeSources();
  /** Locks (hangwatch/sync, instrumented async-mutex): deadlocks, lock order, report section. */
  private readonly locks: LockSession;
  /** One clock for the lock graph's stall check and the idle check. */
  private readonly stallClock: StallClock;
  private readonly idleCheck: IdleCheck;
  private readonly leakWatch: LeakWatch;
  /** What was pending when each unit's timeout expired, for the report at Jest's timeout. */
  private readonly snapshots = new Map<Unit, HangFinding>();
  /** Units failed as hung (timed out, or idle): Jest does not stop their work. */
  private readonly hungUnits = new WeakSet<Unit>();
  /** The per-test hook that hung, and the test that hung, by test (see `timedOutUnitFor`). */
  private readonly hungHooks = new WeakMap<Circus.TestEntry, Unit>();
  private readonly hungTests = new WeakMap<Circus.TestEntry, Unit>();
  private readonly reports: HangReports;
  private recordingEvents = false;
  private readonly degradable = new Degradable(
    () => this.stop(),
    (reason) =>
      `hangwatch: internal error (${reason}); hang reports are off for ${this.context.testPath}, tests run as plain Jest.`,
  );

  constructor(
    private readonly context: SessionContext,
    private readonly lifecycle: Lifecycle,
  ) {
    this.tracker = new ResourceTracker<Unit>({
      promises: context.options.promises,
      stackDepth: context.options.stackDepth,
      ownerOf: (owner) => lifecycle.ownerOf(owner),
      ignoresTimer: isCircusTimeoutTimer,
    });
    // Real timers of the outer realm, which the tracker does not count as the test's work and
    // fake timers cannot freeze; unref'd, they never keep the process alive.
    const ownTimers = {
      setTimer: (fn: () => void, ms: number) => {
        const timer = this.tracker.untracked(() => realSetTimeout(fn, ms));
        timer.unref();
        return timer;
      },
      clearTimer: (timer: unknown) => realClearTimeout(timer as NodeJS.Timeout),
    };
    lifecycle.useTimers(ownTimers);
    this.fetchRequests = new FetchRequestTracker(this.tracker as ResourceTracker<unknown>);
    this.fakeTimers = new FakeTimerProbe(
      context.host,
      () => lifecycle.ownerOf(currentAsyncContext()?.owner),
      context.global,
      this.tracker,
    );
    this.stallClock = new StallClock(ownTimers, (look) => this.guard(look));
    this.locks = new LockSession(lifecycle, {
      stallClock: this.stallClock,
      rootDir: context.rootDir,
      testPath: context.testPath,
      global: context.global,
      lockOrder: context.options.lockOrder,
      lockSites: context.options.lockSites,
      timers: ownTimers,
      somethingElsePending: () => this.somethingCouldWake(),
      describeOwner: (owner) => {
        const unit = lifecycle.ownerOf(owner);
        return unit ? ownerRef(unit) : undefined;
      },
    });
    // After the lock session: its graph's stall check acts first on the clock they share.
    this.idleCheck = new IdleCheck(
      {
        running: () => lifecycle.running(),
        somethingElsePending: () => this.somethingCouldWake(),
        fakeTimerPending: () => (this.fakeTimers.pending(() => 'unknown')?.pending.length ?? 0) > 0,
        fail: (unit) => this.failIdle(unit),
      },
      this.stallClock,
    );
    if (context.options.idle !== 'off') this.stallClock.add(this.idleCheck);
    this.reports = new HangReports({
      ...context,
      tracker: this.tracker,
      fakeTimers: this.fakeTimers,
      locks: this.locks,
    });
    this.leakWatch = new LeakWatch(this.tracker, lifecycle, {
      ...context,
      verbose: context.verbose ?? false,
      alreadyReported: hungWith,
      hung: (unit) => this.hungUnits.has(unit),
      timedOutUnitFor: (creator, resource) => this.timedOutUnitFor(creator, resource),
      siteAsReported: (resource, owner) => this.reports.siteAsReported(resource, owner),
      untracked: (fn) => this.tracker.untracked(fn),
      guard: (action) => this.guard(action),
      closedByJest: () => this.fakeTimers.jestTicker(),
    });
    // The lock session first: a unit's flows end before its hang is reported, as they did when
    // the report is made at Jest's timeout.
    lifecycle.subscribe(this.degradable, (event) => this.locks.onUnitEvent(event));
    lifecycle.subscribe(this.degradable, (event) => this.onUnitEvent(event));
    if (context.options.idle !== 'off') {
      lifecycle.subscribe(this.degradable, (event) => this.idleCheck.onUnitEvent(event));
    }
    if (context.options.leaks !== 'off') {
      lifecycle.subscribe(this.degradable, (event) => this.leakWatch.onUnitEvent(event));
    }
    this.guard(() => {
      this.fakeTimers.install();
      this.wrapFetch();
      wrapCoreEntryPoints();
      watchWorkersComingOnline();
      if (context.options.awaitStacks) {
        recordExplicitPromises(context.global, () => !this.madeByStoppedWork());
      }
    });
  }

  start(): void {
    this.guard(() => {
      // The file's module scope runs next: trace its ticks until the first test (see tracker).
      this.tracker.traceTicks = this.lifecycle.isLoading;
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
    this.snapshots.clear();
    this.stallClock.dispose();
    this.fetchRequests.disable();
    // One left-over per owner, for its contexts and its open resources alike.
    const leftOvers = new Map<unknown, LeftOver | undefined>();
    const leftOverOf = (owner: unknown) => {
      if (!leftOvers.has(owner)) leftOvers.set(owner, this.leftOverOf(owner));
      return leftOvers.get(owner);
    };
    try {
      this.tracker.markLeftOver(leftOverOf);
    } catch {
      // Later files only lose the name of this file's work; tracking must still stop.
    }
    this.tracker.disable();
    this.locks.stop();
    if (this.recordingEvents) uninstallEventRecording();
    this.recordingEvents = false;
    // Last: the file's reports are built. What outlives the file no longer holds its realm.
    releaseAsyncContexts(leftOverOf);
  }

  /**
   * What an owner of this file's async contexts becomes once the file is over. (After an internal
   * error `stop` runs mid-file: the file's own later callbacks are then left-over work too, which
   * only words an error they throw; hang reports are off by then.)
   */
  private leftOverOf(owner: unknown): LeftOver | undefined {
    // An earlier file's work, still running: it stays that file's.
    if (isLeftOver(owner)) return owner;
    const unit = this.lifecycle.ownerOf(owner);
    if (!unit) return undefined;
    return new LeftOver({
      testPath: this.context.testPath,
      owner: ownerRef(unit),
      timedOut: this.hungUnits.has(unit),
    });
  }

  private onUnitEvent(event: UnitEvent): void {
    switch (event.name) {
      case 'file_loaded':
        this.tracker.traceTicks = false;
        break;
      case 'unit_started':
        // Shared clients are made in a beforeAll too: trace its ticks, as the module scope's.
        if (event.unit.kind === 'beforeAll') this.tracker.traceTicks = true;
        this.fakeTimers.noticeInstalledClock(event.unit);
        break;
      case 'left_over_error': {
        const note = renderText().renderLeftOverErrorNote(event.leftOver.by, this.context);
        const replacement = new LeftOverError(event.error, note);
        this.lifecycle.replaceError(event.error, replacement, event.promise);
        break;
      }
      case 'unit_timed_out':
        // Before Jest's own timeout handler runs: what is pending now is what the unit waits on.
        this.snapshots.set(event.unit, this.reports.build(event.unit, false));
        break;
      case 'unit_ended': {
        const { unit } = event;
        if (unit.kind === 'beforeAll') this.tracker.traceTicks = false;
        const snapshot = this.snapshots.get(unit);
        this.snapshots.delete(unit);
        if (event.outcome === 'timed_out') {
          this.markHung(unit);
          this.reportHang(unit, event.error, snapshot);
        }
        break;
      }
      default:
        break;
    }
  }

  /**
   * Whether anything could still wake a waiting unit or lock waiter. A fake clock that advances
   * with real time keeps a real interval, which wakes nothing while the clock holds no timer.
   */
  private somethingCouldWake(): boolean {
    // A clock the test installed itself is noticed here (each look of the idle check), for its
    // ticker and for the report that may follow; what it already holds is the running unit's.
    const running = [...this.lifecycle.running()].pop();
    if (running) this.fakeTimers.noticeInstalledClock(running);
    return this.wakeSources.firstWaker(this.tracker, this.fakeTimers.idleTicker()) !== undefined;
  }

  /**
   * Whether the running code is work that goes on after its test is over (a timed-out test's poll
   * loop, a leak; its hooks' work too) or after its file is: what it makes is no running unit's
   * to wait on. A beforeEach's client still works for its test, and a test's for its afterEach:
   * only once the test is done (and not running again, as a retry) is its work stopped work.
   */
  private madeByStoppedWork(): boolean {
    const owner = currentAsyncContext()?.owner;
    if (owner === undefined) return false;
    if (isLeftOver(owner)) return true;
    const unit = this.lifecycle.ownerOf(owner);
    if (!unit?.test || unit.running || unit.test.status !== 'done') return false;
    for (const running of this.lifecycle.running()) if (running.test === unit.test) return false;
    return true;
  }

  private markHung(unit: Unit): void {
    this.hungUnits.add(unit);
    if (!unit.test) return;
    if (unit.kind === 'test') this.hungTests.set(unit.test, unit);
    else if (unit.kind === 'beforeEach' || unit.kind === 'afterEach') {
      this.hungHooks.set(unit.test, unit);
    }
  }

  /**
   * Which unit's timeout left a resource running, when not its creator's: a hook of its test
   * whose hang report listed it, else its test, when that hung.
   */
  private timedOutUnitFor(creator: Unit, resource: object): Unit | undefined {
    if (!creator.test || this.hungUnits.has(creator)) return undefined;
    const hook = this.hungHooks.get(creator.test);
    if (hook && hook !== creator && this.reports.listed(hook, resource)) return hook;
    const test = this.hungTests.get(creator.test);
    return test && test !== creator ? test : undefined;
  }

  private failIdle(unit: Unit): void {
    const abort = unit.abort;
    if (!abort || !unit.running) return;
    unit.abort = undefined;
    this.markHung(unit);
    const finding = this.reports.build(unit, true, 'idle');
    publishFinding(finding);
    abort(this.reports.error(finding, unit));
  }

  /** fetch opens its socket later, inside undici: record the user's call site for it. */
  private wrapFetch(): void {
    const original = this.context.global.fetch;
    if (typeof original === 'function') {
      this.context.global.fetch = withOrigin(original as (...args: unknown[]) => unknown, 'fetch');
    }
  }

  private reportHang(unit: Unit, timeoutError: unknown, snapshot: HangFinding | undefined): void {
    const finding = snapshot ?? this.reports.build(unit, true);
    publishFinding(finding);
    this.lifecycle.recordFailure(unit, this.reports.error(finding, unit), timeoutError);
  }

  private guard(action: () => void): void {
    this.degradable.run(action);
  }
}
