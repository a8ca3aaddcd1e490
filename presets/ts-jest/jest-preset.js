'use strict';
/** `preset: 'hangwatch/presets/ts-jest'`: ts-jest for .ts/.tsx plus the node environment with hang reports. */
const node = require('../node/jest-preset.js');

// An optional peer: when it is missing, Jest stops at start-up with one line saying what to install.
require('../../dist/jest/peers.js').assertPeer('ts-jest', 'the ts-jest preset of hangwatch');

module.exports = {
  ...node,
  transform: { '^.+\\.tsx?$': ['ts-jest', {}] },
  moduleFileExtensions: ['ts', 'tsx', 'js', 'jsx', 'mjs', 'cjs', 'json', 'node'],
  testMatch: ['**/__tests__/**/*.[jt]s?(x)', '**/?(*.)+(spec|test).[tj]s?(x)'],
};
