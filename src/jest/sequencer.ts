import * as path from 'node:path';
import type { Test } from '@jest/test-result';
import type { Config } from '@jest/types';
import { parseOptions } from './options';

/**
 * `testSequencer: 'hangwatch/sequencer'` (the presets set it): Jest's own default sequencer,
 * plus one check of every project's `testEnvironmentOptions.hangwatch` before any test file runs.
 * The test environment sees its options only inside each test file's process, so a typo found
 * there would fail every file with the same message; the sequencer runs once, in Jest's main
 * process, with every project's config, before the first file starts.
 */

interface SequencerLike {
  shard?(tests: Test[], options: { shardIndex: number; shardCount: number }): unknown;
  sort(tests: Test[]): unknown;
}

type SequencerClass = new (options?: {
  contexts?: { config: Config.ProjectConfig }[];
  globalConfig?: Config.GlobalConfig;
}) => SequencerLike;

/** The running Jest's own default sequencer: the one its jest-config would have picked. */
function jestDefaultSequencer(): SequencerClass {
  const jestConfig = Object.keys(require.cache).find((file) =>
    /[\\/]jest-config[\\/]build[\\/]index\.js$/.test(file),
  );
  const from = [...(jestConfig ? [path.dirname(jestConfig)] : []), process.cwd(), __dirname];
  const file = require.resolve('@jest/test-sequencer', { paths: from });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const loaded = require(file) as { default?: SequencerClass } & SequencerClass;
  return loaded.default ?? loaded;
}

const checked = new WeakSet<object>();

/** Throws the first invalid project's HangwatchConfigError. */
export function validateProjectOptions(configs: Iterable<Config.ProjectConfig>): void {
  for (const config of configs) {
    if (checked.has(config)) continue;
    parseOptions(config.testEnvironmentOptions?.hangwatch);
    checked.add(config);
  }
}

const Base = jestDefaultSequencer();

export default class HangwatchSequencer extends Base {
  constructor(options?: ConstructorParameters<SequencerClass>[0]) {
    super(options);
    // Jest 30 passes every project here; Jest 29 passes nothing, so `shard`/`sort` check.
    validateProjectOptions((options?.contexts ?? []).map((context) => context.config));
  }

  override shard(tests: Test[], options: { shardIndex: number; shardCount: number }) {
    validateProjectOptions(tests.map((test) => test.context.config));
    return super.shard!(tests, options);
  }

  override sort(tests: Test[]) {
    validateProjectOptions(tests.map((test) => test.context.config));
    return super.sort(tests);
  }
}
