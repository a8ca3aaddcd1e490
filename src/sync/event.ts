import { DeadlockError } from '../core/locks/errors';
import { lockGraph } from '../core/locks/registry';
import type { Lock, Wait } from '../core/locks/types';
import { callSite, lockCall } from '../core/locks/sites';
import { captureStack } from '../core/stack';

/**
 * A one-shot signal flows wait for (`await ready.wait()`, `ready.set()`). Its waits show in
 * reports, and fail when every flow is blocked and nothing else is pending that could set it.
 */
export class Event {
  readonly #lock: Lock;
  #set = false;
  readonly #waiters = new Set<{ resolve: () => void; wait: Wait }>();

  constructor(name?: string) {
    this.#lock = lockGraph().createLock({
      kind: 'event',
      capacity: 0,
      name,
      site: captureStack(undefined, 8),
    });
  }

  get isSet(): boolean {
    return this.#set;
  }

  wait(): Promise<void> {
    if (this.#set) return Promise.resolve();
    const graph = lockGraph();
    const site = callSite(this.wait);
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        resolve,
        wait: graph.wait({
          lock: this.#lock,
          flow: graph.currentFlow(),
          mode: 'event',
          site,
          onDeadlock: (failure) => {
            this.#waiters.delete(waiter);
            reject(new DeadlockError(failure.message, failure.deadlock, site));
          },
        }),
      };
      this.#waiters.add(waiter);
    });
  }

  set(): void {
    this.#set = true;
    const graph = lockGraph();
    for (const waiter of this.#waiters) {
      graph.stopWaiting(waiter.wait);
      waiter.resolve();
    }
    this.#waiters.clear();
  }

  clear(): void {
    this.#set = false;
  }

  static {
    Event.prototype.wait = lockCall(Event.prototype.wait, (event: Event) => !event.#set);
  }
}
