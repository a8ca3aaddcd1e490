'use strict';

module.exports = {
  preset: 'hangwatch/presets/jsdom',
  testTimeout: 2000,
};
