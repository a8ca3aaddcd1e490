/**
 * Lockdep for async code: every time a flow takes lock B while holding lock A, the order A → B is
 * remembered, keyed by lock class (its name, or where it was constructed) so that two tests
 * constructing the "same" lock agree. Taking B → A later, or closing any longer cycle of orders,
 * is an inversion: a deadlock waiting for the wrong interleaving, even if this run never hung.
 */
/** `S`: how a site is kept: a captured stack in a test process, plain data in the reporter. */
export interface OrderedAcquisition<S> {
  /** The lock's class: its name or construction site. */
  key: string;
  /** Display name. */
  name: string;
  /** Where it was taken; for a busy lock whose acquisition was not recorded, its last recorded one. */
  site?: S;
}

export interface OrderEdge<S> {
  held: OrderedAcquisition<S>;
  taken: OrderedAcquisition<S>;
  flow: string;
}

export interface Inversion<S> {
  /** The earlier order, first → second (the first edge of the path of orders). */
  forward: OrderEdge<S>;
  /** Every order from `first` to `second`: one edge, or more for a longer cycle. */
  path: OrderEdge<S>[];
  /** The acquisition that closed the cycle: second held, first taken. */
  backward: OrderEdge<S>;
}

export class LockOrder<S> {
  /** before → after → the first time that order was seen. */
  private readonly edges = new Map<string, Map<string, OrderEdge<S>>>();
  private readonly reported = new Set<string>();

  /** Whether `after` has been seen taken while `before` was held. */
  knows(before: string, after: string): boolean {
    return before === after || this.edges.get(before)?.has(after) === true;
  }

  /**
   * Records `taken` while `held` are held, returning inversions this closes (each pair once).
   * `onNewOrder` sees each order the first time it is recorded. Cost when nothing is held: none;
   * the caller only calls this when something is.
   */
  record(
    held: OrderedAcquisition<S>[],
    taken: OrderedAcquisition<S>,
    flow: string,
    onNewOrder?: (edge: OrderEdge<S>) => void,
  ): Inversion<S>[] {
    const found: Inversion<S>[] = [];
    for (const before of held) {
      if (before.key === taken.key) continue;
      let after = this.edges.get(before.key);
      if (after?.has(taken.key)) continue;
      const path = this.path(taken.key, before.key);
      const pair = [before.key, taken.key].sort().join('\u0000');
      const edge: OrderEdge<S> = { held: before, taken, flow };
      if (path && !this.reported.has(pair)) {
        this.reported.add(pair);
        found.push({ forward: path[0], path, backward: edge });
      }
      if (!after) this.edges.set(before.key, (after = new Map()));
      after.set(taken.key, edge);
      onNewOrder?.(edge);
    }
    return found;
  }

  /** The edges of an order path from → ... → to, if there is one (breadth first: shortest). */
  private path(from: string, to: string): OrderEdge<S>[] | undefined {
    const via = new Map<string, OrderEdge<S>>();
    const queue = [from];
    const seen = new Set([from]);
    while (queue.length > 0) {
      const key = queue.shift()!;
      for (const [next, edge] of this.edges.get(key) ?? []) {
        if (seen.has(next)) continue;
        seen.add(next);
        via.set(next, edge);
        if (next === to) {
          const edges: OrderEdge<S>[] = [];
          for (let at = to; at !== from; at = via.get(at)!.held.key) edges.unshift(via.get(at)!);
          return edges;
        }
        queue.push(next);
      }
    }
    return undefined;
  }

  clear(): void {
    this.edges.clear();
    this.reported.clear();
  }
}
