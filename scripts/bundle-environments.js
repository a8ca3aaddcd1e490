'use strict';
/**
 * Turns each test environment entry of dist (what `testEnvironment` names) into one file holding
 * it and every hangwatch module it requires. A Jest process loads the environment once, and
 * loading some 70 small modules (each resolved, read, wrapped and passed through Jest's require
 * hooks) cost more than running them: about 18 ms of CPU a process on Node 24, against one read
 * and one compile for the bundle.
 *
 * Each module runs as it did unbundled: with its own `__filename` and `__dirname`, lazily on its
 * first `require` (report code loads only when a report is made), and resolving anything outside
 * the bundle (packages, Node's modules, data files) from its own place in dist.
 *
 * Run after `tsc`: it reads the compiled entries and replaces them.
 */
const fs = require('node:fs');
const path = require('node:path');

const DIST = path.resolve(__dirname, '..', 'dist');
const ENTRIES = ['jest/node-environment.js', 'jest/jsdom-environment.js'];
/** Marks a bundle, so a bundle is never taken for a compiled entry. */
const MARK = '/* hangwatch: bundled test environment, see scripts/bundle-environments.js */';
/** `require` of a relative path with a literal string: all tsc emits for an import. */
const RELATIVE_REQUIRE = /\brequire\(\s*(["'])(\.{1,2}\/[^"']+)\1\s*\)/g;

/** The dist file a relative specifier names, if it is one of ours. */
function resolveLocal(fromFile, specifier) {
  const base = path.resolve(path.dirname(fromFile), specifier);
  for (const candidate of [base, `${base}.js`, path.join(base, 'index.js')]) {
    if (candidate.endsWith('.js') && fs.statSync(candidate, { throwIfNoEntry: false })?.isFile()) {
      return candidate;
    }
  }
  return undefined;
}

function keyOf(file) {
  return path.relative(DIST, file).split(path.sep).join('/');
}

/** The entry and every dist module it reaches through relative requires, by key. */
function collect(entryFile) {
  const modules = new Map();
  const queue = [entryFile];
  while (queue.length > 0) {
    const file = queue.pop();
    const key = keyOf(file);
    if (modules.has(key)) continue;
    const source = fs.readFileSync(file, 'utf8');
    if (source.includes(MARK)) {
      throw new Error(`${file} is already a bundle: compile with tsc before bundling.`);
    }
    modules.set(key, source);
    for (const match of source.matchAll(RELATIVE_REQUIRE)) {
      const target = resolveLocal(file, match[2]);
      if (target?.startsWith(DIST + path.sep)) queue.push(target);
    }
  }
  return modules;
}

/**
 * The loader the bundle runs: a module cache by key, and for each module a `require` that serves
 * bundled modules from the bundle and hands everything else to Node, from that module's own file.
 */
function loader(entryKey) {
  return `(function () {
const path = require('node:path');
const { createRequire } = require('node:module');
const dist = path.resolve(__dirname, ${JSON.stringify(path.relative(path.dirname(path.join(DIST, entryKey)), DIST) || '.')});
const loaded = new Map();
function bundledKey(filename, specifier) {
  if (!specifier.startsWith('.')) return undefined;
  const relative = path.relative(dist, path.resolve(path.dirname(filename), specifier)).split(path.sep).join('/');
  for (const key of [relative, relative + '.js', relative + '/index.js']) {
    if (Object.prototype.hasOwnProperty.call(bundledModules, key)) return key;
  }
  return undefined;
}
function requireFrom(filename) {
  let outside;
  const nodeRequire = () => (outside ??= createRequire(filename));
  const ownRequire = (specifier) => {
    const key = bundledKey(filename, specifier);
    return key === undefined ? nodeRequire()(specifier) : load(key);
  };
  ownRequire.resolve = (specifier, options) => {
    const key = bundledKey(filename, specifier);
    return key === undefined ? nodeRequire().resolve(specifier, options) : path.join(dist, key);
  };
  ownRequire.main = require.main;
  ownRequire.cache = require.cache;
  return ownRequire;
}
function load(key) {
  const known = loaded.get(key);
  if (known) return known.exports;
  const filename = path.join(dist, key);
  const module = { id: filename, filename, exports: {}, loaded: false };
  loaded.set(key, module);
  bundledModules[key].call(module.exports, module.exports, requireFrom(filename), module, filename, path.dirname(filename));
  module.loaded = true;
  return module.exports;
}
module.exports = load(${JSON.stringify(entryKey)});
})();
`;
}

function bundle(entryKey) {
  const entryFile = path.join(DIST, entryKey);
  const modules = collect(entryFile);
  // Module code sees this file's top scope: one name there, and the loader kept in a function.
  const parts = ["'use strict';", MARK, 'const bundledModules = {'];
  for (const [key, source] of modules) {
    parts.push(
      `${JSON.stringify(key)}: function (exports, require, module, __filename, __dirname) {`,
      source,
      '},',
    );
  }
  parts.push('};', loader(entryKey));
  fs.writeFileSync(entryFile, parts.join('\n'));
  return modules.size;
}

for (const entry of ENTRIES) {
  const count = bundle(entry);
  process.stdout.write(`bundled dist/${entry}: ${count} modules\n`);
}
