import { currentAsyncContext } from '../core/async-context';
import { isLeftOver, type LeftOver } from '../core/left-over';
import { realClearTimeout, realNow, realSetTimeout } from '../core/real-timers';
import type { Circus } from '@jest/types';
import type { Degradable } from './degrade';
import { removeOwnFrames } from './own-frames';
import { declaresDone, originalFunction, wrapUnitFunction } from './unit-functions';
import { fullTestName, hasDeadline, hookSubject, isTimeoutError, type Unit } from './units';

/**
 * What happens to the units of one test file, as hangwatch's parts see it. Circus's events are
 * many and shaped for circus; these are the few the parts need, in the order they happen.
 */
export type UnitEvent =
  /** The file's module scope has run; its tests start next. */
  | { name: 'file_loaded' }
  /**
   * A `test.concurrent` test got its unit as it was declared: Jest 29 calls its function as the
   * file starts, long before `unit_started`.
   */
  | { name: 'unit_declared'; unit: Unit }
  | { name: 'unit_started'; unit: Unit }
  /**
   * Its timeout has just expired: Jest's own timeout fires right after (its timer was armed
   * after ours), unless the loop is blocked. A report made now sees what is still pending.
   */
  | { name: 'unit_timed_out'; unit: Unit }
  /** `timed_out`: Jest failed it with its "Exceeded timeout" error, `error`. */
  | { name: 'unit_ended'; unit: Unit; outcome: 'passed' | 'failed' | 'timed_out'; error?: unknown }
  /** The test failed and runs again (`jest.retryTimes`): its next run is a new unit. */
  | { name: 'test_retried'; test: Circus.TestEntry }
  /** The test and its per-test hooks are done; circus waits for a returned promise. */
  | { name: 'test_done'; test: Circus.TestEntry }
  /** After the file's last `afterAll`; circus waits for a returned promise. */
  | { name: 'file_done' }
  /**
   * Circus took an uncaught error (or unhandled rejection) for this file's, but work an earlier
   * file left running threw it.
   */
  | { name: 'left_over_error'; error: unknown; promise?: Promise<unknown>; leftOver: LeftOver };

export type UnitEventHandler = (event: UnitEvent) => void | Promise<void>;

export interface LifecycleTimers {
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(timer: unknown): void;
}

/** Real timers of the outer realm: `jest.useFakeTimers()` only replaces the test file's globals. */
const realTimers: LifecycleTimers = {
  setTimer: (fn, ms) => {
    const timer = realSetTimeout(fn, ms);
    timer.unref();
    return timer;
  },
  clearTimer: (timer) => realClearTimeout(timer as NodeJS.Timeout),
};

/**
 * How early a re-armed deadline timer fires: Jest's timer for a unit counts from the event loop's
 * clock, which can lag behind hangwatch's by the loop turn it was read in.
 */
const DEADLINE_LEAD_MS = 20;

/** Most circus events mean nothing to hangwatch's parts: one shared empty answer for them. */
const NO_EVENTS: readonly UnitEvent[] = Object.freeze([]);

interface Subscription {
  handler: UnitEventHandler;
  /** The part it belongs to: an error in any of its handlers switches the whole part off. */
  part: Degradable;
}

/**
 * Tells one subscriber of one event, inside its part's guard (no closure per subscriber and event:
 * a few thousand events a file). Returns what to wait for when the subscriber asks for a wait.
 */
function deliver({ part, handler }: Subscription, event: UnitEvent): Promise<void> | undefined {
  const result = part.run(handler, event);
  return result ? result.catch((error: unknown) => part.fail(error)) : undefined;
}

/**
 * One test file's lifecycle, in the manner of jest-circus's own `eventHandler`: a `switch` over
 * circus events that keeps the file's units in one place (which runs, which hooks run for which
 * test, each one's timeout) and tells subscribers (the session, the lock session, the idle and
 * leak checks, the event-loop watchdog) in the order they subscribed. A subscriber's internal
 * error switches its part off and says so once; the user's test never sees it.
 */
