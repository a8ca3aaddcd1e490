import type { Deadlock } from '../model';
import { analyse, explain, narrow, type Chain, type LinkMode } from './analysis';
import type { LockDescriber } from './describe';
import { renderDeadlock } from '../render/locks';
import type { LockTable } from './state';
import type { Wait } from './types';

export interface DeadlockHost {
  rootDir: string;
  setTimer(fn: () => void, ms: number): { unref?(): void };
  /** Whether anything besides locks could still wake a waiter. */
  somethingElsePending(): boolean;
  /** A deadlock was found and its waiters are being failed (reported once per deadlock). */
  onDeadlock?(deadlock: Deadlock, owner: unknown): void;
}

/**
 * The graph's cycle-analysis job: decides, with the wait-for analysis (`analysis`), when waits
 * can never end, and fails them with the deadlock described as data and rendered as text.
 */
export class DeadlockDetector {
  readonly #state: LockTable;
  readonly #describer: LockDescriber;
  readonly #host: DeadlockHost;

  constructor(state: LockTable, describer: LockDescriber, host: DeadlockHost) {
    this.#state = state;
    this.#describer = describer;
    this.#host = host;
  }

  /**
   * Fails a new wait at once when it can never end; one analysis, counting every link, clears
   * the common case (a holder that can move). A flow waiting for a lock its own bare ancestor
   * holds (`await m.acquire()` again, in a helper or the same function) is most likely a
   * self-deadlock, but may be a fire-and-forget child the holder releases for a moment later:
   * that case, and any wait that only every link counting would block, is decided by `checkSoon`.
   */
  onNewWait(wait: Wait): void {
    const all = analyse(this.#state.active, 'all');
    if (!all.blocked.has(wait)) return;
    const likely = narrow(all, 'likely');
    if (likely.blocked.has(wait)) {
      const chain = explain(wait, likely);
      if (chain.kind !== 'self' || narrow(likely, 'strict').blocked.has(wait)) {
        this.#fail([wait], chain);
        return;
      }
    }
    this.#checkSoon(wait);
  }

  /** Fails each of `candidates` that the analysis in `mode` finds blocked. */
  failIfDeadlocked(candidates: Wait[], mode: LinkMode = 'likely'): void {
    if (candidates.length === 0) return;
    const analysis = analyse(this.#state.active, mode);
    for (const wait of candidates) {
      if (!analysis.blocked.has(wait)) continue;
      this.#fail([wait], explain(wait, analysis));
    }
  }

  /**
   * Nothing else can run: every unbounded wait fails now, explained by the wait-for graph, with
   * every parent taken to await its children. `onlyByLocks`: only when the locks themselves
   * explain it (a self-deadlock, a cycle, an abandoned lock), not a holder stuck on something
   * else. Returns whether the waits were failed.
   */
  failStalled(onlyByLocks: boolean): boolean {
    const waits = this.#state.unboundedWaits();
    if (waits.length === 0) return false;
    const analysis = analyse(this.#state.active, 'all');
    const explained = analysis.blocked.has(waits[0]) ? explain(waits[0], analysis) : undefined;
    if (onlyByLocks && (!explained || explained.kind === 'blocked')) return false;
    const chain: Chain =
      explained && explained.kind !== 'blocked'
        ? explained
        : { kind: 'blocked', waits, holders: this.#state.allHoldings() };
    this.#fail(waits, chain);
    return true;
  }

  /** The deadlock a hang report shows, if any wait is in one. */
  current(): Deadlock | undefined {
    const analysis = analyse(this.#state.active);
    const first = analysis.blocked.values().next().value;
    return first ? this.#describe(explain(first, analysis)) : undefined;
  }

  #describe(chain: Chain): Deadlock {
    return this.#describer.deadlock(chain, (flow) => this.#state.heldBy(flow));
  }

  /** Fails `waits` (each told the same deadlock); `chain` explains it. */
  #fail(waits: Wait[], chain: Chain): void {
    const deadlock = this.#describe(chain);
    for (const wait of waits) this.#state.removeWait(wait);
    const message = renderDeadlock(deadlock, { rootDir: this.#host.rootDir });
    this.#host.onDeadlock?.(deadlock, waits[0]?.flow.owner);
    for (const wait of waits) wait.onDeadlock({ deadlock, message });
  }

  /**
   * Once the work running now has run (a holder may release right after starting a child), a
   * wait that is still blocked while nothing else is pending that could move a holder fails.
   */
  #checkSoon(wait: Wait): void {
    const timer = this.#host.setTimer(() => {
      if (!wait.lock.waits.has(wait) || this.#host.somethingElsePending()) return;
      this.failIfDeadlocked([wait], 'all');
    }, 0);
    timer.unref?.();
  }
}
