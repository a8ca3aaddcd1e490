import { lockGraph, type Holding, type Lock, type LockReporter, type Wait } from '../../src/sync';
import type { DeadlockFailure } from '../../src/core/locks/types';

/**
 * A mutex another library might write, reporting into hangwatch through `LockReporter` only, as
 * the README shows: its deadlocks are found and its waiters failed like hangwatch/sync's.
 */
class LibraryMutex {
  readonly #locks: LockReporter = lockGraph();
  readonly #lock: Lock;
  #holding: Holding | undefined;
  readonly #queue: { wait: Wait; grant: (release: () => void) => void }[] = [];

  constructor(name: string) {
    this.#lock = this.#locks.createLock({ kind: 'mutex', capacity: 1, name });
  }

  acquire(timeoutMs?: number): Promise<() => void> {
    const flow = this.#locks.acquiringFlow();
    const willWait = this.#holding !== undefined;
    const site = this.#locks.wantsCallSite(this.#lock, willWait)
      ? callerOf(this.acquire)
      : undefined;
    if (!willWait) {
      this.#holding = this.#locks.hold({ lock: this.#lock, flow, site });
      return Promise.resolve(this.#releaser());
    }
    return new Promise((resolve, reject) => {
      const entry = {
        wait: undefined as unknown as Wait,
        grant: resolve,
      };
      entry.wait = this.#locks.wait({
        lock: this.#lock,
        flow,
        site: site!,
        bounded: timeoutMs !== undefined,
        onDeadlock: (failure: DeadlockFailure) => {
          this.#queue.splice(this.#queue.indexOf(entry), 1);
          reject(Object.assign(new Error(failure.message), { deadlock: failure.deadlock }));
        },
      });
      if (entry.wait.lock.waits.has(entry.wait)) this.#queue.push(entry);
      if (timeoutMs !== undefined) {
        setTimeout(() => {
          const at = this.#queue.indexOf(entry);
          if (at === -1) return;
          this.#queue.splice(at, 1);
          this.#locks.stopWaiting(entry.wait);
          reject(new Error(`timed out: ${this.#locks.describeHolders(this.#lock)}`));
        }, timeoutMs);
      }
    });
  }

  runExclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.#locks.runScope(async () => {
      const release = await this.acquire();
      try {
        return await fn();
      } finally {
        release();
      }
    });
  }

  #releaser(): () => void {
    return () => {
      this.#locks.release(this.#holding!);
      this.#holding = undefined;
      const next = this.#queue.shift();
      if (!next) return;
      this.#holding = this.#locks.grant(next.wait);
      next.grant(this.#releaser());
    };
  }
}

function callerOf(fn: (...args: never[]) => unknown): { stack?: string } {
  const site: { stack?: string } = {};
  Error.captureStackTrace(site, fn);
  return site;
}

describe('LockReporter: a third-party lock reporting into the graph', () => {
  test('two flows taking two locks in opposite orders: the one closing the cycle is failed', async () => {
    const alice = new LibraryMutex('alice');
    const bob = new LibraryMutex('bob');
    const transfer = (from: LibraryMutex, to: LibraryMutex) =>
      from.runExclusive(async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        await to.runExclusive(async () => undefined);
      });
    const error = await Promise.all([transfer(alice, bob), transfer(bob, alice)]).catch(
      (caught: unknown) => caught,
    );
    expect((error as { deadlock: { kind: string } }).deadlock.kind).toBe('cycle');
    expect((error as Error).message).toContain('"alice"');
    expect((error as Error).message).toContain('"bob"');
    expect((error as Error).message).toContain('*** DEADLOCK ***');
  });

  test('a scope taking its own lock again is a self-deadlock, failed at once', async () => {
    const cache = new LibraryMutex('cache');
    const error = await cache
      .runExclusive(() => cache.runExclusive(async () => 'never'))
      .catch((caught: unknown) => caught);
    expect((error as Error).message).toContain('waits for lock "cache" that it already holds');
  });

  test('a bounded wait is never a deadlock; its timeout names the holder in words', async () => {
    const ledger = new LibraryMutex('ledger');
    await ledger.acquire();
    const error = await ledger.acquire(20).catch((caught: unknown) => caught);
    expect((error as Error).message).toMatch(
      /^timed out: lock "ledger" is held by flow #\d+ since .*locks-reporter\.test\.ts:\d+:\d+/,
    );
  });
});
