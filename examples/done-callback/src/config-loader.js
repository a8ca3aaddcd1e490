'use strict';
const fs = require('node:fs');

/**
 * Returns `loadConfig(file, callback)`: reads and parses a JSON config file, Node callback style,
 * and caches the result so each file is read only once.
 */
function createConfigLoader() {
  const cache = new Map();
  return function loadConfig(file, callback) {
    if (cache.has(file)) {
      // The bug: the cached config is returned, but callers wait for the callback.
      return cache.get(file);
    }
    fs.readFile(file, 'utf8', (readError, text) => {
      if (readError) return callback(readError);
      let config;
      try {
        config = JSON.parse(text);
      } catch (parseError) {
        return callback(parseError);
      }
      cache.set(file, config);
      callback(null, config);
    });
  };
}

module.exports = { createConfigLoader };
