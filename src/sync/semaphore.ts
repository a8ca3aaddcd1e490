import { realClearTimeout, realSetTimeout } from '../core/real-timers';
import { DeadlockError, LockTimeoutError } from '../core/locks/errors';
import { lockGraph } from '../core/locks/registry';
import { callSite, foreseenSite, lockCall } from '../core/locks/sites';
import type { Holding, Lock, Wait } from '../core/locks/types';
import { captureStack } from '../core/stack';

export type Release = () => void;

/** Internal: `Semaphore[WANTS_SITE](semaphore, weight)`, for the facades' public methods. */
export const WANTS_SITE = Symbol('hangwatch.wantsSite');

export interface AcquireOptions {
  /**
   * Give up after this many milliseconds with a LockTimeoutError saying who holds the lock. Real
   * time: `jest.useFakeTimers()` cannot freeze it.
   */
  timeout?: number;
  /** Give up when this signal aborts, rejecting with its reason. */
  signal?: AbortSignal;
}

interface Waiter {
  weight: number;
  resolve: (release: Release) => void;
  wait?: Wait;
}

/**
 * A counting semaphore that reports to hangwatch's lock graph: every Mutex, RWLock and Semaphore
 * of hangwatch/sync is this one mechanism. Fair (first come, first served), not reentrant.
 */
export class Semaphore {
  readonly #lock: Lock;
  #available: number;
  readonly #queue: Waiter[] = [];

  constructor(permits: number, name?: string, kind: Lock['kind'] = 'semaphore') {
    if (!Number.isInteger(permits) || permits <= 0) {
      throw new RangeError(`Semaphore permits must be a positive integer, got ${permits}`);
    }
    this.#available = permits;
    this.#lock = lockGraph().createLock({
      kind,
      capacity: permits,
      name,
      site: captureStack(undefined, 8),
    });
  }

  get available(): number {
    return this.#available;
  }

  acquire(options: AcquireOptions = {}, weight = 1): Promise<Release> {
    return this.#acquire(options, weight);
  }

  /** Takes `weight` permits now if free, else returns `undefined`. */
  tryAcquire(weight = 1): Release | undefined {
    if (this.#queue.length > 0 || this.#available < weight) return undefined;
    const graph = lockGraph();
    return this.#grant(
      graph.hold({ lock: this.#lock, flow: graph.acquiringFlow(), weight, site: foreseenSite() }),
      weight,
    );
  }

  /** Runs `fn` holding `weight` permits, as its own flow, and releases them however it ends. */
  runExclusive<T>(fn: () => T | Promise<T>, options: AcquireOptions = {}, weight = 1): Promise<T> {
    return lockGraph().runScope(async () => {
      const release = await this.#acquire(options, weight);
      try {
        return await fn();
      } finally {
        release();
      }
    });
  }

  /** Called synchronously inside a public method: the site, when recorded, is its caller's. */
  #acquire(options: AcquireOptions, weight: number): Promise<Release> {
    const graph = lockGraph();
    const flow = graph.acquiringFlow();
    if (this.#queue.length === 0 && this.#available >= weight) {
      this.#available -= weight;
      const holding = graph.hold({ lock: this.#lock, flow, weight, site: foreseenSite() });
      return Promise.resolve(this.#grant(holding, 0));
    }
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    const site = callSite(this.acquire);
    return new Promise<Release>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter: Waiter = { weight, resolve };
      const giveUp = (error: unknown) => {
        const at = this.#queue.indexOf(waiter);
        if (at !== -1) this.#queue.splice(at, 1);
        if (waiter.wait) graph.stopWaiting(waiter.wait);
        if (timer) realClearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        reject(error);
      };
      const onAbort = () => giveUp(options.signal?.reason);
      this.#queue.push(waiter);
      waiter.wait = graph.wait({
        lock: this.#lock,
        flow,
        weight,
        site,
        bounded: options.timeout !== undefined || options.signal !== undefined,
        onDeadlock: (failure) => giveUp(new DeadlockError(failure.message, failure.deadlock, site)),
      });
      if (!this.#queue.includes(waiter)) return;
      if (options.timeout !== undefined) {
        // Built now, where the caller stands; its message is filled in when it fires.
        timer = realSetTimeout(() => {
          giveUp(
            new LockTimeoutError(
              `gave up after ${options.timeout} ms waiting for a lock: ${graph.describeHolders(this.#lock)}`,
              site,
            ),
          );
        }, options.timeout);
      }
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const settle = waiter.resolve;
      waiter.resolve = (release) => {
        if (timer) realClearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        settle(release);
      };
    });
  }

  /** `taken`: permits to take now (0 when the caller already did). */
  #grant(holding: Holding, taken: number): Release {
    this.#available -= taken;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      lockGraph().release(holding);
      this.#available += holding.weight;
      this.#dispatch();
    };
    // runExclusive keeps its own release until its callback settles: only bare ones are handed out.
    if (holding.flow.kind !== 'scope') lockGraph().watchRelease(holding, release);
    return release;
  }

  #dispatch(): void {
    while (this.#queue.length > 0 && this.#queue[0].weight <= this.#available) {
      const waiter = this.#queue.shift()!;
      this.#available -= waiter.weight;
      const holding = lockGraph().grant(waiter.wait!);
      waiter.resolve(this.#grant(holding, 0));
    }
  }

  /**
   * Whether taking `weight` permits now records its site (see `core/locks/sites`): when it
   * will wait, or when the graph wants the acquisition's. For the public methods, and Mutex's.
   */
  static [WANTS_SITE](semaphore: Semaphore, weight = 1): boolean {
    const willWait = semaphore.#queue.length > 0 || semaphore.#available < weight;
    return lockGraph().wantsCallSite(semaphore.#lock, willWait);
  }

  static {
    const proto = Semaphore.prototype;
    const wants = (semaphore: Semaphore, weight?: number) =>
      Semaphore[WANTS_SITE](semaphore, weight);
    proto.acquire = lockCall(proto.acquire, (self: Semaphore, [, weight]) => wants(self, weight));
    proto.tryAcquire = lockCall(proto.tryAcquire, (self: Semaphore, [weight]) =>
      wants(self, weight),
    );
    proto.runExclusive = lockCall(proto.runExclusive, (self: Semaphore, [, , weight]) =>
      wants(self, weight),
    );
  }
}
