import { onFirstUse } from './on-first-use';

/**
 * The hang report's builder (pending list, creation sites, resource descriptions), loaded with
 * the first hang or leak of a process rather than by every test process at start-up. One loader
 * for the leak check (core) and the hang reports (the Jest adapter).
 */
export const hangReportCode = onFirstUse(
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  () => require('./hang-report') as typeof import('./hang-report'),
);
