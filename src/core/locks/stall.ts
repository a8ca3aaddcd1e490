import type { StallCheck, StallLook } from '../stall-clock';
import type { LockTable } from './state';

export interface StallHost {
  /** Whether anything besides locks could still wake a waiter: `true` never lets a stall fail. */
  somethingElsePending(): boolean;
  /** Runs a full garbage collection, so dropped release functions are found while stalled. */
  collectGarbage?(): void;
}

/**
 * The graph's stall-detection job, as one check of the file's stall clock: every flow waits on a
 * lock and nothing else is pending that could release one, a hang no cycle explains (a holder
 * awaiting a promise nobody resolves). The lock table's version tells whether anything happened
 * since the last look.
 */
export class LockStallCheck implements StallCheck {
  readonly #state: LockTable;
  readonly #host: StallHost;
  readonly #onStall: (onlyByLocks: boolean) => boolean;
  #checkedVersion = -1;
  #collectedAtVersion = -1;

  constructor(state: LockTable, host: StallHost, onStall: (onlyByLocks: boolean) => boolean) {
    this.#state = state;
    this.#host = host;
    this.#onStall = onStall;
  }

  watching(): boolean {
    return this.#state.unboundedWaits().length > 0;
  }

  look(): StallLook {
    const version = this.#state.version;
    const progressed = version !== this.#checkedVersion;
    this.#checkedVersion = version;
    if (!progressed && this.#collectedAtVersion !== version && this.#host.collectGarbage) {
      // Stalled: once per stall, let dropped release functions be found (their finalizers run next).
      this.#collectedAtVersion = version;
      this.#host.collectGarbage();
    }
    return progressed || this.#host.somethingElsePending() ? 'moving' : 'still';
  }

  /**
   * Sure when the locks explain the stall (a cycle, a self-deadlock, an abandoned lock); as a
   * last resort (nothing else acted: no idle test to fail) every wait fails, blocked.
   */
  act(confidence: 'sure' | 'last-resort'): boolean {
    return this.#onStall(confidence === 'sure');
  }
}
