import * as fs from 'node:fs';
import * as path from 'node:path';
import { DeadlockError } from '../core/locks/errors';
import { describeTestedVersions, isTestedVersion } from './async-mutex-version';
import type { LockReporter } from '../core/locks/reporter';
import { LOCK_KEY as LOCK, lockGraph, noteOnce, publishedRootDir } from '../core/locks/registry';
import type { DeadlockFailure, Holding, Lock, Wait } from '../core/locks/types';
import { callSite, foreseenSite, lockCall } from '../core/locks/sites';
import { captureStack, type LazyStack } from '../core/stack';

/**
 * async-mutex, instrumented. The hangwatch presets map `async-mutex` here; this module loads the
 * real package by absolute path (so the mapping does not loop) and wraps its one mechanism,
 * `Semaphore`, once: Mutex, withTimeout, tryAcquire and runExclusive all go through it. Every
 * grant, release and wait is reported to the lock graph; nothing else changes, so the same
 * application code behaves as before, only deadlocks fail fast with a DeadlockError.
 */

interface QueueEntry {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  weight: number;
  priority: number;
  [WAIT]?: Wait;
}

interface UnlockWaiter {
  resolve: () => void;
  priority: number;
  [WAIT]?: Wait;
}

/** The private parts of async-mutex 0.5's Semaphore this adapter relies on. */
interface RealSemaphore {
  _value: number;
  _queue: QueueEntry[];
  _weightedWaiters: UnlockWaiter[][];
  acquire(weight?: number, priority?: number): Promise<[number, () => void]>;
  release(weight?: number): void;
  runExclusive<T>(callback: (value: number) => T, weight?: number, priority?: number): Promise<T>;
  waitForUnlock(weight?: number, priority?: number): Promise<void>;
  cancel(): void;
  _dispatchItem(item: QueueEntry): void;
  _newReleaser(weight: number): () => void;
  _couldLockImmediately(weight: number, priority: number): boolean;
}

type SemaphoreClass = new (value: number, cancelError?: Error) => RealSemaphore;

/** The public methods of async-mutex's Mutex whose callers are acquisition sites. */
interface MutexPrototype {
  _semaphore: Instrumented;
  acquire(priority?: number): Promise<() => void>;
  runExclusive<T>(callback: () => T, priority?: number): Promise<T>;
  waitForUnlock(priority?: number): Promise<void>;
}

const WAIT = Symbol('hangwatch.wait');
/** The acquisition being granted right now, for `_newReleaser` to turn into a holding. */
const GRANTING = Symbol('hangwatch.granting');
const RELEASING = Symbol('hangwatch.releasing');
const INSTRUMENTED = Symbol.for('hangwatch.instrumented');

type Instrumented = RealSemaphore & {
  [LOCK]: Lock;
  [GRANTING]?: { flow: Holding['flow']; wait?: Wait };
  [RELEASING]?: boolean;
};

/** Bounded waits (withTimeout, tryAcquire) end on their own and are never deadlocks. */
let boundedDepth = 0;

/** The real package's directory and version, found from the project (not from this mapping). */
function findPackage(name: string): { dir: string; version: string } {
  const paths = [publishedRootDir(), process.cwd(), __dirname].filter(
    (dir): dir is string => typeof dir === 'string',
  );
  let manifest: string;
  try {
    manifest = require.resolve(`${name}/package.json`, { paths });
  } catch {
    throw new Error(
      `hangwatch: cannot find module '${name}' (the preset maps it to an instrumented copy of the real package; install ${name} in your project).`,
    );
  }
  const { version } = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { version?: unknown };
  return { dir: path.dirname(manifest), version: typeof version === 'string' ? version : '' };
}

