import { getHeapStatistics } from 'node:v8';
import { collectGarbage } from '../core/collect-garbage';
import type { Circus } from '@jest/types';
import { HangError } from '../core/hang-error';
import { parseStack, toCreationSite } from '../core/stack';
import type { HungUnit, ResourceView } from '../core/hang-report';
import type {
  AwaitFlow,
  CreationSite,
  HangAdvice,
  HangFinding,
  PendingResource,
  Relation,
} from '../core/model';
import type { ResourceTracker } from '../core/tracker';
import type { FakeTimerProbe } from './fake-timers';
import type { LockSession } from './lock-session';
import type { HangwatchOptions } from './options';
import { hangReportCode } from '../core/hang-report-code';
import { awaitRender, awaitStacksReader, doneCallersReader, renderText } from './report-code';
import { declaresDone } from './unit-functions';
import { namingOf, ownerRef, type Unit } from './units';
import { realNow } from '../core/real-timers';
import { probe } from '../core/await-stacks/recorder';
import { describeHandledErrors } from '../core/handled-errors';

/** Heap snapshots stop once one file's reports have spent this much CPU on them (many hangs in a file). */
const AWAIT_STACKS_FILE_BUDGET_MS = 60_000;

/**
 * Failpoint for the degrade-to-plain-Jest path: `HANGWATCH_INJECT_FAULT=report` makes building a
 * report throw, as an internal bug would, so tests can prove a user's results survive it.
 */
function injectFault(where: 'report'): void {
  if (process.env.HANGWATCH_INJECT_FAULT === where) {
    throw new Error(`injected fault in ${where} (HANGWATCH_INJECT_FAULT)`);
  }
}

function describeThrown(error: unknown): { message: string; site?: CreationSite } {
  const message =
    error instanceof Error || (typeof error === 'object' && error !== null && 'message' in error)
      ? String((error as Error).message)
          .split('\n')
          .filter(Boolean)
          .slice(0, 3)
          .join(' ')
      : String(error);
  const site = toCreationSite(parseStack((error as Error | undefined)?.stack));
  return { message, ...(site ? { site } : {}) };
}

/** Whether `outer` is `inner` or one of its enclosing describe blocks. */
function encloses(
  outer: Circus.DescribeBlock | undefined,
  inner: Circus.DescribeBlock | undefined,
): boolean {
  if (!outer) return true;
  for (let block = inner; block; block = block.parent) if (block === outer) return true;
  return false;
}

export interface HangReportsHost {
  testPath: string;
  rootDir: string;
  options: HangwatchOptions;
  tracker: ResourceTracker<Unit>;
  fakeTimers: FakeTimerProbe<Unit>;
  locks: LockSession;
  /** Runs long synchronous work of hangwatch's own without the event-loop watchdog counting it. */
  aside?: <T>(work: () => T) => T;
}

/**
 * A hang report on a unit, as data (`build`) and as the error a user sees (`error`): what is
 * pending and how it relates to the unit, fake timers, await stacks and locks.
 */
export class HangReports {
  private awaitStacksSpentMs = 0;
  /** Where the last report of each listed resource placed it (see `siteAsReported`). */
  private readonly reportedSites = new WeakMap<
    object,
    { placed: Pick<PendingResource, 'site' | 'madeBy'>; owner: PendingResource['owner'] }
  >();

  /** What each unit's last hang report listed (see `listed`). */
  private readonly listedBy = new WeakMap<Unit, WeakSet<object>>();

  constructor(private readonly host: HangReportsHost) {}

  /** Whether `unit`'s hang report listed this resource among what it waited on. */
  listed(unit: Unit, resource: object): boolean {
    return this.listedBy.get(unit)?.has(resource) ?? false;
  }

  /**
   * The creation site (and maker) a hang report gave a resource it listed: that report may place
   * a package's work at the line where the test's await entered the package, which the resource's
   * own record does not know. The end-of-run list of what holds the process says the same.
   */
  siteAsReported(
    resource: object,
    owner: PendingResource['owner'],
  ): Pick<PendingResource, 'site' | 'madeBy'> | undefined {
    const reported = this.reportedSites.get(resource);
    // A pooled socket a later test reuses is the same handle, made for another test's call.
    return reported && sameOwner(reported.owner, owner) ? reported.placed : undefined;
  }

