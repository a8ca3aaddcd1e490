import type { FakeTimerInfo, FakeTimersState, OwnerRef, Relation } from '../core/model';
import { captureStack, framesOf, toCreationSite, type LazyStack } from '../core/stack';

/**
 * Jest's fake timers never create real async resources, so async_hooks cannot see them. This
 * probe records where each fake timer was created (by wrapping the fake implementations on the
 * environment's own fake-timer objects) and reads the pending ones back at report time.
 */

type Loose = Record<string, unknown>;
type AnyFunction = (...args: unknown[]) => unknown;

interface Creation<Context> {
  /** None for a timer an installed clock held before hangwatch noticed the clock. */
  stack?: LazyStack;
  context: Context | undefined;
}

export interface FakeTimerHost {
  fakeTimers?: unknown;
  fakeTimersModern?: unknown;
}

const MODERN_METHODS = [
  'setTimeout',
  'setInterval',
  'setImmediate',
  'requestAnimationFrame',
  'requestIdleCallback',
];
const LEGACY_METHODS = [
  '_fakeSetTimeout',
  '_fakeSetInterval',
  '_fakeSetImmediate',
  '_fakeNextTick',
];

type Implementation = FakeTimersState['implementation'];

/** How many sites of an installed clock's finished timers are kept before they are dropped. */
const PRUNE_SITES_ABOVE = 1000;

/**
 * A clock made with `shouldAdvanceTime` (Jest's `advanceTimers: true` sets it) ticks itself from
 * a real interval, so its timers fire as real time passes. @sinonjs/fake-timers 15 says so in its
 * tick mode (`interval`); earlier versions only by the interval they keep.
 */
function advancing(clock: Loose): Pick<FakeTimersState, 'advancesWithRealTime'> {
  const tickMode = clock.tickMode as Loose | undefined;
  const advances =
    tickMode !== undefined ? tickMode.mode === 'interval' : clock.attachedInterval !== undefined;
  return advances ? { advancesWithRealTime: true } : {};
}

/** What the probe reads of the resource tracker's live records (see `JsdomTicker`). */
export interface TimerRecord {
  readonly asyncId: number;
  readonly type: string;
  readonly resource?: object;
  readonly root?: unknown;
  readonly stack?: LazyStack;
}

export interface TimerRecords {
  live(): readonly TimerRecord[];
}

/**
 * Under jsdom a clock's ticker is a jsdom interval, a number to the clock. jsdom runs it as a
 * chain of Node timeouts, each armed from the last one's callback: every link after the first has
 * the first's root (see the tracker), its delay and the same callback code. `known` is a link:
 * for Jest's clock the first, made during the `useFakeTimers` call that started it; for a clock the
 * test installed itself, the one armed when hangwatch noticed the clock.
 */
interface JsdomTicker {
  known: TimerRecord;
  delay: unknown;
  callbackSource: string;
}

/** Made by jsdom's own timer code: its first frame outside Node is jsdom's `Window.js`. */
function madeByJsdomTimers(record: TimerRecord): boolean {
  const frame = framesOf(record.stack).find((each) => each.origin !== 'internal');
  return frame?.packageName === 'jsdom' && /[\\/]browser[\\/]Window\.js$/.test(frame.file);
}

function timeoutFields(resource: object | undefined): { delay: unknown; callback: unknown } {
  const timeout = resource as { _idleTimeout?: unknown; _onTimeout?: unknown } | undefined;
  return { delay: timeout?._idleTimeout, callback: timeout?._onTimeout };
}

function sourceOf(callback: unknown): string | undefined {
  return typeof callback === 'function' ? Function.prototype.toString.call(callback) : undefined;
}

/**
 * The clock behind a test realm's `setTimeout` when the test installed one itself: the fakes
 * @sinonjs/fake-timers puts on a global object carry their clock (`setTimeout.clock`).
 */
function installedClockOf(global: Loose): Loose | undefined {
  const clock = (global.setTimeout as { clock?: unknown } | undefined)?.clock;
  if (clock === null || typeof clock !== 'object') return undefined;
  return typeof (clock as Loose).tick === 'function' ? (clock as Loose) : undefined;
}

export class FakeTimerProbe<Context> {
  private readonly modernSites = new Map<unknown, Creation<Context>>();
  /** The clock the test installed itself (not Jest's), once noticed, and its timers' sites. */
  private installedClock: Loose | undefined;
  private readonly installedSites = new Map<unknown, Creation<Context>>();
  private readonly legacySites = new Map<string, Creation<Context>>();
  /**
   * The implementation whose fakes are the test's timer globals now. Both can be "faking" at
   * once (`jest.useFakeTimers({ legacyFakeTimers: true })` after a modern clock leaves the clock
   * installed underneath), so the last `useFakeTimers` decides, and only its own
   * `useRealTimers` (what `jest.useRealTimers()` calls) ends it.
   */
  private active: Implementation | undefined;
  /** The Node timeouts behind a clock's ticker, for clocks whose ticker is a jsdom interval. */
  private readonly jsdomTickers = new WeakMap<Loose, JsdomTicker>();

