/**
 * One clock for every "can anything still move?" question of a test file: the lock graph's
 * (every flow waits on a lock, nothing else could release one) and the idle check's (a running
 * test waits on nothing that could ever wake it). It looks every 50 ms while any check has
 * something to watch; a look is still when a check says so and none saw movement, and two still
 * looks in a row let the checks act: one that can explain the stall first, in the order they
 * were added, then the others.
 */

/** What a check saw at one look. */
export type StallLook =
  /** Something it watches moved, or something could still move it: no stall. */
  | 'moving'
  /** Nothing it watches can move. */
  | 'still'
  /** It has no opinion this time (it waits on the user's fake clock, say). */
  | 'no-say';

export interface StallCheck {
  /** Whether it has anything to watch now: the clock runs while any check has. */
  watching(): boolean;
  look(): StallLook;
  /**
   * The stall lasted: act on it, and say whether it did (the checks after it are then left
   * alone). Every check is asked `sure` first (act only if it can explain the stall: a lock
   * cycle), then, if none did, `last-resort` (act on what it sees anyway).
   */
  act(confidence: 'sure' | 'last-resort'): boolean;
}

export interface StallTimers {
  /** Real timers that fake timers cannot freeze and that hangwatch does not count as the test's. */
  setTimer(fn: () => void, ms: number): { unref?(): void };
  clearTimer(timer: unknown): void;
}

export const STALL_LOOK_EVERY_MS = 50;
export const STILL_LOOKS_TO_ACT = 2;

export class StallClock {
  readonly #checks: StallCheck[] = [];
  readonly #timers: StallTimers;
  /** Runs each look; the Jest session's guard turns an internal error into plain Jest. */
  readonly #run: (look: () => void) => void;
  #timer: unknown;
  #stillLooks = 0;

  constructor(timers: StallTimers, run: (look: () => void) => void = (look) => look()) {
    this.#timers = timers;
    this.#run = run;
  }

  /** Checks act in the order they were added: the one whose report explains more goes first. */
  add(check: StallCheck): void {
    this.#checks.push(check);
  }

  /** Something to watch began (a wait, a test): look until nothing is left to watch. */
  arm(): void {
    if (this.#timer !== undefined) return;
    const timer = this.#timers.setTimer(() => {
      this.#timer = undefined;
      this.#run(() => this.#look());
    }, STALL_LOOK_EVERY_MS);
    timer.unref?.();
    this.#timer = timer;
  }

  dispose(): void {
    if (this.#timer !== undefined) this.#timers.clearTimer(this.#timer);
    this.#timer = undefined;
  }

  #look(): void {
    const watching = this.#checks.filter((check) => check.watching());
    if (watching.length === 0) {
      this.#stillLooks = 0;
      return;
    }
    // Every check looks every time: a check notes what it saw (a version, a collection) as it looks.
    const looks = watching.map((check) => check.look());
    const still = looks.includes('still') && !looks.includes('moving');
    this.#stillLooks = still ? this.#stillLooks + 1 : 0;
    if (this.#stillLooks >= STILL_LOOKS_TO_ACT) {
      this.#stillLooks = 0;
      const acted = watching.some((check) => check.act('sure'));
      if (!acted) watching.some((check) => check.act('last-resort'));
    }
    this.arm();
  }
}