export class Lifecycle {
  /** The owner of what the test file creates while it loads, outside any test or hook. */
  readonly moduleUnit: Unit;
  private readonly subscriptions: Subscription[] = [];
  /** Units of this file: an owner left in the async context by an earlier file is not one. */
  private readonly units = new WeakSet<Unit>();
  /**
   * In the order they started: the last is the innermost (a hook runs inside its test). An array,
   * not a map by test or hook: a map that empties after each unit reallocates its table each time,
   * thousands of times in a large file.
   */
  private readonly runningUnits: Unit[] = [];
  private readonly attempts = new WeakMap<Circus.TestEntry, number>();
  /** `test.concurrent` tests, given their unit when declared (see `preassignConcurrent`). */
  private readonly preassigned = new Map<Circus.TestEntry, Unit>();
  /** Running units whose timeout was announced (`unit_timed_out`) already. */
  private readonly announced = new WeakSet<Unit>();
  private deadlineTimer: unknown;
  /** When the armed deadline timer is due; Infinity while none is armed. */
  private deadlineTimerAt = Infinity;
  private nextUnitId = 1;
  private loading = true;
  /** An internal error of its own switched every part off. */
  private off = false;
  private state: Circus.State | undefined;

  constructor(
    testPath: string,
    private timers: LifecycleTimers = realTimers,
  ) {
    this.moduleUnit = {
      id: 0,
      kind: 'module',
      name: testPath,
      startedAt: realNow(),
      timeoutMs: 0,
      attempt: 0,
      running: false,
    };
    this.units.add(this.moduleUnit);
  }

  /** Timers hangwatch's resource tracker does not record (the session supplies them). */
  useTimers(timers: LifecycleTimers): void {
    this.timers = timers;
  }

  /** Whether the file's module scope is still running (no test or hook has started yet). */
  get isLoading(): boolean {
    return this.loading;
  }

  subscribe(part: Degradable, handler: UnitEventHandler): void {
    this.subscriptions.push({ part, handler });
  }

  /** The units running now, in the order they started. */
  running(): IterableIterator<Unit> {
    return this.runningUnits.values();
  }

  /**
   * The unit an async context's owner is, if it is one of this file's; what runs while the file
   * loads belongs to the module unit, unless an earlier file left it running.
   */
  ownerOf(owner: unknown): Unit | undefined {
    if (this.units.has(owner as Unit)) return owner as Unit;
    return this.loading && !isLeftOver(owner) ? this.moduleUnit : undefined;
  }

  /** Circus's handler has run; returns a promise only when circus must wait for a subscriber. */
  handleTestEvent(event: Circus.Event, state: Circus.State): Promise<void> | undefined {
    if (this.off) return undefined;
    this.state = state;
    let events: readonly UnitEvent[];
    try {
      events = this.translate(event, state);
    } catch (error) {
      this.off = true;
      for (const { part } of this.subscriptions) part.fail(error);
      return undefined;
    }
    if (events.length === 0) return undefined;
    let waits: Promise<void>[] | undefined;
    for (const unitEvent of events) {
      for (const subscription of this.subscriptions) {
        const wait = deliver(subscription, unitEvent);
        if (wait) (waits ??= []).push(wait);
      }
    }
    if (!waits) {
      releaseEnded(events);
      return undefined;
    }
    return Promise.all(waits).then(() => releaseEnded(events));
  }

  /**
   * The one way hangwatch fails a unit (or, for `'file'`, the test file, as an `afterAll` failure
   * does). With `replaces`, the error takes that one's place wherever circus recorded it (a
   * test's errors, a `beforeAll` failure fanned out to its tests, the file's); otherwise, or if
   * circus had not recorded it, it is added where circus keeps the unit's failures: its test's
   * errors, or the file's for describe-level hooks. An error already recorded is not added again.
   */
  recordFailure(target: Unit | 'file', error: Error, replaces?: unknown): void {
    const state = this.state;
    if (!state) return;
    if (replaces !== undefined && this.replaceError(replaces, error)) return;
    const test = target === 'file' ? undefined : testErrorsOf(target);
    const errors = (test?.errors ?? state.unhandledErrors) as unknown[];
    if (isRecorded(errors, error) || isRecorded(state.unhandledErrors, error)) return;
    if (test) errors.push([error, error]);
    else errors.push(error);
  }

