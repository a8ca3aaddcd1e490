import type { LeftBy } from './model';

/**
 * What an async context names as its owner once its test file is over: the work a test or hook of
 * that file left running (a poll loop of a test that timed out, an interval's callbacks). Plain
 * facts only, so it keeps nothing of the finished file alive; what that work creates later is
 * attributed to it instead of to nobody, or to the next file.
 */
export class LeftOver {
  constructor(readonly by: LeftBy) {}
}

export function isLeftOver(owner: unknown): owner is LeftOver {
  return owner instanceof LeftOver;
}
