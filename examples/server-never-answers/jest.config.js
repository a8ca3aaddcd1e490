'use strict';

module.exports = {
  preset: 'hangwatch',
  // Short, so the demo is quick: a hang is reported as soon as this runs out.
  testTimeout: 2000,
};
