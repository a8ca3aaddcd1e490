import type { LazyStack } from '../stack';
import type { DeadlockFailure, Flow, Holding, Lock, Wait } from './types';

/** A lock to create: what `createLock` takes. */
export interface NewLock {
  kind: Lock['kind'];
  /** Permits: 1 for a mutex, n for a semaphore, 0 for an event. */
  capacity: number;
  /** Shown in reports and keys lock-order checks; else the variable it was assigned to. */
  name?: string;
  /** Where it was constructed; names an unnamed lock and keys its lock-order checks. */
  site?: LazyStack;
  /** It can be released without its acquire's release function (see `Lock`). */
  releasableWithoutHandle?: boolean;
}

/** An acquisition granted at once: what `LockReporter.hold` takes. */
export interface HoldRequest {
  lock: Lock;
  /** From `acquiringFlow()`, taken when the acquire was called. */
  flow: Flow;
  /** Permits taken; 1 unless a semaphore's acquire asks for more. */
  weight?: number;
  /** Where it was acquired; leave it out when `wantsCallSite` said no (see `sites`). */
  site?: LazyStack;
}

/** An acquisition that has to wait: what `LockReporter.wait` takes. */
export interface WaitRequest {
  lock: Lock;
  flow: Flow;
  weight?: number;
  /** `acquire` (the default), `unlock` (waitForUnlock), or `event` (a signal anyone may set). */
  mode?: Wait['mode'];
  /** Where the caller waits: always recorded for a wait. */
  site: LazyStack;
  /** It ends on its own (a timeout, an abort signal): never reported as a deadlock. */
  bounded?: boolean;
  /**
   * The wait can never end: take the waiter out of the lock's queue and reject its caller (a
   * `DeadlockError` with `failure.message`). Called at most once, possibly before `wait` returns.
   */
  onDeadlock: (failure: DeadlockFailure) => void;
}

/**
 * How a lock library reports its locks to hangwatch: `lockGraph()` from `hangwatch/sync` returns
 * one. The library says who holds and who waits; hangwatch decides when a wait can never end
 * (self-deadlock, a cycle, a holder that ended or dropped its release function, every flow
 * blocked) and calls that wait's `onDeadlock`, and lists holders and waiters in hang reports.
 *
 * ```js
 * const locks = lockGraph();
 * const lock = locks.createLock({ kind: 'mutex', capacity: 1, name: 'accounts' });
 * // acquire(), called synchronously by the user's code:
 * const flow = locks.acquiringFlow();
 * if (free) holding = locks.hold({ lock, flow });
 * else wait = locks.wait({ lock, flow, site: captured, onDeadlock: (f) => reject(new Error(f.message)) });
 * // once the queued acquire is granted:        holding = locks.grant(wait);
 * // on timeout or cancel:                      locks.stopWaiting(wait);
 * // on release:                                locks.release(holding);
 * ```
 *
 * Handles (`Lock`, `Holding`, `Wait`, `Flow`) are opaque: keep them, hand them back, read nothing.
 */
export interface LockReporter {
  /** A lock to report on, once per lock object, when it is constructed. */
  createLock(lock: NewLock): Lock;
  /**
   * The flow an acquire belongs to: call it synchronously in the acquire call, before any `await`
   * (a bare acquire enters a new flow that the code after the caller's `await` then runs as).
   */
  acquiringFlow(): Flow;
  /** The flow running now, for waits that are not acquisitions (`waitForUnlock`, an event). */
  currentFlow(): Flow;
  /**
   * Whether the call running now should capture its site: always when it will wait, else while
   * the lock's sampling budget lasts or when it adds a new lock order.
   */
  wantsCallSite(lock: Lock, willWait: boolean): boolean;
  /** The acquisition was granted at once. */
  hold(request: HoldRequest): Holding;
  /** The acquisition has to wait; it may be failed as a deadlock before this returns. */
  wait(request: WaitRequest): Wait;
  /** A wait was granted: it becomes a holding. */
  grant(wait: Wait): Holding;
  /** The wait ended without being granted: a timeout, an abort, a cancel. */
  stopWaiting(wait: Wait): void;
  release(holding: Holding): void;
  /** A release without a handle (`semaphore.release(n)`): the current flow's holding, else the oldest. */
  releaseSome(lock: Lock, weight: number): void;
  /**
   * Watches the release function handed to the caller: garbage-collected while still held, it
   * was dropped uncalled, and whoever waits for the lock is told so.
   */
  watchRelease(holding: Holding, release: object): void;
  /** Runs a scoped API's callback (`runExclusive`) as its own flow: its first acquire is its lock. */
  runScope<T>(fn: () => T): T;
  /** Runs `fn` as a flow reports name `task "name"`. */
  runTask<T>(name: string, fn: () => T): T;
  /** Who holds `lock` and since where, in words: for a library's own timeout error. */
  describeHolders(lock: Lock): string;
}
