'use strict';
/** `preset: 'hangwatch/presets/jsdom'`: jest-environment-jsdom with hang reports. */
module.exports = {
  testEnvironment: require.resolve('../../dist/jest/jsdom-environment.js'),
};
