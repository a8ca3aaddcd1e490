import { createHook, type AsyncHook } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import { origins } from './origins';
import { captureStack, type LazyStack } from './stack';

/**
 * One live async resource. The resource object itself is held strongly: every non-promise type
 * emits `destroy` when it closes, which is when the record is dropped, so nothing outlives its
 * resource. Promises are recorded without their object, so the collector can still reclaim them.
 */
export interface ResourceRecord<Owner> {
  asyncId: number;
  type: string;
  triggerAsyncId: number;
  resource: object | undefined;
  owner: Owner | undefined;
  /** The user's call that this resource was created on behalf of (see `origins`). */
  origin: LazyStack | undefined;
  createdAt: number;
  stack: LazyStack;
}

/** Work that always runs on its own on the current turn: never the reason anything hangs. */
const ALWAYS_SETTLES = new Set(['TickObject', 'Microtask']);
/** Process-wide singletons that live as long as the process: never a test's doing. */
const PROCESS_WIDE = new Set(['DNSCHANNEL']);

export interface TrackerOptions<Owner> {
  /** Who is responsible for work started right now (the running test or hook), if anyone. */
  currentOwner: () => Owner | undefined;
  /** Record promise creation sites too. Costly: a stack per promise. */
  promises: boolean;
}

/**
 * Records every async resource created while enabled, with its creation stack and owner, and
 * forgets it once it is destroyed. Framework-agnostic: the owner is whatever the caller says.
 */
export class ResourceTracker<Owner> {
  private readonly records = new Map<number, ResourceRecord<Owner>>();
  private readonly hook: AsyncHook;
  /** Set while hangwatch runs its own code, so its resources never appear in a report. */
  private suspended = 0;

  constructor(options: TrackerOptions<Owner>) {
    const init = (asyncId: number, type: string, triggerAsyncId: number, resource: object) => {
      if (this.suspended > 0 || ALWAYS_SETTLES.has(type) || PROCESS_WIDE.has(type)) return;
      const isPromise = type === 'PROMISE';
      if (isPromise && !options.promises) return;
      // Resources Node creates from a handle's own callback (a server accepting a connection)
      // run outside any async context: they belong to whoever created the handle.
      const trigger = this.records.get(triggerAsyncId);
      this.records.set(asyncId, {
        asyncId,
        type,
        triggerAsyncId,
        resource: isPromise ? undefined : resource,
        owner: options.currentOwner() ?? trigger?.owner,
        origin: origins.getStore() ?? trigger?.origin,
        createdAt: performance.now(),
        stack: captureStack(init),
      });
    };
    const forget = (asyncId: number) => {
      this.records.delete(asyncId);
    };
    const callbacks = {
      init,
      destroy: forget,
      ...(options.promises ? { promiseResolve: forget } : {}),
      // Node 24.9+/22.20+: skip promise hooks entirely unless promise sites are wanted. Older Node
      // ignores the option and calls `init` for promises, which returns at once above.
      trackPromises: options.promises,
    };
    this.hook = createHook(callbacks);
  }

  enable(): void {
    this.hook.enable();
  }

  disable(): void {
    this.hook.disable();
    this.records.clear();
  }

  /** Runs hangwatch's own code without recording what it creates. */
  untracked<T>(fn: () => T): T {
    this.suspended++;
    try {
      return fn();
    } finally {
      this.suspended--;
    }
  }

  get(asyncId: number): ResourceRecord<Owner> | undefined {
    return this.records.get(asyncId);
  }

  /** Live records, oldest first. */
  live(): ResourceRecord<Owner>[] {
    return [...this.records.values()];
  }

  get size(): number {
    return this.records.size;
  }
}
