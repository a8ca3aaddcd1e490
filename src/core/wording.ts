import { formatDuration, plural } from './format';
import type {
  FakeTimerInfo,
  Frame,
  HangFinding,
  LeftBy,
  OwnerRef,
  PendingResource,
  Relation,
} from './model';

/** Sentences shared by every view of a hang, so terminal text and markdown say the same thing. */

/** How a finding names the test or hook it is about (hang and blocked-loop findings alike). */
export interface UnitNaming {
  phase: HangFinding['phase'];
  /** Full test name, or the describe path of a `beforeAll`/`afterAll` hook. */
  testName: string;
  /** For `beforeEach`/`afterEach`: the test they ran for. */
  forTest?: string;
}

/**
 * The test or hook, in words: `test "name"`, `afterEach hook for test "name"`, `afterAll hook of
 * describe "db › users"`, `top-level beforeAll hook`.
 */
export function unitLabel(finding: UnitNaming): string {
  switch (finding.phase) {
    case 'test':
      return `test "${finding.testName}"`;
    case 'beforeEach':
    case 'afterEach':
      return `${finding.phase} hook for test "${finding.forTest ?? finding.testName}"`;
    default:
      return finding.testName
        ? `${finding.phase} hook of describe "${finding.testName}"`
        : `top-level ${finding.phase} hook`;
  }
}

export function headline(finding: HangFinding): string {
  const waitingOn = finding.waitingForDone ? '`done` was never called' : 'still waiting';
  const waited = `${waitingOn} after ${formatDuration(finding.elapsedMs)} (timeout ${formatDuration(finding.timeoutMs)})`;
  const subject = unitLabel(finding);
  if (finding.trigger === 'idle') {
    const done = finding.waitingForDone ? ' `done` was never called.' : '';
    return `${subject} can never finish: after ${formatDuration(finding.elapsedMs)} nothing is left that could settle it (failed early; its timeout is ${formatDuration(finding.timeoutMs)}).${done}`;
  }
  const retry = finding.attempt > 0 ? ` on retry ${finding.attempt}` : '';
  return `${subject} hung${retry}: ${waited}.`;
}

function hookGroupTitle(phase: HangFinding['phase'], count: number): string {
  switch (phase) {
    case 'test':
      return `Started by its hooks (${count}):`;
    case 'beforeEach':
    case 'afterEach':
      return `Started by its test or the test's other hooks (${count}):`;
    default:
      return `Started by other beforeAll/afterAll hooks of its describe blocks (${count}):`;
  }
}

function earlierGroupTitle(resources: PendingResource[]): string {
  const count = resources.length;
  const fromModule = resources.filter((resource) => resource.owner?.kind === 'module').length;
  if (fromModule === count) return `Started by the test file's module scope (${count}):`;
  if (fromModule > 0) return `Left open by earlier tests or the file's module scope (${count}):`;
  return `Left open by earlier tests (${count}):`;
}

/** How pending resources are grouped: by relation, with what earlier files left running apart. */
type PendingGroup = Relation | 'left-over';

function groupOf(resource: PendingResource): PendingGroup {
  return resource.relation === 'unknown' && resource.leftBy ? 'left-over' : resource.relation;
}

function groupTitle(
  group: PendingGroup,
  resources: PendingResource[],
  onlyGroup: boolean,
  finding: HangFinding,
): string {
  const count = resources.length;
  switch (group) {
    case 'this-test': {
      const starter = finding.phase === 'test' ? 'it' : 'the hook';
      // Failed early: what is still open cannot settle it (an idle stream waits like the test).
      if (finding.trigger === 'idle') {
        return `${plural(count, 'thing')} ${starter} started ${count === 1 ? 'is' : 'are'} still open, but idle: none of it could settle ${starter}:`;
      }
      return `It is waiting on ${plural(count, 'thing')} ${starter} started${onlyGroup ? '; nothing else is pending' : ''}:`;
    }
    case 'hook':
      return hookGroupTitle(finding.phase, count);
    case 'earlier':
      return earlierGroupTitle(resources);
    case 'left-over':
      return `Also pending, made by work an earlier test file left running (${count}):`;
    default:
      return `Also pending, started outside any test (${count}):`;
  }
}

export interface ResourceGroup {
  title: string;
  resources: PendingResource[];
}

export function groupPending(finding: HangFinding): ResourceGroup[] {
  const order: PendingGroup[] = ['this-test', 'hook', 'earlier', 'unknown', 'left-over'];
  const present = order.filter((group) => finding.pending.some((r) => groupOf(r) === group));
  return present.map((group) => {
    const resources = finding.pending.filter((resource) => groupOf(resource) === group);
    const onlyGroup = present.length === 1 && finding.omittedCount === 0;
    return { title: groupTitle(group, resources, onlyGroup, finding), resources };
  });
}

/**
 * Who left the work running that made a resource, after that work's file ended: `file` is the
 * file as the view writes paths. Jest stops neither a timed-out test's loop nor its timers.
 */
