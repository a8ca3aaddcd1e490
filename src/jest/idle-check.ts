import type { StallCheck, StallClock, StallLook } from '../core/stall-clock';
import type { UnitEvent } from './lifecycle';
import { hasDeadline, type Unit } from './units';

export interface IdleCheckHost {
  /** The units running now. */
  running(): Iterable<Unit>;
  /** Whether a resource left in the process (a timer, socket, request, child) could wake them. */
  somethingElsePending(): boolean;
  /** Whether a fake timer is pending: only the test's own clock can fire it, so no verdict. */
  fakeTimerPending(): boolean;
  /** Fail this unit now: nothing can ever settle it. */
  fail(unit: Unit): void;
}

/**
 * The idle check, as one check of the file's stall clock: while a test or hook with a timeout
 * runs, whether anything in the process could still settle it. When the clock finds nothing
 * could (and no lock cycle explains it better: the lock check acts first when one does), every
 * running unit fails at once instead of waiting out its timeout.
 */
export class IdleCheck implements StallCheck {
  constructor(
    private readonly host: IdleCheckHost,
    private readonly clock: StallClock,
  ) {}

  onUnitEvent(event: UnitEvent): void {
    // A unit without a timeout may wait for ever on purpose.
    if (event.name === 'unit_started' && hasDeadline(event.unit)) this.clock.arm();
  }

  watching(): boolean {
    for (const unit of this.host.running()) if (hasDeadline(unit)) return true;
    return false;
  }

  look(): StallLook {
    if (this.abortable().length === 0) return 'no-say';
    if (this.host.somethingElsePending()) return 'moving';
    return this.host.fakeTimerPending() ? 'no-say' : 'still';
  }

  /** Always sure: its report lists the locks too, when they do not explain the wait. */
  act(): boolean {
    const abortable = this.abortable();
    for (const unit of abortable) this.host.fail(unit);
    return abortable.length > 0;
  }

  private abortable(): Unit[] {
    return [...this.host.running()].filter((unit) => unit.abort);
  }
}
