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
import type { Lifecycle, UnitEvent } from './lifecycle';
import { declaresDone } from './unit-functions';
import { LockSession } from './lock-session';
import { publishFinding } from './findings-channel';
import type { HangwatchOptions } from './options';
import { namingOf, ownerRef, type Unit } from './units';

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
  private readonly idleCheck: IdleCheck;
  private readonly leakWatch: LeakWatch;
  /** What was pending when each unit's timeout expired, for the report at Jest's timeout. */
  private readonly snapshots = new Map<Unit, HangFinding>();
  private recordingEvents = false;
  private awaitStacksSpentMs = 0;
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
    });
    lifecycle.useTimers({
      setTimer: (fn, ms) => {
        const timer = this.tracker.untracked(() => realSetTimeout(fn, ms));
        timer.unref();
        return timer;
      },
      clearTimer: (timer) => realClearTimeout(timer as NodeJS.Timeout),
    });
    this.fetchRequests = new FetchRequestTracker(this.tracker as ResourceTracker<unknown>);
    this.fakeTimers = new FakeTimerProbe(context.host, () =>
      lifecycle.ownerOf(currentAsyncContext()?.owner),
    );
    this.locks = new LockSession(lifecycle, {
      rootDir: context.rootDir,
      testPath: context.testPath,
      global: context.global,
      lockOrder: context.options.lockOrder,
      lockSites: context.options.lockSites,
      untracked: (fn) => this.tracker.untracked(fn),
      somethingElsePending: () => this.wakeSources.firstWaker(this.tracker) !== undefined,
      describeOwner: (owner) => {
        const unit = lifecycle.ownerOf(owner);
        return unit ? ownerRef(unit) : undefined;
      },
    });
    this.idleCheck = new IdleCheck({
      running: () => lifecycle.running(),
      anythingCouldWake: () =>
        (this.fakeTimers.pending(() => 'unknown')?.pending.length ?? 0) > 0 ||
        this.wakeSources.firstWaker(this.tracker) !== undefined,
      fail: (unit) => this.failIdle(unit),
      failLockWaits: () => this.locks.graph.failStalledWaits(true),
      untracked: (fn) => this.tracker.untracked(fn),
      guard: (action) => this.guard(action),
    });
    this.leakWatch = new LeakWatch(this.tracker, lifecycle, {
      ...context,
      verbose: context.verbose ?? false,
      alreadyReported: hungWith,
      untracked: (fn) => this.tracker.untracked(fn),
      guard: (action) => this.guard(action),
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
      if (context.options.awaitStacks) recordExplicitPromises(context.global);
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
    this.idleCheck.stop();
    this.fetchRequests.disable();
    this.tracker.disable();
    this.locks.stop();
    if (this.recordingEvents) uninstallEventRecording();
    this.recordingEvents = false;
  }

  private onUnitEvent(event: UnitEvent): void {
    switch (event.name) {
      case 'file_loaded':
        this.tracker.traceTicks = false;
        break;
      case 'unit_started':
        // Shared clients are made in a beforeAll too: trace its ticks, as the module scope's.
        if (event.unit.kind === 'beforeAll') this.tracker.traceTicks = true;
        break;
      case 'unit_timed_out':
        // Before Jest's own timeout handler runs: what is pending now is what the unit waits on.
        this.snapshots.set(event.unit, this.buildFinding(event.unit, false));
        break;
      case 'unit_ended': {
        const { unit } = event;
        if (unit.kind === 'beforeAll') this.tracker.traceTicks = false;
        const snapshot = this.snapshots.get(unit);
        this.snapshots.delete(unit);
        if (event.outcome === 'timed_out') this.reportHang(unit, event.error, snapshot);
        break;
      }
      default:
        break;
    }
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

  private reportHang(unit: Unit, timeoutError: unknown, snapshot: HangFinding | undefined): void {
    const finding = snapshot ?? this.buildFinding(unit, true);
    publishFinding(finding);
    this.lifecycle.recordFailure(unit, this.hangError(finding, unit), timeoutError);
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
      ...namingOf(unit),
      testPath: this.context.testPath,
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
      return encloses(creator.hook?.parent, hung.block) ? 'hook' : 'earlier';
    }
    // beforeEach/afterEach: the hung test's own hooks, or leftovers from another test's.
    return creator.test !== undefined && creator.test === hung.test ? 'hook' : 'earlier';
  }

  private guard(action: () => void): void {
    this.degradable.run(action);
  }
}
