'use strict';
// How the benches run one round's sides: one after the other, or all at the same moment.

/**
 * Runs `run(side)` for each side of a round and resolves with the results in `sides`' order.
 * Together, every side starts at once (one process each), so all of them meet the machine's load
 * of that moment; otherwise each waits for the one before.
 */
async function runRound(sides, run, { together }) {
  if (together) return Promise.all(sides.map((side) => run(side)));
  const results = [];
  for (const side of sides) results.push(await run(side));
  return results;
}

module.exports = { runRound };
