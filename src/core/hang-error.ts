import type { Frame, HangFinding } from './model';

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
    const frameLines =
      frames.length > 0
        ? frames.map(
            (frame) =>
              `    at ${frame.functionName ?? '<anonymous>'} (${frame.file}:${frame.line}:${frame.column})`,
          )
        : stackFrameLines(fallbackStack);
    this.stack = [`${this.name}: ${message}`, ...frameLines].join('\n');
  }
}

function stackFrameLines(stack: string | undefined): string[] {
  return (stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
}
