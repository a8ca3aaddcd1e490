'use strict';

/** Polls until `find()` returns something, for UI updates that happen after a delay. */
function waitFor(find, { intervalMs = 50 } = {}) {
  return new Promise((resolve) => {
    const poll = setInterval(() => {
      const found = find();
      if (found) {
        clearInterval(poll);
        resolve(found);
      }
    }, intervalMs);
  });
}

module.exports = { waitFor };
