'use strict';

module.exports = {
  // ts-jest compiles the .ts files; hang reports point at .ts lines through its source maps.
  preset: 'hangwatch/presets/ts-jest',
  testTimeout: 2000,
};
