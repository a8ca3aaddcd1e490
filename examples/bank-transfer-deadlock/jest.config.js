'use strict';

module.exports = {
  preset: 'hangwatch',
  // Without hangwatch this test would wait out the whole timeout; with it, it fails at once.
  testTimeout: 5000,
};
