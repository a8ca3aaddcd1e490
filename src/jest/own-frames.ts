import * as path from 'node:path';
import { OWN_DIRS } from '../core/stack';

/*
 * hangwatch's wrappers (a test's function, `emit`, `listen`, sync calls) sit on the stack between
 * the user's frames: without this, every failing test would show a frame of hangwatch's that
 * plain Jest would not, where Jest shows its own frames filtered out.
 */
const FRAME = /^\s+at /;

/** The stack without the lines of frames in hangwatch's own files (`ownDirs`). */
export function withoutOwnFrames(stack: string, ownDirs: readonly string[] = OWN_DIRS): string {
  const prefixes = ownDirs.map((dir) => dir + path.sep);
  const isOwn = (line: string) => prefixes.some((prefix) => line.includes(prefix));
  if (!isOwn(stack)) return stack;
  return stack
    .split('\n')
    .filter((line) => !(FRAME.test(line) && isOwn(line)))
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
