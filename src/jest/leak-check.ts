import { realNow, realSetImmediate, realSetTimeout } from '../core/real-timers';
import type { Circus } from '@jest/types';
import { LeakError } from '../core/hang-error';
import { couldStillClose, loopClockOf } from '../core/closing-grace';
import { keptAliveIfChanged, rememberKeptAlive } from '../core/kept-alive';
import {
  buildLeakFinding,
  capHeldOpen,
  describeHeldOpen,
  findLeaks,
  isDueSoon,
  keepsProcessAlive,
  openKeepAliveRecords,
} from '../core/leaks';
import type { OwnerRef, PendingResource } from '../core/model';
import { lateCloseText } from '../core/render/late-close';
import { LOOP_MIN_TIMERS, type ResourceRecord, type ResourceTracker } from '../core/tracker';
import { processName, publishFinding, publishKeptAlive } from './findings-channel';
import type { Lifecycle, UnitEvent } from './lifecycle';
import { consoleNotice } from './notices';
import type { HangwatchOptions } from './options';
import { renderText } from './report-code';
import { fullTestName, ownerRef, type Unit } from './units';

export interface LeakCheckContext {
  testPath: string;
  rootDir: string;
  options: Pick<HangwatchOptions, 'leaks' | 'maxListed'>;
  /** `leakNotes`: also say what a test left open that closed on its own later. */
  verbose: boolean;
  /** The test file's console: warnings appear under the file, as Jest shows console output. */
  console: Pick<Console, 'warn' | 'info'>;
  /** Tests whose open resources are already in a hang report. */
  alreadyReported(test: Circus.TestEntry): boolean;
  /** Units that hung (timed out or failed as idle): a hook's open resources are in its report. */
  hung?(unit: Unit): boolean;
  /** The unit whose timeout left `resource` running, when not its creator (see the session). */
  timedOutUnitFor?(creator: Unit, resource: object): Unit | undefined;
  /** Where that hang report placed a resource it listed, if it did. */
  siteAsReported?(
    resource: object,
    owner: PendingResource['owner'],
  ): Pick<PendingResource, 'site' | 'madeBy'> | undefined;
  untracked<T>(fn: () => T): T;
  guard(action: () => void): void;
  /** What Jest closes itself when the file ends (its fake clock's ticker): never a leak. */
  closedByJest?(): object | undefined;
}

/**
 * Longest wait at the end of a file for resources that are still closing (a request whose
 * library closes its server once the response is in, a socket's close callback): only spent
 * when something is still open, and only until it closes.
 */
export const CLOSE_GRACE_MS = 100;

const POLL_MS = 10;
/** Quiet waits in a row that end the grace early (20 ms of a loop with nothing to do). */
const QUIET_POLLS = 2;

/** A test that ended with something open: kept to tell a leak from a late close. */
interface Suspect {
  test: Circus.TestEntry;
  endedAt: number;
  open: number;
  /** When each of its open resources closed, as they do. */
  closedAt: number[];
  /** Described at the test's end, only under `verbose` (for the note). */
  described?: PendingResource[];
}

/** Whose resources a live record counts as: a test (with its each-hooks) or the file. */
type LeakOwner = Circus.TestEntry | 'file';

function leakOwnerOf(unit: Unit): LeakOwner {
  return (unit.kind === 'test' || unit.kind === 'beforeEach' || unit.kind === 'afterEach') &&
    unit.test
    ? unit.test
    : 'file';
}

/**
 * Leaks are what is still open when it matters. A test that ends with something open is only a
 * suspect; at the end of its file (after afterAll, and after the loop had a fair chance to run
 * close callbacks) whatever of the file's resources still keeps the process alive is a leak,
 * named on the test (or the file) that created it. What closed on its own in between is not
 * (a `verbose` note says so). Confirmed leaks are remembered for the run's end: they are what
 * keeps a worker or Jest itself from exiting.
 */
export class LeakWatch {
  private readonly suspects = new Map<Circus.TestEntry, Suspect>();

  constructor(
    private readonly tracker: ResourceTracker<Unit>,
    private readonly lifecycle: Lifecycle,
    private readonly context: LeakCheckContext,
  ) {}

  /** Returns a promise at the end of the file, where circus waits for the leaks' verdict. */
  onUnitEvent(event: UnitEvent): Promise<void> | undefined {
    // A hung test's open resources are already in its report.
    if (event.name === 'test_done' && !this.context.alreadyReported(event.test)) {
      this.testDone(event.test);
    }
    return event.name === 'file_done' ? this.fileDone() : undefined;
  }

  /** After a test and its afterEach hooks: one pass over live records, nothing formatted. */
  testDone(test: Circus.TestEntry): void {
    const owns = (unit: Unit | undefined) => unit !== undefined && unit.test === test;
    const closedByJest = this.closedByJest();
    const records = openKeepAliveRecords(this.tracker, owns, closedByJest);
    if (records.length === 0) return;
    const suspect: Suspect = {
      test,
      endedAt: realNow(),
      open: records.length,
      closedAt: [],
    };
    for (const record of records) {
      this.tracker.onClose(record.asyncId, (closedAt) => suspect.closedAt.push(closedAt));
    }
    if (this.context.verbose) {
      suspect.described = findLeaks(
        this.tracker,
        owns,
        () => undefined,
        this.context.options.maxListed,
        closedByJest,
      ).resources;
    }
    this.suspects.set(test, suspect);
  }