  /**
   * What an earlier test's report placed at its test's line (a request made inside a package
   * whose call that test awaited) stays there when a later report lists it as left open.
   */
  private withSitesAsReported<
    P extends { listed: PendingResource[]; listedObjects: (object | undefined)[] },
  >(pending: P): P {
    const listed = pending.listed.map((resource, index) => {
      const object = pending.listedObjects[index];
      if (!object || resource.site?.top?.origin === 'user') return resource;
      const placed = this.siteAsReported(object, resource.owner);
      return placed ? { ...resource, ...placed } : resource;
    });
    return { ...pending, listed };
  }

  /** The error a user sees: the rendered report, its stack starting at the culprit's line. */
  error(finding: HangFinding, unit: Unit): HangError {
    const message = renderText().renderHangText(finding, { rootDir: this.host.rootDir });
    const culprit = hangReportCode().culpritFrame(finding);
    const culpritSite = culprit
      ? [
          ...finding.pending,
          ...(finding.fakeTimers?.pending ?? []),
          ...(finding.pendingPromises ?? []),
        ].find((entry) => entry.site?.top === culprit)?.site
      : undefined;
    // Without a culprit of its own, the innermost user await; else the unit's declaration: Jest's
    // own frame, kept whole.
    const awaitFrames = awaitRender().awaitCulpritFrames(finding);
    const frames = culpritSite
      ? culpritSite.frames.filter((frame) => frame.origin === 'user')
      : culprit && awaitFrames[0] === culprit
        ? awaitFrames
        : [];
    return new HangError(message, finding, frames, this.declarationError(unit)?.stack);
  }

  /** The error Jest made where the test or hook was declared: its stack starts at that line. */
  private declarationError(unit: Unit): Error | undefined {
    return (unit.kind === 'test' ? unit.test?.asyncError : unit.hook?.asyncError) as
      Error | undefined;
  }

  build(unit: Unit, atFailure: boolean, trigger: HangFinding['trigger'] = 'timeout'): HangFinding {
    injectFault('report');
    const relationOf = (owner: Unit | undefined) => this.relationOf(owner, unit);
    const describeOwner = (owner: Unit | undefined) => (owner ? ownerRef(owner) : undefined);
    const view: ResourceView<Unit> = { relationOf, describeOwner };
    this.host.fakeTimers.noticeInstalledClock(unit);
    const ticker = this.host.fakeTimers.advancingTicker();
    const pending = this.withSitesAsReported(
      hangReportCode().collectPending(this.host.tracker, view, {
        maxListed: this.host.options.maxListed,
        ...(ticker ? { accept: (record) => record.resource !== ticker } : {}),
      }),
    );
    const fakeTimers =
      this.host.fakeTimers.pending(relationOf, describeOwner) ??
      this.host.fakeTimers.installedPending(relationOf, describeOwner);
    const unitSite = toCreationSite(parseStack(this.declarationError(unit)?.stack));
    const hung: HungUnit = {
      ...namingOf(unit),
      testPath: this.host.testPath,
      trigger,
      elapsedMs: atFailure ? realNow() - unit.startedAt : unit.timeoutMs,
      timeoutMs: unit.timeoutMs,
      waitingForDone: declaresDone(unit.kind === 'test' ? unit.test?.fn : unit.hook?.fn),
      thrownBeforeDone: (unit.callbackErrors ?? []).map(describeThrown),
      handledErrors: describeHandledErrors(
        probe.handledErrors,
        (owner) => {
          const relation = relationOf(owner as Unit | undefined);
          return relation === 'this-test' || relation === 'hook';
        },
        unit.startedAt,
        realNow(),
      ),
      attempt: unit.attempt,
      timersSet: this.host.tracker.timersSetBy(unit),
      immediatesSet: this.host.tracker.immediatesSetBy(unit),
    };
    // Locks are described before the await stacks' snapshot, which takes a while: how long a lock
    // was held is as of the hang, not as of the end of the report.
    const locks = this.lockSection();
    const { awaits, doneCallers, skipped } = this.awaitStacks(unit);
    const finding = hangReportCode().buildHangFinding(hung, pending, {
      ...(fakeTimers ? { fakeTimers } : {}),
      promisesTracked: this.host.options.promises,
      ...(unitSite?.top?.origin === 'user' ? { unitSite } : {}),
      ...(awaits.length > 0 ? { awaits } : {}),
      ...(doneCallers.length > 0 ? { doneCallers } : {}),
    });
    if (skipped) finding.advice = [...(finding.advice ?? []), skipped];
    if (locks) finding.locks = locks;
    const listed = new WeakSet<object>();
    pending.listedObjects.forEach((object, index) => {
      if (!object) return;
      listed.add(object);
      const { site, madeBy, owner } = finding.pending[index] ?? {};
      if (site) {
        this.reportedSites.set(object, { placed: { site, ...(madeBy ? { madeBy } : {}) }, owner });
      }
    });
    this.listedBy.set(unit, listed);
    return finding;
  }

