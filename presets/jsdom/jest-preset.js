'use strict';
/** `preset: 'hangwatch/presets/jsdom'`: jest-environment-jsdom with hang reports. */
// An optional peer: when it is missing, Jest stops at start-up with one line saying what to install.
require('../../dist/jest/peers.js').assertPeer(
  'jest-environment-jsdom',
  'the jsdom preset of hangwatch',
);

module.exports = {
  testEnvironment: require.resolve('../../dist/jest/jsdom-environment.js'),
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