/* eslint-disable @typescript-eslint/no-require-imports -- the real package is loaded by path, inside the caller's module registry */
function instrument(
  libDir: string,
  exportsObject: Record<string, unknown>,
): Record<string, unknown> {
  const semaphoreModule = require(path.join(libDir, 'Semaphore.js')) as { default: SemaphoreClass };
  const withTimeoutModule = require(path.join(libDir, 'withTimeout.js')) as {
    withTimeout: (sync: unknown, timeout: number, error?: Error) => unknown;
  };
  const mutexModule = require(path.join(libDir, 'Mutex.js')) as {
    default: { prototype: MutexPrototype };
  };
  if ((semaphoreModule.default as unknown as Record<symbol, unknown>)[INSTRUMENTED]) {
    return exportsObject;
  }
  const graph = lockGraph();
  const Real = semaphoreModule.default;
  class Semaphore extends Real {
    constructor(value: number, cancelError?: Error) {
      super(value, cancelError);
      const site = captureStack(undefined, 8);
      (this as unknown as Instrumented)[LOCK] = graph.createLock({
        kind: value === 1 ? 'mutex' : 'semaphore',
        capacity: value,
        site,
        // `mutex.release()` releases without the function acquire() returned.
        releasableWithoutHandle: true,
      });
    }
  }
  const sites = siteRules(graph);
  instrumentPrototype(
    Semaphore.prototype as unknown as Instrumented,
    Real.prototype as unknown as RealSemaphore,
    graph,
    sites,
  );
  // Sites are captured above the method the user called, however deep async-mutex's own
  // compiled generator frames go below it.
  const mutexProto = mutexModule.default.prototype;
  mutexProto.acquire = lockCall(mutexProto.acquire, (mutex: MutexPrototype, [priority]) =>
    sites.acquire(mutex._semaphore, 1, priority),
  );
  mutexProto.runExclusive = lockCall(mutexProto.runExclusive, (mutex: MutexPrototype, args) =>
    sites.acquire(mutex._semaphore, 1, args[1]),
  );
  mutexProto.waitForUnlock = lockCall(mutexProto.waitForUnlock, (mutex: MutexPrototype, args) =>
    sites.unlock(mutex._semaphore, 1, args[0]),
  );
  Object.defineProperty(Semaphore, 'name', { value: 'Semaphore' });
  Object.defineProperty(Semaphore, INSTRUMENTED, { value: true });
  // Mutex and index.js read these exports at call time, so replacing them reaches every path.
  semaphoreModule.default = Semaphore as unknown as SemaphoreClass;
  const realWithTimeout = withTimeoutModule.withTimeout;
  withTimeoutModule.withTimeout = function withTimeout(sync, timeout, error) {
    const limited = realWithTimeout(sync, timeout, error) as Record<
      string,
      (...args: unknown[]) => unknown
    >;
    // A Mutex's methods take (priority), a Semaphore's (weight, priority); runExclusive a callback first.
    const mutex = (sync as Partial<MutexPrototype>)._semaphore;
    const semaphore = mutex ?? (sync as Instrumented);
    const weightAndPriority = (args: unknown[]): [number | undefined, number | undefined] =>
      (mutex ? [1, args[0]] : [args[0], args[1]]) as [number | undefined, number | undefined];
    for (const method of ['acquire', 'waitForUnlock', 'runExclusive'] as const) {
      const original = limited[method];
      limited[method] = lockCall(
        function (this: unknown, ...args: unknown[]) {
          boundedDepth++;
          try {
            return original.apply(this, args);
          } finally {
            boundedDepth--;
          }
        },
        (_self: unknown, args: unknown[]) => {
          const [weight, priority] = weightAndPriority(
            method === 'runExclusive' ? args.slice(1) : args,
          );
          return method === 'waitForUnlock'
            ? sites.unlock(semaphore, weight, priority)
            : sites.acquire(semaphore, weight, priority);
        },
      );
    }
    return limited;
  };
  return exportsObject;
}

/**
 * Whether a call records its site, decided by the public method before it runs (see
 * `core/locks/sites`): when it will wait, or when the graph wants the acquisition's.
 */
function siteRules(graph: LockReporter) {
  return {
    acquire(semaphore: Instrumented, weight = 1, priority = 0): boolean {
      const lock = semaphore[LOCK];
      if (!lock) return false;
      return graph.wantsCallSite(lock, !semaphore._couldLockImmediately(weight, priority));
    },
    unlock(semaphore: Instrumented, weight = 1, priority = 0): boolean {
      return semaphore[LOCK] !== undefined && !semaphore._couldLockImmediately(weight, priority);
    },
  };
}

