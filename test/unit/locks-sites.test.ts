import { LockGraph } from '../../src/core/locks/graph';
import { LockOrder } from '../../src/core/locks/lock-order';
import { newFlow } from '../../src/core/locks/flows';
import { callSite, foreseenSite, lockCall, takeSiteToken } from '../../src/core/locks/sites';
import * as realTimers from '../../src/core/real-timers';
import { parseStack } from '../../src/core/stack';
import { testGraph } from '../helpers/lock-graph';

describe('acquisition sites', () => {
  test("a lock's budget records its first 64 uncontended acquisitions, then about one per 10 ms", () => {
    // hangwatch's clock (`performance.now` as it was at load), not the one a test may fake.
    const clock = jest.spyOn(realTimers, 'realNow').mockReturnValue(1_000);
    try {
      const lock = testGraph().createLock({ kind: 'mutex', capacity: 1, name: 'hot' });
      const taken = Array.from({ length: 200 }, () => takeSiteToken(lock));
      expect(taken.filter(Boolean)).toHaveLength(64);
      expect(taken.slice(0, 64).every(Boolean)).toBe(true);
      clock.mockReturnValue(1_100); // 100 ms later: 10 more
      const later = Array.from({ length: 200 }, () => takeSiteToken(lock));
      expect(later.filter(Boolean)).toHaveLength(10);
    } finally {
      clock.mockRestore();
    }
  });

  test("a new lock order always records its site; lockSites: 'all' records every one", () => {
    const graph = testGraph();
    const outer = graph.createLock({ kind: 'mutex', capacity: 1, name: 'outer' });
    const inner = graph.createLock({ kind: 'mutex', capacity: 1, name: 'inner' });
    while (takeSiteToken(inner));
    const flow = newFlow('bare', undefined, undefined);
    expect(graph.wantsSite(inner, flow)).toBe(false);
    graph.hold({ lock: outer, flow });
    expect(graph.wantsSite(inner, flow)).toBe(true);
    graph.hold({ lock: inner, flow });
    expect(graph.wantsSite(inner, flow)).toBe(false);

    const all = new LockGraph(
      {
        rootDir: process.cwd(),
        setTimer: () => ({}),
        clearTimer: () => undefined,
        somethingElsePending: () => true,
        describeOwner: () => undefined,
        onInversion: () => undefined,
      },
      new LockOrder(),
      { lockSites: 'all' },
    );
    const busy = all.createLock({ kind: 'mutex', capacity: 1, name: 'busy' });
    while (takeSiteToken(busy));
    expect(all.wantsSite(busy, newFlow('bare', undefined, undefined))).toBe(true);
  });

  test('a site is the caller of the public method, captured up front when foreseen', () => {
    const inner = () => ({ foreseen: foreseenSite(), late: callSite(inner) });
    const publicMethod = lockCall(
      () => inner(),
      () => true,
    );
    const unforeseen = lockCall(() => inner());
    const line = (stack: string | undefined) =>
      parseStack(stack).find((frame) => frame.file.endsWith('locks-sites.test.ts'))?.line;
    const callLine = line(new Error().stack)! + 1;
    const { foreseen } = publicMethod();
    const { foreseen: none, late } = unforeseen();
    expect(line(foreseen?.stack)).toBe(callLine);
    expect(none).toBeUndefined();
    expect(line(late.stack)).toBe(callLine + 1);
  });
});
