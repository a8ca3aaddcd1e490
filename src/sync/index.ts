import { lockGraph, lockOf } from '../core/locks/registry';
import { lockCall } from '../core/locks/sites';
import { Semaphore, WANTS_SITE, type AcquireOptions, type Release } from './semaphore';

/**
 * Locks whose deadlocks hangwatch names: `import { Mutex } from 'hangwatch/sync'`. Each is a thin
 * facade over one Semaphore, which reports to the lock graph; see the README "Locks".
 */
export { Semaphore, type AcquireOptions, type Release };
export { Event } from './event';
export { DeadlockError, LockTimeoutError, LockOrderError } from '../core/locks/errors';
/** For other libraries (async-lock, a DB pool) to report their locks: see README "Reporting another library's locks". */
export { lockGraph };
export type { HoldRequest, LockReporter, NewLock, WaitRequest } from '../core/locks/reporter';
export type { DeadlockFailure, Flow, Holding, Lock, Wait } from '../core/locks/types';
/** @deprecated The name `LockReporter` had before its methods took named arguments. */
export type LockGraph = import('../core/locks/reporter').LockReporter;

/**
 * Names an async-mutex `Mutex` or `Semaphore` (instrumented by the hangwatch presets) for reports
 * and lock-order checks: `nameLock(alice.lock, 'account alice')`. Name it when it is made: orders
 * seen before are keyed by where it was constructed.
 */
export function nameLock<T extends object>(lock: T, name: string): T {
  const tracked = lockOf(lock);
  if (!tracked) {
    throw new TypeError(
      'nameLock: not a lock hangwatch tracks (an async-mutex Mutex or Semaphore under a hangwatch preset; hangwatch/sync locks take their name in the constructor).',
    );
  }
  tracked.name = name;
  return lock;
}

/** Runs `fn` as a flow named `name`: reports say `task "name"` for the locks it holds or waits on. */
export function task<T>(name: string, fn: () => T): T {
  return lockGraph().runTask(name, fn);
}

export class Mutex {
  readonly #semaphore: Semaphore;

  /** `name` appears in reports (`new Mutex('accounts')`). */
  constructor(name?: string) {
    this.#semaphore = new Semaphore(1, name, 'mutex');
  }

  get isLocked(): boolean {
    return this.#semaphore.available === 0;
  }

  acquire(options?: AcquireOptions): Promise<Release> {
    return this.#semaphore.acquire(options);
  }

  tryAcquire(): Release | undefined {
    return this.#semaphore.tryAcquire();
  }

  runExclusive<T>(fn: () => T | Promise<T>, options?: AcquireOptions): Promise<T> {
    return this.#semaphore.runExclusive(fn, options);
  }

  // Sites are the callers of these methods, not of the Semaphore inside.
  static {
    const proto = Mutex.prototype;
    const wants = (mutex: Mutex) => Semaphore[WANTS_SITE](mutex.#semaphore, 1);
    proto.acquire = lockCall(proto.acquire, wants);
    proto.tryAcquire = lockCall(proto.tryAcquire, wants);
    proto.runExclusive = lockCall(proto.runExclusive, wants);
  }
}

/** Readers share it, a writer has it alone: one semaphore whose writer takes every permit. */
const ALL_READERS = 2 ** 30;

export class RWLock {
  readonly #semaphore: Semaphore;

  constructor(name?: string) {
    this.#semaphore = new Semaphore(ALL_READERS, name, 'rwlock');
  }

  read(options?: AcquireOptions): Promise<Release> {
    return this.#semaphore.acquire(options, 1);
  }

  write(options?: AcquireOptions): Promise<Release> {
    return this.#semaphore.acquire(options, ALL_READERS);
  }

  runRead<T>(fn: () => T | Promise<T>, options?: AcquireOptions): Promise<T> {
    return this.#semaphore.runExclusive(fn, options, 1);
  }

  runWrite<T>(fn: () => T | Promise<T>, options?: AcquireOptions): Promise<T> {
    return this.#semaphore.runExclusive(fn, options, ALL_READERS);
  }

  static {
    const proto = RWLock.prototype;
    const reads = (lock: RWLock) => Semaphore[WANTS_SITE](lock.#semaphore, 1);
    const writes = (lock: RWLock) => Semaphore[WANTS_SITE](lock.#semaphore, ALL_READERS);
    proto.read = lockCall(proto.read, reads);
    proto.runRead = lockCall(proto.runRead, reads);
    proto.write = lockCall(proto.write, writes);
    proto.runWrite = lockCall(proto.runWrite, writes);
  }
}
