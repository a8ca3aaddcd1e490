'use strict';
/**
 * Cost of lock tracking: 100k uncontended acquire/release with async-mutex, plain and through
 * hangwatch's instrumented adapter (what the presets map `async-mutex` to), and hangwatch/sync;
 * also a nested pair (lock-order tracking) and a contended pair (each wait is analysed for
 * deadlock). Run `npm run build` first.
 * Usage: node bench/locks.js [operations] [--sites all]
 *   --sites all: the `lockSites: 'all'` mode, where every acquisition records its site.
 */
const path = require('node:path');
const { performance } = require('node:perf_hooks');

const args = process.argv.slice(2);
const sitesAt = args.indexOf('--sites');
const SITES = sitesAt === -1 ? 'sampled' : args.splice(sitesAt, 2)[1];
const OPERATIONS = Number(args[0] ?? 100_000);
const ROUNDS = 7;
const dist = (...parts) => path.join(__dirname, '..', 'dist', ...parts);

const median = (samples) => [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)];

async function round(operation) {
  const started = performance.now();
  for (let i = 0; i < OPERATIONS; i++) await operation();
  return ((performance.now() - started) * 1000) / OPERATIONS;
}

function print(label, microseconds) {
  console.log(`${label.padEnd(52)} ${microseconds.toFixed(2).padStart(6)} µs/op`);
}

/** Plain and instrumented rounds alternate, so a noisy moment hits both alike. */
async function compare(label, plainOp, instrumentedOp) {
  // Warm up both.
  for (let i = 0; i < 2_000; i++) {
    await plainOp();
    await instrumentedOp();
  }
  const plain = [];
  const instrumented = [];
  for (let i = 0; i < ROUNDS; i++) {
    plain.push(await round(plainOp));
    instrumented.push(await round(instrumentedOp));
  }
  print(`async-mutex ${label}, plain`, median(plain));
  print(`async-mutex ${label}, instrumented`, median(instrumented));
  const added = median(instrumented.map((value, i) => value - plain[i]));
  console.log(`${''.padEnd(52)} +${added.toFixed(2)} µs/op for tracking\n`);
}

async function measure(label, operation) {
  for (let i = 0; i < 2_000; i++) await operation(); // warm up
  const samples = [];
  for (let i = 0; i < ROUNDS; i++) samples.push(await round(operation));
  print(label, median(samples));
}

/** The graph the adapter reports into, with this run's `lockSites` mode (as the session makes it). */
function publishGraph() {
  const { LockGraph } = require(dist('core', 'locks', 'graph.js'));
  const { publishLockGraph } = require(dist('core', 'locks', 'registry.js'));
  const host = {
    rootDir: process.cwd(),
    setTimer: (fn, ms) => setTimeout(fn, ms),
    clearTimer: (timer) => clearTimeout(timer),
    somethingElsePending: () => true,
    describeOwner: () => undefined,
    onInversion: () => undefined,
  };
  publishLockGraph(globalThis, new LockGraph(host, undefined, { lockSites: SITES }), host.rootDir);
}

async function main() {
  publishGraph();
  // Under the preset, hangwatch's async context is always active (it attributes every resource
  // to its test), and with it Node's promise hooks: enable it for both sides, as in a test run.
  const { runAsOwner } = require(dist('core', 'async-context.js'));
  await runAsOwner({ test: 'bench' }, () => run());
}

async function run() {
  // Plain instances are made before the adapter patches the package, so they stay plain.
  const plain = require('async-mutex');
  const plainMutex = new plain.Mutex();
  const plainOuter = new plain.Mutex();
  const plainSemaphore = new plain.Semaphore(4);
  const instrumented = require(dist('adapters', 'async-mutex.js'));
  const mutex = new instrumented.Mutex();
  const outer = new instrumented.Mutex();
  const semaphore = new instrumented.Semaphore(4);
  const sync = require(dist('sync', 'index.js'));
  const own = new sync.Mutex('bench');

  console.log(
    `${OPERATIONS} operations (uncontended unless said), median of ${ROUNDS} rounds, lockSites: '${SITES}' (node ${process.version})`,
  );
  const nested = (first, second) => async () => {
    const releaseFirst = await first.acquire();
    const releaseSecond = await second.acquire();
    releaseSecond();
    releaseFirst();
  };
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
    ['two nested Mutexes (per pair)', nested(plainOuter, plainMutex), nested(outer, mutex)],
    [
      'Mutex, two runExclusive() at once (one waits)',
      () => Promise.all([plainMutex.runExclusive(() => 1), plainMutex.runExclusive(() => 2)]),
      () => Promise.all([mutex.runExclusive(() => 1), mutex.runExclusive(() => 2)]),
    ],
  ];
  for (const [label, plainOp, instrumentedOp] of rows) {
    await compare(label, plainOp, instrumentedOp);
  }
  await measure('hangwatch/sync Mutex acquire()+release()', () => own.acquire().then((r) => r()));
  await measure('hangwatch/sync Mutex runExclusive()', () => own.runExclusive(() => 1));
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
