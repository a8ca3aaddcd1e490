'use strict';
// The Jest configurations compared: identical but for the test environment and its options.
const fs = require('node:fs');
const path = require('node:path');

const REPO_ROOT = path.resolve(__dirname, '..');
const HANGWATCH_ENVIRONMENT = path.join(REPO_ROOT, 'dist', 'jest', 'node-environment.js');

/** `plain` is the baseline every ratio is taken against. */
const CONFIGURATIONS = [
  {
    name: 'plain',
    label: 'jest-environment-node',
    testEnvironment: require.resolve('jest-environment-node'),
  },
  {
    name: 'hangwatch',
    label: 'hangwatch (default)',
    testEnvironment: HANGWATCH_ENVIRONMENT,
  },
  {
    // Against `hangwatch`: what the event-loop watchdog (thread, heartbeat) costs on its own.
    name: 'no-loop-watchdog',
    label: 'hangwatch (blockedLoop: off)',
    testEnvironment: HANGWATCH_ENVIRONMENT,
    testEnvironmentOptions: { hangwatch: { blockedLoop: 'off' } },
  },
  {
    // Against `hangwatch`: what recording for await stacks (explicit promises, events.once,
    // unheard emits) costs while tests pass.
    name: 'no-await-stacks',
    label: 'hangwatch (awaitStacks: false)',
    testEnvironment: HANGWATCH_ENVIRONMENT,
    testEnvironmentOptions: { hangwatch: { awaitStacks: false } },
  },
  {
    // Against `hangwatch`: the preset's runner, which keeps an in-band run's files in one Jest
    // worker process while the watchdog is on (every bench run is --runInBand).
    name: 'in-band-worker',
    label: 'hangwatch + preset runner',
    testEnvironment: HANGWATCH_ENVIRONMENT,
    runner: path.join(REPO_ROOT, 'dist', 'jest', 'runner.js'),
    testEnvironmentOptions: { hangwatch: { inBandWorker: true } },
  },
  {
    name: 'promises',
    label: 'hangwatch (promises: true)',
    testEnvironment: HANGWATCH_ENVIRONMENT,
    testEnvironmentOptions: { hangwatch: { promises: true } },
  },
];

function assertBuilt() {
  if (!fs.existsSync(HANGWATCH_ENVIRONMENT)) {
    throw new Error(
      `${path.relative(REPO_ROOT, HANGWATCH_ENVIRONMENT)} is missing: run npm run build.`,
    );
  }
}

/**
 * Writes one Jest config file per configuration and returns their paths by name. Nothing is
 * transformed, so the comparison is between environments rather than Babel cache reads, and the
 * file crawl stays in-process (no `find` child) so the measured process does all the work.
 */
function writeJestConfigs({ suiteDir, configDir, cacheDir }) {
  assertBuilt();
  fs.mkdirSync(configDir, { recursive: true });
  const paths = {};
  for (const configuration of CONFIGURATIONS) {
    const config = {
      rootDir: suiteDir,
      testMatch: ['<rootDir>/*.test.js'],
      testEnvironment: configuration.testEnvironment,
      ...(configuration.testEnvironmentOptions
        ? { testEnvironmentOptions: configuration.testEnvironmentOptions }
        : {}),
      ...(configuration.runner ? { runner: configuration.runner } : {}),
      transform: {},
      cacheDirectory: cacheDir,
      watchman: false,
      haste: { forceNodeFilesystemAPI: true },
    };
    paths[configuration.name] = path.join(configDir, `${configuration.name}.config.json`);
    fs.writeFileSync(paths[configuration.name], `${JSON.stringify(config, null, 2)}\n`);
  }
  return paths;
}

module.exports = { CONFIGURATIONS, writeJestConfigs, REPO_ROOT };
