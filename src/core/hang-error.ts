import { inspect, types } from 'node:util';
import type { Frame, HangFinding, LeakFinding } from './model';
import { errorStack } from './stack';

/**
 * The error that replaces a runner's generic timeout. Its message is the rendered report; its
 * stack starts at the culprit's creation site, so the runner's code frame points at that line.
 * `finding` carries the report as data for reporters.
 */
export class HangError extends Error {
  override name = 'HangError';
  readonly finding: HangFinding;

  constructor(message: string, finding: HangFinding, frames: Frame[], fallbackStack?: string) {
    super(message);
    this.finding = finding;
    this.stack =
      frames.length > 0
        ? errorStack(this.name, message, frames)
        : [`${this.name}: ${message}`, ...stackFrameLines(fallbackStack)].join('\n');
  }
}

function stackFrameLines(stack: string | undefined): string[] {
  return (stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
}

/** Fails a test that left resources open when `leaks: 'error'`; its stack starts at the first leak. */
export class LeakError extends Error {
  override name = 'LeakError';
  readonly finding: LeakFinding;

  constructor(message: string, finding: LeakFinding) {
    super(message);
    this.finding = finding;
    const top = finding.resources.find((resource) => resource.site?.top?.origin === 'user')?.site
      ?.top;
    this.stack = errorStack(this.name, message, top ? [top] : []);
  }
}

/**
 * An error circus took for this test file's, thrown by work an earlier file left running: the
 * thrown error's own name, message, frames, `code`, `cause` and (an AggregateError's) `errors`,
 * with a note on whose work threw it. The thrown value itself is `thrown` (as a `cause`, Jest
 * would print it a second time).
 */
export class LeftOverError extends Error {
  constructor(
    readonly thrown: unknown,
    note: string,
  ) {
    // Thrown in the earlier file's realm: an Error of another realm's constructor.
    const error = types.isNativeError(thrown) ? thrown : undefined;
    // As circus words a thrown non-error; `inspect` never throws on a value without a prototype.
    const text = error ? error.message : `thrown: ${inspect(thrown, { depth: 3 })}`;
    const message = `${text}\n\n${note}`;
    super(message);
    this.name = error?.name ?? 'Error';
    this.stack = [`${this.name}: ${message}`, ...stackFrameLines(error?.stack)].join('\n');
    if (error) copyDetails(error, this);
  }
}

/** What Jest prints of an error besides its message and stack, copied as the original has it. */
function copyDetails(from: Error, to: Error): void {
  for (const key of ['code', 'cause', 'errors']) {
    const descriptor = Object.getOwnPropertyDescriptor(from, key);
    if (descriptor && 'value' in descriptor) Object.defineProperty(to, key, descriptor);
  }
}
