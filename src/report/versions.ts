import * as fs from 'node:fs';
import * as path from 'node:path';

/** Versions recorded in a report, found without ever throwing (a report must not fail on them). */

export function hangwatchVersion(): string {
  // dist/report/ and src/report/ both sit two levels under the package root.
  return readPackage(path.join(__dirname, '..', '..', 'package.json'))?.version ?? 'unknown';
}

/**
 * The Jest that is running: the package around its bin script (which may be installed under
 * an alias), else the `jest` that rootDir resolves.
 */
export function jestVersion(rootDir: string): string | null {
  try {
    let dir = path.dirname(fs.realpathSync(process.argv[1] ?? ''));
    for (let depth = 0; depth < 6 && dir !== path.dirname(dir); depth++) {
      const manifest = readPackage(path.join(dir, 'package.json'));
      if (manifest?.name === 'jest' || manifest?.name === 'jest-cli') return manifest.version;
      if (manifest) break;
      dir = path.dirname(dir);
    }
  } catch {
    // not started from a file (REPL, programmatic runCLI): try rootDir's jest below
  }
  try {
    const file = require.resolve('jest/package.json', { paths: [rootDir] });
    return readPackage(file)?.version ?? null;
  } catch {
    return null;
  }
}

function readPackage(file: string): { name?: string; version: string } | undefined {
  try {
    const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      name?: string;
      version?: unknown;
    };
    return typeof manifest.version === 'string'
      ? { name: manifest.name, version: manifest.version }
      : undefined;
  } catch {
    return undefined;
  }
}
