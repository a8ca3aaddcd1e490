import { formatDuration, plural } from './format';
import type { FakeTimerInfo, HangFinding, PendingResource, Relation } from './model';

/** Sentences shared by every view of a hang, so terminal text and markdown say the same thing. */

export function headline(finding: HangFinding): string {
  const waitingOn = finding.waitingForDone ? '`done` was never called' : 'still waiting';
  const waited = `${waitingOn} after ${formatDuration(finding.elapsedMs)} (timeout ${formatDuration(finding.timeoutMs)})`;
  if (finding.trigger === 'idle') {
    const subject =
      finding.phase === 'test'
        ? `test "${finding.testName}"`
        : `${finding.phase} hook${finding.forTest ? ` for test "${finding.forTest}"` : finding.testName ? ` in "${finding.testName}"` : ''}`;
    const done = finding.waitingForDone ? ' `done` was never called.' : '';
    return `${subject} can never finish: after ${formatDuration(finding.elapsedMs)} nothing is left that could settle it (failed early; its timeout is ${formatDuration(finding.timeoutMs)}).${done}`;
  }
  const retry = finding.attempt > 0 ? ` on retry ${finding.attempt}` : '';
  switch (finding.phase) {
    case 'test':
      return `test "${finding.testName}" hung${retry}: ${waited}.`;
    case 'beforeEach':
    case 'afterEach':
      return `${finding.phase} hook for test "${finding.forTest ?? finding.testName}" hung${retry}: ${waited}.`;
    default:
      return `${finding.phase} hook${finding.testName ? ` in "${finding.testName}"` : ''} hung${retry}: ${waited}.`;
  }
}

const GROUP_TITLES: Record<
  Relation,
  (count: number, onlyGroup: boolean, subject: string) => string
> = {
  'this-test': (count, onlyGroup, subject) =>
    `It is waiting on ${plural(count, 'thing')} ${subject} started${onlyGroup ? '; nothing else is pending' : ''}:`,
  hook: (count, _onlyGroup, subject) =>
    subject === 'it'
      ? `Started by its hooks (${count}):`
      : `Started by its test or the test's other hooks (${count}):`,
  earlier: (count) => `Left open by earlier tests (${count}):`,
  unknown: (count) => `Also pending, started outside any test (${count}):`,
};

export interface ResourceGroup {
  title: string;
  resources: PendingResource[];
}

export function groupPending(finding: HangFinding): ResourceGroup[] {
  const order: Relation[] = ['this-test', 'hook', 'earlier', 'unknown'];
  const present = order.filter((relation) => finding.pending.some((r) => r.relation === relation));
  const subject = finding.phase === 'test' ? 'it' : 'the hook';
  return present.map((relation) => {
    const resources = finding.pending.filter((resource) => resource.relation === relation);
    return {
      title: GROUP_TITLES[relation](
        resources.length,
        present.length === 1 && finding.omittedCount === 0,
        subject,
      ),
      resources,
    };
  });
}

export function ownerNote(resource: PendingResource, finding: HangFinding): string | undefined {
  const owner = resource.owner;
  if (!owner || resource.relation === 'this-test') return undefined;
  if (owner.kind === 'module') return 'started while the test file was loading';
  if (owner.kind === 'test' && owner.name === finding.testName && finding.phase === 'test') {
    return 'started by an earlier attempt of this test';
  }
  if (owner.kind === 'test') return `started by test "${owner.name}"`;
  return `started in ${owner.kind}${owner.testName ? ` for "${owner.testName}"` : ''}`;
}

export function fakeTimerSummary(timer: FakeTimerInfo): string {
  const name: Record<FakeTimerInfo['kind'], string> = {
    timeout: 'fake setTimeout',
    interval: 'fake setInterval',
    immediate: 'fake setImmediate',
    nextTick: 'fake process.nextTick',
    animationFrame: 'fake requestAnimationFrame',
    idleCallback: 'fake requestIdleCallback',
  };
  const delay =
    timer.delayMs !== undefined && timer.kind !== 'immediate' ? ` ${timer.delayMs} ms` : '';
  const due = timer.dueInMs !== undefined ? `, due in ${timer.dueInMs} fake ms` : '';
  return `${name[timer.kind]}${delay}${due}: never fires unless the clock is advanced`;
}

export const NOTHING_PENDING =
  'Nothing it started is still pending: no timer, socket, child process or request of its own exists that could ever settle it.';
