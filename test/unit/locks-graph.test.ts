import type { LockGraph } from '../../src/core/locks/graph';
import { newFlow, type Flow } from '../../src/core/locks/flows';
import type { DeadlockFailure, Lock } from '../../src/core/locks/types';
import type { LockOrderInversion } from '../../src/core/model';
import { captureStack } from '../../src/core/stack';
import { testGraph } from '../helpers/lock-graph';

const site = () => captureStack(undefined, 4);

function waitOn(graph: LockGraph, lock: Lock, flow: Flow, failures: DeadlockFailure[]) {
  return graph.wait({ lock, flow, site: site(), onDeadlock: (failure) => failures.push(failure) });
}

describe('wait-for graph', () => {
  test('a flow waiting for a mutex it holds is a self-deadlock', () => {
    const graph = testGraph();
    const lock = graph.createLock({ kind: 'mutex', capacity: 1, name: 'accounts' });
    const flow = newFlow('bare', undefined, undefined);
    graph.hold({ lock, flow, site: site() });
    const failures: DeadlockFailure[] = [];
    waitOn(graph, lock, flow, failures);
    expect(failures).toHaveLength(1);
    expect(failures[0].deadlock.kind).toBe('self');
    expect(failures[0].message).toContain('waits for lock "accounts" that it already holds');
    expect(lock.waits.size).toBe(0);
  });

  test('a runExclusive scope nested in one holding the lock is a self-deadlock', () => {
    const graph = testGraph();
    const lock = graph.createLock({ kind: 'mutex', capacity: 1, name: 'ledger' });
    const outer = newFlow('scope', undefined, undefined);
    const inner = newFlow('scope', outer, undefined);
    graph.hold({ lock, flow: outer, site: site() });
    const failures: DeadlockFailure[] = [];
    waitOn(graph, lock, inner, failures);
    expect(failures.map((failure) => failure.deadlock.kind)).toEqual(['self']);
  });

  test('a bare holder may release before awaiting its child: not certain, not reported', () => {
    const graph = testGraph();
    const lock = graph.createLock({ kind: 'mutex', capacity: 1, name: 'inventory' });
    const parent = newFlow('bare', undefined, undefined);
    const child = newFlow('scope', parent, undefined);
    graph.hold({ lock, flow: parent, site: site() });
    const failures: DeadlockFailure[] = [];
    waitOn(graph, lock, child, failures);
    expect(failures).toEqual([]);
  });

  test('a cycle of any length fails the wait that closes it, naming every step', () => {
    for (const length of [2, 3, 5]) {
      const graph = testGraph();
      const locks = Array.from({ length }, (_, index) =>
        graph.createLock({ kind: 'mutex', capacity: 1, name: `L${index}` }),
      );
      const flows = locks.map(() => newFlow('bare', undefined, undefined));
      flows.forEach((flow, index) => graph.hold({ lock: locks[index], flow, site: site() }));
      const failures: DeadlockFailure[] = [];
      for (let index = 0; index < length - 1; index++) {
        waitOn(graph, locks[index + 1], flows[index], failures);
      }
      expect(failures).toEqual([]);
      waitOn(graph, locks[0], flows[length - 1], failures);
      expect(failures).toHaveLength(1);
      expect(failures[0].deadlock.kind).toBe('cycle');
      expect(failures[0].deadlock.steps.map((step) => step.waitsFor.lock).sort()).toEqual(
        locks.map((lock) => lock.name).sort(),
      );
      expect(failures[0].message).toContain('*** DEADLOCK ***');
    }
  });

  test('a semaphore is only deadlocked when no holder that can move would free enough', () => {
    const graph = testGraph();
    const pool = graph.createLock({ kind: 'semaphore', capacity: 2, name: 'pool' });
    const other = graph.createLock({ kind: 'mutex', capacity: 1, name: 'other' });
    const [a, b, c] = [0, 1, 2].map(() => newFlow('bare', undefined, undefined));
    graph.hold({ lock: pool, flow: a, site: site() });
    graph.hold({ lock: pool, flow: b, site: site() });
    graph.hold({ lock: other, flow: c, site: site() });
    const failures: DeadlockFailure[] = [];
    waitOn(graph, pool, c, failures); // b can still release: fine
    expect(failures).toEqual([]);
    waitOn(graph, other, a, failures); // a waits for c, c waits for the pool, b still free
    expect(failures).toEqual([]);
    waitOn(graph, other, b, failures); // now both permit holders wait for c: deadlock
    expect(failures.map((failure) => failure.deadlock.kind)).toEqual(['cycle']);
  });

  test('a holder whose test ended fails its waiters as abandoned', () => {
    const graph = testGraph();
    const lock = graph.createLock({ kind: 'mutex', capacity: 1, name: 'cache' });
    const owner = {};
    const holder = newFlow('bare', undefined, owner);
    graph.hold({ lock, flow: holder, site: site() });
    const failures: DeadlockFailure[] = [];
    waitOn(graph, lock, newFlow('bare', undefined, {}), failures);
    expect(failures).toEqual([]);
    graph.endOwner(owner, 'the end of test "first"');
    expect(failures.map((failure) => failure.deadlock.kind)).toEqual(['abandoned']);
    expect(failures[0].message).toContain('ended at the end of test "first" without releasing');
  });

  test('bounded waits (timeouts, tryAcquire) are never deadlocks', () => {
    const graph = testGraph();
    const lock = graph.createLock({ kind: 'mutex', capacity: 1, name: 'm' });
    const flow = newFlow('bare', undefined, undefined);
    graph.hold({ lock, flow, site: site() });
    const failures: DeadlockFailure[] = [];
    graph.wait({
      lock,
      flow,
      site: site(),
      bounded: true,
      onDeadlock: (failure) => failures.push(failure),
    });
    expect(failures).toEqual([]);
  });

  test('released and granted locks leave the snapshot', () => {
    const graph = testGraph();
    const lock = graph.createLock({ kind: 'mutex', capacity: 1, name: 'm' });
    const [a, b] = [newFlow('bare', undefined, undefined), newFlow('bare', undefined, undefined)];
    const holding = graph.hold({ lock, flow: a, site: site() });
    const wait = waitOn(graph, lock, b, []);
    expect(graph.snapshot()?.locks[0]).toMatchObject({ name: 'm', holders: [{}], waiters: [{}] });
    graph.release(holding);
    graph.release(graph.grant(wait));
    expect(graph.snapshot()).toBeUndefined();
  });
});

describe('lock order', () => {
  test('an inversion is reported once per pair, with both orders', () => {
    const inversions: LockOrderInversion[] = [];
    const graph = testGraph(inversions);
    const users = graph.createLock({ kind: 'mutex', capacity: 1, name: 'users' });
    const orders = graph.createLock({ kind: 'mutex', capacity: 1, name: 'orders' });
    for (let round = 0; round < 2; round++) {
      const first = newFlow('bare', undefined, undefined);
      const h1 = graph.hold({ lock: users, flow: first, site: site() });
      const h2 = graph.hold({ lock: orders, flow: first, site: site() });
      graph.release(h2);
      graph.release(h1);
      const second = newFlow('bare', undefined, undefined);
      const h3 = graph.hold({ lock: orders, flow: second, site: site() });
      const h4 = graph.hold({ lock: users, flow: second, site: site() });
      graph.release(h4);
      graph.release(h3);
    }
    expect(inversions).toHaveLength(1);
    expect(inversions[0]).toMatchObject({ first: 'users', second: 'orders' });
  });
});
