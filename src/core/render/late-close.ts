import { formatDuration } from '../format';

/** A test that ended with resources open which then closed on their own: not a leak. */
export interface LateClose {
  testName: string;
  /** How many were open when the test ended. */
  open: number;
  /** Their kinds (`Server`, `TCP socket`...), when described. */
  kinds: string[];
  /** How long after the test's end the last one closed; absent when only known closed by the file's end. */
  closedAfterMs?: number;
}

/** The `leakNotes` line for a late close. */
export function lateCloseText({ testName, open, kinds, closedAfterMs }: LateClose): string {
  const what = kinds.length > 0 ? ` (${kinds.join(', ')})` : '';
  const count = `${open} resource${open === 1 ? '' : 's'}`;
  const closed =
    closedAfterMs === undefined
      ? 'no longer held the process by the end of the file'
      : `closed ${formatDuration(closedAfterMs)} later`;
  return `hangwatch: test "${testName}": ${count} still open when the test ended${what}, ${closed}; not a leak.`;
}
