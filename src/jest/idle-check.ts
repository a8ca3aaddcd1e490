import { clearInterval as realClearInterval, setInterval as realSetInterval } from 'node:timers';
import type { UnitEvent } from './lifecycle';
import { hasDeadline, type Unit } from './units';

/** How often the check looks, and how many looks in a row must find nothing to wake. */
const CHECK_INTERVAL_MS = 50;
const CHECKS_TO_FAIL = 2;

export interface IdleCheckHost {
  /** The units running now. */
  running(): Iterable<Unit>;
  /** Whether anything left in the process (a resource, a pending fake timer) could wake them. */
  anythingCouldWake(): boolean;
  /** Fail this unit now: nothing can ever settle it. */
  fail(unit: Unit): void;
  /**
   * Fail every lock wait now if the locks explain the idleness (true): their DeadlockErrors say
   * it better, so the units are left to them; one still idle after that fails at a later look.
   */
  failLockWaits(): boolean;
  /** Runs hangwatch's own work: unrecorded by the tracker, degrading on an internal error. */
  untracked<T>(fn: () => T): T;
  guard(action: () => void): void;
}

/**
 * While any test or hook runs, looks every 50 ms whether anything in the process could still
 * settle it; when two looks in a row find nothing, fails every running unit at once instead of
 * letting each wait out its timeout. Unref'd, on real timers: it never keeps the process alive,
 * and fake timers cannot stop it.
 */
export class IdleCheck {
  private timer: NodeJS.Timeout | undefined;
  private strikes = 0;

  constructor(private readonly host: IdleCheckHost) {}

  onUnitEvent(event: UnitEvent): void {
    // A unit without a timeout may wait for ever on purpose.
    if (event.name === 'unit_started' && hasDeadline(event.unit)) this.start();
  }

  start(): void {
    if (this.timer) return;
    this.strikes = 0;
    this.timer = this.host.untracked(() =>
      realSetInterval(() => this.host.guard(() => this.look()), CHECK_INTERVAL_MS),
    );
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) realClearInterval(this.timer);
    this.timer = undefined;
  }

  private look(): void {
    const running = [...this.host.running()];
    if (running.length === 0) return this.stop();
    const abortable = running.filter((unit) => unit.abort);
    const wakeable = abortable.length === 0 || this.host.anythingCouldWake();
    this.strikes = wakeable ? 0 : this.strikes + 1;
    if (this.strikes < CHECKS_TO_FAIL) return;
    this.strikes = 0;
    if (this.host.failLockWaits()) return;
    for (const unit of abortable) this.host.fail(unit);
  }
}
