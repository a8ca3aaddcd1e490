import { collectPending, type ResourceView } from './hang-report';
import type { LeakFinding, PendingResource } from './model';
import { REPORT_SCHEMA_VERSION } from './model';
import type { ResourceTracker } from './tracker';

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

const SERVER_SIDE_KIND = 'TCP connection (server side)';

export function isLeakCandidate<Owner>(
  tracker: ResourceTracker<Owner>,
  owns: (owner: Owner | undefined) => boolean,
): boolean {
  return tracker.live().some((record) => LEAKABLE_TYPES.has(record.type) && owns(record.owner));
}

/** The owned resources still open and keeping the process alive, ranked and capped. */
export function findLeaks<Owner>(
  tracker: ResourceTracker<Owner>,
  owns: (owner: Owner | undefined) => boolean,
  describeOwner: ResourceView<Owner>['describeOwner'],
  maxListed: number,
): { resources: PendingResource[]; omittedCount: number } {
  const { listed, omittedCount } = collectPending(
    tracker,
    { relationOf: (owner) => (owns(owner) ? 'this-test' : undefined), describeOwner },
    { maxListed: Number.MAX_SAFE_INTEGER, types: (type) => LEAKABLE_TYPES.has(type) },
  );
  const leaks = listed.filter(
    (resource) => resource.keepsAlive && resource.kind !== SERVER_SIDE_KIND,
  );
  return {
    resources: leaks.slice(0, maxListed),
    omittedCount: omittedCount + Math.max(0, leaks.length - maxListed),
  };
}

export function buildLeakFinding(
  subject: Pick<LeakFinding, 'testName' | 'testPath' | 'scope' | 'severity'>,
  leaks: { resources: PendingResource[]; omittedCount: number },
): LeakFinding {
  return { schemaVersion: REPORT_SCHEMA_VERSION, kind: 'leak', ...subject, ...leaks };
}
