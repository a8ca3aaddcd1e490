'use strict';
// `npm ci` on a machine with a cold npm cache dies ("Invalid Version") on a lockfile entry without a
// version, and cannot verify one without an integrity hash. A warm cache hides both, so check here.
const fs = require('node:fs');
const path = require('node:path');

const REWRITE = 'rm package-lock.json && npm install';

/** Entries of a lockfile (v2/v3 `packages` map) that `npm ci` cannot install from a cold cache. */
function incompleteEntries(lock) {
  const problems = [];
  for (const [location, entry] of Object.entries(lock.packages ?? {})) {
    if (location === '' || entry.link) continue; // the project itself; workspace and file links
    const missing = [];
    if (!entry.version) missing.push('version');
    // A registry entry may omit `resolved` (npm's omit-lockfile-registry-resolved), never its hash;
    // a git or tarball-URL entry is pinned by its `resolved` address instead.
    if (!entry.integrity && !entry.resolved) missing.push('integrity');
    if (missing.length > 0) problems.push({ location, missing });
  }
  return problems;
}

function main() {
  const file = path.resolve(process.argv[2] ?? path.join(__dirname, '..', 'package-lock.json'));
  const lock = JSON.parse(fs.readFileSync(file, 'utf8'));
  const problems = incompleteEntries(lock);
  if (problems.length === 0) return;
  console.error(
    `${path.basename(file)}: ${problems.length} entries npm ci cannot install on a new machine:`,
  );
  for (const { location, missing } of problems.slice(0, 20)) {
    console.error(`  ${location}: no ${missing.join(', no ')}`);
  }
  if (problems.length > 20) console.error(`  ... and ${problems.length - 20} more`);
  console.error(`Rewrite it with: ${REWRITE}`);
  console.error('then prove it in a fresh clone: npm ci --cache "$(mktemp -d)"');
  process.exitCode = 1;
}

module.exports = { incompleteEntries };
if (require.main === module) main();
