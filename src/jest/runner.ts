import * as inspector from 'node:inspector';
import * as path from 'node:path';
import type { Config } from '@jest/types';
import { openLoopRunDirectory } from '../core/loop-watchdog/run-directory';
import { parseOptions } from './options';
import { releasingWorkerPipes } from './worker-pipes';

/**
 * `runner` of the presets: Jest's own runner (`jest-runner`, from the Jest that loads it), except
 * that a run Jest would do in band (one file, or `--runInBand`) runs its files in one Jest worker
 * process instead when the event-loop watchdog is on. In band, tests share the Jest process: a
 * loop that never ends can only be stopped by ending Jest, with no results. In a worker, the
 * watchdog ends the worker, Jest starts another and carries on, and its results are written.
 * Files still run one at a time, in Jest's order. On by default; opt out with `inBandWorker: false`.
 */

interface TestLike {
  path: string;
  context: { config: Config.ProjectConfig };
}

interface RunnerOptions {
  serial: boolean;
}

interface JestRunnerInstance {
  _globalConfig: Config.GlobalConfig;
  runTests(tests: TestLike[], watcher: unknown, options: RunnerOptions): Promise<void>;
}

type JestRunnerClass = new (
  globalConfig: Config.GlobalConfig,
  context: unknown,
  runnerOptions?: unknown,
) => JestRunnerInstance;

/**
 * The `jest-runner` of the Jest that is running: beside its `@jest/core` (found from Jest's own
 * entry point), else the one next to hangwatch. A Jest 29 run must not get Jest 30's runner.
 */
function loadJestRunner(): JestRunnerClass {
  const entry = require.main?.filename ?? process.argv[1];
  const candidates: string[] = [];
  if (entry) {
    const from = path.dirname(entry);
    for (const via of ['jest-cli/package.json', '@jest/core/package.json']) {
      try {
        const viaDir = path.dirname(require.resolve(via, { paths: [from] }));
        const coreDir =
          via === '@jest/core/package.json'
            ? viaDir
            : path.dirname(require.resolve('@jest/core/package.json', { paths: [viaDir] }));
        candidates.push(require.resolve('jest-runner', { paths: [coreDir] }));
      } catch {
        // not installed that way: try the next
      }
    }
  }
  candidates.push(require.resolve('jest-runner'));
  // The path is only known at run time.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const loaded = require(candidates[0]) as { default?: JestRunnerClass } | JestRunnerClass;
  return 'default' in loaded && loaded.default ? loaded.default : (loaded as JestRunnerClass);
}

/** Why a run Jest would do in band stays in band, or `undefined` to use a worker. */
export function reasonToStayInBand(
  globalConfig: Pick<
    Config.GlobalConfig,
    'detectOpenHandles' | 'workerThreads' | 'watch' | 'watchAll'
  >,
  tests: TestLike[],
): string | undefined {
  if (globalConfig.detectOpenHandles) return '--detectOpenHandles needs the tests in band';
  if (globalConfig.workerThreads) return 'workerThreads: the watchdog watches main threads only';
  if (
    inspector.url() !== undefined ||
    process.execArgv.some((flag) => flag.startsWith('--inspect'))
  ) {
    return 'Jest is being debugged';
  }
  for (const test of tests) {
    let options;
    try {
      options = parseOptions(test.context.config.testEnvironmentOptions?.hangwatch);
    } catch {
      // The environment rejects them with its own message, naming the key.
      return 'invalid options';
    }
    if (!options.enabled || options.blockedLoop === 'off') return 'the watchdog is off';
    if (!options.inBandWorker) return 'inBandWorker: false';
  }
  return undefined;
}

const JestRunner = loadJestRunner();

export default class HangwatchRunner extends JestRunner {
  override async runTests(
    tests: TestLike[],
    watcher: unknown,
    options: RunnerOptions,
  ): Promise<void> {
    // A new directory each run for frozen-loop markers; the workers forked from now on inherit it.
    openLoopRunDirectory();
    if (!options.serial || reasonToStayInBand(this._globalConfig, tests) !== undefined) {
      return super.runTests(tests, watcher, options);
    }
    const inBand = this._globalConfig;
    // One worker: files run one at a time, as in band; Jest would otherwise start maxWorkers.
    this._globalConfig = { ...inBand, maxWorkers: 1 };
    try {
      return await releasingWorkerPipes(() =>
        super.runTests(tests, watcher, { ...options, serial: false }),
      );
    } finally {
      this._globalConfig = inBand;
    }
  }
}
