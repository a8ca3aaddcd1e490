import type { Deadlock, LockState, LockWait } from '../model';
import type { LazyStack } from '../stack';

/*
 * The wait-for graph's live objects. They sit here, apart from the modules that make and analyse
 * them (`flows`, `sites`, `state`, `analysis`), so those import types from one place only.
 */

/**
 * A flow is the chain of async work that holds or waits for locks (see `flows` for how each kind
 * is made):
 *
 * - `unit`: a test or hook, implicit for everything it runs;
 * - `task`: `task(name, fn)`, a named flow for `fn` and everything it starts;
 * - `scope`: one `runExclusive` callback, holder of its lock until the callback settles;
 * - `bare`: a plain `await lock.acquire()`, and the code after its `await`.
 */
export type FlowKind = 'unit' | 'task' | 'scope' | 'bare';

export interface Flow {
  readonly id: number;
  readonly kind: FlowKind;
  readonly name?: string;
  /** The flow that awaits this one, as far as anyone can tell; none when started from a timer or I/O callback. */
  parent?: Flow;
  /**
   * Bare flows: most likely the parent's own continuation rather than work it started, so the
   * parent cannot release while this waits (see `analysis`). Cleared when a sibling appears.
   */
  continues?: boolean;
  /** The test or hook it runs for. */
  readonly owner: unknown;
  /** The synchronous run it was created in, or last resumed acquiring in (see `flows`). */
  segment: number;
  /** Scopes: taken by the acquire of the `runExclusive` that created it. */
  claimed: boolean;
  /** Holdings and waits, counted so "does it hold anything" costs nothing. */
  holdCount: number;
  waitCount: number;
  /** What it holds now (made on its first acquisition). */
  holdings?: Set<Holding>;
  /** Set when the flow can no longer release anything. */
  endedAt?: string;
}

/** Per-lock token bucket deciding whether an uncontended acquisition records its site (see `sites`). */
export interface SiteBudget {
  tokens: number;
  refilledAt: number;
  /** Acquisitions left before an empty bucket looks at the clock again. */
  skip: number;
}

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
  readonly onDeadlock: (failure: DeadlockFailure) => void;
}

/** What a deadlocked wait is told: the finding as data, and rendered as text. */
export interface DeadlockFailure {
  deadlock: Deadlock;
  message: string;
}
