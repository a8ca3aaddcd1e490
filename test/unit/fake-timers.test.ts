import { ResourceTracker } from '../../src/core/tracker';
import { FakeTimerProbe } from '../../src/jest/fake-timers';

const STEP_MS = 10;
/** `destroy` hooks run asynchronously: give Node a turn of the event loop to deliver them. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * An interval run as jsdom runs one: a Node timeout re-armed from its own callback, known to the
 * clock only by a number.
 */
function jsdomLikeInterval(tick: () => void, ms: number) {
  let armed: NodeJS.Timeout | undefined;
  let stopped = false;
  const arm = () => {
    function task() {
      if (stopped) return;
      tick();
      arm();
    }
    armed = setTimeout(task, ms);
  };
  arm();
  return {
    handle: 7,
    armed: () => armed,
    stop: () => {
      stopped = true;
      clearTimeout(armed);
    },
  };
}

/** Jest's modern fake timers as the probe sees them, over a clock that advances with real time. */
function jestModernTimers(onTick: (tickCount: number) => void) {
  let interval: ReturnType<typeof jsdomLikeInterval> | undefined;
  let ticks = 0;
  const modern = {
    _fakingTime: false,
    _clock: undefined as Record<string, unknown> | undefined,
    useFakeTimers() {
      interval = jsdomLikeInterval(() => onTick(++ticks), STEP_MS);
      modern._clock = {
        now: 0,
        tick: () => undefined,
        timers: new Map(),
        jobs: [],
        advanceTimeDelta: STEP_MS,
        attachedInterval: interval.handle,
      };
      modern._fakingTime = true;
    },
    useRealTimers() {
      interval?.stop();
      modern._fakingTime = false;
    },
  };
  return { modern, interval: () => interval! };
}

describe('the ticker of a clock advancing with real time, run as jsdom runs it', () => {
  let tracker: ResourceTracker<unknown>;
  const started: NodeJS.Timeout[] = [];

  beforeEach(() => {
    tracker = new ResourceTracker<unknown>({ ownerOf: () => undefined, promises: false });
    tracker.enable();
  });

  afterEach(() => {
    started.splice(0).forEach((timer) => clearTimeout(timer));
    tracker.disable();
  });

  test('is the link armed now, re-armed or not, and never a real timer a tick started', async () => {
    let fourthTick!: () => void;
    const ticked = new Promise<void>((resolve) => (fourthTick = resolve));
    const { modern, interval } = jestModernTimers((tickCount) => {
      // Real timers started from ticks: another delay, and the ticker's own delay.
      if (tickCount === 2) started.push(setTimeout(() => undefined, 5_000));
      // From a tick the task queued: it runs after the task armed the next link.
      if (tickCount === 4) {
        process.nextTick(() => {
          started.push(setTimeout(() => undefined, STEP_MS));
          fourthTick();
        });
      }
    });
    const probe = new FakeTimerProbe({ fakeTimersModern: modern }, () => undefined, {}, tracker);
    probe.install();
    modern.useFakeTimers();
    expect(probe.advancingTicker()).toBe(interval().armed());

    await ticked;
    await nextTurn();
    const armed = interval().armed();
    // Both real timers are live (the second is due no sooner than the next timers phase).
    const live = tracker.live().map((record) => record.resource);
    expect(started.every((timer) => live.includes(timer))).toBe(true);
    expect(probe.advancingTicker()).toBe(armed);
    // Nothing pending on the clock: its ticks wake nothing.
    expect(probe.idleTicker()).toBe(armed);
    expect(probe.jestTicker()).toBe(armed);
    modern.useRealTimers();
  });

  test('none once its timeout is cleared, the clock still installed', async () => {
    const { modern, interval } = jestModernTimers(() => undefined);
    const probe = new FakeTimerProbe({ fakeTimersModern: modern }, () => undefined, {}, tracker);
    probe.install();
    modern.useFakeTimers();
    expect(probe.advancingTicker()).toBeDefined();
    interval().stop();
    await nextTurn();
    expect(probe.advancingTicker()).toBeUndefined();
  });

  test('without the tracker’s records, none (as before: listed like any timer)', () => {
    const { modern, interval } = jestModernTimers(() => undefined);
    const probe = new FakeTimerProbe({ fakeTimersModern: modern }, () => undefined, {});
    probe.install();
    modern.useFakeTimers();
    expect(probe.advancingTicker()).toBeUndefined();
    interval().stop();
  });
});
