import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Config } from '@jest/types';
import { noteOncePerRun } from './notices';

/**
 * The presets give three things the test environment alone cannot: async-mutex mapped to its
 * instrumented wrapper, hangwatch's reporter, and the start-up check of options. A config that
 * uses the environment some other way (`testEnvironment: 'hangwatch/environment'`, a custom
 * environment through `withHangwatch`, a preset with its own `reporters`) is told once per run,
 * in one line, what it is missing and the config line that adds it.
 */
export function noteSetupGaps(
  projectConfig: Config.ProjectConfig,
  globalConfig?: Config.GlobalConfig,
): void {
  // Each test file's environment asks again, with the same configs: the module resolutions below
  // are done once per process for each config.
  const key = JSON.stringify([
    projectConfig.rootDir,
    projectConfig.moduleNameMapper,
    globalConfig?.rootDir,
    globalConfig?.reporters,
  ]);
  if (checkedConfigs.has(key)) return;
  checkedConfigs.add(key);
  const gaps = setupGaps(projectConfig, globalConfig);
  if (gaps.length === 0) return;
  noteOncePerRun(
    `hangwatch: this config lacks what the hangwatch presets set up: ${gaps.join('; ')}. See "Install" in hangwatch's README.`,
  );
}

/** What the config lacks of the presets' set-up, one clause each, with the line that adds it. */
export function setupGaps(
  projectConfig: Pick<Config.ProjectConfig, 'rootDir' | 'moduleNameMapper'>,
  globalConfig?: Pick<Config.GlobalConfig, 'rootDir' | 'reporters'>,
): string[] {
  const gaps: string[] = [];
  if (projectUses('async-mutex', projectConfig.rootDir) && !mapsAsyncMutex(projectConfig)) {
    gaps.push(
      `async-mutex locks are not tracked, so a deadlock reports as a plain hang (add moduleNameMapper: { '^async-mutex$': 'hangwatch/async-mutex' })`,
    );
  }
  if (globalConfig && !hasHangwatchReporter(globalConfig)) {
    gaps.push(
      `no end-of-run summary, JSON report or failOn gate (add 'hangwatch/reporter' to reporters)`,
    );
  }
  return gaps;
}

const checkedConfigs = new Set<string>();

const OWN_ADAPTER = path.join(__dirname, '..', 'adapters', 'async-mutex.js');
const OWN_REPORTER = path.join(__dirname, 'reporter.js');

const DEPENDENCY_FIELDS = [
  'dependencies',
  'devDependencies',
  'peerDependencies',
  'optionalDependencies',
] as const;

/**
 * Whether the project itself depends on `name` (its nearest package.json says so) and it is
 * installed. A copy that only a dependency brings (mockttp uses async-mutex inside) is that
 * package's business: naming it would tell the user about a library they never chose.
 */
function projectUses(name: string, rootDir: string): boolean {
  const manifest = nearestManifest(rootDir);
  if (!manifest || !DEPENDENCY_FIELDS.some((field) => manifest[field]?.[name] !== undefined)) {
    return false;
  }
  try {
    require.resolve(`${name}/package.json`, { paths: [rootDir] });
    return true;
  } catch {
    return false;
  }
}

type Manifest = Partial<Record<(typeof DEPENDENCY_FIELDS)[number], Record<string, unknown>>>;

/** The package.json of rootDir or of the closest directory above it (a workspace's package). */
function nearestManifest(rootDir: string): Manifest | undefined {
  for (let dir = path.resolve(rootDir); ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      try {
        return JSON.parse(fs.readFileSync(file, 'utf8')) as Manifest;
      } catch {
        return undefined;
      }
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

function sameFile(target: string, own: string, rootDir: string): boolean {
  try {
    const resolved = require.resolve(target, { paths: [rootDir] });
    return fs.realpathSync(resolved) === fs.realpathSync(own);
  } catch {
    return false;
  }
}

function mapsAsyncMutex(
  config: Pick<Config.ProjectConfig, 'rootDir' | 'moduleNameMapper'>,
): boolean {
  return (config.moduleNameMapper ?? []).some(([pattern, targets]) => {
    if (!matchesName(pattern, 'async-mutex')) return false;
    const list: string[] = Array.isArray(targets) ? targets : [targets];
    return list.some((target) => sameFile(target, OWN_ADAPTER, config.rootDir));
  });
}

function matchesName(pattern: string, name: string): boolean {
  try {
    return new RegExp(pattern).test(name);
  } catch {
    return false;
  }
}

function hasHangwatchReporter(config: Pick<Config.GlobalConfig, 'rootDir' | 'reporters'>): boolean {
  return (config.reporters ?? []).some((entry) => {
    const name = typeof entry === 'string' ? entry : entry[0];
    return sameFile(name, OWN_REPORTER, config.rootDir);
  });
}
