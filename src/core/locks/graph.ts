import { performance } from 'node:perf_hooks';
import { runInFlow } from '../async-context';
import type { LockOrderInversion, LockSection, OwnerRef } from '../model';
import type { LazyStack } from '../stack';
import { analyse, explain } from './analysis';
import { LockDescriber } from './describe';
import { Flows, isAncestorOrSelf, type Flow } from './flows';
import { LockOrder, type OrderedAcquisition } from './lock-order';
import { renderDeadlock, siteText } from './render';
import { formatDuration } from '../format';
import type { DeadlockFailure, Holding, Lock, Wait } from './types';

/** What the graph needs from its surroundings; the Jest session supplies it (see `jest/lock-session`). */
export interface LockGraphHost {
  rootDir: string;
  /** Real timers that fake timers cannot freeze and the resource tracker does not record. */
  setTimer(fn: () => void, ms: number): { unref?(): void };
  clearTimer(timer: unknown): void;
  /**
   * Whether anything besides locks could still wake a waiter: a timer, socket, request, child.
   * `true` keeps the "everything is blocked" check from ever firing.
   */
  somethingElsePending(): boolean;
  describeOwner(owner: unknown): OwnerRef | undefined;
  /** A lock-order inversion was found while `owner` ran. */
  onInversion(inversion: LockOrderInversion, owner: unknown): void;
  /** A deadlock was found and its waiters are being failed (reported once per deadlock). */
  onDeadlock?(deadlock: DeadlockFailure['deadlock'], message: string, owner: unknown): void;
}

/** How often the blocked check looks, and how many looks in a row must see no progress. */
const BLOCKED_CHECK_MS = 40;
const BLOCKED_CHECKS_TO_FAIL = 2;

/** Lock-order memory is per process: across the tests of a file and the files of a worker. */
const processLockOrder = new LockOrder();

/**
 * The one mechanism behind every lock hangwatch knows: who holds what, who waits for what, and
 * the orders locks were taken in. Primitives (hangwatch/sync) and adapters (async-mutex) are thin
 * facades that report into it; see the README "Reporting into the lock graph".
 */
export class LockGraph {
  readonly flows = new Flows();
  private readonly describer: LockDescriber;
  /** Locks with a holder or a waiter: what reports list. */
  private readonly active = new Set<Lock>();
  private readonly flowHoldings = new Map<Flow, Set<Holding>>();
  private readonly inversions: LockOrderInversion[] = [];
  #nextLockId = 1;
  #version = 0;
  #blockedTimer: unknown;
  #blockedStrikes = 0;
  #checkedVersion = -1;

  /**
   * Fields written while locks are used are `#private`: Jest's cleanup of a finished test file
   * wraps every reachable own property in a soft-delete accessor, which a late write would loop on.
   */
  #lockOrderMode: 'warn' | 'error' | 'off';

  constructor(
    private readonly host: LockGraphHost,
    private readonly lockOrder: LockOrder = processLockOrder,
    lockOrderMode: 'warn' | 'error' | 'off' = 'warn',
  ) {
    this.#lockOrderMode = lockOrderMode;
    this.describer = new LockDescriber((owner) => host.describeOwner(owner));
  }

  setLockOrderMode(mode: 'warn' | 'error' | 'off'): void {
    this.#lockOrderMode = mode;
  }

  createLock(kind: Lock['kind'], capacity: number, name?: string, site?: LazyStack): Lock {
    return {
      id: this.#nextLockId++,
      kind,
      capacity,
      ...(name !== undefined ? { name } : {}),
      ...(site ? { site } : {}),
      holdings: new Set(),
      waits: new Set(),
    };
  }

  /** Runs `fn` as a new named flow: `task(name, fn)`. */
  runTask<T>(name: string, fn: () => T): T {
    return runInFlow(this.flows.child('task', name), fn);
  }

  /** Runs `fn` as a new scope flow whose first acquire is the scope's lock: `runExclusive`. */
  runScope<T>(fn: () => T): T {
    return runInFlow(this.flows.child('scope'), fn);
  }

  /** The flow an acquire belongs to (enters a new one for bare acquires: see `flows`). */
  acquiringFlow(): Flow {
    return this.flows.resolveBareFlow();
  }