  /** After the file's afterAll hooks. */
  async fileDone(): Promise<void> {
    try {
      this.timersBeforeGrace = this.timersSetByOwners();
      if (this.open().length > 0 || this.dueSoon()) await this.graceForClosing();
    } catch (error) {
      this.context.guard(() => {
        throw error;
      });
      return;
    }
    this.context.guard(() => this.report());
  }

  private closedByJest(): object | undefined {
    return this.context.closedByJest?.();
  }

  /**
   * The file's resources (not those of hung tests, already reported) still holding the process.
   * `closedByJest` is looked up anew by default: a jsdom ticker is a new timeout every tick.
   */
  private open(closedByJest = this.closedByJest()): ResourceRecord<Unit>[] {
    return openKeepAliveRecords(
      this.tracker,
      (unit) => unit !== undefined && !this.inHangReport(unit),
      closedByJest,
      (record) => this.rearmedInGrace(record),
    );
  }

  /** How many timers each owner of a live timer had set when the grace began. */
  private timersBeforeGrace = new Map<Unit, number>();

  /** Of every owner of something live: a loop between attempts has a socket, not a timer. */
  private timersSetByOwners(): Map<Unit, number> {
    const counts = new Map<Unit, number>();
    for (const record of this.tracker.live()) {
      if (record.owner && !counts.has(record.owner)) {
        counts.set(record.owner, this.tracker.timersSetBy(record.owner));
      }
    }
    return counts;
  }

  /**
   * A timer due soon ends on its own, unless its owner armed another during the grace: a retry
   * or reconnect loop whose pause is short (node-redis' 50 ms, then 100 ms...) is due soon at
   * every look, and goes on for ever.
   */
  private rearmedInGrace(record: ResourceRecord<Unit>): boolean {
    const owner = record.owner;
    if (!owner) return false;
    const before = this.timersBeforeGrace.get(owner);
    return before !== undefined && this.tracker.timersSetBy(owner) > before;
  }

  /**
   * A timer of the file's, ref'd and due within the leak check's notion of soon: the grace waits
   * for it to fire, to see whether its callback arms the next one (a pool's idle check due just
   * as the file ends).
   */
  private dueSoon(): boolean {
    // Jest's fake clock's ticker is a timer due soon for ever, and Jest ends it itself.
    const closedByJest = this.closedByJest();
    return this.tracker
      .live()
      .some(
        (record) =>
          record.type === 'Timeout' &&
          record.owner !== undefined &&
          record.resource !== closedByJest &&
          !this.inHangReport(record.owner) &&
          isDueSoon(record) &&
          keepsProcessAlive(record, { rearmed: true }),
      );
  }

  /**
   * Whether what `unit` left open is already in a hang report: its test's (a hung test, or one
   * whose hook hung), or its own (a hung `beforeAll` or `afterAll`). Work Jest did not stop, not
   * a leak (see `rememberUnstopped`).
   */
  private inHangReport(unit: Unit): boolean {
    if (this.context.hung?.(unit)) return true;
    const owner = leakOwnerOf(unit);
    return owner !== 'file' && this.context.alreadyReported(owner);
  }

  /**
   * Two turns of the loop (close callbacks run in the second), then short waits while anything is
   * still open, up to CLOSE_GRACE_MS: a response still in flight finishes, its library closes.
   * The wait ends sooner once the loop stays quiet for QUIET_POLLS waits in a row with nothing
   * left that could still close anything (see `couldStillClose`): a server a test left
   * listening is not going to close itself, and every file that leaks one would pay the whole
   * grace for nothing.
   */
  private async graceForClosing(): Promise<void> {
    const wait = (schedule: (resolve: () => void) => void) =>
      this.context.untracked(() => new Promise<void>((resolve) => schedule(resolve)));
    for (let turn = 0; turn < 2; turn++) await wait((resolve) => realSetImmediate(resolve));
    const deadline = realNow() + CLOSE_GRACE_MS;
    let quietPolls = 0;
    while ((this.open().length > 0 || this.dueSoon()) && realNow() < deadline) {
      const activity = this.tracker.activity;
      let poll: unknown;
      await wait((resolve) => (poll = realSetTimeout(resolve, POLL_MS)));
      const quiet =
        this.tracker.activity === activity &&
        !couldStillClose(this.tracker.live(), loopClockOf(poll) + POLL_MS, deadline - realNow());
      quietPolls = quiet ? quietPolls + 1 : 0;
      if (quietPolls >= QUIET_POLLS) return;
    }
  }

