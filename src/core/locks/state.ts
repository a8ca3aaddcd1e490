import type { LazyStack } from '../stack';
import { isAncestorOrSelf } from './flows';
import type { NewLock } from './reporter';
import { newSiteBudget } from './sites';
import type { Flow, Holding, Lock, Wait } from './types';
import { realNow } from '../real-timers';

/**
 * Who holds what and who waits for what: the graph's state and nothing else. `version` moves on
 * every change, so a stall check can tell whether anything happened since it last looked.
 */
export class LockTable {
  /** Locks with a holder or a waiter: what reports list and analyses walk. */
  readonly active = new Set<Lock>();
  version = 0;
  #nextLockId = 1;

  createLock(options: NewLock): Lock {
    return {
      id: this.#nextLockId++,
      kind: options.kind,
      capacity: options.capacity,
      ...(options.name !== undefined ? { name: options.name } : {}),
      ...(options.site ? { site: options.site } : {}),
      ...(options.releasableWithoutHandle ? { releasableWithoutHandle: true } : {}),
      holdings: new Set(),
      waits: new Set(),
      siteBudget: newSiteBudget(realNow()),
    };
  }

  hold(lock: Lock, flow: Flow, weight: number, site: LazyStack | undefined): Holding {
    const holding: Holding = { lock, flow, weight, site, since: realNow() };
    if (site) lock.lastSite = site;
    lock.holdings.add(holding);
    this.active.add(lock);
    (flow.holdings ??= new Set()).add(holding);
    flow.holdCount++;
    this.version++;
    return holding;
  }

  /** Whether it was still held. */
  release(holding: Holding): boolean {
    if (!holding.lock.holdings.delete(holding)) return false;
    holding.flow.holdings?.delete(holding);
    holding.flow.holdCount--;
    this.#forgetIfIdle(holding.lock);
    this.version++;
    return true;
  }

  addWait(wait: Wait): void {
    wait.lock.waits.add(wait);
    wait.flow.waitCount++;
    this.active.add(wait.lock);
    this.version++;
  }

  /** Whether it was still waiting. */
  removeWait(wait: Wait): boolean {
    if (!wait.lock.waits.delete(wait)) return false;
    wait.flow.waitCount--;
    this.#forgetIfIdle(wait.lock);
    this.version++;
    return true;
  }

  /** Holdings a release without a handle frees: the current flow's first, then the oldest. */
  holdingsToRelease(lock: Lock, weight: number, current: Flow): Holding[] {
    const holdings = [...lock.holdings];
    const mine = holdings.filter((holding) => isAncestorOrSelf(holding.flow, current));
    const chosen: Holding[] = [];
    let left = weight;
    for (const holding of [...mine, ...holdings.filter((holding) => !mine.includes(holding))]) {
      if (left <= 0) break;
      left -= holding.weight;
      chosen.push(holding);
    }
    return chosen;
  }

  /** What `flow` and the flows awaiting it hold. */
  heldBy(flow: Flow): Holding[] {
    const held: Holding[] = [];
    for (let at: Flow | undefined = flow; at; at = at.parent) {
      if (at.holdCount > 0) for (const holding of at.holdings ?? []) held.push(holding);
    }
    return held;
  }

  /** Waits that only a holder can end (not a timeout's, not a tryAcquire's). */
  unboundedWaits(): Wait[] {
    const waits: Wait[] = [];
    for (const lock of this.active)
      for (const wait of lock.waits) if (!wait.bounded) waits.push(wait);
    return waits;
  }

  allWaits(): Wait[] {
    return [...this.active].flatMap((lock) => [...lock.waits]);
  }

  allHoldings(): Holding[] {
    return [...this.active].flatMap((lock) => [...lock.holdings]);
  }

  #forgetIfIdle(lock: Lock): void {
    if (lock.holdings.size === 0 && lock.waits.size === 0) this.active.delete(lock);
  }
}

export function hasHoldingAncestry(flow: Flow): boolean {
  for (let at: Flow | undefined = flow; at; at = at.parent) if (at.holdCount > 0) return true;
  return false;
}
