import fc from 'fast-check';
import { newFlow, type Flow } from '../../src/core/locks/flows';
import type { Holding, Lock, Wait } from '../../src/core/locks/types';
import type { LockOrderInversion } from '../../src/core/model';
import { captureStack } from '../../src/core/stack';
import { testGraph } from '../helpers/lock-graph';

/**
 * Random lock programs run by a simulated scheduler over FIFO mutexes. Each flow takes its locks
 * in its program's order, nested, then releases them in reverse. The scheduler interleaves the
 * flows as the generated schedule says.
 */
interface Simulation {
  inversions: LockOrderInversion[];
  deadlockReports: string[];
  /** The run ended with flows that could never go on (a real deadlock). */
  stuck: boolean;
}

function simulate(programs: number[][], lockCount: number, schedule: number[]): Simulation {
  const inversions: LockOrderInversion[] = [];
  const graph = testGraph(inversions);
  const locks: Lock[] = Array.from({ length: lockCount }, (_, index) =>
    graph.createLock({ kind: 'mutex', capacity: 1, name: `L${index}` }),
  );
  const holder = new Map<Lock, Holding>();
  const queues = new Map<Lock, { flow: number; wait: Wait }[]>();
  const deadlockReports: string[] = [];
  const flows: Flow[] = programs.map(() => newFlow('bare', undefined, undefined));
  const step = programs.map(() => 0);
  const held: Holding[][] = programs.map(() => []);
  const waiting = programs.map(() => false);
  const failed = programs.map(() => false);
  const done = (index: number) => failed[index] || step[index] >= programs[index].length * 2;

  const grant = (lock: Lock) => {
    const next = queues.get(lock)?.shift();
    if (!next) return;
    const holding = graph.grant(next.wait);
    holder.set(lock, holding);
    held[next.flow].push(holding);
    waiting[next.flow] = false;
    step[next.flow]++;
  };

  const advance = (index: number) => {
    const program = programs[index];
    if (step[index] < program.length) {
      const lock = locks[program[step[index]]];
      if (!holder.has(lock)) {
        const holding = graph.hold({ lock, flow: flows[index], site: captureStack(undefined, 2) });
        holder.set(lock, holding);
        held[index].push(holding);
        step[index]++;
        return;
      }
      waiting[index] = true;
      const wait = graph.wait({
        lock,
        flow: flows[index],
        site: captureStack(undefined, 2),
        onDeadlock: (f) => {
          deadlockReports.push(f.deadlock.kind);
          failed[index] = true;
          waiting[index] = false;
          // As a DeadlockError would: the flow unwinds and releases what it holds.
          for (const holding of held[index].reverse()) {
            graph.release(holding);
            holder.delete(holding.lock);
            grant(holding.lock);
          }
          held[index] = [];
        },
      });
      if (!failed[index]) {
        const queue = queues.get(lock) ?? [];
        queue.push({ flow: index, wait });
        queues.set(lock, queue);
      }
      return;
    }
    const holding = held[index].pop()!;
    graph.release(holding);
    holder.delete(holding.lock);
    step[index]++;
    grant(holding.lock);
  };

  let cursor = 0;
  for (let guard = 0; guard < 10_000; guard++) {
    const runnable = programs.map((_, index) => index).filter((i) => !done(i) && !waiting[i]);
    if (runnable.length === 0) break;
    advance(runnable[schedule[cursor++ % schedule.length] % runnable.length]);
  }
  const stuck = programs.some((_, index) => !done(index));
  return { inversions, deadlockReports, stuck };
}

const LOCKS = 5;
const program = fc
  .uniqueArray(fc.integer({ min: 0, max: LOCKS - 1 }), { minLength: 1, maxLength: LOCKS })
  .map((locks) => [...locks].sort((a, b) => a - b));
const schedule = fc.array(fc.nat(), { minLength: 1, maxLength: 50 });

test('programs that take locks in one consistent order never report anything, and never hang', () => {
  fc.assert(
    fc.property(fc.array(program, { minLength: 1, maxLength: 5 }), schedule, (programs, order) => {
      const result = simulate(programs, LOCKS, order);
      expect(result.inversions).toEqual([]);
      expect(result.deadlockReports).toEqual([]);
      expect(result.stuck).toBe(false);
    }),
    { numRuns: 300 },
  );
});

