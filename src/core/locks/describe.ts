import type {
  CreationSite,
  Deadlock,
  FlowRef,
  LockHold,
  LockOrderInversion,
  LockState,
  LockWait,
  OwnerRef,
} from '../model';
import { framesOf, toCreationSite, type LazyStack } from '../stack';
import type { Chain } from './analysis';
import type { Flow } from './flows';
import type { Inversion, OrderEdge } from './lock-order';
import type { Holding, Lock, Wait } from './types';
import { realNow } from '../real-timers';

/** Turns the graph's live objects into the report model (plain data). */
export class LockDescriber {
  private readonly sites = new WeakMap<LazyStack, CreationSite | null>();
  private readonly nameClaims = new Map<string, number>();
  private readonly classes = new WeakMap<Lock, string>();

  constructor(private readonly describeOwner: (owner: unknown) => OwnerRef | undefined) {}

  site(stack: LazyStack | undefined): CreationSite | undefined {
    if (!stack) return undefined;
    let site = this.sites.get(stack);
    if (site === undefined) {
      site = toCreationSite(framesOf(stack)) ?? null;
      this.sites.set(stack, site);
    }
    return site ?? undefined;
  }

  /** The name a report uses: the user's, else the variable the lock was assigned to, else kind and id. */
  lockName(lock: Lock): string {
    if (lock.name) return lock.name;
    const line = this.site(lock.site)?.sourceLine;
    const assigned = line ? /([\w$.]+)\s*=\s*(?:new\b|\w+\()/.exec(line)?.[1] : undefined;
    const kind =
      lock.kind === 'mutex'
        ? 'Mutex'
        : lock.kind === 'semaphore'
          ? 'Semaphore'
          : lock.kind === 'rwlock'
            ? 'RWLock'
            : 'Event';
    if (!assigned) return `${kind}#${lock.id}`;
    // Instances made by one line (one per account) share the variable's name: ids tell them apart.
    const base = assigned.replace(/^this\./, '');
    // `this.lock = new Mutex()` makes one lock per object: always tell them apart.
    if (base !== assigned) return `${base}#${lock.id}`;
    const claimedBy = this.nameClaims.get(base);
    if (claimedBy === undefined) this.nameClaims.set(base, lock.id);
    return claimedBy === undefined || claimedBy === lock.id ? base : `${base}#${lock.id}`;
  }

  /** The key lock-order checks group locks by: a name, else the construction site. */
  lockClass(lock: Lock): string {
    // A name can come after construction (`nameLock`): only site keys are cached.
    if (lock.name) return `name:${lock.name}`;
    let key = this.classes.get(lock);
    if (key === undefined) {
      const top = this.site(lock.site)?.top;
      key = top ? `site:${top.file}:${top.line}:${top.column}` : `lock:${lock.id}`;
      this.classes.set(lock, key);
    }
    return key;
  }

  flow(flow: Flow): FlowRef {
    // A bare flow's continuation is the same chain of work to the reader: name it as its parent.
    while (flow.continues && flow.parent?.kind === 'bare') flow = flow.parent;
    const owner = this.describeOwner(flow.owner);
    const name =
      flow.kind === 'task'
        ? `task "${flow.name ?? flow.id}"`
        : flow.kind === 'scope'
          ? `runExclusive flow #${flow.id}`
          : flow.kind === 'unit'
            ? owner
              ? `${owner.kind === 'test' ? 'test' : owner.kind} "${owner.name}"`
              : `flow #${flow.id}`
            : `flow #${flow.id}`;
    return {
      id: flow.id,
      name,
      ...(owner ? { owner } : {}),
      ...(flow.endedAt ? { endedAt: flow.endedAt } : {}),
    };
  }

  /** A holding's site: its own, else (marked `siteSampled`) its lock's last recorded one. */
  holdSite(holding: Holding): { site?: CreationSite; siteSampled?: boolean } {
    const own = this.site(holding.site);
    if (own) return { site: own };
    const last = this.site(holding.lock.lastSite);
    return last ? { site: last, siteSampled: true } : {};
  }

  hold(holding: Holding, now = realNow()): LockHold {
    return {
      flow: this.flow(holding.flow),
      weight: holding.weight,
      ...this.holdSite(holding),
      ...(holding.releaseDropped ? { releaseDropped: true } : {}),
      heldMs: Math.round(now - holding.since),
    };
  }

  wait(wait: Wait, now = realNow()): LockWait {
    const site = this.site(wait.site);
    return {
      flow: this.flow(wait.flow),
      mode: wait.mode,
      weight: wait.weight,
      ...(site ? { site } : {}),
      waitingMs: Math.round(now - wait.since),
    };
  }

  lock(lock: Lock): LockState {
    const now = realNow();
    const site = this.site(lock.site);
    return {
      id: lock.id,
      name: this.lockName(lock),
      kind: lock.kind,
      capacity: lock.capacity,
      ...(site ? { site } : {}),
      holders: [...lock.holdings].map((holding) => this.hold(holding, now)),
      waiters: [...lock.waits].map((wait) => this.wait(wait, now)),
    };
  }

  deadlock(chain: Chain, heldBy: (flow: Flow) => Holding[]): Deadlock {
    return {
      kind: chain.kind,
      steps: chain.waits.map((wait) => {
        const waitSite = this.site(wait.site);
        return {
          flow: this.flow(wait.flow),
          // An abandoned holding is told once, as the holder; not again as a leaked ancestor's.
          holds: heldBy(wait.flow)
            .filter((holding) => chain.kind !== 'abandoned' || !chain.holders.includes(holding))
            .map((holding) => ({
              lock: this.lockName(holding.lock),
              ...this.holdSite(holding),
            })),
          waitsFor: {
            lock: this.lockName(wait.lock),
            kind: wait.lock.kind,
            mode: wait.mode,
            ...(waitSite ? { site: waitSite } : {}),
          },
        };
      }),
      holders: chain.holders.map((holding) => ({
        lock: this.lockName(holding.lock),
        hold: this.hold(holding),
      })),
    };
  }

  inversion(inversion: Inversion<LazyStack>): LockOrderInversion {
    return inversionModel(inversion, (site) => this.site(site));
  }

  /** A lock order as plain data, for the run's reporter to compare across processes. */
  orderEdge(edge: OrderEdge<LazyStack>): OrderEdge<CreationSite> {
    const acquisition = (which: OrderEdge<LazyStack>['held']) => {
      const site = this.site(which.site);
      return { key: which.key, name: which.name, ...(site ? { site } : {}) };
    };
    return { held: acquisition(edge.held), taken: acquisition(edge.taken), flow: edge.flow };
  }
}

/** An inversion in the report model, whatever form its sites were kept in. */
export function inversionModel<S>(
  inversion: Inversion<S>,
  site: (kept: S | undefined) => CreationSite | undefined,
): LockOrderInversion {
  const edge = (which: OrderEdge<S>) => {
    const heldSite = site(which.held.site);
    const takenSite = site(which.taken.site);
    return {
      ...(heldSite ? { heldSite } : {}),
      ...(takenSite ? { takenSite } : {}),
      flow: which.flow,
    };
  };
  return {
    first: inversion.forward.held.name,
    second: inversion.forward.taken.name,
    forward: edge(inversion.forward),
    backward: edge(inversion.backward),
  };
}
