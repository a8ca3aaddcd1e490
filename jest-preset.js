'use strict';
// `preset: 'hangwatch'` resolves here; the node preset is the default.
module.exports = require('./presets/node/jest-preset.js');