  constructor(
    private readonly host: FakeTimerHost,
    private readonly currentContext: () => Context | undefined,
    /** The test file's global object, where a clock of the test's own is installed. */
    private readonly testGlobal: Loose = {},
    /** The tracker's records: where a jsdom ticker's Node timeouts are found. */
    private readonly records?: TimerRecords,
  ) {}

  install(): void {
    const legacy = this.host.fakeTimers as Loose | null | undefined;
    const modern = this.host.fakeTimersModern as Loose | null | undefined;
    this.instrumentLegacy(legacy);
    this.instrumentModern(modern);
    this.followSwitches(legacy, 'legacy');
    this.followSwitches(modern, 'modern');
  }

  private followSwitches(timers: Loose | null | undefined, implementation: Implementation): void {
    if (!timers) return;
    for (const name of ['useFakeTimers', 'useRealTimers'] as const) {
      const original = timers[name];
      if (typeof original !== 'function') continue;
      timers[name] = (...args: unknown[]) => {
        const result = (original as AnyFunction).apply(timers, args);
        if (name === 'useFakeTimers') this.active = implementation;
        else if (this.active === implementation) this.active = undefined;
        return result;
      };
    }
  }

  private record(): Creation<Context> {
    return { stack: captureStack(), context: this.currentContext() };
  }

  private instrumentLegacy(legacy: Loose | null | undefined): void {
    if (!legacy) return;
    for (const name of LEGACY_METHODS) {
      const original = legacy[name];
      if (typeof original !== 'function') continue;
      // Instance properties shadow the prototype; `useFakeTimers` binds whatever is here.
      legacy[name] = (...args: unknown[]) => {
        const id = String(legacy._uuidCounter);
        const result = (original as AnyFunction).apply(legacy, args);
        this.legacySites.set(id, this.record());
        return result;
      };
    }
  }

  private instrumentModern(modern: Loose | null | undefined): void {
    if (!modern || typeof modern.useFakeTimers !== 'function') return;
    const originalUse = modern.useFakeTimers as AnyFunction;
    modern.useFakeTimers = (...args: unknown[]) => {
      const before = this.liveIds();
      const result = originalUse.apply(modern, args);
      const clock = modern._clock as Loose | undefined;
      this.instrumentClock(clock);
      // Its first link: a Node timeout made during this call.
      if (before && clock) {
        this.findJsdomTicker(clock, (record) => !before.has(record.asyncId));
      }
      return result;
    };
  }

  private liveIds(): Set<number> | undefined {
    try {
      return this.records && new Set(this.records.live().map((record) => record.asyncId));
    } catch {
      return undefined;
    }
  }

  /**
   * Notes a link of a clock's jsdom ticker: a live Node timeout `isCandidate` accepts, with the
   * clock's advance step as its delay. Nothing when the ticker is a Node timer already (the node
   * environment), or the clock does not advance with real time.
   */
  private findJsdomTicker(clock: Loose, isCandidate: (record: TimerRecord) => boolean): void {
    if (!advancing(clock).advancesWithRealTime || typeof clock.attachedInterval !== 'number') {
      return;
    }
    const step = clock.advanceTimeDelta ?? (clock.tickMode as Loose | undefined)?.delta;
    try {
      for (const record of this.records?.live() ?? []) {
        if (record.type !== 'Timeout') continue;
        const { delay, callback } = timeoutFields(record.resource);
        const callbackSource = sourceOf(callback);
        if (callbackSource === undefined || (step !== undefined && delay !== step)) continue;
        if (!isCandidate(record)) continue;
        this.jsdomTickers.set(clock, { known: record, delay, callbackSource });
        return;
      }
    } catch {
      // Runs inside the test's own `useFakeTimers`: the ticker is then listed like any timer.
    }
  }

  /**
   * The real timer that ticks a clock advancing with real time: its Node timer, or under jsdom
   * the link of its jsdom interval armed now. Another Node timeout made from a tick (a real timer
   * a fake callback starts) shares the link's root but not its callback code.
   */
  private tickerOf(clock: Loose | undefined): object | undefined {
    const ticker = clock?.attachedInterval;
    if (typeof ticker === 'object' && ticker !== null) return ticker;
    const jsdom = clock && this.jsdomTickers.get(clock);
    if (!jsdom || !this.records) return undefined;
    const root = (jsdom.known.root ?? jsdom.known) as unknown;
    let armed: object | undefined;
    for (const record of this.records.live()) {
      if (record.type !== 'Timeout' || (record !== jsdom.known && record.root !== root)) continue;
      const { delay, callback } = timeoutFields(record.resource);
      if (delay === jsdom.delay && sourceOf(callback) === jsdom.callbackSource) {
        armed = record.resource;
      }
    }
    return armed;
  }

