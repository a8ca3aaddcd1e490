import type { Deadlock, Frame } from '../model';
import { errorStack, parseFrameLine, stackText, type LazyStack } from '../stack';

/**
 * Errors a waiting call is rejected with. They are built by the primitive in the caller's realm
 * (a Jest test file's), from the stack captured when the call was made, so `instanceof` works in
 * the test and the stack points at the user's acquire, not at hangwatch.
 */
function callerStack(
  name: string,
  message: string,
  site: LazyStack | undefined,
): string | undefined {
  const frames = (stackText(site) ?? '').split('\n').filter((line) => /^\s+at /.test(line));
  // Start at the user's own call, so Jest draws its code frame there and not inside a library.
  const first = frames.findIndex((line) => parseFrameLine(line)?.origin === 'user');
  const shown = first === -1 ? frames : frames.slice(first);
  return shown.length > 0 ? [`${name}: ${message}`, ...shown].join('\n') : undefined;
}

/** The wait can never end: self-deadlock, a cycle, an abandoned lock, or every flow blocked. */
export class DeadlockError extends Error {
  override name = 'DeadlockError';
  constructor(
    message: string,
    readonly deadlock: Deadlock,
    site?: LazyStack,
  ) {
    super(message);
    const stack = callerStack(this.name, message, site);
    if (stack) this.stack = stack;
  }
}

/** `acquire({ timeout })` ran out: says who held the lock, and since where. */
export class LockTimeoutError extends Error {
  override name = 'LockTimeoutError';
  constructor(message: string, site?: LazyStack) {
    super(message);
    const stack = callerStack(this.name, message, site);
    if (stack) this.stack = stack;
  }
}

/** Fails a test that took locks in an order that contradicts an earlier one (lockOrder: 'error'). */
export class LockOrderError extends Error {
  override name = 'LockOrderError';
  /** `frames`: the acquisition that closed the cycle, so Jest's code frame shows that line. */
  constructor(message: string, frames: Frame[] = []) {
    super(message);
    if (frames.length > 0) this.stack = errorStack(this.name, message, frames);
  }
}
