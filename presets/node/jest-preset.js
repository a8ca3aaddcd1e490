'use strict';
/** `preset: 'hangwatch'`: jest-environment-node with hang reports. */
module.exports = {
  testEnvironment: require.resolve('../../dist/jest/node-environment.js'),
  // Same application code, instrumented: deadlocks fail fast and show in hang reports.
  moduleNameMapper: { '^async-mutex$': require.resolve('../../dist/adapters/async-mutex.js') },
  // Jest replaces (never merges) a preset's reporters with a config's own `reporters`: a config
  // that sets them lists 'hangwatch/reporter' itself to keep the summary, JSON report and gate.
  reporters: ['default', require.resolve('../../dist/jest/reporter.js')],
  // The reporter rewrites its report after each run: in watch mode Jest would take that for a
  // change and run again, without end.
  watchPathIgnorePatterns: ['<rootDir>/hangwatch-report\\.json$'],
  // Jest's default order, plus one check of testEnvironmentOptions.hangwatch before any file runs.
  testSequencer: require.resolve('../../dist/jest/sequencer.js'),
  // Jest's runner, except that an in-band run keeps its files in one worker process while the
  // event-loop watchdog is on, so a frozen loop ends that worker and not the run (inBandWorker).
  runner: require.resolve('../../dist/jest/runner.js'),
};
