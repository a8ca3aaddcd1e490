'use strict';
// Lets fixtures, examples and benchmarks inside this repository resolve `hangwatch`
// (presets, environments) exactly as an installed user project would.
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

function ensureLink(link, target, type) {
  try {
    if (fs.readlinkSync(link) === target) return;
  } catch {
    // missing or not a link: (re)create below
  }
  fs.rmSync(link, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(link), { recursive: true });
  fs.symlinkSync(target, link, type);
}

ensureLink(path.join(root, 'node_modules', 'hangwatch'), '..', 'dir');
// Jest 29 (the `jest-29` alias) ships a `jest` bin too, and npm links whichever comes last:
// `npx jest` here always means the root Jest (30).
ensureLink(path.join(root, 'node_modules', '.bin', 'jest'), '../jest/bin/jest.js', 'file');
