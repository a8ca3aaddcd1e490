import { performance } from 'node:perf_hooks';
import { captureStack, type LazyStack } from '../stack';
import type { Lock } from './types';

/**
 * Where lock calls come from, at a price the hot path can pay. A stack costs 2–4 µs to capture on
 * Node 20–24, as much as an uncontended lock operation itself, so:
 *
 * - a site is captured above the public method the user called (`lockCall`), a few frames deep:
 *   the caller, and two more for when the caller is a library;
 * - waits always record their site (a wait is contention: it is what reports are about);
 * - an uncontended acquisition records its site while its lock's budget lasts (`SiteBudget`):
 *   every acquisition of a lock taken now and then, a sample of a lock taken in a hot loop;
 *   reports name an unrecorded holder by its lock's last recorded acquisition, marked as such.
 *   `lockSites: 'all'` records every one.
 */
const SITE_FRAMES = 3;

type AnyFunction = (...args: never[]) => unknown;

let outermostCall: AnyFunction | undefined;

/**
 * Wraps a public lock method so that a site captured anywhere inside it (however deep the
 * library's own frames go) starts at the method's caller. Nested lock calls keep the outer one.
 */
export function lockCall<T extends AnyFunction>(method: T): T {
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    if (outermostCall !== undefined) return (method as AnyFunction).apply(this, args as never[]);
    outermostCall = wrapped;
    try {
      return (method as AnyFunction).apply(this, args as never[]);
    } finally {
      outermostCall = undefined;
    }
  };
  Object.defineProperty(wrapped, 'name', { value: method.name });
  return wrapped as unknown as T;
}

/** Wraps the named methods of a class's prototype with `lockCall`. */
export function lockCalls(prototype: object, names: string[]): void {
  const methods = prototype as Record<string, AnyFunction>;
  for (const name of names) methods[name] = lockCall(methods[name]);
}

/** The site of the lock call running now; `fallback` is the frame to start above outside `lockCall`. */
export function callSite(fallback: AnyFunction): LazyStack {
  return captureStack(outermostCall ?? fallback, SITE_FRAMES);
}

/** A full budget: this many acquisitions in a row record their sites... */
const SITE_BURST = 64;
/** ...and one more may every 10 ms: at most ~0.3 ms a second of capturing per hot lock. */
const SITES_PER_MS = 0.1;

/** Per-lock token bucket deciding whether an uncontended acquisition records its site. */
export interface SiteBudget {
  tokens: number;
  refilledAt: number;
  /** Acquisitions left before an empty bucket looks at the clock again. */
  skip: number;
}

/** An empty bucket reads the clock once per this many acquisitions, not each time. */
const CLOCK_EVERY = 16;

export function newSiteBudget(now: number): SiteBudget {
  return { tokens: SITE_BURST, refilledAt: now, skip: 0 };
}

export function takeSiteToken(lock: Lock): boolean {
  const budget = lock.siteBudget;
  if (budget.tokens < 1) {
    if (budget.skip > 0) {
      budget.skip--;
      return false;
    }
    budget.skip = CLOCK_EVERY;
    const now = performance.now();
    budget.tokens = Math.min(SITE_BURST, budget.tokens + (now - budget.refilledAt) * SITES_PER_MS);
    budget.refilledAt = now;
    if (budget.tokens < 1) return false;
  }
  budget.tokens--;
  return true;
}
