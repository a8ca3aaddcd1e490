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