  /** `flow` now holds `weight` permits of `lock`. */
  hold(lock: Lock, flow: Flow, weight: number, site: LazyStack): Holding {
    const holding: Holding = { lock, flow, weight, site, since: performance.now() };
    if (this.#lockOrderMode !== 'off') this.checkOrder(holding);
    lock.holdings.add(holding);
    this.active.add(lock);
    let held = this.flowHoldings.get(flow);
    if (!held) this.flowHoldings.set(flow, (held = new Set()));
    held.add(holding);
    flow.holdCount++;
    this.#version++;
    return holding;
  }

  release(holding: Holding): void {
    if (!holding.lock.holdings.delete(holding)) return;
    const held = this.flowHoldings.get(holding.flow);
    held?.delete(holding);
    if (held?.size === 0) this.flowHoldings.delete(holding.flow);
    holding.flow.holdCount--;
    this.forgetIfIdle(holding.lock);
    this.#version++;
  }

  /** A release without a handle (`semaphore.release()`): the current flow's holding, else the oldest. */
  releaseSome(lock: Lock, weight: number): void {
    const current = this.flows.current();
    let left = weight;
    const holdings = [...lock.holdings];
    const mine = holdings.filter((holding) => isAncestorOrSelf(holding.flow, current));
    for (const holding of [...mine, ...holdings.filter((holding) => !mine.includes(holding))]) {
      if (left <= 0) break;
      left -= holding.weight;
      this.release(holding);
    }
  }

  /**
   * Registers a wait and analyses it at once: a wait that can never end is failed before this
   * returns (self-deadlock, a cycle, a holder that ended), with `wait.fail`.
   */
  wait(
    lock: Lock,
    flow: Flow,
    weight: number,
    mode: Wait['mode'],
    site: LazyStack,
    fail: Wait['fail'],
    bounded = false,
  ): Wait {
    const wait: Wait = { lock, flow, weight, mode, site, since: performance.now(), bounded, fail };
    lock.waits.add(wait);
    this.active.add(lock);
    this.#version++;
    if (!bounded && mode !== 'event') this.failIfDeadlocked([wait]);
    this.armBlockedCheck();
    return wait;
  }

  /** The wait ended: granted, timed out, aborted or cancelled. */
  stopWaiting(wait: Wait): void {
    if (!wait.lock.waits.delete(wait)) return;
    this.forgetIfIdle(wait.lock);
    this.#version++;
  }

  /** A granted wait becomes a holding. */
  grant(wait: Wait): Holding {
    this.stopWaiting(wait);
    return this.hold(wait.lock, wait.flow, wait.weight, wait.site);
  }

  /**
   * The test or hook ended: its flows can release nothing any more. Whoever waits on what they
   * still hold is told so now rather than at the timeout.
   */
  endOwner(owner: unknown, endedAt: string): void {
    let ended = false;
    for (const flow of this.flowHoldings.keys()) {
      if (flow.owner === owner && flow.endedAt === undefined) {
        flow.endedAt = endedAt;
        ended = true;
      }
    }
    // Its own leftover waits have nobody left to tell: failing them would only be unhandled.
    if (ended) this.failIfDeadlocked(this.allWaits().filter((wait) => wait.flow.owner !== owner));
  }

  /** Who holds `lock` and since where, in words: for a timeout error built by a primitive. */
  describeHolders(lock: Lock): string {
    const state = this.describer.lock(lock);
    if (state.holders.length === 0) return `lock "${state.name}" is free now`;
    const holders = state.holders.map(
      (hold) =>
        `${hold.flow.name}${hold.flow.owner ? ` (in ${hold.flow.owner.kind} "${hold.flow.owner.name}")` : ''} since ${siteText(hold.site, { rootDir: this.host.rootDir })} (${formatDuration(hold.heldMs)})`,
    );
    return `lock "${state.name}" is held by ${holders.join('; and by ')}`;
  }

  /** Locks, holders, waiters and any deadlock, for a hang report. */
  snapshot(): LockSection | undefined {
    if (this.active.size === 0 && this.inversions.length === 0) return undefined;
    const locks = [...this.active].map((lock) => this.describer.lock(lock));
    const analysis = analyse(this.active);
    const first = analysis.blocked.values().next().value;
    const deadlock = first
      ? this.describer.deadlock(explain(first, analysis), (flow) => this.heldBy(flow))
      : undefined;
    return { locks, ...(deadlock ? { deadlock } : {}), inversions: [...this.inversions] };
  }

  /** Forget everything about `owner`'s flows' inversions shown so far (each report shows its own). */
  takeInversions(): LockOrderInversion[] {
    return this.inversions.splice(0);
  }

  private heldBy(flow: Flow): Holding[] {
    const held: Holding[] = [];
    for (let at: Flow | undefined = flow; at; at = at.parent) {
      for (const holding of this.flowHoldings.get(at) ?? []) held.push(holding);
    }
    return held;
  }

  private allWaits(): Wait[] {
    return [...this.active].flatMap((lock) => [...lock.waits]);
  }

  private failIfDeadlocked(candidates: Wait[]): void {
    const analysis = analyse(this.active);
    for (const wait of candidates) {
      if (!analysis.blocked.has(wait)) continue;
      const deadlock = this.describer.deadlock(explain(wait, analysis), (flow) =>
        this.heldBy(flow),
      );
      this.stopWaiting(wait);
      const failure = this.failure(deadlock);
      this.host.onDeadlock?.(deadlock, failure.message, wait.flow.owner);
      wait.fail(failure);
    }
  }

  private failure(deadlock: DeadlockFailure['deadlock']): DeadlockFailure {
    return { deadlock, message: renderDeadlock(deadlock, { rootDir: this.host.rootDir }) };
  }

  private forgetIfIdle(lock: Lock): void {
    if (lock.holdings.size === 0 && lock.waits.size === 0) this.active.delete(lock);
  }

  private checkOrder(holding: Holding): void {
    const held = this.heldBy(holding.flow);
    if (held.length === 0) return;
    const acquisition = (lock: Lock, site: LazyStack): OrderedAcquisition => ({
      key: this.describer.lockClass(lock),
      name: this.describer.lockName(lock),
      site,
    });
    const flowName = this.describer.flow(holding.flow).name;
    const found = this.lockOrder.record(
      held.map((other) => acquisition(other.lock, other.site)),
      acquisition(holding.lock, holding.site),
      flowName,
    );
    for (const inversion of found) {
      const described = this.describer.inversion(inversion);
      this.inversions.push(described);
      this.host.onInversion(described, holding.flow.owner);
    }
  }

  /**
   * Every flow waits on a lock and nothing else is pending that could release one: a hang no
   * cycle explains (a holder awaiting a promise nobody resolves). Looks every 40 ms while anyone
   * waits; two looks in a row without progress fail every waiter.
   */
  private armBlockedCheck(): void {
    if (this.#blockedTimer !== undefined) return;
    const timer = this.host.setTimer(() => {
      this.#blockedTimer = undefined;
      this.checkBlocked();
    }, BLOCKED_CHECK_MS);
    timer.unref?.();
    this.#blockedTimer = timer;
  }

  private checkBlocked(): void {
    const waits = this.allWaits().filter((wait) => !wait.bounded);
    if (waits.length === 0) {
      this.#blockedStrikes = 0;
      return;
    }
    const progressed = this.#version !== this.#checkedVersion;
    this.#checkedVersion = this.#version;
    if (progressed || this.host.somethingElsePending()) this.#blockedStrikes = 0;
    else this.#blockedStrikes++;
    if (this.#blockedStrikes >= BLOCKED_CHECKS_TO_FAIL) {
      this.#blockedStrikes = 0;
      // Nothing else can run: a bare parent's own wait for its child is now certain too.
      const analysis = analyse(this.active, false);
      const explained = analysis.blocked.has(waits[0]) ? explain(waits[0], analysis) : undefined;
      const chain =
        explained && explained.kind !== 'blocked'
          ? explained
          : {
              kind: 'blocked' as const,
              waits,
              holders: [...this.active].flatMap((lock) => [...lock.holdings]),
            };
      const deadlock = this.describer.deadlock(chain, (flow) => this.heldBy(flow));
      for (const wait of waits) this.stopWaiting(wait);
      const failure = this.failure(deadlock);
      this.host.onDeadlock?.(deadlock, failure.message, waits[0]?.flow.owner);
      for (const wait of waits) wait.fail(failure);
      return;
    }
    this.armBlockedCheck();
  }

  dispose(): void {
    if (this.#blockedTimer !== undefined) this.host.clearTimer(this.#blockedTimer);
    this.#blockedTimer = undefined;
  }
}