  /**
   * Puts `replacement` where circus recorded `original`: a test's or the file's errors, or (Jest
   * 30) the map of unhandled rejections it settles when the test or file ends. Whether it was
   * anywhere; nothing is added when it was not.
   */
  replaceError(original: unknown, replacement: Error, promise?: Promise<unknown>): boolean {
    const state = this.state;
    if (!state) return false;
    if (replaceRecorded(state, original, replacement)) return true;
    // Absent under Jest 29, which records every error at once.
    const target =
      promise &&
      (state as Partial<Circus.State>).unhandledRejectionErrorByPromiseTarget?.get(promise);
    if (!target || target.get(promise) !== original) return false;
    target.set(promise, replacement);
    return true;
  }

  /** Fails a unit that has just started without calling its function (it froze an earlier run). */
  failBeforeRunning(unit: Unit, error: Error): void {
    const runnable = unit.kind === 'test' ? unit.test : unit.hook;
    if (!runnable) return;
    runnable.fn = function frozenInAnEarlierRun() {
      throw error;
    } as typeof runnable.fn;
  }

  private translate(event: Circus.Event, state: Circus.State): readonly UnitEvent[] {
    switch (event.name) {
      case 'run_start':
        this.loading = false;
        return [{ name: 'file_loaded' }];
      case 'error': {
        // Circus's handler runs in the thrower's async context: whose work threw is known.
        const owner = currentAsyncContext()?.owner;
        if (isLeftOver(owner)) {
          const promise = (event as { promise?: Promise<unknown> }).promise;
          return [{ name: 'left_over_error', error: event.error, leftOver: owner, promise }];
        }
        this.recordCallbackError(event.error);
        return NO_EVENTS;
      }
      case 'add_test': {
        const unit = event.concurrent ? this.preassignConcurrent(event, state) : undefined;
        return unit ? [{ name: 'unit_declared', unit }] : NO_EVENTS;
      }
      case 'test_retry':
        this.attempts.set(event.test, (this.attempts.get(event.test) ?? 0) + 1);
        return [{ name: 'test_retried', test: event.test }];
      case 'test_fn_start':
        return [this.start(event.test, this.testUnit(event.test, state))];
      case 'hook_start': {
        const { hook } = event;
        const { name, test } = hookSubject(hook, state);
        const unit = this.newUnit(hook.type, name, hook.timeout || state.testTimeout, test, hook);
        return [this.start(hook, unit)];
      }
      case 'test_fn_success':
        return this.end(event.test, 'passed');
      case 'test_fn_failure':
        return this.end(event.test, isTimeoutError(event.error) ? 'timed_out' : 'failed', event);
      case 'hook_success':
        return this.end(event.hook, 'passed');
      case 'hook_failure':
        return this.end(event.hook, isTimeoutError(event.error) ? 'timed_out' : 'failed', event);
      case 'test_done':
        removeOwnFrames(event.test.errors);
        return [{ name: 'test_done', test: event.test }];
      case 'run_finish':
        this.stopDeadlineTimer();
        removeOwnFrames(state.unhandledErrors);
        return [{ name: 'file_done' }];
      default:
        return NO_EVENTS;
    }
  }

  private testUnit(test: Circus.TestEntry, state: Circus.State): Unit {
    const timeoutMs = test.timeout || state.testTimeout;
    const preassigned = this.preassigned.get(test);
    if (!preassigned) {
      const unit = this.newUnit('test', fullTestName(test), timeoutMs, test);
      unit.attempt = this.attempts.get(test) ?? 0;
      return unit;
    }
    // Its timeout starts now, as Jest's own does.
    this.preassigned.delete(test);
    preassigned.startedAt = realNow();
    preassigned.timeoutMs = timeoutMs;
    preassigned.running = true;
    return preassigned;
  }