export function leftByNote(leftBy: LeftBy, file: string): string {
  const ending = leftBy.timedOut ? ' after it timed out: Jest does not stop a timed-out test' : '';
  return `left running by ${ownerWords(leftBy.owner)} of ${file}${ending}`;
}

/** The note an error thrown by work an earlier file left running gets, in this file's failure. */
export function leftOverErrorNote(leftBy: LeftBy, file: string): string {
  const why = leftBy.timedOut
    ? "it timed out, and Jest does not stop a timed-out test's timers, loops or requests"
    : "Jest goes on to the next file while a file's timers, loops and requests still run";
  return `hangwatch: thrown by work that ${ownerWords(leftBy.owner)} of ${file} left running after its file ended (${why}), not by this file.`;
}

/** How a report names the test, hook or module scope an owner is. */
export function ownerWords(owner: OwnerRef): string {
  if (owner.kind === 'module') return 'the module scope';
  return unitLabel({
    phase: owner.kind,
    testName: owner.name,
    ...(owner.testName ? { forTest: owner.testName } : {}),
  });
}

export function ownerNote(
  resource: Pick<PendingResource, 'owner' | 'relation'>,
  finding: HangFinding,
): string | undefined {
  const owner = resource.owner;
  if (!owner || resource.relation === 'this-test') return undefined;
  if (owner.kind === 'module') return 'started while the test file was loading';
  if (owner.kind === 'test' && owner.name === finding.testName && finding.phase === 'test') {
    return 'started by an earlier attempt of this test';
  }
  if (owner.kind === 'test') return `started by test "${owner.name}"`;
  return `started in ${owner.kind}${owner.testName ? ` for "${owner.testName}"` : ''}`;
}

/** One pending fake timer; `advancing`: its clock advances with real time, so it fires later. */
export function fakeTimerSummary(timer: FakeTimerInfo, advancing = false): string {
  const name: Record<FakeTimerInfo['kind'], string> = {
    timeout: 'fake setTimeout',
    interval: 'fake setInterval',
    immediate: 'fake setImmediate',
    nextTick: 'fake process.nextTick',
    animationFrame: 'fake requestAnimationFrame',
    idleCallback: 'fake requestIdleCallback',
  };
  const delay =
    timer.delayMs !== undefined && timer.kind !== 'immediate'
      ? ` ${Math.round(timer.delayMs)} ms`
      : '';
  const due = timer.dueInMs !== undefined ? `, due in ${Math.round(timer.dueInMs)} fake ms` : '';
  const fires = advancing
    ? 'fires as the clock advances with real time'
    : 'never fires unless the clock is advanced';
  return `${name[timer.kind]}${delay}${due}: ${fires}`;
}

/**
 * The one sentence on what could still settle it, when nothing of its own is pending (and no
 * lock explains the wait); `undefined` when something of its own is.
 */
export function pendingVerdict(finding: HangFinding): string | undefined {
  if (finding.locks) return undefined;
  if (finding.nothingPending) return NOTHING_PENDING;
  if (finding.nothingOwnPending) {
    const onlyLeftOver =
      finding.omittedCount === 0 &&
      finding.pending.length > 0 &&
      finding.pending.every((resource) => resource.leftBy);
    if (onlyLeftOver) {
      return finding.waitingForDone ? ONLY_LEFT_OVER_PENDING_DONE : ONLY_LEFT_OVER_PENDING;
    }
    return finding.waitingForDone ? NOTHING_OWN_PENDING_DONE : NOTHING_OWN_PENDING;
  }
  return undefined;
}

export const NOTHING_PENDING =
  'Nothing it started is still pending: no timer, socket, child process or request of its own exists that could ever settle it.';

export const NOTHING_OWN_PENDING =
  'Nothing of its own is still pending: only what is listed above, started elsewhere, could still settle it, if it waits on that (a shared client, server or poller); otherwise it is awaiting a promise nobody resolves or an event nobody emits.';

/** Jest loads a test file's modules anew: an earlier file's code holds none of this file's. */
export const ONLY_LEFT_OVER_PENDING =
  "Nothing of its own is still pending, and what is listed above is work an earlier test file left running, which holds none of this file's modules (Jest loads them anew for each file): it is most likely awaiting a promise nobody resolves or an event nobody emits.";

export const ONLY_LEFT_OVER_PENDING_DONE =
  "Nothing of its own is still pending, and what is listed above is work an earlier test file left running, which holds none of this file's modules (Jest loads them anew for each file): nothing is left that could lead to a call to `done`.";

export const NOTHING_OWN_PENDING_DONE =
  'Nothing of its own is still pending: only what is listed above, started elsewhere, could still lead to a call to `done`, if it waits on that.';

/**
 * "made on its behalf inside ioredis, at node_modules/ioredis/…:333:33": `location` is the
 * frame's place as the view shows one.
 */
export function madeByText(madeBy: Frame, location: string): string {
  const inside = madeBy.packageName ? ` inside ${madeBy.packageName}` : '';
  return `made on its behalf${inside}, at ${location}`;
}
