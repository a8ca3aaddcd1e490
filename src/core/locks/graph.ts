import { runInFlow } from '../async-context';
import type { LockSection, OwnerRef } from '../model';
import type { LazyStack } from '../stack';
import { DeadlockDetector, type DeadlockHost } from './deadlocks';
import { LockDescriber } from './describe';
import { Flows } from './flows';
import type { LockOrder } from './lock-order';
import {
  LockOrderCheck,
  processLockOrder,
  type LockOrderHost,
  type LockOrderMode,
} from './order-check';
import { renderHolders } from '../render/locks';
import type { HoldRequest, LockReporter, NewLock, WaitRequest } from './reporter';
import { takeSiteToken } from './sites';
import { StallClock } from '../stall-clock';
import { LockStallCheck, type StallHost } from './stall';
import { LockTable } from './state';
import type { Flow, Holding, Lock, Wait } from './types';
import { realNow } from '../real-timers';

export type { LockOrderMode };

/** What the graph needs from its surroundings; the Jest session supplies it (see `jest/lock-session`). */
export interface LockGraphHost extends DeadlockHost, StallHost, LockOrderHost {
  /** Real timers that fake timers cannot freeze and the resource tracker does not record. */
  setTimer(fn: () => void, ms: number): { unref?(): void };
  clearTimer(timer: unknown): void;
  describeOwner(owner: unknown): OwnerRef | undefined;
  /**
   * The test file's stall clock, shared with its idle check; without one (plain Node) the graph
   * runs a clock of its own.
   */
  stallClock?: StallClock;
}

/** `sampled`: uncontended acquisitions of a busy lock record a sample of sites (see `sites`). */
export type LockSitesMode = 'sampled' | 'all';

export interface LockGraphOptions {
  lockOrder?: LockOrderMode;
  lockSites?: LockSitesMode;
}

/**
 * The one mechanism behind every lock hangwatch knows, put together from its jobs: the state
 * (`state`), cycle analysis (`deadlocks`), lock order (`order-check`) and stall detection
 * (`stall`). Lock libraries see it as a `LockReporter` (`reporter`); the Jest session also
 * reads it for reports and ends its units' flows.
 */
export class LockGraph implements LockReporter {
  /*
   * Every field is `#private`: Jest's cleanup of a finished test file wraps every reachable own
   * property in a soft-delete accessor, which warns (or loops) when late lock calls touch it.
   */
  readonly #host: LockGraphHost;
  readonly #state = new LockTable();
  readonly #flows = new Flows();
  readonly #describer: LockDescriber;
  readonly #deadlocks: DeadlockDetector;
  readonly #order: LockOrderCheck;
  readonly #stallClock: StallClock;
  readonly #ownClock: boolean;
  #sitesMode: LockSitesMode;
  /** Holdings whose release function is watched, keyed by the function. */
  readonly #dropped = new FinalizationRegistry<Holding>((holding) => this.#releaseDropped(holding));

