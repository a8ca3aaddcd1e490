import { collectGarbage } from '../core/collect-garbage';
import { LockOrderError } from '../core/locks/errors';
import { LockGraph, type LockGraphHost } from '../core/locks/graph';
import type { StallClock } from '../core/stall-clock';
import { publishLockGraph } from '../core/locks/registry';
import type { HangFinding, LockOrderInversion, OwnerRef } from '../core/model';
import { REPORT_SCHEMA_VERSION } from '../core/model';
import { publishFinding, publishLockOrder } from './findings-channel';
import type { Lifecycle, UnitEvent } from './lifecycle';
import { noteOnce, warn } from './notices';
import type { HangwatchOptions } from './options';
import { lockWords } from './report-code';

export interface LockSessionContext {
  /** The file's stall clock, which the graph's stall check shares with the idle check. */
  stallClock: StallClock;
  rootDir: string;
  /** The test file's global: where hangwatch/sync and the async-mutex adapter find the graph. */
  global: object;
  lockOrder: HangwatchOptions['lockOrder'];
  lockSites: HangwatchOptions['lockSites'];
  /** Real timers the resource tracker does not record (the session's own). */
  timers: Pick<LockGraphHost, 'setTimer' | 'clearTimer'>;
  /** Whether a timer, socket, request or child could still wake a lock waiter. */
  somethingElsePending(): boolean;
  describeOwner(owner: unknown): OwnerRef | undefined;
  testPath: string;
}

/** Lock-order pairs already printed by this worker: `warn` prints each pair once per run. */
const warnedPairs = new Set<string>();

/**
 * The session's side of lock tracking, in one place: publishes the file's lock graph, ends a
 * unit's flows when it finishes, adds locks to hang reports and applies the lockOrder option.
 */
export class LockSession {
  readonly graph: LockGraph;

  constructor(
    private readonly lifecycle: Lifecycle,
    private readonly context: LockSessionContext,
  ) {
    this.graph = new LockGraph(
      {
        rootDir: context.rootDir,
        setTimer: context.timers.setTimer,
        clearTimer: context.timers.clearTimer,
        somethingElsePending: () => context.somethingElsePending(),
        collectGarbage: () => void collectGarbage(),
        stallClock: context.stallClock,
        describeOwner: (owner) => context.describeOwner(owner),
        onInversion: (inversion, owner) => this.onInversion(inversion, owner),
        onNewOrder: (edge, owner) =>
          publishLockOrder({ edge, testName: this.testNameOf(owner), testPath: context.testPath }),
        onDeadlock: (deadlock, owner) =>
          publishFinding({
            schemaVersion: REPORT_SCHEMA_VERSION,
            kind: 'deadlock',
            testName: this.testNameOf(owner),
            testPath: context.testPath,
            deadlock,
          }),
      },
      undefined,
      { lockOrder: context.lockOrder, lockSites: context.lockSites },
    );
    publishLockGraph(context.global, this.graph, context.rootDir, noteOnce);
  }

  onUnitEvent(event: UnitEvent): void {
    if (event.name !== 'unit_ended') return;
    const { unit } = event;
    // What its flows still hold can never be released now.
    this.graph.endOwner(
      unit,
      `the end of ${unit.kind === 'test' ? 'test' : unit.kind} "${unit.name}"`,
    );
    // Inversions that closed after its function returned (in a callback it left).
    const errors = unit.failOnReturn ?? [];
    unit.failOnReturn = undefined;
    for (const error of errors) {
      if (unit.test) this.lifecycle.recordFailure(unit, error);
      else warn(error.message);
    }
  }

  /** The locks' holders and waiters as they are now, for a hang report. */
  snapshot(): HangFinding['locks'] {
    return this.graph.snapshot() ?? undefined;
  }

  stop(): void {
    this.graph.dispose();
  }

  private testNameOf(owner: unknown): string {
    const ref = this.context.describeOwner(owner);
    return ref?.testName ?? ref?.name ?? '';
  }

  private onInversion(inversion: LockOrderInversion, owner: unknown): void {
    const text = lockWords().renderInversion(inversion, { rootDir: this.context.rootDir });
    const severity = this.context.lockOrder === 'error' ? 'error' : 'warning';
    const pairKey = [inversion.first, inversion.second].sort().join('\u0000');
    if (severity === 'error' || !warnedPairs.has(pairKey)) {
      publishFinding({
        schemaVersion: REPORT_SCHEMA_VERSION,
        kind: 'lock-order',
        testName: this.testNameOf(owner),
        testPath: this.context.testPath,
        severity,
        inversion,
      });
    }
    if (this.context.lockOrder === 'error') {
      // Thrown by the unit's function when it returns (see `wrapUnitFunction`), so a hook fails
      // like any failing hook; recorded at its end if it has returned already.
      const unit = this.lifecycle.ownerOf(owner);
      const closing = inversion.backward.takenSite?.frames ?? [];
      const error = new LockOrderError(
        text,
        closing.filter((frame) => frame.origin === 'user'),
      );
      if (unit) (unit.failOnReturn ??= []).push(error);
      return;
    }
    if (warnedPairs.has(pairKey)) return;
    warnedPairs.add(pairKey);
    warn(text);
  }
}
