import { deadlockHeadline, inversionHeadline } from '../core/render/locks';
import { culpritFrame, isOwnWork } from '../core/hang-report';
import type { Finding, Frame, HangFinding, LeakFinding, PendingResource } from '../core/model';
import { formatDuration } from '../core/format';
import { describePending } from '../core/render/pending';
import { pastTimeout } from '../core/render/sections';
import { headline, unitLabel } from '../core/wording';

/**
 * The few facts every view of a run needs about a finding, whatever its kind: which test, the
 * culprit line, one line of why. Hangs are understood exactly; other kinds (leaks, deadlocks,
 * lock-order inversions, blocked loops) are read by the fields findings share, so a new kind
 * flows through the summary, the annotations and the CLI before it gets a case of its own here.
 */
export interface FindingDigest {
  kind: string;
  testName?: string;
  testPath?: string;
  /** The line to point at: the culprit's creation site in user code, when known. */
  location?: Frame;
  /** One line. */
  why: string;
}

/** A wait-for edge: `from` waits for something `to` holds. */
export interface WaitForEdge {
  from: string;
  to: string;
  label?: string;
}

export function digestOf(finding: Finding): FindingDigest {
  switch (finding.kind) {
    case 'hang':
      return digestHang(finding);
    case 'leak':
      return digestLeak(finding);
    case 'deadlock': {
      const step = finding.deadlock.steps[0];
      const site = step?.waitsFor.site ?? step?.holds[0]?.site;
      return described(finding, site?.top, deadlockHeadline(finding.deadlock));
    }
    case 'lock-order':
      return described(
        finding,
        finding.inversion.backward.takenSite?.top ?? finding.inversion.forward.takenSite?.top,
        inversionHeadline(finding.inversion),
      );
    case 'blocked-loop':
      return described(
        finding,
        finding.site?.top,
        `${finding.frozen ? 'froze' : 'blocked'} the event loop for ${formatDuration(finding.blockedMs)}${finding.frozen ? `, ${pastTimeout(finding.timeoutMs)}` : ''}`,
      );
    default:
      // A kind from a newer schema version, read by the CLI: the fields findings share.
      return digestGeneric(finding as unknown as GenericFinding);
  }
}

function described(
  finding: { kind: string; testName: string; testPath: string },
  location: Frame | undefined,
  why: string,
): FindingDigest {
  return {
    kind: finding.kind,
    ...(finding.testName ? { testName: finding.testName } : {}),
    testPath: finding.testPath,
    ...(location ? { location } : {}),
    why: why.split('\n')[0],
  };
}

function digestHang(finding: HangFinding): FindingDigest {
  const own = finding.pending.find(isOwnWork);
  const elsewhere = own ? undefined : finding.pending[0];
  const location = culpritFrame(finding);
  const describeLevelHook = finding.phase === 'beforeAll' || finding.phase === 'afterAll';
  return {
    kind: 'hang',
    // A beforeAll/afterAll runs for no one test: the row names the hook.
    testName: describeLevelHook ? unitLabel(finding) : (finding.forTest ?? finding.testName),
    testPath: finding.testPath,
    ...(location ? { location } : {}),
    why: own
      ? `${headline(finding)} Waiting on: ${describePending(own)}.`
      : elsewhere
        ? `${headline(finding)} Pending, ${elsewhere.leftBy ? 'left running by an earlier file' : 'started elsewhere'}: ${describePending(elsewhere)}.`
        : headline(finding),
  };
}

function digestLeak(finding: LeakFinding): FindingDigest {
  const count = finding.resources.length + finding.omittedCount;
  const first = finding.resources.find((resource) => resource.site?.top?.origin === 'user');
  const subject = finding.scope === 'test' ? 'the test' : 'the file, after its last test,';
  const location = first?.site?.top ?? finding.resources[0]?.site?.top;
  return {
    kind: 'leak',
    ...(finding.testName ? { testName: finding.testName } : {}),
    testPath: finding.testPath,
    ...(location ? { location } : {}),
    why: `${subject} left ${count === 1 ? '1 resource' : `${count} resources`} open: ${describeFirst(first ?? finding.resources[0])}.`,
  };
}

function describeFirst(resource: PendingResource | undefined): string {
  return resource ? describePending(resource) : 'see the report';
}

type GenericFinding = Record<string, unknown> & { kind: string };

/** Field names other kinds use for their one-line message, most specific first. */
const WHY_FIELDS = ['summary', 'message', 'headline', 'reason', 'description'];

function digestGeneric(finding: GenericFinding): FindingDigest {
  const text = (key: string) =>
    typeof finding[key] === 'string' && finding[key] !== '' ? (finding[key] as string) : undefined;
  const why = WHY_FIELDS.map(text).find(Boolean) ?? `${finding.kind} found.`;
  const testName = text('testName') ?? text('forTest');
  const testPath = text('testPath') ?? text('file');
  const location = findCulpritFrame(finding);
  return {
    kind: finding.kind,
    ...(testName ? { testName } : {}),
    ...(testPath ? { testPath } : {}),
    ...(location ? { location } : {}),
    why: why.split('\n')[0],
  };
}

/** The first creation site's top frame in user code, anywhere in the finding, in field order. */
function findCulpritFrame(value: unknown): Frame | undefined {
  let fallback: Frame | undefined;
  const visit = (node: unknown, depth: number): Frame | undefined => {
    if (depth > 8 || node === null || typeof node !== 'object') return undefined;
    if (Array.isArray(node)) {
      for (const item of node) {
        const found = visit(item, depth + 1);
        if (found) return found;
      }
      return undefined;
    }
    const top = (node as { top?: unknown }).top;
    if (isFrame(top)) {
      if (top.origin === 'user') return top;
      fallback ??= top;
    }
    for (const child of Object.values(node)) {
      const found = visit(child, depth + 1);
      if (found) return found;
    }
    return undefined;
  };
  return visit(value, 0) ?? fallback;
}

function isFrame(value: unknown): value is Frame {
  const frame = value as Partial<Frame> | null;
  return (
    frame !== null &&
    typeof frame === 'object' &&
    typeof frame.file === 'string' &&
    typeof frame.line === 'number'
  );
}

/**
 * The wait-for graph of a deadlock, as edges: each flow waits for the flow holding the lock it
 * wants. From a deadlock finding, or from the lock section of a hang report.
 */
export function waitForCycle(finding: Finding): WaitForEdge[] | undefined {
  const deadlock =
    finding.kind === 'deadlock'
      ? finding.deadlock
      : finding.kind === 'hang'
        ? finding.locks?.deadlock
        : undefined;
  if (!deadlock || deadlock.steps.length === 0) return undefined;
  const holderOf = (lock: string): string | undefined =>
    deadlock.steps.find((step) => step.holds.some((held) => held.lock === lock))?.flow.name ??
    deadlock.holders.find((holder) => holder.lock === lock)?.hold.flow.name;
  const edges: WaitForEdge[] = [];
  for (const step of deadlock.steps) {
    const holder = holderOf(step.waitsFor.lock);
    if (holder) edges.push({ from: step.flow.name, to: holder, label: step.waitsFor.lock });
  }
  return edges.length > 0 ? edges : undefined;
}
