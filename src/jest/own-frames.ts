import * as path from 'node:path';

/**
 * hangwatch's own files. Its wrappers (a test's function, `emit`, `listen`, sync calls) sit on
 * the stack between the user's frames: without this, every failing test would show a frame of
 * hangwatch's that plain Jest would not, where Jest shows its own frames filtered out.
 */
const OWN_ROOT = path.resolve(__dirname, '..') + path.sep;
const FRAME = /^\s+at /;

/** The stack without the lines of hangwatch's frames. */
export function withoutOwnFrames(stack: string, ownRoot = OWN_ROOT): string {
  if (!stack.includes(ownRoot)) return stack;
  return stack
    .split('\n')
    .filter((line) => !(FRAME.test(line) && line.includes(ownRoot)))
    .join('\n');
}

/**
 * Removes hangwatch's frames from the stacks of errors circus recorded (alone, or as
 * `[error, asyncError]`), before Jest formats them. An error whose stack cannot be written keeps it.
 */
export function removeOwnFrames(errors: readonly unknown[]): void {
  for (const entry of errors) {
    for (const error of Array.isArray(entry) ? entry : [entry]) removeFrom(error);
  }
}

function removeFrom(error: unknown): void {
  if (typeof error !== 'object' || error === null) return;
  try {
    const stack = (error as { stack?: unknown }).stack;
    if (typeof stack !== 'string') return;
    const cleaned = withoutOwnFrames(stack);
    if (cleaned !== stack) (error as { stack: string }).stack = cleaned;
  } catch {
    // a frozen error or a throwing getter: it keeps its stack
  }
}
