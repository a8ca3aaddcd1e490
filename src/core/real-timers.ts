import * as timers from 'node:timers';
import { performance } from 'node:perf_hooks';

/**
 * Node's timer functions as they were when hangwatch loaded, before any test file ran. A fake
 * clock a test installs on its global object (sinon's `useFakeTimers`, `@sinonjs/fake-timers`'
 * `install`) also replaces the functions of Node's `timers` module, which every realm shares:
 * looked up at each call, hangwatch's own timers (a unit's deadline, the stall checks' looks, the
 * watchdog's heartbeat) would run on the test's fake clock and fire when the test ticks it.
 */
export const realSetTimeout = timers.setTimeout;
export const realClearTimeout = timers.clearTimeout;
export const realSetInterval = timers.setInterval;
export const realClearInterval = timers.clearInterval;
export const realSetImmediate = timers.setImmediate;

/**
 * `performance.now()` as it was when hangwatch loaded. The same fake clocks replace the `now` of
 * Node's one `performance` object too: hangwatch's durations (a unit's age, how long after its
 * test a resource closed, a grace period's deadline) must not stand still or jump with them.
 */
export const realNow: () => number = performance.now.bind(performance);