  private instrumentClock(clock: Loose | undefined, sites = this.modernSites): void {
    if (!clock) return;
    sites.clear();
    for (const name of MODERN_METHODS) {
      const original = clock[name];
      if (typeof original !== 'function') continue;
      // The faked globals call `clock[name](...)` on every use, so replacing it here is enough.
      const wrapped = (...args: unknown[]) => {
        const result = (original as AnyFunction).apply(clock, args);
        // Node-style fake timers return an object whose primitive value is the timer id.
        const id = result !== null && typeof result === 'object' ? Number(result) : result;
        sites.set(id, this.record());
        return result;
      };
      Object.defineProperties(wrapped, Object.getOwnPropertyDescriptors(original));
      clock[name] = wrapped;
    }
  }

  /** Pending fake timers, or `undefined` when fake timers are not installed. */
  pending(
    relationOf: (context: Context | undefined) => Relation | undefined,
    describeOwner: (context: Context | undefined) => OwnerRef | undefined = () => undefined,
  ): FakeTimersState | undefined {
    const modern = this.modernClock();
    if (modern) {
      return {
        implementation: 'modern',
        ...advancing(modern),
        pending: this.clockPending(modern, this.modernSites, relationOf, describeOwner),
      };
    }
    const legacy = this.host.fakeTimers as Loose | null | undefined;
    if (this.active === 'legacy' && legacy?._fakingTime) {
      return {
        implementation: 'legacy',
        pending: this.legacyPending(legacy, relationOf, describeOwner),
      };
    }
    return undefined;
  }

  /**
   * A clock the test installed itself (`sinon.useFakeTimers()`), if it is still installed: from
   * the first time it is noticed (at a unit's start, or at a look of the idle check while one
   * runs), the timers it is asked for are recorded with their stacks; those it held already count
   * as the work of the unit running when it was noticed. Not Jest's fake timers (`pending`).
   */
  noticeInstalledClock(running: Context | undefined): void {
    const clock = installedClockOf(this.testGlobal);
    if (!clock || clock === (this.host.fakeTimersModern as Loose | null | undefined)?._clock) {
      return;
    }
    if (clock !== this.installedClock) {
      this.installedClock = clock;
      this.instrumentClock(clock, this.installedSites);
      // Its ticker, if jsdom's: the link armed now, known by the code that made it.
      this.findJsdomTicker(clock, madeByJsdomTimers);
    }
    const timers = timersOf(clock);
    for (const timer of timers) {
      if (!this.installedSites.has(timer.id)) {
        this.installedSites.set(timer.id, { context: running });
      }
    }
    // Sites of timers that fired or were cleared, dropped now and then: a clock may make many.
    if (this.installedSites.size > PRUNE_SITES_ABOVE + timers.length) {
      const live = new Set(timers.map((timer) => timer.id));
      for (const id of this.installedSites.keys())
        if (!live.has(id)) this.installedSites.delete(id);
    }
  }

  /**
   * The real interval that advances the fake clock in use with real time (`advancesWithRealTime`),
   * if it does: the clock's own engine, which the report's fake timers and advice explain, not a
   * timer the test waits on.
   */
  advancingTicker(): object | undefined {
    return this.tickerOf(this.advancingClock());
  }

  /**
   * The ticker of Jest's own clock when it advances with real time: Jest's environment disposes of
   * its fake timers at teardown, ticker included, so a file that never calls `useRealTimers`
   * leaves nothing open by it.
   */
  jestTicker(): object | undefined {
    const clock = this.modernClock();
    return clock && advancing(clock).advancesWithRealTime ? this.tickerOf(clock) : undefined;
  }

  /**
   * The ticker of a clock that advances with real time while the clock holds nothing to fire (no
   * timer, no faked tick or microtask): its ticks then wake nothing, so it is no reason to wait.
   */
  idleTicker(): object | undefined {
    const clock = this.advancingClock();
    if (!clock) return undefined;
    const jobs = clock.jobs;
    if (timersOf(clock).length > 0 || (Array.isArray(jobs) && jobs.length > 0)) return undefined;
    return this.tickerOf(clock);
  }

  private advancingClock(): Loose | undefined {
    const clock = this.modernClock() ?? this.liveInstalledClock();
    return clock && advancing(clock).advancesWithRealTime ? clock : undefined;
  }

