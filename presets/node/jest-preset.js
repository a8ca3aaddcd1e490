'use strict';
/** `preset: 'hangwatch'`: jest-environment-node with hang reports. */
module.exports = {
  testEnvironment: require.resolve('../../dist/jest/node-environment.js'),
};
