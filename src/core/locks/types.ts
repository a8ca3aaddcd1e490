import type { LockState, LockWait } from '../model';
import type { LazyStack } from '../stack';
import type { Flow } from './flows';
import type { SiteBudget } from './sites';

/** One lock as the wait-for graph sees it; every primitive and adapter maps onto this. */
export interface Lock {
  readonly id: number;
  readonly kind: LockState['kind'];
  /** Permits: 1 for a mutex, n for a semaphore. */
  capacity: number;
  /** Given at construction (hangwatch/sync) or later with `nameLock` (async-mutex). */
  name?: string;
  /** Where the lock was constructed: names it in reports and keys it for lock-order checks. */
  readonly site?: LazyStack;
  readonly holdings: Set<Holding>;
  readonly waits: Set<Wait>;
  /** How many more uncontended acquisitions may record their sites (see `sites`). */
  readonly siteBudget: SiteBudget;
  /** The latest acquisition site recorded: stands in for a holder whose own was not. */
  lastSite?: LazyStack;
  /**
   * It can be released without the function its acquire returned (async-mutex's
   * `mutex.release()`), so a dropped release function proves nothing: it is only reported.
   */
  releasableWithoutHandle?: boolean;
}

export interface Holding {
  readonly lock: Lock;
  readonly flow: Flow;
  readonly weight: number;
  /** Not recorded for some acquisitions of a busy lock (see `sites`). */
  readonly site?: LazyStack;
  readonly since: number;
  /** Its release function was garbage-collected uncalled: nobody can release it any more. */
  releaseDropped?: boolean;
}

export interface Wait {
  readonly lock: Lock;
  readonly flow: Flow;
  readonly weight: number;
  readonly mode: LockWait['mode'];
  readonly site: LazyStack;
  readonly since: number;
  /** Ends on its own (a timeout, a tryAcquire): never part of a deadlock. */
  readonly bounded: boolean;
  /** Rejects the waiting call; set by the primitive that owns the wait. */
  readonly fail: (failure: DeadlockFailure) => void;
}

/** What a deadlocked wait is told: the finding as data and as text. */
export interface DeadlockFailure {
  deadlock: import('../model').Deadlock;
  message: string;
}
