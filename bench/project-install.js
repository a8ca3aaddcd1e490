'use strict';
// hangwatch installed into another project the way npm installs a package, and that project's own
// Jest, for bench/suite.js and bench/survivors.js.
const fs = require('node:fs');
const path = require('node:path');

const REPO_ROOT = path.resolve(__dirname, '..');

/** The installed copy's directory, under the project's node_modules (never a package name). */
const INSTALL_DIR = '.hangwatch-bench';

/**
 * hangwatch placed in the project the way `npm install hangwatch` places it: its package files
 * (package.json's `files`) under the project's node_modules, each dependency taken from the
 * project's own copy when that copy satisfies hangwatch's range (npm's dedupe: koa's Jest already
 * brings them), else linked from `fromRoot`'s node_modules, as npm would nest it. Its
 * environment is then `hangwatch/environment` as users configure it, over the project's own
 * jest-environment-node. Returns the copy's root and the dependencies it nests.
 */
function installIntoProject(projectDir, fromRoot = REPO_ROOT) {
  const manifest = readJson(path.join(fromRoot, 'package.json'));
  if (!fs.existsSync(path.join(fromRoot, 'dist', 'index.js'))) {
    throw new Error('dist/ is missing: run npm run build.');
  }
  const target = path.join(projectDir, 'node_modules', INSTALL_DIR);
  fs.rmSync(target, { recursive: true, force: true });
  for (const entry of [...manifest.files, 'package.json']) {
    fs.cpSync(path.join(fromRoot, entry), path.join(target, entry), { recursive: true });
  }
  const nested = [];
  for (const [name, range] of Object.entries(manifest.dependencies ?? {})) {
    const projectCopy = path.join(projectDir, 'node_modules', name, 'package.json');
    const version = fs.existsSync(projectCopy) ? readJson(projectCopy).version : undefined;
    if (version && satisfiesRange(version, range)) continue;
    const link = path.join(target, 'node_modules', name);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(path.join(fromRoot, 'node_modules', name), link);
    nested.push(name);
  }
  return { root: target, nested };
}

const readJson = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));

/**
 * Whether `version` satisfies `range`, for the ranges hangwatch's package.json uses: `^x.y.z`
 * alternatives joined by `||`. Anything else counts as unsatisfied (the copy then nests the
 * repository's own, which is always a valid install).
 */
function satisfiesRange(version, range) {
  const parse = (text) => /^(\d+)\.(\d+)\.(\d+)$/.exec(text)?.slice(1).map(Number);
  const have = parse(version);
  if (!have) return false;
  return range.split('||').some((alternative) => {
    const caret = /^\^(\S+)$/.exec(alternative.trim());
    const low = caret && parse(caret[1]);
    if (!low) return false;
    // ^1.2.3 is <2.0.0; ^0.3.4 is <0.4.0; ^0.0.5 is <0.0.6: the first non-zero part is fixed.
    const fixed = low[0] > 0 ? 1 : low[1] > 0 ? 2 : 3;
    for (let i = 0; i < 3; i++) {
      if (i < fixed && have[i] !== low[i]) return false;
      if (have[i] !== low[i]) return have[i] > low[i];
    }
    return true;
  });
}

/** The project's own Jest and node environment: the comparison is about hangwatch alone. */
function projectModules(dir) {
  const resolve = (request) => require.resolve(request, { paths: [dir] });
  try {
    return {
      jestBin: resolve('jest/bin/jest'),
      jestVersion: require(resolve('jest/package.json')).version,
      nodeEnvironment: resolve('jest-environment-node'),
    };
  } catch (error) {
    throw new Error(
      `${dir} has no installed jest / jest-environment-node (npm install there first).`,
      {
        cause: error,
      },
    );
  }
}

/** `--testEnvironment=hangwatch/environment --reporters=default --reporters=hangwatch/reporter`. */
function hangwatchSide(installedRoot, hangwatchOptions) {
  return [
    '--testEnvironment',
    path.join(installedRoot, 'dist', 'jest', 'node-environment.js'),
    `--testEnvironmentOptions=${JSON.stringify({ hangwatch: hangwatchOptions })}`,
    '--reporters=default',
    `--reporters=${path.join(installedRoot, 'dist', 'jest', 'reporter.js')}`,
  ];
}

module.exports = {
  installIntoProject,
  satisfiesRange,
  projectModules,
  hangwatchSide,
  INSTALL_DIR,
};