  /** The pending timers of the test's own clock, or `undefined` when it has none installed. */
  installedPending(
    relationOf: (context: Context | undefined) => Relation | undefined,
    describeOwner: (context: Context | undefined) => OwnerRef | undefined = () => undefined,
  ): FakeTimersState | undefined {
    const clock = this.liveInstalledClock();
    if (!clock) return undefined;
    return {
      implementation: 'installed',
      ...advancing(clock),
      pending: this.clockPending(clock, this.installedSites, relationOf, describeOwner),
    };
  }

  /** Jest's modern clock, while its fake timers are the ones in use. */
  private modernClock(): Loose | undefined {
    const modern = this.host.fakeTimersModern as Loose | null | undefined;
    return this.active === 'modern' && modern?._fakingTime && modern._clock
      ? (modern._clock as Loose)
      : undefined;
  }

  /** The clock the test installed itself, while it is still installed. */
  private liveInstalledClock(): Loose | undefined {
    const clock = this.installedClock;
    return clock && installedClockOf(this.testGlobal) === clock ? clock : undefined;
  }

  private clockPending(
    clock: Loose,
    sites: Map<unknown, Creation<Context>>,
    relationOf: (context: Context | undefined) => Relation | undefined,
    describeOwner: (context: Context | undefined) => OwnerRef | undefined,
  ): FakeTimerInfo[] {
    const now = Number(clock.now);
    const result: FakeTimerInfo[] = [];
    for (const timer of timersOf(clock)) {
      const creation = sites.get(timer.id);
      const relation = relationOf(creation?.context);
      if (relation === undefined) continue;
      const kind: FakeTimerInfo['kind'] = timer.immediate
        ? 'immediate'
        : timer.animation
          ? 'animationFrame'
          : timer.requestIdleCallback
            ? 'idleCallback'
            : timer.interval !== undefined
              ? 'interval'
              : 'timeout';
      const delay = (timer.interval ?? timer.delay) as number | undefined;
      result.push(
        this.info(
          kind,
          delay,
          Math.max(0, Number(timer.callAt) - now),
          creation,
          relation,
          describeOwner(creation?.context),
        ),
      );
    }
    return result;
  }

  private legacyPending(
    legacy: Loose,
    relationOf: (context: Context | undefined) => Relation | undefined,
    describeOwner: (context: Context | undefined) => OwnerRef | undefined,
  ): FakeTimerInfo[] {
    const now = Number(legacy._now ?? 0);
    const result: FakeTimerInfo[] = [];
    const add = (id: string, kind: FakeTimerInfo['kind'], delay?: number, due?: number) => {
      const creation = this.legacySites.get(id);
      const relation = relationOf(creation?.context);
      if (relation === undefined) return;
      result.push(
        this.info(kind, delay, due, creation, relation, describeOwner(creation?.context)),
      );
    };
    for (const tick of (legacy._ticks as Loose[] | undefined) ?? [])
      add(String(tick.uuid), 'nextTick');
    for (const immediate of (legacy._immediates as Loose[] | undefined) ?? []) {
      add(String(immediate.uuid), 'immediate');
    }
    const timers = legacy._timers as Map<string, Loose> | undefined;
    for (const [id, timer] of timers ?? []) {
      const interval = timer.interval as number | undefined;
      const due = Math.max(0, Number(timer.expiry) - now);
      add(id, interval !== undefined ? 'interval' : 'timeout', interval ?? undefined, due);
    }
    return result;
  }

  private info(
    kind: FakeTimerInfo['kind'],
    delayMs: number | undefined,
    dueInMs: number | undefined,
    creation: Creation<Context> | undefined,
    relation: Relation,
    owner: OwnerRef | undefined,
  ): FakeTimerInfo {
    const site = creation?.stack ? toCreationSite(framesOf(creation.stack)) : undefined;
    return {
      kind,
      ...(delayMs !== undefined && Number.isFinite(delayMs) ? { delayMs } : {}),
      ...(dueInMs !== undefined && Number.isFinite(dueInMs) ? { dueInMs } : {}),
      ...(site ? { site } : {}),
      relation,
      ...(owner ? { owner } : {}),
    };
  }
}

/**
 * A @sinonjs/fake-timers clock's pending timers: a Map in recent versions, an object before. A
 * clock the test loaded has the test realm's Map, which `instanceof Map` does not recognise here.
 */
function timersOf(clock: Loose): Loose[] {
  const timers = clock.timers as Map<unknown, Loose> | Record<string, Loose> | undefined;
  if (!timers) return [];
  return Object.prototype.toString.call(timers) === '[object Map]'
    ? [...(timers as Map<unknown, Loose>).values()]
    : Object.values(timers);
}
