'use strict';
/**
 * Runs the event-loop watchdog (from dist/) on a plain Node main thread and spins on microtasks
 * `rounds` times, each time until the watchdog's report of that block arrives (so the spin lasts
 * as long as the watchdog needs, however loaded the machine). Prints one JSON line per round:
 * the line of the project's own frame the report names, and the line of the spin.
 */
const path = require('node:path');
const { receiveMessageOnPort } = require('node:worker_threads');
const { connectWatchdog } = require('../../dist/core/loop-watchdog/connect');
const { toCreationSite } = require('../../dist/core/stack');

const rounds = Number(process.argv[2] ?? 20);
const threshold = Number(process.argv[3] ?? 200);

async function spinUntilReported(reports) {
  let report;
  while (!(report = receiveMessageOnPort(reports))) await Promise.resolve(); // SPIN LINE
  return report.message;
}

async function main() {
  const connection = await connectWatchdog();
  if (typeof connection === 'string') throw new Error(connection);
  const { state, reports } = connection;
  state.arm(threshold);
  const heartbeat = setInterval(() => state.beat(), Math.max(5, threshold / 5));
  const unit = {
    kind: 'test',
    name: 'spins',
    testPath: __filename,
    rootDir: path.dirname(__filename),
    timeoutMs: 0,
  };
  for (let token = 1; token <= rounds; token++) {
    connection.send({ type: 'unit-started', token, unit });
    state.setUnit(token, 0);
    state.beat();
    const message = await spinUntilReported(reports);
    const site = toCreationSite(message.frames);
    process.stdout.write(
      `${JSON.stringify({ round: token, type: message.type, line: site?.top?.line ?? null, frames: site?.top ? message.frames.length : message.frames })}\n`,
    );
    // Let the heartbeat run again so the watchdog sees this block end before the next one.
    state.setUnit(0, 0);
    connection.send({ type: 'unit-done', token });
    await new Promise((resolve) => setTimeout(resolve, threshold));
    while (receiveMessageOnPort(reports));
  }
  clearInterval(heartbeat);
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
