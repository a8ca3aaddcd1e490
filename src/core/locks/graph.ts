import { performance } from 'node:perf_hooks';
import { runInFlow } from '../async-context';
import type { CreationSite, LockOrderInversion, LockSection, OwnerRef } from '../model';
import type { LazyStack } from '../stack';
import { analyse, explain, type Chain, type LinkMode } from './analysis';
import { LockDescriber } from './describe';
import { Flows, isAncestorOrSelf, type Flow } from './flows';
import { LockOrder, type OrderEdge, type OrderedAcquisition } from './lock-order';
import { renderDeadlock, siteText } from './render';
import { newSiteBudget, takeSiteToken } from './sites';
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
  /**
   * A lock order was seen for the first time in this process, while `owner` ran: for comparing
   * orders across the processes of a run (only locks keyed by name or construction site).
   */
  onNewOrder?(edge: OrderEdge<CreationSite>, owner: unknown): void;
  /** A deadlock was found and its waiters are being failed (reported once per deadlock). */
  onDeadlock?(deadlock: DeadlockFailure['deadlock'], message: string, owner: unknown): void;
  /**
   * Runs a full garbage collection, so release functions dropped uncalled are found while a wait
   * is stalled (see `watchRelease`); without it they are found when a collection happens anyway.
   */
  collectGarbage?(): void;
}

function hasHoldingAncestry(flow: Flow): boolean {
  for (let at: Flow | undefined = flow; at; at = at.parent) if (at.holdCount > 0) return true;
  return false;
}

/** How often the blocked check looks, and how many looks in a row must see no progress. */
const BLOCKED_CHECK_MS = 40;
const BLOCKED_CHECKS_TO_FAIL = 2;

/** Lock-order memory is per process: across the tests of a file and the files of a worker. */
const processLockOrder = new LockOrder<LazyStack>();

export type LockOrderMode = 'warn' | 'error' | 'off';
/** `sampled`: uncontended acquisitions of a busy lock record a sample of sites (see `sites`). */
export type LockSitesMode = 'sampled' | 'all';

export interface LockGraphOptions {
  lockOrder?: LockOrderMode;
  lockSites?: LockSitesMode;
}

/**
 * The one mechanism behind every lock hangwatch knows: who holds what, who waits for what, and
 * the orders locks were taken in. Primitives (hangwatch/sync) and adapters (async-mutex) are thin
 * facades that report into it; see the README "Reporting into the lock graph".
 */
export class LockGraph {
  /*
   * Every field is `#private`: Jest's cleanup of a finished test file wraps every reachable own
   * property in a soft-delete accessor, which warns (or loops) when late lock calls touch it.
   */
  readonly #host: LockGraphHost;
  readonly #lockOrder: LockOrder<LazyStack>;
  readonly #flows = new Flows();
  readonly #describer: LockDescriber;
  /** Locks with a holder or a waiter: what reports list. */
  readonly #active = new Set<Lock>();
  readonly #inversions: LockOrderInversion[] = [];
  #nextLockId = 1;
  #version = 0;
  #blockedTimer: unknown;
  #blockedStrikes = 0;
  #checkedVersion = -1;
  #lockOrderMode: LockOrderMode;
  #sitesMode: LockSitesMode;
  /** Holdings whose release function is watched, keyed by the function. */
  readonly #dropped = new FinalizationRegistry<Holding>((holding) => this.#releaseDropped(holding));
  #collectedAtVersion = -1;

  constructor(
    host: LockGraphHost,
    lockOrder: LockOrder<LazyStack> = processLockOrder,
    options: LockGraphOptions = {},
  ) {
    this.#host = host;
    this.#lockOrder = lockOrder;
    this.#lockOrderMode = options.lockOrder ?? 'warn';
    this.#sitesMode = options.lockSites ?? 'sampled';
    this.#describer = new LockDescriber((owner) => host.describeOwner(owner));
  }

  setLockOrderMode(mode: LockOrderMode): void {
    this.#lockOrderMode = mode;
  }

  createLock(
    kind: Lock['kind'],
    capacity: number,
    name?: string,
    site?: LazyStack,
    options: { releasableWithoutHandle?: boolean } = {},
  ): Lock {
    return {
      id: this.#nextLockId++,
      kind,
      capacity,
      ...(name !== undefined ? { name } : {}),
      ...(site ? { site } : {}),
      ...(options.releasableWithoutHandle ? { releasableWithoutHandle: true } : {}),
      holdings: new Set(),
      waits: new Set(),
      siteBudget: newSiteBudget(performance.now()),
    };
  }

