'use strict';
// What an async hook with a `destroy` callback costs promise-heavy code on this Node, enabled the
// usual way and as hangwatch enables its own (core/light-hooks), and hangwatch's resource tracker
// once a lock flow has started its callback counting (a before/after hook), against an
// AsyncLocalStorage alone (what any async context pays). Each mode runs in a fresh process,
// interleaved, and awaits one million promises inside a store; the medians of its CPU are printed
// with the ratio to the store alone, and how many promises each mode's hook was told were
// collected.
//
//   npm run build && node bench/promise-hooks.js [--rounds 5] [--node /path/to/node]
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { median } = require('./report');

const CORE = path.resolve(__dirname, '..', 'dist', 'core');
const LIGHT_HOOKS = path.join(CORE, 'light-hooks.js');
const MODES = [
  'storage alone',
  'hook enabled plainly',
  'hook enabled light',
  'tracker counting callbacks',
];

const CHILD = `
const { AsyncLocalStorage, AsyncResource, createHook } = require('node:async_hooks');
const { enableHook } = require(${JSON.stringify(LIGHT_HOOKS)});
const mode = process.argv.at(-1);
const storage = new AsyncLocalStorage();
storage.run({}, () => {});
// Like hangwatch's: init returns at once for a promise. The loop creates nothing but promises:
// what is destroyed with an id between two markers around it is a promise.
const marker = () => new AsyncResource('marker', { requireManualDestroy: true }).asyncId();
let first = Infinity;
let last = Infinity;
let destroys = 0;
const hook = createHook({
  init(id, type) { if (type === 'PROMISE') return; },
  destroy(id) { if (id > first && id < last) destroys++; },
  trackPromises: false,
});
if (mode === 'hook enabled plainly') hook.enable();
if (mode === 'hook enabled light') enableHook(hook);
if (mode === 'tracker counting callbacks') {
  enableHook(hook);
  const { ResourceTracker } = require(${JSON.stringify(path.join(CORE, 'tracker.js'))});
  const { insideCallback } = require(${JSON.stringify(path.join(CORE, 'callback-depth.js'))});
  new ResourceTracker({ ownerOf: () => undefined, promises: false }).enable();
  insideCallback(); // what a lock flow asks first
}
async function leaf(i) { await null; return i; }
storage.run({ owner: 'bench' }, async () => {
  first = marker();
  const start = process.cpuUsage();
  for (let round = 0; round < 20; round++) for (let i = 0; i < 50000; i++) await leaf(i);
  const used = process.cpuUsage(start);
  last = marker();
  global.gc();
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  const promiseDestroys = destroys;
  process.stdout.write(JSON.stringify({ cpuMs: (used.user + used.system) / 1000, promiseDestroys }));
});
`;

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : process.argv[index + 1];
}

function runOnce(node, mode) {
  const child = spawnSync(node, ['--expose-gc', '-e', CHILD, '--', mode], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`${mode}: ${child.stderr}`);
  return JSON.parse(child.stdout);
}

function main() {
  const node = option('node', process.execPath);
  const rounds = Number(option('rounds', 5));
  const samples = new Map(MODES.map((mode) => [mode, []]));
  for (let round = 0; round < rounds; round++) {
    for (const mode of MODES) samples.get(mode).push(runOnce(node, mode));
  }
  const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  console.log(`Node ${version}, 1M awaits in an AsyncLocalStorage store, ${rounds} rounds`);
  const base = median(samples.get(MODES[0]).map((sample) => sample.cpuMs));
  for (const mode of MODES) {
    const runs = samples.get(mode);
    const cpu = median(runs.map((sample) => sample.cpuMs));
    const destroys = median(runs.map((sample) => sample.promiseDestroys));
    console.log(
      `  ${mode.padEnd(27)} cpu ${cpu.toFixed(0).padStart(6)} ms  ${(cpu / base).toFixed(2)}x` +
        `  promise destroys ${destroys}`,
    );
  }
}

main();
