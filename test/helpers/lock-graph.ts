import { LockGraph, type LockGraphHost } from '../../src/core/locks/graph';
import { LockOrder } from '../../src/core/locks/lock-order';
import type { LockOrderInversion } from '../../src/core/model';

/** A lock graph with no timers and its own lock-order memory; inversions are collected. */
export function testGraph(inversions: LockOrderInversion[] = []): LockGraph {
  const host: LockGraphHost = {
    rootDir: process.cwd(),
    setTimer: () => ({}),
    clearTimer: () => undefined,
    somethingElsePending: () => true,
    describeOwner: () => undefined,
    onInversion: (inversion) => inversions.push(inversion),
  };
  return new LockGraph(host, new LockOrder());
}
