import type { CreationSite, LockOrderInversion } from '../model';
import type { LazyStack } from '../stack';
import type { LockDescriber } from './describe';
import { LockOrder, type OrderEdge, type OrderedAcquisition } from './lock-order';
import { hasHoldingAncestry, type LockTable } from './state';
import type { Flow, Lock } from './types';

export type LockOrderMode = 'warn' | 'error' | 'off';

export interface LockOrderHost {
  /** A lock-order inversion was found while `owner` ran. */
  onInversion(inversion: LockOrderInversion, owner: unknown): void;
  /**
   * A lock order was seen for the first time in this process, while `owner` ran: for comparing
   * orders across the processes of a run (only locks keyed by name or construction site).
   */
  onNewOrder?(edge: OrderEdge<CreationSite>, owner: unknown): void;
}

/** Lock-order memory is per process: across the tests of a file and the files of a worker. */
export const processLockOrder = new LockOrder<LazyStack>();

/**
 * The graph's lock-order job: each new holding is checked against the orders seen so far (see
 * `lock-order`); inversions it closes are described and kept for the next report.
 */
export class LockOrderCheck {
  mode: LockOrderMode;
  readonly #memory: LockOrder<LazyStack>;
  readonly #state: LockTable;
  readonly #describer: LockDescriber;
  readonly #host: LockOrderHost;
  readonly #inversions: LockOrderInversion[] = [];

  constructor(
    state: LockTable,
    describer: LockDescriber,
    host: LockOrderHost,
    memory: LockOrder<LazyStack>,
    mode: LockOrderMode,
  ) {
    this.#state = state;
    this.#describer = describer;
    this.#host = host;
    this.#memory = memory;
    this.mode = mode;
  }

  get inversions(): readonly LockOrderInversion[] {
    return this.#inversions;
  }

  /** Inversions found since the last call (each report shows its own). */
  take(): LockOrderInversion[] {
    return this.#inversions.splice(0);
  }

  /** Whether `flow` holds a lock of a class it has not yet been seen to take `lock` after. */
  addsOrder(lock: Lock, flow: Flow): boolean {
    let key: string | undefined;
    for (let at: Flow | undefined = flow; at; at = at.parent) {
      if (at.holdCount === 0) continue;
      for (const holding of at.holdings ?? []) {
        key ??= this.#describer.lockClass(lock);
        if (!this.#memory.knows(this.#describer.lockClass(holding.lock), key)) return true;
      }
    }
    return false;
  }

  /** `flow` is taking `lock`: records the orders this makes with what it already holds. */
  check(lock: Lock, flow: Flow, site: LazyStack | undefined): void {
    if (!hasHoldingAncestry(flow)) return;
    const describer = this.#describer;
    const key = describer.lockClass(lock);
    // Orders seen before cost a lookup each; only new ones are described and recorded.
    const held = this.#state
      .heldBy(flow)
      .filter((other) => !this.#memory.knows(describer.lockClass(other.lock), key));
    if (held.length === 0) return;
    const acquisition = (
      which: Lock,
      at: LazyStack | undefined,
    ): OrderedAcquisition<LazyStack> => ({
      key: describer.lockClass(which),
      name: describer.lockName(which),
      site: at ?? which.lastSite,
    });
    const onNewOrder = this.#host.onNewOrder;
    const found = this.#memory.record(
      held.map((other) => acquisition(other.lock, other.site)),
      acquisition(lock, site),
      describer.flow(flow).name,
      onNewOrder &&
        ((edge) => {
          // An id key means "this lock in this process": nothing to compare with elsewhere.
          if (edge.held.key.startsWith('lock:') || edge.taken.key.startsWith('lock:')) return;
          onNewOrder(describer.orderEdge(edge), flow.owner);
        }),
    );
    for (const inversion of found) {
      const described = describer.inversion(inversion);
      this.#inversions.push(described);
      this.#host.onInversion(described, flow.owner);
    }
  }
}
