'use strict';
// Lets fixtures, examples and benchmarks inside this repository resolve `hangwatch`
// (presets, environments) exactly as an installed user project would.
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const link = path.join(root, 'node_modules', 'hangwatch');
try {
  if (fs.readlinkSync(link) === '..') process.exit(0);
} catch {
  // missing or not a link: (re)create below
}
fs.rmSync(link, { recursive: true, force: true });
fs.mkdirSync(path.dirname(link), { recursive: true });
fs.symlinkSync('..', link, 'dir');
