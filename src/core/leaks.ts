import type { ResourceView } from './hang-report';
import type { LeakFinding, PendingResource } from './model';
import { REPORT_SCHEMA_VERSION } from './model';
import { hangReportCode } from './hang-report-code';
import { isFinishedTimer, type ResourceRecord, type ResourceTracker } from './tracker';
import { realNow } from './real-timers';

/**
 * What can outlive a test and keep the process from exiting: ref'd timers and intervals,
 * servers, sockets, child processes, workers, watchers, ports, requests still in flight.
 * Requests that always finish on their own (fs, DNS) are not leaks; the server side of a
 * connection is named through its server.
 */
const LEAKABLE_TYPES = new Set([
  'Timeout',
  'TCPSERVERWRAP',
  'PIPESERVERWRAP',
  'TCPWRAP',
  'PIPEWRAP',
  'UDPWRAP',
  'PROCESSWRAP',
  'WORKER',
  'MESSAGEPORT',
  'FSEVENTWRAP',
  'STATWATCHER',
  'SIGNALWRAP',
  'FETCH',
]);

/** A timer due this soon ends on its own: finishing a test just before it fires is no leak. */
const SOON_MS = 50;

/**
 * Cheap test, run for every finished test: what does it own that keeps the process alive right
 * now? No stack is formatted; most tests own nothing and cost one pass over live records.
 */
export function openKeepAliveRecords<Owner>(
  tracker: ResourceTracker<Owner>,
  owns: (owner: Owner | undefined) => boolean,
  closedForIt?: object,
  rearmed?: (record: ResourceRecord<Owner>) => boolean,
): ResourceRecord<Owner>[] {
  return tracker.live().filter((record) => isLeakCandidate(record, owns, closedForIt, rearmed));
}

/**
 * Owned, holding the process, and not `closedForIt`: a resource the test framework closes itself
 * when the file ends (Jest's fake clock's ticker), which the test need not. `rearmed`: whether a
 * timer due soon is a loop's (see `keepsProcessAlive`).
 */
function isLeakCandidate<Owner>(
  record: ResourceRecord<Owner>,
  owns: (owner: Owner | undefined) => boolean,
  closedForIt: object | undefined,
  rearmed: ((record: ResourceRecord<Owner>) => boolean) | undefined,
): boolean {
  return (
    owns(record.owner) &&
    keepsProcessAlive(record, { rearmed: rearmed?.(record) ?? false }) &&
    (closedForIt === undefined || record.resource !== closedForIt)
  );
}

/**
 * For a resource no longer tracked (after its file's environment is gone): is it still open and
 * holding the process? Handles answer `hasRef()` (false once closed); a timer, whether it is
 * finished.
 */
export function stillHoldsProcess(resource: object): boolean {
  const handle = resource as { hasRef?: () => boolean };
  if (isFinishedTimer(handle)) return false;
  try {
    return typeof handle.hasRef === 'function' ? handle.hasRef() : false;
  } catch {
    return false;
  }
}

/**
 * Whether a live record is something that can outlive its test and hold the process open. A timer
 * due soon does not, unless `rearmed`: a loop arms the next one from its callback.
 */
export function keepsProcessAlive(
  record: ResourceRecord<unknown>,
  { rearmed = false }: { rearmed?: boolean } = {},
): boolean {
  if (!LEAKABLE_TYPES.has(record.type)) return false;
  const resource = record.resource as { hasRef?: () => boolean } | undefined;
  if (typeof resource?.hasRef === 'function' && !resource.hasRef()) return false;
  return rearmed || !isDueSoon(record);
}

/** A one-shot timer due within `SOON_MS`: it ends on its own, unless something arms the next. */
export function isDueSoon(record: ResourceRecord<unknown>): boolean {
  const timer = record.resource as { _idleTimeout?: number; _repeat?: number | null } | undefined;
  if (record.type !== 'Timeout' || !timer || timer._repeat) return false;
  const dueIn = (timer._idleTimeout ?? 0) - (realNow() - record.createdAt);
  return dueIn <= SOON_MS;
}

/**
 * The owned resources still open and keeping the process alive, ranked and capped, with the
 * resource object behind each (to see later whether it still holds the process).
 */
export function findLeaks<Owner>(
  tracker: ResourceTracker<Owner>,
  owns: (owner: Owner | undefined) => boolean,
  describeOwner: ResourceView<Owner>['describeOwner'],
  maxListed: number,
  closedForIt?: object,
  rearmed?: (record: ResourceRecord<Owner>) => boolean,
): HeldOpen {
  return describeHeldOpen(
    tracker,
    (record) => isLeakCandidate(record, owns, closedForIt, rearmed),
    describeOwner,
    maxListed,
  );
}

export interface HeldOpen {
  resources: PendingResource[];
  objects: (object | undefined)[];
  omittedCount: number;
}

/** The live records `holdsOpen` accepts, described, ranked and capped, each with its object. */
export function describeHeldOpen<Owner>(
  tracker: ResourceTracker<Owner>,
  holdsOpen: (record: ResourceRecord<Owner>) => boolean,
  describeOwner: ResourceView<Owner>['describeOwner'],
  maxListed: number,
): HeldOpen {
  const { listed, listedObjects, omittedCount } = hangReportCode().collectPending(
    tracker,
    // Work an earlier file left running has no owner here (see `leftBy`).
    { relationOf: (owner) => (owner === undefined ? 'unknown' : 'this-test'), describeOwner },
    { maxListed, accept: holdsOpen },
  );
  // The server side of a connection ends with its client or its server, both named already.
  const kept = listed.flatMap((resource, index) =>
    resource.details.accepted === true ? [] : [{ resource, object: listedObjects[index] }],
  );
  return {
    resources: kept.map((entry) => entry.resource),
    objects: kept.map((entry) => entry.object),
    omittedCount,
  };
}

/** The first `maxListed` of `held`, the rest counted as omitted. */
export function capHeldOpen(held: HeldOpen, maxListed: number): HeldOpen {
  if (held.resources.length <= maxListed) return held;
  return {
    resources: held.resources.slice(0, maxListed),
    objects: held.objects.slice(0, maxListed),
    omittedCount: held.omittedCount + held.resources.length - maxListed,
  };
}

export function buildLeakFinding(
  subject: Pick<LeakFinding, 'testName' | 'testPath' | 'scope' | 'severity'>,
  leaks: { resources: PendingResource[]; omittedCount: number },
): LeakFinding {
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    kind: 'leak',
    ...subject,
    resources: leaks.resources,
    omittedCount: leaks.omittedCount,
  };
}
