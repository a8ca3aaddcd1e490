import { captureStack, type LazyStack } from '../stack';
import type { Lock, SiteBudget } from './types';
import { realNow } from '../real-timers';

/**
 * Where lock calls come from, at a price the hot path can pay. A stack costs 2–4 µs to capture on
 * Node 20–24 from the top of the stack, as much as an uncontended lock operation itself, and
 * five times that from deep inside a library (V8 walks every frame above the one it skips to), so:
 *
 * - a site is captured in the public method the user called (`lockCall`), a few frames deep: the
 *   caller, and two more for when the caller is a library;
 * - that method decides whether it will want one before it runs (`wantsSite`): a call that will
 *   wait always does (a wait is contention: what reports are about); an uncontended acquisition
 *   does while its lock's budget lasts (`takeSiteToken`): every acquisition of a lock taken now
 *   and then, a sample of a lock taken in a hot loop. Reports name an unrecorded holder by its
 *   lock's last recorded acquisition, marked as such. `lockSites: 'all'` records every one.
 */
const SITE_FRAMES = 3;

type AnyFunction = (...args: never[]) => unknown;

let outermostCall: AnyFunction | undefined;
let pendingSite: LazyStack | undefined;

/**
 * Wraps a public lock method. `wantsSite(self, args)` says, before the method runs, whether it
 * will record its site; if so the site is captured at once, cheaply, above the wrapper. Nested
 * lock calls (a Mutex's method calling its Semaphore's) keep the outer call's.
 */
export function lockCall<T extends AnyFunction>(
  method: T,
  wantsSite: (self: never, args: Parameters<T>) => boolean = () => false,
): T {
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    if (outermostCall !== undefined) return (method as AnyFunction).apply(this, args as never[]);
    outermostCall = wrapped;
    try {
      pendingSite = wantsSite(this as never, args as Parameters<T>)
        ? captureStack(wrapped, SITE_FRAMES)
        : undefined;
      return (method as AnyFunction).apply(this, args as never[]);
    } finally {
      outermostCall = undefined;
      pendingSite = undefined;
    }
  };
  Object.defineProperty(wrapped, 'name', { value: method.name });
  return wrapped as unknown as T;
}

/**
 * The site of the lock call running now: the one its public method captured, else (a call that
 * did not foresee it) captured here, above the public method, or above `fallback` outside one.
 */
export function callSite(fallback: AnyFunction): LazyStack {
  return pendingSite ?? captureStack(outermostCall ?? fallback, SITE_FRAMES);
}

/** The site the public lock call running now captured up front, if it foresaw wanting one. */
export function foreseenSite(): LazyStack | undefined {
  return pendingSite;
}

/** A full budget: this many acquisitions in a row record their sites... */
const SITE_BURST = 64;
/** ...and one more may every 10 ms: at most ~0.3 ms a second of capturing per hot lock. */
const SITES_PER_MS = 0.1;

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
    const now = realNow();
    budget.tokens = Math.min(SITE_BURST, budget.tokens + (now - budget.refilledAt) * SITES_PER_MS);
    budget.refilledAt = now;
    if (budget.tokens < 1) return false;
  }
  budget.tokens--;
  return true;
}