  /**
   * The unit's await stacks, or for a `done`-style unit the functions that would call `done`;
   * a failure there must not lose the report.
   */
  private awaitStacks(unit: Unit): {
    awaits: AwaitFlow[];
    doneCallers: AwaitFlow[];
    skipped?: HangAdvice;
  } {
    const none = { awaits: [], doneCallers: [] };
    const doneCallback = unit.returned === undefined ? unit.doneCallback : undefined;
    if (!this.host.options.awaitStacks || (unit.returned === undefined && !doneCallback)) {
      return none;
    }
    // Measured after a collection: garbage (an earlier report's snapshot text) is not heap the
    // snapshot has to walk, and the snapshot would collect it first anyway.
    this.host.tracker.untracked(() => collectGarbage());
    const heapBytes = getHeapStatistics().used_heap_size;
    const limitMb = this.host.options.awaitStacksMaxHeapMb;
    if (heapBytes > limitMb * 1024 * 1024) {
      return { ...none, skipped: { code: 'await-stacks-heap-limit', heapBytes, limitMb } };
    }
    if (this.awaitStacksSpentMs > AWAIT_STACKS_FILE_BUDGET_MS) {
      return {
        ...none,
        skipped: { code: 'await-stacks-budget', spentMs: this.awaitStacksSpentMs },
      };
    }
    // CPU time, not wall time: a loaded machine must not change what a report contains.
    const cpuBefore = process.cpuUsage();
    try {
      const read = () =>
        this.host.tracker.untracked(() =>
          doneCallback
            ? {
                awaits: [],
                doneCallers: doneCallersReader().readDoneCallers(doneCallback, unit.startedAt),
              }
            : { awaits: awaitStacksReader().readAwaitStacks(unit.returned), doneCallers: [] },
        );
      return this.host.aside ? this.host.aside(read) : read();
    } catch {
      return none;
    } finally {
      const cpu = process.cpuUsage(cpuBefore);
      this.awaitStacksSpentMs += (cpu.user + cpu.system) / 1000;
    }
  }

  /** Adds held and awaited locks to a hang report; a failure there must not lose the report. */
  private lockSection(): HangFinding['locks'] {
    try {
      return this.host.locks.snapshot();
    } catch {
      // the report without its lock section is still the report
      return undefined;
    }
  }

  /** Ranks a resource's creator against the hung unit; `undefined` hides another running test's. */
  private relationOf(creator: Unit | undefined, hung: Unit): Relation | undefined {
    if (!creator) return 'unknown';
    if (creator === hung) return 'this-test';
    if (creator.kind === 'module') return 'earlier';
    if (creator.kind === 'test') {
      // Concurrent siblings started together with it: never "earlier", and never its culprits.
      if (creator.running || (creator.test?.concurrent && hung.test?.concurrent)) return undefined;
      // An afterEach waits on what its own test left behind: that is its likeliest culprit.
      return creator.test === hung.test && hung.kind === 'afterEach' ? 'hook' : 'earlier';
    }
    if (creator.kind === 'beforeAll' || creator.kind === 'afterAll') {
      // A describe block's hooks serve the tests and hooks inside it, no others.
      return encloses(creator.hook?.parent, hung.block) ? 'hook' : 'earlier';
    }
    // beforeEach/afterEach: the hung test's own hooks, or leftovers from another test's.
    return creator.test !== undefined && creator.test === hung.test ? 'hook' : 'earlier';
  }
}

function sameOwner(a: PendingResource['owner'], b: PendingResource['owner']): boolean {
  return a?.kind === b?.kind && a?.name === b?.name && a?.testName === b?.testName;
}
