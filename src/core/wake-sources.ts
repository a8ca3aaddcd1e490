import { isIdleZlib } from './describe-resource';
import { isRunnerOwned, framesOf, timerCaller } from './stack';
import type { Frame } from './model';
import type { ResourceRecord, ResourceTracker } from './tracker';

/**
 * Whether anything left in the process could still wake a waiting test: a timer (ref'd or not:
 * an unref'd one fires while anything else keeps the loop alive), a socket, server, request,
 * child process, worker, port, stream, fs or DNS request. The test runner's own timers (its
 * timeout) do not count: they can only end the test, never settle it (the Jest adapter does not
 * even record circus's; others are told by their creation stack). Nor does what work an earlier
 * test file left running makes (see `LeftOver`).
 */
export class WakeSources {
  private readonly runnerOwned = new WeakMap<object, boolean>();
  /** Active handle and request counts by type when tracking began (untracked, older resources). */
  private baseline = new Map<string, number>();

  /** Remember what was already open before tracking began (Jest's IPC, stdio...). */
  takeBaseline(): void {
    this.baseline = countActive();
  }

  /**
   * The first live resource that could wake a waiter, or `undefined` when none is left.
   * `wakesNothing`: a live resource known to wake nothing now (a fake clock's ticker with no fake
   * timer left to fire).
   */
  firstWaker<Owner>(
    tracker: ResourceTracker<Owner>,
    wakesNothing?: object,
  ): ResourceRecord<Owner> | string | undefined {
    for (const record of tracker.live()) {
      // A timer that fired or was cleared is not live (see the tracker's `live`).
      if (record.type === 'PROMISE') continue;
      // Like any stream, it goes on only when other code writes to it or reads from it.
      if (record.type === 'ZLIB' && isIdleZlib(record.resource)) continue;
      if (wakesNothing !== undefined && record.resource === wakesNothing) continue;
      // Work an earlier file left running holds none of this file's modules (Jest loads them
      // anew per file): its timers going on would keep a test that waits on nothing waiting.
      if (record.leftOver) continue;
      if (!this.isRunnerRecord(record)) return record;
    }
    return this.untrackedNewcomer();
  }

  /** The runner's own work, or Node's housekeeping timer for the HTTP `Date` header. */
  private isRunnerRecord(record: ResourceRecord<unknown>): boolean {
    let owned = this.runnerOwned.get(record);
    if (owned === undefined) {
      const frames = record.origin === undefined ? framesOf(record.stack) : undefined;
      owned =
        frames !== undefined &&
        (isRunnerOwned(frames) || (record.type === 'Timeout' && isHttpDateCache(frames)));
      this.runnerOwned.set(record, owned);
    }
    return owned;
  }

  /**
   * Handles opened before tracking began are the runner's, but one the test reached through a
   * lazily created singleton (process.stdin) may be new without being tracked as such: any
   * handle type now more numerous than at the baseline counts as a possible waker.
   */
  private untrackedNewcomer(): string | undefined {
    for (const [type, count] of countActive()) {
      if (type === 'Timeout' || type === 'Immediate') continue; // every timer is tracked
      if (count > (this.baseline.get(type) ?? 0)) return type;
    }
    return undefined;
  }
}

/**
 * The unref'd timer Node arms for about a second after an HTTP response, to refresh the `Date`
 * header it caches: it calls nothing of anyone's. Counted, a test after a request that waits on
 * nothing else failed up to a second later than alone.
 */
function isHttpDateCache(frames: Frame[]): boolean {
  return timerCaller(frames)?.file === 'node:internal/http';
}

function countActive(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo())
    counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}