  /** The flow running now (for waits that are not acquisitions: waitForUnlock, events). */
  currentFlow(): Flow {
    return this.#flows.current();
  }

  /**
   * Whether an acquisition of `lock` by `flow` that did not wait should record its site: always
   * with `lockSites: 'all'` or when it adds a new lock order (lockdep's rule: a new dependency
   * saves its trace), else while the lock's budget lasts (see `sites`).
   */
  wantsSite(lock: Lock, flow: Flow): boolean {
    if (this.#sitesMode === 'all') return true;
    if (this.#lockOrderMode !== 'off' && this.#addsLockOrder(lock, flow)) return true;
    return takeSiteToken(lock);
  }

  /**
   * The rule a lock's public method applies before it runs (see `sites`): a call that will wait
   * always records its site; one that will not, when `wantsSite` says so for the flow running now.
   */
  wantsCallSite(lock: Lock, willWait: boolean): boolean {
    return willWait || this.wantsSite(lock, this.currentFlow());
  }

  /** Runs `fn` as a new named flow: `task(name, fn)`. */
  runTask<T>(name: string, fn: () => T): T {
    return runInFlow(this.#flows.child('task', name), fn);
  }

  /** Runs `fn` as a new scope flow whose first acquire is the scope's lock: `runExclusive`. */
  runScope<T>(fn: () => T): T {
    return runInFlow(this.#flows.child('scope'), fn);
  }

  /** The flow an acquire belongs to (enters a new one for bare acquires: see `flows`). */
  acquiringFlow(): Flow {
    return this.#flows.resolveBareFlow();
  }

  /**
   * `flow` now holds `weight` permits of `lock`. `site`: where it was acquired, when recorded
   * (see `wantsSite`); a holding without one is reported with the lock's last recorded site.
   */
  hold(lock: Lock, flow: Flow, weight: number, site?: LazyStack): Holding {
    const holding: Holding = { lock, flow, weight, site, since: performance.now() };
    if (site) lock.lastSite = site;
    if (this.#lockOrderMode !== 'off') this.checkOrder(holding);
    lock.holdings.add(holding);
    this.#active.add(lock);
    (flow.holdings ??= new Set()).add(holding);
    flow.holdCount++;
    this.#version++;
    return holding;
  }

  /**
   * Watches the function that releases `holding` (a bare acquire's): if it is garbage-collected
   * while the lock is still held, the code that had it returned or threw without calling it.
   */
  watchRelease(holding: Holding, release: object): void {
    this.#dropped.register(release, holding, holding);
  }

  release(holding: Holding): void {
    this.#dropped.unregister(holding);
    if (!holding.lock.holdings.delete(holding)) return;
    holding.flow.holdings?.delete(holding);
    holding.flow.holdCount--;
    this.forgetIfIdle(holding.lock);
    this.#version++;
  }

  /** A release without a handle (`semaphore.release()`): the current flow's holding, else the oldest. */
  releaseSome(lock: Lock, weight: number): void {
    const current = this.#flows.current();
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
    flow.waitCount++;
    this.#active.add(lock);
    this.#version++;
    if (!bounded && mode !== 'event') this.analyseNewWait(wait);
    this.armBlockedCheck();
    return wait;
  }

  /** The wait ended: granted, timed out, aborted or cancelled. */
  stopWaiting(wait: Wait): void {
    if (!wait.lock.waits.delete(wait)) return;
    wait.flow.waitCount--;
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
    for (const lock of this.#active) {
      for (const { flow } of lock.holdings) {
        if (flow.owner === owner && flow.endedAt === undefined) {
          flow.endedAt = endedAt;
          ended = true;
        }
      }
    }
    // Its own leftover waits have nobody left to tell: failing them would only be unhandled.
    if (ended) this.failIfDeadlocked(this.allWaits().filter((wait) => wait.flow.owner !== owner));
  }

  /** Who holds `lock` and since where, in words: for a timeout error built by a primitive. */
  describeHolders(lock: Lock): string {
    const state = this.#describer.lock(lock);
    if (state.holders.length === 0) return `lock "${state.name}" is free now`;
    const holders = state.holders.map(
      (hold) =>
        `${hold.flow.name}${hold.flow.owner ? ` (in ${hold.flow.owner.kind} "${hold.flow.owner.name}")` : ''} since ${siteText(hold.site, { rootDir: this.#host.rootDir })}${hold.siteSampled ? ' (its last recorded acquisition)' : ''} (${formatDuration(hold.heldMs)})`,
    );
    return `lock "${state.name}" is held by ${holders.join('; and by ')}`;
  }

  /** Locks, holders, waiters and any deadlock, for a hang report. */
  snapshot(): LockSection | undefined {
    if (this.#active.size === 0 && this.#inversions.length === 0) return undefined;
    const locks = [...this.#active].map((lock) => this.#describer.lock(lock));
    const analysis = analyse(this.#active);
    const first = analysis.blocked.values().next().value;
    const deadlock = first
      ? this.#describer.deadlock(explain(first, analysis), (flow) => this.heldBy(flow))
      : undefined;
    return { locks, ...(deadlock ? { deadlock } : {}), inversions: [...this.#inversions] };
  }

  /** Forget everything about `owner`'s flows' inversions shown so far (each report shows its own). */
  takeInversions(): LockOrderInversion[] {
    return this.#inversions.splice(0);
  }

  private heldBy(flow: Flow): Holding[] {
    const held: Holding[] = [];
    for (let at: Flow | undefined = flow; at; at = at.parent) {
      if (at.holdCount > 0) for (const holding of at.holdings ?? []) held.push(holding);
    }
    return held;
  }

  private allWaits(): Wait[] {
    return [...this.#active].flatMap((lock) => [...lock.waits]);
  }

  /**
   * Fails a new wait at once when it can never end. A flow waiting for a lock its own bare
   * ancestor holds (`await m.acquire()` again, in a helper or the same function) is most likely a
   * self-deadlock, but may be a fire-and-forget child the holder releases for a moment later:
   * that case, and any wait that only every link counting would block, is decided by `checkSoon`.
   */
  private analyseNewWait(wait: Wait): void {
    const likely = analyse(this.#active, 'likely');
    if (likely.blocked.has(wait)) {
      const chain = explain(wait, likely);
      if (chain.kind !== 'self' || analyse(this.#active, 'strict').blocked.has(wait)) {
        this.failWaits([wait], chain);
        return;
      }
    } else if (!analyse(this.#active, 'all').blocked.has(wait)) {
      return;
    }
    this.checkSoon(wait);
  }

  private failIfDeadlocked(candidates: Wait[], mode: LinkMode = 'likely'): void {
    const analysis = analyse(this.#active, mode);
    for (const wait of candidates) {
      if (!analysis.blocked.has(wait)) continue;
      this.failWaits([wait], explain(wait, analysis));
    }
  }

  /** Fails `waits` (each told the same deadlock); `chain` explains it. */
  private failWaits(waits: Wait[], chain: Chain): void {
    const deadlock = this.#describer.deadlock(chain, (flow) => this.heldBy(flow));
    for (const wait of waits) this.stopWaiting(wait);
    const message = renderDeadlock(deadlock, { rootDir: this.#host.rootDir });
    this.#host.onDeadlock?.(deadlock, message, waits[0]?.flow.owner);
    for (const wait of waits) wait.fail({ deadlock, message });
  }

  /**
   * Once the work running now has run (a holder may release right after starting a child), a
   * wait that is still blocked while nothing else is pending that could move a holder fails.
   */
  private checkSoon(wait: Wait): void {
    const timer = this.#host.setTimer(() => {
      if (!wait.lock.waits.has(wait) || this.#host.somethingElsePending()) return;
      this.failIfDeadlocked([wait], 'all');
    }, 0);
    timer.unref?.();
  }

  #releaseDropped(holding: Holding): void {
    if (!holding.lock.holdings.has(holding)) return;
    holding.releaseDropped = true;
    if (holding.lock.releasableWithoutHandle) return;
    this.#version++;
    this.failIfDeadlocked(this.allWaits().filter((wait) => !wait.bounded));
  }

  private forgetIfIdle(lock: Lock): void {
    if (lock.holdings.size === 0 && lock.waits.size === 0) this.#active.delete(lock);
  }

  /** Whether `flow` holds a lock of a class it has not yet been seen to take `lock` after. */
  #addsLockOrder(lock: Lock, flow: Flow): boolean {
    let key: string | undefined;
    for (let at: Flow | undefined = flow; at; at = at.parent) {
      if (at.holdCount === 0) continue;
      for (const holding of at.holdings ?? []) {
        key ??= this.#describer.lockClass(lock);
        if (!this.#lockOrder.knows(this.#describer.lockClass(holding.lock), key)) return true;
      }
    }
    return false;
  }

  private checkOrder(holding: Holding): void {
    if (!hasHoldingAncestry(holding.flow)) return;
    const key = this.#describer.lockClass(holding.lock);
    // Orders seen before cost a lookup each; only new ones are described and recorded.
    const held = this.heldBy(holding.flow).filter(
      (other) => !this.#lockOrder.knows(this.#describer.lockClass(other.lock), key),
    );
    if (held.length === 0) return;
    const acquisition = (
      lock: Lock,
      site: LazyStack | undefined,
    ): OrderedAcquisition<LazyStack> => ({
      key: this.#describer.lockClass(lock),
      name: this.#describer.lockName(lock),
      site: site ?? lock.lastSite,
    });
    const flowName = this.#describer.flow(holding.flow).name;
    const onNewOrder = this.#host.onNewOrder;
    const found = this.#lockOrder.record(
      held.map((other) => acquisition(other.lock, other.site)),
      acquisition(holding.lock, holding.site),
      flowName,
      onNewOrder &&
        ((edge) => {
          // An id key means "this lock in this process": nothing to compare with elsewhere.
          if (edge.held.key.startsWith('lock:') || edge.taken.key.startsWith('lock:')) return;
          onNewOrder(this.#describer.orderEdge(edge), holding.flow.owner);
        }),
    );
    for (const inversion of found) {
      const described = this.#describer.inversion(inversion);
      this.#inversions.push(described);
      this.#host.onInversion(described, holding.flow.owner);
    }
  }

  /**
   * Every flow waits on a lock and nothing else is pending that could release one: a hang no
   * cycle explains (a holder awaiting a promise nobody resolves). Looks every 40 ms while anyone
   * waits; two looks in a row without progress fail every waiter.
   */
  private armBlockedCheck(): void {
    if (this.#blockedTimer !== undefined) return;
    const timer = this.#host.setTimer(() => {
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
    if (!progressed && this.#collectedAtVersion !== this.#version && this.#host.collectGarbage) {
      // Stalled: once per stall, let dropped release functions be found (their finalizers run next).
      this.#collectedAtVersion = this.#version;
      this.#host.collectGarbage();
    }
    if (progressed || this.#host.somethingElsePending()) this.#blockedStrikes = 0;
    else this.#blockedStrikes++;
    if (this.#blockedStrikes >= BLOCKED_CHECKS_TO_FAIL) {
      this.#blockedStrikes = 0;
      this.failStalledWaits();
      return;
    }
    this.armBlockedCheck();
  }

  /**
   * Nothing else can run (the caller knows: the blocked check, or the session's idle check
   * about to fail a test): every lock wait fails now, explained by the wait-for graph, with every
   * parent taken to await its children. `onlyByLocks`: only when the locks themselves explain it
   * (a self-deadlock, a cycle, an abandoned lock), not a holder stuck on something else, which
   * the idle report explains better. Returns whether the waits were failed.
   */
  failStalledWaits(onlyByLocks = false): boolean {
    const waits = this.allWaits().filter((wait) => !wait.bounded);
    if (waits.length === 0) return false;
    const analysis = analyse(this.#active, 'all');
    const explained = analysis.blocked.has(waits[0]) ? explain(waits[0], analysis) : undefined;
    if (onlyByLocks && (!explained || explained.kind === 'blocked')) return false;
    const chain: Chain =
      explained && explained.kind !== 'blocked'
        ? explained
        : {
            kind: 'blocked',
            waits,
            holders: [...this.#active].flatMap((lock) => [...lock.holdings]),
          };
    this.failWaits(waits, chain);
    return true;
  }

  dispose(): void {
    if (this.#blockedTimer !== undefined) this.#host.clearTimer(this.#blockedTimer);
    this.#blockedTimer = undefined;
  }
}
