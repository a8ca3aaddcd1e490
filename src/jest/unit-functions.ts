import { applyInContext, ownerContext } from '../core/async-context';
import { keepListeners } from '../core/await-stacks/recorder';
import type { Unit } from './units';

/**
 * Test and hook functions, as circus calls them. hangwatch wraps each in its unit's async context
 * (there is no circus event around the call itself, so `test.fn`/`hook.fn` are replaced at
 * `test_fn_start`/`hook_start`), keeping what circus reads from them: the arity (`done`).
 */
type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;
const ORIGINAL_FN = Symbol('hangwatch.originalFn');
type Wrapped = AnyFunction & { [ORIGINAL_FN]?: AnyFunction };

/** The user's own function behind a wrapper (or the function itself). */
export function originalFunction(fn: unknown): AnyFunction | undefined {
  if (typeof fn !== 'function') return undefined;
  return (fn as Wrapped)[ORIGINAL_FN] ?? (fn as AnyFunction);
}

/** It declares a parameter, so Jest waits for it to call `done`. */
export function declaresDone(fn: unknown): boolean {
  return (originalFunction(fn)?.length ?? 0) > 0;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

/**
 * Runs `fn` as `unit`'s work, and lets hangwatch fail it early (`unit.abort`, used by the idle
 * check): a `done`-style function by calling `done` with the error, a promise-returning one by
 * racing its promise. Generator functions (which circus runs through co) are left alone.
 * `unit.failOnReturn`, asked when the function succeeds, may still fail it (a lock-order
 * inversion under `lockOrder: 'error'`): thrown from the function itself, a test or any hook
 * fails the Jest way.
 */
export function wrapUnitFunction<F>(fn: F, unit: Unit): F {
  const original = originalFunction(fn);
  if (!original || original.constructor?.name === 'GeneratorFunction') return (original ?? fn) as F;
  const context = ownerContext(unit);
  // One closure per unit (a large file starts thousands), calling `fn` one frame below it.
  const wrapped: Wrapped = function (this: unknown, ...args: unknown[]) {
    if (original.length > 0 && typeof args[0] === 'function') {
      const done = args[0] as (error?: unknown) => void;
      unit.abort = (error) => done(error);
      args[0] = Object.assign(
        (error?: unknown) => done(error ?? unit.failOnReturn?.shift()),
        done as object,
      );
      unit.doneCallback = args[0];
      unit.stopKeepingListeners = keepListeners();
      return applyInContext(context, Reflect.apply, original, this, args);
    }
    const result = applyInContext(context, Reflect.apply, original, this, args);
    unit.returned = result;
    if (!isThenable(result)) {
      const error = unit.failOnReturn?.shift();
      if (error !== undefined) throw error;
      return result;
    }
    return new Promise((resolve, reject) => {
      unit.abort = reject;
      result.then((value) => {
        const error = unit.failOnReturn?.shift();
        if (error === undefined) resolve(value);
        else reject(error);
      }, reject);
    });
  };
  // A rest parameter makes its length 0, which most test functions have: only a `done`-style
  // one needs its own (circus reads it), and redefining it costs each wrapper more.
  if (original.length > 0) Object.defineProperty(wrapped, 'length', { value: original.length });
  wrapped[ORIGINAL_FN] = original;
  return wrapped as F;
}
