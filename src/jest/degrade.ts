import { noteOnce } from './notices';

/**
 * hangwatch must never break a user's run: the first internal error switches a part of it off
 * for the rest of the file (after stopping what it started) and says so in one line, once per
 * process; everything else runs as plain Jest.
 */
export class Degradable {
  private off = false;

  constructor(
    private readonly stop: () => void,
    /** The one line to print, given the error's message. */
    private readonly notice: (reason: string) => string,
  ) {}

  get disabled(): boolean {
    return this.off;
  }

  /** Runs `action` (given `arg`, if any) unless switched off; what it returns, or nothing. */
  run<R>(action: () => R): R | undefined;
  run<A, R>(action: (arg: A) => R, arg: A): R | undefined;
  run(action: (arg?: unknown) => unknown, arg?: unknown): unknown {
    if (this.off) return undefined;
    try {
      return action(arg);
    } catch (error) {
      this.fail(error);
      return undefined;
    }
  }

  /** An internal error happened (also in async work of this part): switch it off. */
  fail(error: unknown): void {
    if (this.off) return;
    this.off = true;
    try {
      this.stop();
    } catch {
      // already failing: plain Jest behaviour is all that is left
    }
    const reason = error instanceof Error ? error.message : String(error);
    noteOnce(this.notice(reason));
  }
}
