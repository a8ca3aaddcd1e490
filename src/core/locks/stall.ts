import type { LockTable } from './state';

/** How often the stall check looks, and how many looks in a row must see no progress. */
const STALL_CHECK_MS = 40;
const STALLED_CHECKS_TO_FAIL = 2;

export interface StallHost {
  setTimer(fn: () => void, ms: number): { unref?(): void };
  clearTimer(timer: unknown): void;
  /** Whether anything besides locks could still wake a waiter: `true` never lets a stall fail. */
  somethingElsePending(): boolean;
  /** Runs a full garbage collection, so dropped release functions are found while stalled. */
  collectGarbage?(): void;
}

/**
 * The graph's stall-detection job: every flow waits on a lock and nothing else is pending that
 * could release one, a hang no cycle explains (a holder awaiting a promise nobody resolves).
 * Looks every 40 ms while anyone waits; two looks in a row without progress call `onStall`.
 */
export class StallWatch {
  readonly #state: LockTable;
  readonly #host: StallHost;
  readonly #onStall: () => void;
  #timer: unknown;
  #strikes = 0;
  #checkedVersion = -1;
  #collectedAtVersion = -1;

  constructor(state: LockTable, host: StallHost, onStall: () => void) {
    this.#state = state;
    this.#host = host;
    this.#onStall = onStall;
  }

  /** A wait began: look until nobody waits. */
  arm(): void {
    if (this.#timer !== undefined) return;
    const timer = this.#host.setTimer(() => {
      this.#timer = undefined;
      this.#check();
    }, STALL_CHECK_MS);
    timer.unref?.();
    this.#timer = timer;
  }

  dispose(): void {
    if (this.#timer !== undefined) this.#host.clearTimer(this.#timer);
    this.#timer = undefined;
  }

  #check(): void {
    if (this.#state.unboundedWaits().length === 0) {
      this.#strikes = 0;
      return;
    }
    const version = this.#state.version;
    const progressed = version !== this.#checkedVersion;
    this.#checkedVersion = version;
    if (!progressed && this.#collectedAtVersion !== version && this.#host.collectGarbage) {
      // Stalled: once per stall, let dropped release functions be found (their finalizers run next).
      this.#collectedAtVersion = version;
      this.#host.collectGarbage();
    }
    if (progressed || this.#host.somethingElsePending()) this.#strikes = 0;
    else this.#strikes++;
    if (this.#strikes >= STALLED_CHECKS_TO_FAIL) {
      this.#strikes = 0;
      this.#onStall();
      return;
    }
    this.arm();
  }
}