function instrumentPrototype(
  proto: Instrumented,
  real: RealSemaphore,
  graph: LockReporter,
  sites: ReturnType<typeof siteRules>,
): void {
  const failTask =
    (semaphore: Instrumented, entry: QueueEntry, site: LazyStack) => (failure: DeadlockFailure) => {
      const at = semaphore._queue.indexOf(entry);
      if (at !== -1) semaphore._queue.splice(at, 1);
      entry.reject(new DeadlockError(failure.message, failure.deadlock, site));
    };

  function acquire(this: Instrumented, weight = 1, priority = 0) {
    const lock = this[LOCK];
    if (!lock || weight <= 0) return real.acquire.call(this, weight, priority);
    const flow = graph.acquiringFlow();
    const queued = this._queue.length;
    this[GRANTING] = { flow };
    let promise: Promise<[number, () => void]>;
    try {
      promise = real.acquire.call(this, weight, priority);
    } finally {
      this[GRANTING] = undefined;
    }
    // Every earlier entry carries its wait: the new one (if it had to queue) is the one without.
    const entry =
      this._queue.length > queued ? this._queue.find((candidate) => !candidate[WAIT]) : undefined;
    if (entry) {
      const site = callSite(acquire);
      entry[WAIT] = graph.wait({
        lock,
        flow,
        weight,
        site,
        bounded: boundedDepth > 0,
        onDeadlock: failTask(this, entry, site),
      });
    }
    return promise;
  }
  proto.acquire = lockCall(acquire, (semaphore: Instrumented, [weight, priority]) =>
    sites.acquire(semaphore, weight, priority),
  );

  proto._dispatchItem = function _dispatchItem(this: Instrumented, item: QueueEntry) {
    const wait = item[WAIT];
    const previous = this[GRANTING];
    if (wait) this[GRANTING] = { flow: wait.flow, wait };
    try {
      real._dispatchItem.call(this, item);
    } finally {
      this[GRANTING] = previous;
    }
  };

  proto._newReleaser = function _newReleaser(this: Instrumented, weight: number) {
    const releaser = real._newReleaser.call(this, weight);
    const granting = this[GRANTING];
    if (!granting || !this[LOCK]) return releaser;
    const lock = this[LOCK];
    const holding = granting.wait
      ? graph.grant(granting.wait)
      : graph.hold({ lock, flow: granting.flow, weight, site: foreseenSite() });
    let released = false;
    const release = () => {
      if (!released) {
        released = true;
        graph.release(holding);
      }
      this[RELEASING] = true;
      try {
        releaser();
      } finally {
        this[RELEASING] = false;
      }
    };
    // runExclusive keeps its own release until its callback settles: only bare ones are handed out.
    if (granting.flow.kind !== 'scope') graph.watchRelease(holding, release);
    return release;
  };

  proto.release = function release(this: Instrumented, weight = 1) {
    if (!this[RELEASING] && this[LOCK] && weight > 0) graph.releaseSome(this[LOCK], weight);
    real.release.call(this, weight);
  };

  proto.runExclusive = lockCall(
    function runExclusive<T>(
      this: Instrumented,
      callback: (value: number) => T,
      weight?: number,
      priority?: number,
    ) {
      return graph.runScope(() =>
        real.runExclusive.call(this, callback, weight, priority),
      ) as Promise<T>;
    },
    (semaphore: Instrumented, [, weight, priority]) => sites.acquire(semaphore, weight, priority),
  );

  function waitForUnlock(this: Instrumented, weight = 1, priority = 0) {
    const lock = this[LOCK];
    if (!lock || weight <= 0 || this._couldLockImmediately(weight, priority)) {
      return real.waitForUnlock.call(this, weight, priority);
    }
    const site = callSite(waitForUnlock);
    const flow = graph.currentFlow();
    const bounded = boundedDepth > 0;
    return new Promise<void>((resolve, reject) => {
      const waiters = (this._weightedWaiters[weight - 1] ??= []);
      const known = new Set(waiters);
      void real.waitForUnlock.call(this, weight, priority);
      const entry = waiters.find((candidate) => !known.has(candidate));
      if (!entry) return resolve();
      const wait = graph.wait({
        lock,
        flow,
        weight,
        mode: 'unlock',
        site,
        bounded,
        onDeadlock: (failure) => {
          const list = this._weightedWaiters[weight - 1] ?? [];
          const at = list.indexOf(entry);
          if (at !== -1) list.splice(at, 1);
          reject(new DeadlockError(failure.message, failure.deadlock, site));
        },
      });
      entry.resolve = () => {
        graph.stopWaiting(wait);
        resolve();
      };
    });
  }
  proto.waitForUnlock = lockCall(waitForUnlock, (semaphore: Instrumented, [weight, priority]) =>
    sites.unlock(semaphore, weight, priority),
  );

  proto.cancel = function cancel(this: Instrumented) {
    for (const entry of this._queue) if (entry[WAIT]) graph.stopWaiting(entry[WAIT]);
    real.cancel.call(this);
  };
}

const asyncMutex = findPackage('async-mutex');
const libDir = path.join(asyncMutex.dir, 'lib');
const realExports = require(path.join(libDir, 'index.js')) as Record<string, unknown>;
const tested = isTestedVersion(asyncMutex.version);
if (!tested) {
  noteOnce(
    `hangwatch: async-mutex ${asyncMutex.version || '(no version)'} is outside the versions its lock tracking was tested with (${describeTestedVersions()}): its locks run uninstrumented, so their deadlocks are not detected.`,
  );
}
const instrumented = tested ? instrument(libDir, realExports) : realExports;
module.exports = instrumented;
/* eslint-enable @typescript-eslint/no-require-imports */

/*
 * Never runs: it names the exports for cjs-module-lexer, with which Jest 29 lets an ES module
 * `import { Mutex } from 'async-mutex'` (mapped here) see a CommonJS module's names.
 */
const { Mutex, Semaphore, withTimeout, tryAcquire, E_TIMEOUT, E_ALREADY_LOCKED, E_CANCELED } =
  instrumented;
// eslint-disable-next-line @typescript-eslint/no-unused-expressions, no-constant-binary-expression
0 &&
  (module.exports = {
    Mutex,
    Semaphore,
    withTimeout,
    tryAcquire,
    E_TIMEOUT,
    E_ALREADY_LOCKED,
    E_CANCELED,
  });