  constructor(
    host: LockGraphHost,
    lockOrder: LockOrder<LazyStack> = processLockOrder,
    options: LockGraphOptions = {},
  ) {
    this.#host = host;
    this.#sitesMode = options.lockSites ?? 'sampled';
    this.#describer = new LockDescriber((owner) => host.describeOwner(owner));
    this.#deadlocks = new DeadlockDetector(this.#state, this.#describer, host);
    this.#order = new LockOrderCheck(
      this.#state,
      this.#describer,
      host,
      lockOrder,
      options.lockOrder ?? 'warn',
    );
    this.#ownClock = host.stallClock === undefined;
    this.#stallClock = host.stallClock ?? new StallClock(host);
    this.#stallClock.add(
      new LockStallCheck(this.#state, host, (onlyByLocks) => this.failStalledWaits(onlyByLocks)),
    );
  }

  setLockOrderMode(mode: LockOrderMode): void {
    this.#order.mode = mode;
  }

  // ---- LockReporter: what lock libraries call ----

  createLock(lock: NewLock): Lock {
    return this.#state.createLock(lock);
  }

  currentFlow(): Flow {
    return this.#flows.current();
  }

  acquiringFlow(): Flow {
    return this.#flows.resolveBareFlow();
  }

  /**
   * Whether an acquisition of `lock` by `flow` that did not wait should record its site: always
   * with `lockSites: 'all'` or when it adds a new lock order (lockdep's rule: a new dependency
   * saves its trace), else while the lock's budget lasts (see `sites`).
   */
  wantsSite(lock: Lock, flow: Flow): boolean {
    if (this.#sitesMode === 'all') return true;
    if (this.#order.mode !== 'off' && this.#order.addsOrder(lock, flow)) return true;
    return takeSiteToken(lock);
  }

  wantsCallSite(lock: Lock, willWait: boolean): boolean {
    return willWait || this.wantsSite(lock, this.currentFlow());
  }

  runTask<T>(name: string, fn: () => T): T {
    return runInFlow(this.#flows.child('task', name), fn);
  }

  runScope<T>(fn: () => T): T {
    return runInFlow(this.#flows.child('scope'), fn);
  }

  hold({ lock, flow, weight = 1, site }: HoldRequest): Holding {
    return this.#hold(lock, flow, weight, site);
  }

  wait({
    lock,
    flow,
    weight = 1,
    mode = 'acquire',
    site,
    bounded = false,
    onDeadlock,
  }: WaitRequest): Wait {
    const wait: Wait = {
      lock,
      flow,
      weight,
      mode,
      site,
      since: realNow(),
      bounded,
      onDeadlock,
    };
    this.#state.addWait(wait);
    if (!bounded && mode !== 'event') this.#deadlocks.onNewWait(wait);
    this.#stallClock.arm();
    return wait;
  }

  grant(wait: Wait): Holding {
    this.#state.removeWait(wait);
    return this.#hold(wait.lock, wait.flow, wait.weight, wait.site);
  }

  stopWaiting(wait: Wait): void {
    this.#state.removeWait(wait);
  }

  release(holding: Holding): void {
    this.#dropped.unregister(holding);
    this.#state.release(holding);
  }

  releaseSome(lock: Lock, weight: number): void {
    for (const holding of this.#state.holdingsToRelease(lock, weight, this.#flows.current())) {
      this.release(holding);
    }
  }

  watchRelease(holding: Holding, release: object): void {
    this.#dropped.register(release, holding, holding);
  }

  describeHolders(lock: Lock): string {
    return renderHolders(this.#describer.lock(lock), { rootDir: this.#host.rootDir });
  }

  // ---- The session's side ----

  /**
   * The test or hook ended: its flows can release nothing any more. Whoever waits on what they
   * still hold is told so now rather than at the timeout.
   */
  endOwner(owner: unknown, endedAt: string): void {
    let ended = false;
    for (const lock of this.#state.active) {
      for (const { flow } of lock.holdings) {
        if (flow.owner === owner && flow.endedAt === undefined) {
          flow.endedAt = endedAt;
          ended = true;
        }
      }
    }
    // Its own leftover waits have nobody left to tell: failing them would only be unhandled.
    if (ended) {
      this.#deadlocks.failIfDeadlocked(
        this.#state.allWaits().filter((wait) => wait.flow.owner !== owner),
      );
    }
  }

  /** Locks, holders, waiters and any deadlock, for a hang report. */
  snapshot(): LockSection | undefined {
    if (this.#state.active.size === 0 && this.#order.inversions.length === 0) return undefined;
    const locks = [...this.#state.active].map((lock) => this.#describer.lock(lock));
    const deadlock = this.#deadlocks.current();
    return { locks, ...(deadlock ? { deadlock } : {}), inversions: [...this.#order.inversions] };
  }

  /** Inversions found since the last call (each report shows its own). */
  takeInversions(): ReturnType<LockOrderCheck['take']> {
    return this.#order.take();
  }

  /**
   * Nothing else can run (the caller knows: the stall clock): every lock wait fails now (see
   * `DeadlockDetector.failStalled`).
   */
  failStalledWaits(onlyByLocks = false): boolean {
    return this.#deadlocks.failStalled(onlyByLocks);
  }

  dispose(): void {
    if (this.#ownClock) this.#stallClock.dispose();
  }

  #hold(lock: Lock, flow: Flow, weight: number, site: LazyStack | undefined): Holding {
    if (this.#order.mode !== 'off') this.#order.check(lock, flow, site);
    return this.#state.hold(lock, flow, weight, site);
  }

  #releaseDropped(holding: Holding): void {
    if (!holding.lock.holdings.has(holding)) return;
    holding.releaseDropped = true;
    if (holding.lock.releasableWithoutHandle) return;
    this.#state.version++;
    this.#deadlocks.failIfDeadlocked(this.#state.unboundedWaits());
  }
}