  private report(): void {
    // One lookup for the whole report: it runs synchronously, so the ticker stays the same.
    const closedByJest = this.closedByJest();
    const owners = new Set<LeakOwner>();
    for (const record of this.open(closedByJest)) owners.add(leakOwnerOf(record.owner!));
    for (const owner of owners) this.reportLeak(owner, closedByJest);
    if (this.context.verbose) {
      for (const suspect of this.suspects.values()) {
        if (!owners.has(suspect.test)) this.noteLateClose(suspect);
      }
    }
    this.suspects.clear();
    this.rememberUnstopped(closedByJest);
    // After each file: what this process's leaks hold open now (a worker's last file's answer).
    const keptAlive = keptAliveIfChanged();
    if (keptAlive) publishKeptAlive(keptAlive);
  }

  private reportLeak(owner: LeakOwner, closedByJest: object | undefined): void {
    const test = owner === 'file' ? undefined : owner;
    const owns = (unit: Unit | undefined) =>
      unit !== undefined && leakOwnerOf(unit) === owner && !this.inHangReport(unit);
    // All of them for the end-of-run list (its count is the answer); the finding lists maxListed.
    const all = findLeaks(
      this.tracker,
      owns,
      (unit) => (unit ? ownerRef(unit) : undefined),
      Number.POSITIVE_INFINITY,
      closedByJest,
      (record) => this.rearmedInGrace(record),
    );
    if (all.resources.length === 0) return;
    const leaks = capHeldOpen(all, this.context.options.maxListed);
    const fails = this.context.options.leaks === 'error';
    const finding = buildLeakFinding(
      {
        testName: test ? fullTestName(test) : '',
        testPath: this.context.testPath,
        scope: test ? 'test' : 'file',
        severity: fails ? 'error' : 'warning',
      },
      leaks,
    );
    publishFinding(finding);
    this.remember(all, finding.testName);
    const text = renderText().renderLeakText(finding, { rootDir: this.context.rootDir });
    // The test has already been reported as passed: like an afterAll failure, the leak fails
    // its file, with the test named in the message.
    if (fails) this.lifecycle.recordFailure('file', new LeakError(text, finding));
    else consoleNotice(this.context.console, 'warn', text);
  }

  /** Each listed leak, for the end-of-run answer to "what keeps the process alive". */
  private remember(leaks: ReturnType<typeof findLeaks>, testName: string): void {
    const process = processName();
    leaks.resources.forEach((resource, index) => {
      const object = leaks.objects[index];
      if (!object) return;
      rememberKeptAlive(object, { process, testPath: this.context.testPath, testName, resource });
    });
  }

  /**
   * What holds the process open without being a leak, for the end-of-run answer too: the work of
   * tests that hung (Jest fails a timed-out test but does not stop its timers, loops or requests)
   * and what work an earlier file left running made during this one. Not leak findings: the
   * hang is reported already, and the earlier file is not this one.
   */
  private rememberUnstopped(closedByJest: object | undefined): void {
    const reportedHung = (unit: Unit | undefined) => unit !== undefined && this.inHangReport(unit);
    // A loop's timer is due soon each time, and armed again: it holds the process all the same.
    const rearmed = (record: ResourceRecord<Unit>) => {
      const setter = record.owner ?? record.leftOver;
      return setter !== undefined && this.tracker.timersSetBy(setter) >= LOOP_MIN_TIMERS;
    };
    const creators = new Map<object, Unit>();
    const held = describeHeldOpen(
      this.tracker,
      (record) => {
        const holds =
          (record.leftOver !== undefined || reportedHung(record.owner)) &&
          record.resource !== closedByJest &&
          keepsProcessAlive(record, { rearmed: rearmed(record) });
        if (holds && record.owner && record.resource) creators.set(record.resource, record.owner);
        return holds;
      },
      (unit) => (unit ? ownerRef(unit) : undefined),
      Number.POSITIVE_INFINITY,
    );
    const process = processName();
    held.resources.forEach((resource, index) => {
      const object = held.objects[index];
      if (!object) return;
      const { leftBy, owner } = resource;
      const creator = leftBy ? undefined : creators.get(object);
      const timedOutUnit = creator && this.context.timedOutUnitFor?.(creator, object);
      rememberKeptAlive(object, {
        process,
        testPath: leftBy?.testPath ?? this.context.testPath,
        testName: testNameOf(leftBy?.owner ?? owner),
        timedOut: leftBy ? leftBy.timedOut : true,
        ...(timedOutUnit ? { timedOutUnit: ownerRef(timedOutUnit) } : {}),
        resource: { ...resource, ...this.context.siteAsReported?.(object, resource.owner) },
      });
    });
  }

  private noteLateClose(suspect: Suspect): void {
    const text = lateCloseText({
      testName: fullTestName(suspect.test),
      open: suspect.open,
      kinds: [...new Set((suspect.described ?? []).map((resource) => resource.kind))],
      ...(suspect.closedAt.length > 0
        ? { closedAfterMs: Math.max(...suspect.closedAt) - suspect.endedAt }
        : {}),
    });
    consoleNotice(this.context.console, 'info', text);
  }
}

/** The test a resource's owner ran as or for; empty for the file's own (module scope, all-hooks). */
function testNameOf(owner: OwnerRef | undefined): string {
  if (!owner || owner.kind === 'module') return '';
  if (owner.kind === 'test') return owner.name;
  return owner.testName ?? '';
}
