import { culpritFrame } from '../core/hang-report';
import type { Finding, Frame, HangFinding, LeakFinding } from '../core/model';
import { headline } from '../core/wording';

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
  if (finding.kind === 'hang') return digestHang(finding);
  if (finding.kind === 'leak') return digestLeak(finding);
  return digestGeneric(finding as unknown as GenericFinding);
}

function digestHang(finding: HangFinding): FindingDigest {
  const first = finding.pending.find((resource) => resource.relation === 'this-test');
  const location = culpritFrame(finding);
  return {
    kind: 'hang',
    testName: finding.forTest ?? finding.testName,
    testPath: finding.testPath,
    ...(location ? { location } : {}),
    why: first ? `${headline(finding)} Waiting on: ${first.summary}.` : headline(finding),
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
    why: `${subject} left ${count === 1 ? '1 resource' : `${count} resources`} open: ${(first ?? finding.resources[0])?.summary ?? 'see the report'}.`,
  };
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
 * The wait-for cycle of a finding that has one (`cycle`), as edges. Accepts the shapes a cycle
 * is naturally written in: a list of edges (`from`/`to`, or `waiter`/`holder`), or a ring of
 * participants (names, or objects with a name), each waiting for the next.
 */
export function waitForCycle(finding: Finding): WaitForEdge[] | undefined {
  const raw = (finding as unknown as { cycle?: unknown }).cycle;
  const list = Array.isArray(raw) ? raw : (raw as { edges?: unknown } | undefined)?.edges;
  if (!Array.isArray(list) || list.length === 0) return undefined;
  const edges = list.map(asEdge);
  if (edges.every((edge): edge is WaitForEdge => edge !== undefined)) return edges;
  const names = list.map(participantName);
  if (names.some((name) => name === undefined)) return undefined;
  return names.map((name, index) => ({ from: name!, to: names[(index + 1) % names.length]! }));
}

function asEdge(item: unknown): WaitForEdge | undefined {
  if (item === null || typeof item !== 'object') return undefined;
  const record = item as Record<string, unknown>;
  const from = participantName(record.from ?? record.waiter);
  const to = participantName(record.to ?? record.holder);
  if (!from || !to) return undefined;
  const label = participantName(record.label ?? record.lock ?? record.resource);
  return { from, to, ...(label ? { label } : {}) };
}

function participantName(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value === null || typeof value !== 'object') return undefined;
  const record = value as Record<string, unknown>;
  for (const key of ['name', 'label', 'testName', 'id']) {
    if (typeof record[key] === 'string') return record[key] as string;
  }
  return undefined;
}