test('two flows taking a pair in opposite orders always report the inversion', () => {
  fc.assert(
    fc.property(
      fc.array(program, { maxLength: 3 }),
      fc.integer({ min: 0, max: LOCKS - 2 }),
      fc.integer({ min: 1, max: LOCKS - 1 }),
      schedule,
      (others, low, offset, order) => {
        const high = Math.min(LOCKS - 1, low + offset);
        fc.pre(high !== low);
        // Run sequentially first (no contention), so both orders surely happen.
        const sequential = simulate([[low, high], [high, low], ...others], LOCKS, [0]);
        expect(sequential.inversions.length).toBeGreaterThanOrEqual(1);
        // Any interleaving: either the orders both happen (an inversion) or a deadlock is caught.
        const result = simulate([[low, high], [high, low], ...others], LOCKS, order);
        expect(result.inversions.length + result.deadlockReports.length).toBeGreaterThanOrEqual(1);
        expect(result.stuck).toBe(false);
      },
    ),
    { numRuns: 300 },
  );
});

test('a schedule that forces the cycle is always reported as a deadlock', () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: LOCKS }), (ring) => {
      // Flow i takes lock i, then lock i+1: stepping every flow once before any second step
      // makes each hold its first lock when it asks for the next one.
      const programs = Array.from({ length: ring }, (_, index) => [index, (index + 1) % ring]);
      const result = simulate(programs, LOCKS, [0]);
      const forced = simulateRoundRobin(programs);
      expect(result.stuck).toBe(false);
      expect(forced.deadlockReports).toContain('cycle');
      expect(forced.stuck).toBe(false);
    }),
  );
});

/** Steps flows 0, 1, 2, ... in turn: each takes its first lock before anyone takes a second. */
function simulateRoundRobin(programs: number[][]): Simulation {
  const order = Array.from({ length: 200 }, (_, index) => index);
  return simulate(
    programs,
    LOCKS,
    order.map((index) => index % programs.length),
  );
}

/**
 * Real async code through hangwatch/sync, so flows are found the way they are in a test: bare
 * `await acquire()`s, `runExclusive` scopes, helpers a holder starts together with
 * `Promise.all`, fire-and-forget jobs, awaits between steps. Every flow takes locks in one global
 * order and a helper only takes locks above those its starters hold: nothing can deadlock, so
 * nothing may be reported.
 */
interface Job {
  lock: number;
  exclusive: boolean;
  /** Microtask turns to wait while holding the lock. */
  pause: number;
  helpers: Job[];
  /** Helpers started without awaiting them (they wait for this job's lock at most). */
  detached: boolean;
}

const job: fc.Memo<Job> = fc.memo((depth) =>
  fc.record({
    lock: fc.integer({ min: 0, max: LOCKS - 1 }),
    exclusive: fc.boolean(),
    pause: fc.integer({ min: 0, max: 3 }),
    helpers: depth > 1 ? fc.array(job(depth - 1), { maxLength: 3 }) : fc.constant([]),
    detached: fc.boolean(),
  }),
);

test('real flows: helpers started under held locks and detached jobs never report a deadlock', async () => {
  const { Mutex, DeadlockError } = await import('../../src/sync');
  await fc.assert(
    fc.asyncProperty(fc.array(job(3), { minLength: 1, maxLength: 4 }), async (jobs) => {
      const locks = Array.from({ length: LOCKS }, (_, index) => new Mutex(`P${index}`));
      const turns = async (count: number) => {
        for (let i = 0; i < count; i++) await Promise.resolve();
      };
      const detachedRuns: Promise<unknown>[] = [];
      /** `floor`: locks below it may be held by whoever started this job. */
      const run = async (work: Job, floor: number): Promise<void> => {
        if (work.lock < floor) return;
        const body = async () => {
          await turns(work.pause);
          const helpers = work.helpers.map((helper) => run(helper, work.lock + 1));
          if (work.detached) detachedRuns.push(Promise.all(helpers));
          else await Promise.all(helpers);
        };
        const lock = locks[work.lock];
        if (work.exclusive) {
          await lock.runExclusive(body);
        } else {
          const release = await lock.acquire();
          try {
            await body();
          } finally {
            release();
          }
        }
      };
      const results = await Promise.allSettled([...jobs.map((work) => run(work, 0))]);
      const settledDetached = await Promise.allSettled(detachedRuns);
      for (const result of [...results, ...settledDetached]) {
        if (result.status === 'rejected') {
          expect(result.reason).not.toBeInstanceOf(DeadlockError);
          throw result.reason;
        }
      }
    }),
    { numRuns: 200 },
  );
});
