import { inversionModel } from '../core/locks/describe';
import { LockOrder, type OrderEdge } from '../core/locks/lock-order';
import { REPORT_SCHEMA_VERSION, type CreationSite, type LockOrderFinding } from '../core/model';
import type { PublishedLockOrder } from '../jest/findings-channel';

/**
 * Lock orders across the run. Each test process checks the orders it sees itself (the tests of
 * a file, the files of a worker) and publishes every order it sees for the first time; here the
 * orders of all processes meet, and an inversion whose two sides were seen by different
 * processes (A then B in one worker's file, B then A in another's) is reported. One a single
 * process saw whole was already reported by that process.
 */
export function crossProcessInversions(published: PublishedLockOrder[]): LockOrderFinding[] {
  const order = new LockOrder<CreationSite>();
  /** Which processes saw each order, and in which test (the first to publish it). */
  const seenBy = new Map<string, Set<string>>();
  const testOf = new Map<OrderEdge<CreationSite>, PublishedLockOrder['lockOrder']>();
  const keyOf = (edge: OrderEdge<CreationSite>) => `${edge.held.key}\u0000${edge.taken.key}`;
  const findings: LockOrderFinding[] = [];
  for (const entry of published) {
    const key = keyOf(entry.lockOrder.edge);
    seenBy.set(key, (seenBy.get(key) ?? new Set<string>()).add(entry.source));
  }
  for (const entry of published) {
    const { edge } = entry.lockOrder;
    const inversions = order.record([edge.held], edge.taken, edge.flow, (recorded) =>
      testOf.set(recorded, entry.lockOrder),
    );
    for (const inversion of inversions) {
      const edges = [...inversion.path, inversion.backward];
      const sawItWhole = [...(seenBy.get(keyOf(inversion.backward)) ?? [])].some((source) =>
        edges.every((step) => seenBy.get(keyOf(step))?.has(source)),
      );
      if (sawItWhole) continue;
      const model = inversionModel(inversion, (site) => site);
      const forwardTest = testOf.get(inversion.forward);
      findings.push({
        schemaVersion: REPORT_SCHEMA_VERSION,
        kind: 'lock-order',
        testName: entry.lockOrder.testName,
        testPath: entry.lockOrder.testPath,
        severity: 'warning',
        inversion: model,
        ...(forwardTest
          ? {
              firstOrderSeenIn: {
                testPath: forwardTest.testPath,
                testName: forwardTest.testName,
              },
            }
          : {}),
      });
    }
  }
  return findings;
}
