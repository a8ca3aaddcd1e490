'use strict';
/**
 * Cost of lock tracking: 100k uncontended acquire/release with async-mutex, plain and through
 * hangwatch's instrumented adapter (what the presets map `async-mutex` to), and hangwatch/sync.
 * Run `npm run build` first. Usage: node bench/locks.js [operations]
 */
const path = require('node:path');
const { performance } = require('node:perf_hooks');

const OPERATIONS = Number(process.argv[2] ?? 100_000);
const ROUNDS = 5;

async function measure(label, operation) {
  for (let i = 0; i < 2_000; i++) await operation(); // warm up
  const samples = [];
  for (let round = 0; round < ROUNDS; round++) {
    const started = performance.now();
    for (let i = 0; i < OPERATIONS; i++) await operation();
    samples.push(((performance.now() - started) * 1000) / OPERATIONS);
  }
  samples.sort((a, b) => a - b);
  const median = samples[Math.floor(samples.length / 2)];
  console.log(`${label.padEnd(46)} ${median.toFixed(2).padStart(6)} µs/op`);
  return median;
}

async function main() {
  // Under the preset, hangwatch's async context is always active (it attributes every resource
  // to its test), and with it Node's promise hooks: enable it for both sides, as in a test run.
  const { runAsOwner } = require(path.join(__dirname, '..', 'dist', 'core', 'async-context.js'));
  await runAsOwner({ test: 'bench' }, () => run());
}

async function run() {
  // Plain instances are made before the adapter patches the package, so they stay plain.
  const plain = require('async-mutex');
  const plainMutex = new plain.Mutex();
  const plainSemaphore = new plain.Semaphore(4);
  const instrumented = require(path.join(__dirname, '..', 'dist', 'adapters', 'async-mutex.js'));
  const mutex = new instrumented.Mutex();
  const semaphore = new instrumented.Semaphore(4);
  const sync = require(path.join(__dirname, '..', 'dist', 'sync', 'index.js'));
  const own = new sync.Mutex('bench');

  console.log(
    `${OPERATIONS} uncontended operations, median of ${ROUNDS} rounds (node ${process.version})`,
  );
  const rows = [
    [
      'Mutex acquire()+release()',
      () => plainMutex.acquire().then((r) => r()),
      () => mutex.acquire().then((r) => r()),
    ],
    [
      'Mutex runExclusive()',
      () => plainMutex.runExclusive(() => 1),
      () => mutex.runExclusive(() => 1),
    ],
    [
      'Semaphore(4) acquire()+release()',
      () => plainSemaphore.acquire().then(([, r]) => r()),
      () => semaphore.acquire().then(([, r]) => r()),
    ],
  ];
  for (const [label, plainOp, instrumentedOp] of rows) {
    const before = await measure(`async-mutex ${label}, plain`, plainOp);
    const after = await measure(`async-mutex ${label}, instrumented`, instrumentedOp);
    console.log(`${''.padEnd(46)} +${(after - before).toFixed(2)} µs/op for tracking\n`);
  }
  await measure('hangwatch/sync Mutex acquire()+release()', () => own.acquire().then((r) => r()));
  await measure('hangwatch/sync Mutex runExclusive()', () => own.runExclusive(() => 1));
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
