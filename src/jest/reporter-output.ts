/**
 * What the reporter needs only once the run has ended (building, writing and printing the
 * report): loaded then, by the reporter's first `onRunComplete`, instead of when Jest starts the
 * reporter (see `reporter.ts`).
 */
export { buildReport } from '../report/document';
export { annotationsFor, renderJobSummary } from '../report/github';
export { countByKind, renderKeptAlive, renderRunSummary } from '../report/render-summary';
export { hangwatchVersion, jestVersion } from '../report/versions';
export { crossProcessInversions } from '../report/cross-process-lock-order';
export { stillKeptAlive } from '../core/kept-alive';
export { partialRunReason, updateDefaultReport } from './report-file';
export { formatPath } from '../core/render/location';