  /**
   * A running unit of `kind`, for `test` (a test's own, or the one a per-test hook runs for) or
   * `hook`; it runs in its test's describe block, else the hook's.
   */
  private newUnit(
    kind: Unit['kind'],
    name: string,
    timeoutMs: number,
    test?: Circus.TestEntry,
    hook?: Circus.Hook,
  ): Unit {
    const unit: Unit = {
      id: this.nextUnitId++,
      kind,
      name,
      startedAt: realNow(),
      timeoutMs,
      attempt: 0,
      running: true,
    };
    if (test) unit.test = test;
    if (hook) unit.hook = hook;
    const block = test?.parent ?? hook?.parent;
    if (block) unit.block = block;
    this.units.add(unit);
    return unit;
  }

  private start(runnable: Circus.TestEntry | Circus.Hook, unit: Unit): UnitEvent {
    this.runningUnits.push(unit);
    // There is no circus event around the call itself: the function runs as the unit's work.
    runnable.fn = wrapUnitFunction(runnable.fn, unit);
    if (hasDeadline(unit)) {
      const at = deadlineOf(unit);
      // Armed before Jest arms its own timeout for the unit, with the same delay: it fires first.
      if (at < this.deadlineTimerAt) this.armDeadlineTimer(at, unit.timeoutMs);
    }
    return { name: 'unit_started', unit };
  }

  /**
   * One timer for the file's deadlines, not one per unit: most units end long before theirs, and
   * a timer made and cleared for each test and hook cost a `setTimeout`, a `clearTimeout` and the
   * async hooks' calls for each. The timer is moved only for an earlier deadline; when it
   * fires, it announces the units that are due and is armed again for the next deadline of a
   * unit still running, `DEADLINE_LEAD_MS` early, so it still comes before Jest's own timeout.
   */
  private armDeadlineTimer(at: number, delayMs: number): void {
    this.stopDeadlineTimer();
    this.deadlineTimerAt = at;
    this.deadlineTimer = this.timers.setTimer(() => this.onDeadlineTimer(), delayMs);
  }

  private stopDeadlineTimer(): void {
    if (this.deadlineTimer !== undefined) this.timers.clearTimer(this.deadlineTimer);
    this.deadlineTimer = undefined;
    this.deadlineTimerAt = Infinity;
  }

  private onDeadlineTimer(): void {
    const dueBy = Math.max(this.deadlineTimerAt, realNow()) + DEADLINE_LEAD_MS;
    this.deadlineTimer = undefined;
    this.deadlineTimerAt = Infinity;
    const due: Unit[] = [];
    let next = Infinity;
    for (const unit of this.runningUnits) {
      if (!hasDeadline(unit) || this.announced.has(unit)) continue;
      const at = deadlineOf(unit);
      if (at <= dueBy) due.push(unit);
      else next = Math.min(next, at);
    }
    for (const unit of due) {
      this.announced.add(unit);
      this.dispatchLater({ name: 'unit_timed_out', unit });
    }
    if (next !== Infinity) {
      this.armDeadlineTimer(next, Math.max(0, next - DEADLINE_LEAD_MS - realNow()));
    }
  }

  private end(
    runnable: Circus.TestEntry | Circus.Hook,
    outcome: 'passed' | 'failed' | 'timed_out',
    failure?: { error: unknown },
  ): readonly UnitEvent[] {
    let index = this.runningUnits.length - 1;
    while (index >= 0 && runnableOf(this.runningUnits[index]) !== runnable) index--;
    if (index === -1) return NO_EVENTS;
    const unit = this.runningUnits[index];
    unit.running = false;
    // Its function as the user wrote it again: the wrapper holds the unit, and circus holds every
    // test's function until the file ends.
    const original = originalFunction(runnable.fn);
    if (original) runnable.fn = original as typeof runnable.fn;
    // The innermost ends first: pop, which allocates nothing.
    if (index === this.runningUnits.length - 1) this.runningUnits.pop();
    else this.runningUnits.splice(index, 1);
    return [{ name: 'unit_ended', unit, outcome, ...(failure ? { error: failure.error } : {}) }];
  }

