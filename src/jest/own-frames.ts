import * as path from 'node:path';
import { isOwnFile, OWN_DIRS } from '../core/stack';

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

type StackFormatter = (this: unknown, error: Error, sites: NodeJS.CallSite[]) => unknown;
/** Marks a formatter this module installed, so a realm is never wrapped twice. */
const LEAVES_OWN_FRAMES_OUT = Symbol('hangwatch.leavesOwnFramesOut');

/**
 * Makes the formatter installed on `errorClass` (Jest's source-map support, in the realm it
 * serves) leave hangwatch's call sites out of every stack it formats from now on: an error the
 * user logs from an `error` listener would otherwise show the `emit` wrapper between their own
 * frames. Returns the undo. A realm without an installed formatter is left alone: its errors are
 * formatted by the main realm's (Jest 30), which is the one to wrap.
 */
export function leaveOwnFramesOut(
  errorClass: { prepareStackTrace?: unknown },
  ownDirs: readonly string[] = OWN_DIRS,
): () => void {
  const installed = errorClass.prepareStackTrace as StackFormatter | undefined;
  if (typeof installed !== 'function' || LEAVES_OWN_FRAMES_OUT in installed) {
    return () => undefined;
  }
  const isOwnSite = (site: NodeJS.CallSite) => {
    const file = site.getFileName();
    return typeof file === 'string' && isOwnFile(file, ownDirs);
  };
  const formatter = function prepareStackTrace(
    this: unknown,
    error: Error,
    sites: NodeJS.CallSite[],
  ): unknown {
    let kept = sites;
    try {
      const own = sites.map(isOwnSite);
      // hangwatch's sites, and the AsyncLocalStorage `run` one of its wrappers calls the user's
      // function through (its caller, the next site, is the wrapper).
      if (own.includes(true)) {
        kept = sites.filter(
          (site, at) => !own[at] && !(own[at + 1] && site.getFileName() === 'node:async_hooks'),
        );
      }
    } catch {
      kept = sites; // an odd call site: the stack as it was, never an error of ours
    }
    return installed.call(this, error, kept);
  };
  Object.defineProperty(formatter, LEAVES_OWN_FRAMES_OUT, { value: true });
  errorClass.prepareStackTrace = formatter;
  return () => {
    if (errorClass.prepareStackTrace === formatter) errorClass.prepareStackTrace = installed;
  };
}
