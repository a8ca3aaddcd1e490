import { isAncestorOrSelf } from './flows';
import type { Flow, Holding, Lock, Wait } from './types';

/**
 * Deadlock analysis on the wait-for graph, as a fixpoint: start from the flows that can surely
 * move (not waiting, not ended, not awaiting a waiting child), then free every wait whose lock
 * those flows could release enough of; repeat. The waits left are deadlocked. One rule covers
 * self-deadlock, cycles of any length, semaphore pools drained by blocked flows and locks held
 * by flows that ended.
 */
export interface Analysis {
  readonly mode: LinkMode;
  blocked: Set<Wait>;
  /** Whether `flow` can still release what it holds. */
  canMove(flow: Flow): boolean;
}

/** Waits that can end without any holder's help are left out: timeouts, events. */
function counts(wait: Wait): boolean {
  return !wait.bounded && wait.mode !== 'event';
}

/**
 * Which parent links count: a parent that cannot release while its child waits. A `runExclusive`
 * or `task` scope is such a parent (it releases only when its callback ends); a bare acquire's
 * flow may go on and release before awaiting its child, or never await it:
 *
 * - `strict`: only scope and task links;
 * - `likely` (the default): also a bare flow's continuation (see `flows`), the code after its own
 *   `await` as far as anyone can tell;
 * - `all`: every link, for when nothing else is pending and nobody can go on anyway.
 */
export type LinkMode = 'strict' | 'likely' | 'all';

function linkHolds(child: Flow, parent: Flow, mode: LinkMode): boolean {
  if (parent.kind !== 'bare' || mode === 'all') return true;
  return mode === 'likely' && child.continues === true;
}

export function analyse(locks: Iterable<Lock>, mode: LinkMode = 'likely'): Analysis {
  const blocked = new Set<Wait>();
  for (const lock of locks) for (const wait of lock.waits) if (counts(wait)) blocked.add(wait);
  return settle(blocked, mode);
}

/**
 * The same analysis in a mode that counts fewer links, from one that counts more: a wait blocked
 * with fewer links is blocked with more, so only the waits `wider` left blocked are looked at
 * again. A wait free in `all` mode needs no other (the common case: one pass per wait).
 */
export function narrow(wider: Analysis, mode: LinkMode): Analysis {
  return mode === wider.mode ? wider : settle(new Set(wider.blocked), mode);
}

/** Frees, until nothing changes, every wait in `blocked` whose lock flows that can move would free. */
function settle(blocked: Set<Wait>, mode: LinkMode): Analysis {
  const stuckFlows = () => {
    const stuck = new Set<Flow>();
    for (const wait of blocked) {
      stuck.add(wait.flow);
      for (let child = wait.flow, at = child.parent; at; child = at, at = at.parent) {
        if (!linkHolds(child, at, mode)) break;
        stuck.add(at);
      }
    }
    return stuck;
  };
  let stuck = stuckFlows();
  const canMove = (flow: Flow) => flow.endedAt === undefined && !stuck.has(flow);
  let changed = blocked.size > 0;
  while (changed) {
    changed = false;
    for (const wait of blocked) {
      if (releasable(wait.lock, canMove) >= wait.weight) {
        blocked.delete(wait);
        changed = true;
      }
    }
    if (changed) stuck = stuckFlows();
  }
  return { mode, blocked, canMove };
}

/** Its release function is gone and nothing else can release it. */
function isDropped(holding: Holding): boolean {
  return holding.releaseDropped === true && holding.lock.releasableWithoutHandle !== true;
}

/** Permits free now plus those held by flows that can still release them. */
function releasable(lock: Lock, canMove: (flow: Flow) => boolean): number {
  let stuckWeight = 0;
  for (const holding of lock.holdings) {
    if (isDropped(holding) || !canMove(holding.flow)) stuckWeight += holding.weight;
  }
  return lock.capacity - stuckWeight;
}

export interface Chain {
  kind: 'self' | 'cycle' | 'abandoned' | 'blocked';
  /** Each blocked wait along the chain, starting at the one analysed. */
  waits: Wait[];
  /** Holders that block the chain without waiting themselves (ended, or awaiting a child). */
  holders: Holding[];
}

/**
 * Follows a deadlocked wait to what keeps it blocked: the flow itself (self-deadlock), a flow
 * that ended or dropped its release function (abandoned), or other waiting flows until one
 * repeats (a cycle).
 */
export function explain(start: Wait, analysis: Analysis): Chain {
  const waits: Wait[] = [start];
  const seen = new Map<Flow, number>([[start.flow, 0]]);
  let wait = start;
  for (let step = 0; step < 64; step++) {
    const holders = [...wait.lock.holdings].filter(
      (holding) => isDropped(holding) || !analysis.canMove(holding.flow),
    );
    // Checked first: a holder that ended or dropped its release explains a wait better than the
    // flow it leaked into. An ended one says where it ended, so it comes first.
    const ended =
      holders.find((holding) => holding.flow.endedAt !== undefined) ?? holders.find(isDropped);
    if (ended) return { kind: 'abandoned', waits, holders: [ended] };
    const own = holders.find((holding) => isAncestorOrSelf(holding.flow, wait.flow));
    if (own) {
      return waits.length === 1
        ? { kind: 'self', waits, holders: [own] }
        : { kind: 'cycle', waits, holders: [own] };
    }
    const next = nextWait(holders, analysis);
    if (!next) return { kind: 'blocked', waits, holders };
    const at = seen.get(next.flow);
    if (at !== undefined) return { kind: 'cycle', waits: waits.slice(at), holders: [] };
    seen.set(next.flow, waits.length);
    waits.push(next);
    wait = next;
  }
  return { kind: 'blocked', waits, holders: [] };
}

/** The blocked wait that keeps one of these holders from releasing: its own, or a child's it awaits. */
function nextWait(holders: Holding[], analysis: Analysis): Wait | undefined {
  for (const holding of holders) {
    for (const wait of analysis.blocked) {
      if (isAncestorOrSelf(holding.flow, wait.flow)) return wait;
    }
  }
  return undefined;
}