  /** An event of hangwatch's own (a timer's), outside any circus dispatch: nobody waits on it. */
  private dispatchLater(event: UnitEvent): void {
    for (const subscription of this.subscriptions) void deliver(subscription, event);
  }

  /**
   * Jest 29 starts every `test.concurrent` function when the file's root block starts, long
   * before that test's `test_fn_start`: give it its unit as soon as it is declared, so what it
   * creates early is still its own.
   */
  private preassignConcurrent(
    event: Circus.Event & { name: 'add_test' },
    state: Circus.State,
  ): Unit | undefined {
    const children = state.currentDescribeBlock.children;
    const test = children[children.length - 1];
    if (test?.type !== 'test' || test.fn !== event.fn) return undefined;
    // No timeout yet: Jest starts the test's timer when the test starts.
    const unit = this.newUnit('test', fullTestName(test), 0, test);
    this.preassigned.set(test, unit);
    test.fn = wrapUnitFunction(test.fn, unit);
    return unit;
  }

  /**
   * An error thrown in a callback (an assertion in an event handler) while a `done`-style test or
   * hook runs is usually why `done()` was never reached: keep it for the report.
   */
  private recordCallbackError(error: unknown): void {
    const waiting = this.runningUnits.filter((unit) =>
      declaresDone(unit.kind === 'test' ? unit.test?.fn : unit.hook?.fn),
    );
    if (waiting.length !== 1) return;
    (waiting[0].callbackErrors ??= []).push(error);
  }
}

/** The test or hook whose function the unit runs. */
function runnableOf(unit: Unit): Circus.TestEntry | Circus.Hook | undefined {
  return unit.hook ?? unit.test;
}

/** When the unit's timeout expires, on hangwatch's clock. */
function deadlineOf(unit: Unit): number {
  return unit.startedAt + unit.timeoutMs;
}

/** The test whose errors circus keeps a unit's failures in; none for describe-level hooks. */
function testErrorsOf(unit: Unit): Circus.TestEntry | undefined {
  return unit.kind === 'test' || unit.kind === 'beforeEach' || unit.kind === 'afterEach'
    ? unit.test
    : undefined;
}

/** Circus keeps an error alone or as `[error, asyncError]`. */
function isRecorded(errors: readonly unknown[], error: unknown): boolean {
  return errors.some((entry) => (Array.isArray(entry) ? entry.includes(error) : entry === error));
}

/** Replaces `original` wherever circus stored it; whether it was anywhere. */
function replaceRecorded(state: Circus.State, original: unknown, replacement: Error): boolean {
  let found = false;
  const swap = (errors: unknown[]) => {
    for (let index = 0; index < errors.length; index++) {
      const entry = errors[index];
      if (entry === original) errors[index] = replacement;
      else if (Array.isArray(entry) && entry[0] === original) {
        errors[index] = [replacement, entry[1]];
      } else continue;
      found = true;
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
  return found;
}

/**
 * An ended unit lets go of what its function returned and of its abort handle: a unit outlives
 * its test (the async context of every resource it created names it, and a socket the test left
 * open keeps that context), and a returned value such as a supertest request holds its app and
 * server, and through the describe block's other units, theirs.
 */
function releaseEnded(events: readonly UnitEvent[]): void {
  for (const event of events) {
    if (event.name !== 'unit_ended') continue;
    event.unit.returned = undefined;
    event.unit.abort = undefined;
    event.unit.doneCallback = undefined;
    event.unit.stopKeepingListeners?.();
    event.unit.stopKeepingListeners = undefined;
  }
}
